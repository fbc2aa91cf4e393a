/**
 * Op schema versioning. Registers update at their own pace, so the server accepts ops of the
 * current and the previous schema version (DESIGN.md §3): a previous-version op is validated
 * against its own schema, then upgraded by a chain of migration functions to the current shape.
 * An op newer than the server knows is deferred, never quarantined; one older than the previous
 * version cannot be read any more.
 *
 * Bumping the version: freeze the current schemas as the previous version's, change the current
 * ones, set {@link OP_SCHEMA_VERSION}, and register a migration from the old shape to the new one.
 * Adding an op type or an optional field is a bump too: an older server would otherwise
 * quarantine an op it merely does not know yet, instead of deferring it.
 */
import type { z } from 'zod';
import { InvalidArgumentError, KassaError } from './errors.js';
import { OpHeadSchema } from './ops/op-envelope.js';
import type { OpHead } from './ops/op-envelope.js';
import { OpSchema } from './ops/op-schema.js';

/** The op schema version this code writes, and the newest it reads. */
export const OP_SCHEMA_VERSION = 1;

/** One problem found in an op: where (path into the op) and what, in words. */
export interface OpIssue {
  readonly path: readonly (string | number)[];
  /** The validator's issue code, e.g. `invalid_type`, `unrecognized_keys`, `too_small`. */
  readonly code: string;
  readonly message: string;
}

/** Why an op could not be parsed. */
export type OpRejection = 'unknown_version' | 'unsupported_version' | 'invalid';

/** The outcome of parsing one raw op. */
export type ParseOpResult<TOp> =
  | {
      readonly ok: true;
      /** The op, upgraded to the current version. */
      readonly op: TOp;
      /** The version the op was written in. */
      readonly version: number;
      /** The op as validated at its own version, before any upgrade: what `opHash` hashes. */
      readonly received: OpHead;
    }
  | {
      readonly ok: false;
      /**
       * `unknown_version`: newer than this code knows, retry after an upgrade (the server defers).
       * `unsupported_version`: older than the previous version. `invalid`: not a valid op.
       */
      readonly kind: OpRejection;
      /** The op's declared version, when it had a readable one. */
      readonly version: number | null;
      /** The op's id, device and seq, when readable: enough to answer for it and keep seq order. */
      readonly head: OpHead | null;
      readonly issues: readonly OpIssue[];
    };

/** Parses a raw op (already JSON-decoded) of any version this parser accepts. */
export type OpParser<TOp> = (raw: unknown) => ParseOpResult<TOp>;

/**
 * Upgrades an op parsed at version v − 1 into the input shape of version v (including `v` itself).
 * Typed as taking `never` so a migration can declare the exact previous op type it receives.
 */
export type OpMigration = (previous: never) => unknown;

/**
 * The schemas and migrations a parser knows. `schemas` holds the schema of `current` and, to
 * accept previous-version ops, of `current − 1`; `migrations[v]` upgrades a version v − 1 op to v.
 */
export interface OpRegistry<S extends Readonly<Record<number, z.ZodType<OpHead>>>, C extends keyof S & number> {
  readonly current: C;
  readonly schemas: S;
  readonly migrations: Readonly<Record<number, OpMigration>>;
}

/**
 * A migration produced an op its target version's schema refuses: a bug in the migration, not in
 * the op, so the op must not be quarantined as malformed.
 */
export class OpMigrationError extends KassaError {
  readonly code = 'op_migration_failed';
  constructor(
    readonly opId: string,
    readonly fromVersion: number,
    readonly toVersion: number,
    readonly issues: readonly OpIssue[],
  ) {
    super(`migrating op ${opId} from v${fromVersion} to v${toVersion} produced an invalid op: ${formatIssues(issues)}`);
  }
}

/**
 * Makes a parser over a registry of versioned op schemas and migrations.
 *
 * @throws InvalidArgumentError when the registry lacks the current schema, or has a previous
 *   schema but no migration from it.
 * @example
 * ```ts
 * const parse = makeOpParser({
 *   current: 2,
 *   schemas: { 1: OpSchemaV1, 2: OpSchemaV2 },
 *   migrations: { 2: (op: OpV1) => ({ ...op, v: 2 }) },
 * });
 * const result = parse(JSON.parse(body));
 * ```
 */
export function makeOpParser<S extends Readonly<Record<number, z.ZodType<OpHead>>>, C extends keyof S & number>(
  registry: OpRegistry<S, C>,
): OpParser<z.output<S[C]>> {
  const { current, schemas, migrations } = registry;
  if (!Number.isSafeInteger(current) || current < 1) {
    throw new InvalidArgumentError('current', 'must be a positive integer version');
  }
  const schemaOf = (v: number): z.ZodType<OpHead> | undefined =>
    Object.hasOwn(schemas, v) ? (schemas as Readonly<Record<number, z.ZodType<OpHead>>>)[v] : undefined;
  const migrationTo = (v: number): OpMigration | undefined => (Object.hasOwn(migrations, v) ? migrations[v] : undefined);
  if (schemaOf(current) === undefined) {
    throw new InvalidArgumentError('schemas', `has no schema for the current version ${current}`);
  }
  const previous = current - 1;
  const acceptsPrevious = previous >= 1 && schemaOf(previous) !== undefined;
  if (acceptsPrevious && migrationTo(current) === undefined) {
    throw new InvalidArgumentError('migrations', `has no migration from version ${previous} to ${current}`);
  }

  return (raw) => {
    const head = OpHeadSchema.safeParse(raw);
    const declared = readVersion(raw);
    if (declared === null) {
      return reject('invalid', null, null, head.success ? [] : toIssues(head.error));
    }
    const knownHead = head.success ? head.data : null;
    if (declared > current) {
      return reject('unknown_version', declared, knownHead, [
        versionIssue(`version ${declared} is newer than this code knows (${current}); retry after upgrading`),
      ]);
    }
    const schema = declared === current || (declared === previous && acceptsPrevious) ? schemaOf(declared) : undefined;
    if (schema === undefined) {
      return reject('unsupported_version', declared, knownHead, [
        versionIssue(`version ${declared} is no longer supported; this code reads ${acceptsPrevious ? `${previous} and ` : ''}${current}`),
      ]);
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) return reject('invalid', declared, knownHead, toIssues(parsed.error));

    let op: OpHead = parsed.data;
    for (let to = declared + 1; to <= current; to++) {
      // The migration's input was validated by the previous version's schema just before, so it
      // receives exactly the type it declares.
      const migrate = migrationTo(to) as (previous: unknown) => unknown;
      const next = (schemaOf(to) as z.ZodType<OpHead>).safeParse(migrate(op));
      if (!next.success) throw new OpMigrationError(op.id, to - 1, to, toIssues(next.error));
      op = next.data;
    }
    return { ok: true, op: op as z.output<S[C]>, version: declared, received: parsed.data };
  };
}

/**
 * Parses a raw op of the current or the previous schema version and upgrades it to the current
 * one. Never throws for bad input: the result says why an op was refused, and the server defers
 * `unknown_version` ops and quarantines the others.
 *
 * @example
 * ```ts
 * const result = parseOp(JSON.parse(body));
 * if (result.ok) apply(result.op);
 * else if (result.kind === 'unknown_version') defer(result.head);
 * else quarantine(raw, result.issues);
 * ```
 */
export const parseOp = makeOpParser({
  current: OP_SCHEMA_VERSION,
  // Fails to compile when OpSchema describes a version other than OP_SCHEMA_VERSION.
  schemas: { [OP_SCHEMA_VERSION]: OpSchema } satisfies Record<
    typeof OP_SCHEMA_VERSION,
    z.ZodType<{ v: typeof OP_SCHEMA_VERSION }>
  >,
  migrations: {},
});

function readVersion(raw: unknown): number | null {
  if (typeof raw !== 'object' || raw === null || !('v' in raw)) return null;
  const v = raw.v;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? v : null;
}

function reject(kind: OpRejection, version: number | null, head: OpHead | null, issues: readonly OpIssue[]) {
  return { ok: false, kind, version, head, issues } as const;
}

function versionIssue(message: string): OpIssue {
  return { path: ['v'], code: 'unsupported_version', message };
}

function toIssues(error: z.ZodError): OpIssue[] {
  return error.issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
    code: i.code,
    message: i.message,
  }));
}

function formatIssues(issues: readonly OpIssue[]): string {
  return issues.map((i) => `${i.path.join('.') || '(op)'}: ${i.message}`).join('; ');
}
