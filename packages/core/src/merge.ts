/**
 * Per-field last-writer-wins merge of reference documents (product, customer, tax rate, …; DESIGN.md
 * §2), with conflict detection that does not depend on the order writes arrive in.
 *
 * State: per field, the log of the writes seen (value, hlc, base). The field's value is the write
 * with the greatest HLC. Merging two docs is the union of their logs, so it is commutative,
 * associative and idempotent by construction; the conflicts are a function of the log, so they are
 * too. (Keeping only `(hlc, base)` of losing writes is not enough: when a late write conflicts with
 * one that was already overwritten, the conflict record needs the overwritten value.)
 *
 * Conflict rule: of two writes `x`, `y` of one field with `x.hlc < y.hlc`, `y` overwrote `x`
 * without seeing it iff `y.base` is null or `y.base < x.hlc`. An edit based on the current winner
 * never conflicts with anything before it; two edits from the same base always conflict.
 *
 * The log is bounded by {@link compactDoc} at a causally stable horizon (see there). Reference
 * fields are edited rarely (a price a few times a year), so the log between compactions is small.
 *
 * A deleted document is one whose `deleted` field is `true` ({@link DELETED_FIELD}): deletion is an
 * ordinary field write, so a delete and a concurrent edit of another field both survive, and an
 * undelete is a write of `false`.
 */
import { z } from 'zod';
import { KassaError } from './errors.js';
import { FieldWriteSchema, HlcStringSchema, JsonValueSchema, type FieldWrite, type JsonValue } from './field-patch.js';

/** One write as a doc keeps it: the value, its HLC (encoded) and the HLC of the value it replaced as its editor saw it. */
export interface WriteRecord {
  readonly value: JsonValue;
  readonly hlc: string;
  readonly base: string | null;
}

/**
 * Two writes of one field where the later (`winner`, greater HLC) was made without seeing the
 * earlier (`loser`). `winner` is the winner of this pair, not necessarily the field's current value.
 * `id` is stable (`field:loserHlc:winnerHlc`), so a conflict reported twice (by two replicas, or
 * again after a merge) is recognised; prefix it with the doc id to make it unique across docs.
 */
export interface Conflict {
  readonly id: string;
  readonly field: string;
  readonly winner: WriteRecord;
  readonly loser: WriteRecord;
}

/**
 * A reference document as a mergeable value: per field, the writes seen, sorted by HLC. Treat it as
 * immutable; every function returns a new one. Plain JSON, so it can be stored as is.
 */
export interface ReferenceDoc {
  readonly fields: Readonly<Record<string, readonly WriteRecord[]>>;
}

/** What {@link applyWrites} returns. */
export interface ApplyResult {
  readonly doc: ReferenceDoc;
  /** Conflicts that exist now and did not before, sorted by id: record them for review. */
  readonly conflicts: readonly Conflict[];
}

/** The field whose value `true` marks a document as deleted. */
export const DELETED_FIELD = 'deleted';

/** zod schema of one {@link WriteRecord} (storage rows read back). */
export const WriteRecordSchema = z.strictObject({
  value: JsonValueSchema,
  hlc: HlcStringSchema,
  base: HlcStringSchema.nullable(),
});

/**
 * zod schema of a stored {@link ReferenceDoc}. A parsed doc may be unsorted; every function here
 * accepts that, and `mergeDocs(emptyDoc(), parsed)` returns it normalised.
 */
export const ReferenceDocSchema = z.strictObject({
  fields: z.record(FieldWriteSchema.shape.field, z.array(WriteRecordSchema)),
});

/** A field write that would not pass `FieldWriteSchema` (bad field name, value, or HLC). */
export class InvalidFieldWriteError extends KassaError {
  readonly code = 'invalid_field_write';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`invalid write of field ${JSON.stringify(field)}: ${reason}`);
  }
}

/**
 * An edit stamped no later than the value it replaces. It would lose to its own base and vanish,
 * so it is refused; it means the editing node's clock is far behind (its HLC clamped what it
 * received): fix the clock, or take the time from the server.
 */
export class EditBeforeBaseError extends KassaError {
  readonly code = 'edit_before_base';
  constructor(
    readonly field: string,
    readonly hlc: string,
    readonly base: string,
  ) {
    super(`edit of ${JSON.stringify(field)} at ${hlc} is not after the value it replaces (${base})`);
  }
}

/**
 * A document with no writes.
 *
 * @example
 * ```ts
 * const { doc } = applyWrites(emptyDoc(), writes);
 * ```
 */
export function emptyDoc(): ReferenceDoc {
  return { fields: {} };
}

/**
 * Adds writes to a doc: the result is `mergeDocs(doc, <a doc of these writes>)`, so the order of
 * the writes, and the order of calls, does not matter. A write already in the doc changes nothing.
 * Writes are expected to be valid (`FieldWriteSchema`); a node never issues one HLC twice, so two
 * writes with one HLC are the same write (if their contents differ, one is kept deterministically).
 *
 * @returns the new doc and the conflicts this call revealed.
 * @example
 * ```ts
 * const a = { field: 'price', value: 250, hlc: h1, base: null };
 * const b = { field: 'price', value: 260, hlc: h2, base: h1 }; // saw a: sequential
 * const c = { field: 'price', value: 270, hlc: h3, base: h1 }; // saw a, not b: conflict
 * const { doc, conflicts } = applyWrites(emptyDoc(), [a, b, c]);
 * docValues(doc).price // 270; conflicts: [{ field: 'price', loser: b…, winner: c… }]
 * ```
 */
export function applyWrites(doc: ReferenceDoc, writes: readonly FieldWrite[]): ApplyResult {
  const incoming = new Map<string, WriteRecord[]>();
  for (const w of writes) {
    const list = incoming.get(w.field);
    const record = { value: w.value, hlc: w.hlc, base: w.base };
    if (list === undefined) incoming.set(w.field, [record]);
    else list.push(record);
  }
  const merged = mergeDocs(doc, { fields: Object.fromEntries(incoming) });
  const conflicts: Conflict[] = [];
  for (const field of [...incoming.keys()].sort()) {
    const before = new Set(fieldConflicts(field, normalise(own(doc.fields, field))).map((c) => c.id));
    for (const c of fieldConflicts(field, own(merged.fields, field))) if (!before.has(c.id)) conflicts.push(c);
  }
  return { doc: merged, conflicts: conflicts.sort(byId) };
}

/**
 * Merges two replicas of one doc: per field, the union of the writes. Commutative, associative and
 * idempotent, on the values and on {@link docConflicts}.
 *
 * @example
 * ```ts
 * const server = mergeDocs(serverDoc, registerDoc); // same as mergeDocs(registerDoc, serverDoc)
 * ```
 */
export function mergeDocs(a: ReferenceDoc, b: ReferenceDoc): ReferenceDoc {
  const names = [...new Set([...Object.keys(a.fields), ...Object.keys(b.fields)])].sort();
  const fields: [string, WriteRecord[]][] = [];
  for (const name of names) {
    const writes = normalise([...own(a.fields, name), ...own(b.fields, name)]);
    if (writes.length > 0) fields.push([name, writes]);
  }
  return { fields: Object.fromEntries(fields) };
}

/**
 * The current value of every field (the write with the greatest HLC), as a plain object. A field
 * written `null` is present with `null`.
 *
 * @example
 * ```ts
 * docValues(doc) // { name: 'Espresso', price: 250, deleted: false }
 * ```
 */
export function docValues(doc: ReferenceDoc): Record<string, JsonValue> {
  const out: [string, JsonValue][] = [];
  for (const [field, writes] of Object.entries(doc.fields)) {
    const winner = winnerOf(writes);
    if (winner !== undefined) out.push([field, winner.value]);
  }
  return Object.fromEntries(out);
}

/**
 * The HLC of every field's current value: what an editor saw, to pass as `baseHlcs` to
 * {@link diffToWrites}.
 */
export function docHlcs(doc: ReferenceDoc): Record<string, string> {
  const out: [string, string][] = [];
  for (const [field, writes] of Object.entries(doc.fields)) {
    const winner = winnerOf(writes);
    if (winner !== undefined) out.push([field, winner.hlc]);
  }
  return Object.fromEntries(out);
}

/** Whether the doc is deleted: its {@link DELETED_FIELD} field is `true`. */
export function isDeletedDoc(doc: ReferenceDoc): boolean {
  return docValues(doc)[DELETED_FIELD] === true;
}

/**
 * Every conflict among the writes the doc holds, sorted by id. A function of the set of writes, so
 * every replica that has seen the same writes reports the same conflicts.
 *
 * @example
 * ```ts
 * docConflicts(doc).map((c) => c.id) // ['price:0192…-0000-r1:0192…-0000-r2']
 * ```
 */
export function docConflicts(doc: ReferenceDoc): Conflict[] {
  const out: Conflict[] = [];
  for (const field of Object.keys(doc.fields).sort()) out.push(...fieldConflicts(field, normalise(own(doc.fields, field))));
  return out.sort(byId);
}

/**
 * Drops, from every field, the writes older than `stableHlc` except the field's current value.
 *
 * Only call it with a causally stable horizon: every node has received every write older than it,
 * its HLC is past it (so no new write can be older) and it has pulled those writes (so every new
 * edit is based on the current value or later). Then no future write can conflict with a dropped
 * one, and the values are unchanged. Conflicts among dropped writes are no longer reported by
 * {@link docConflicts}; they were reported by {@link applyWrites} when they arose (record them
 * then). The price of a too-early horizon: a late write that conflicts with a dropped one is not
 * reported. A replica that has not compacted yet brings the dropped writes back in a merge; they
 * go again at its next compaction.
 *
 * @example
 * ```ts
 * const smaller = compactDoc(doc, encodeHlc(stableHorizon));
 * ```
 */
export function compactDoc(doc: ReferenceDoc, stableHlc: string): ReferenceDoc {
  const fields: [string, WriteRecord[]][] = [];
  for (const field of Object.keys(doc.fields).sort()) {
    const writes = normalise(own(doc.fields, field));
    const winner = writes.at(-1);
    fields.push([field, writes.filter((w) => w === winner || w.hlc >= stableHlc)]);
  }
  return { fields: Object.fromEntries(fields.filter(([, w]) => w.length > 0)) };
}

/**
 * Turns an edit of a doc's values into field writes: one per field whose value changed (deep
 * equality; a missing field counts as `null`), all stamped `hlcNow`, each based on the HLC its
 * editor saw (`baseHlcs[field]`, null when none). To delete a doc, set `deleted: true`.
 *
 * @param before the values the editor saw (`docValues(doc)`).
 * @param after the values after the edit.
 * @param baseHlcs the HLCs of the values the editor saw (`docHlcs(doc)`).
 * @param hlcNow a fresh encoded HLC of the editing node.
 * @throws EditBeforeBaseError when `hlcNow` is not after a changed field's base.
 * @throws InvalidFieldWriteError when a write would not pass `FieldWriteSchema`.
 * @example
 * ```ts
 * diffToWrites({ price: 250, name: 'Tea' }, { price: 260, name: 'Tea' }, { price: h1, name: h0 }, h2)
 * // [{ field: 'price', value: 260, hlc: h2, base: h1 }]
 * ```
 */
export function diffToWrites(
  before: Readonly<Record<string, JsonValue>>,
  after: Readonly<Record<string, JsonValue>>,
  baseHlcs: Readonly<Record<string, string>>,
  hlcNow: string,
): FieldWrite[] {
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const writes: FieldWrite[] = [];
  for (const field of fields) {
    const value = Object.hasOwn(after, field) ? (after[field] ?? null) : null;
    const old = Object.hasOwn(before, field) ? (before[field] ?? null) : null;
    if (canonicalJson(value) === canonicalJson(old)) continue;
    const base = Object.hasOwn(baseHlcs, field) ? (baseHlcs[field] ?? null) : null;
    const write = { field, value, hlc: hlcNow, base };
    const parsed = FieldWriteSchema.safeParse(write);
    if (!parsed.success) throw new InvalidFieldWriteError(field, parsed.error.issues.map((i) => i.message).join('; '));
    if (base !== null && !(base < hlcNow)) throw new EditBeforeBaseError(field, hlcNow, base);
    writes.push(write);
  }
  return writes;
}

/** The stable id of the conflict between `loserHlc` and the later `winnerHlc` of `field`. */
export function conflictId(field: string, loserHlc: string, winnerHlc: string): string {
  // ':' occurs neither in field names nor in encoded HLCs, so the id splits back unambiguously.
  return `${field}:${loserHlc}:${winnerHlc}`;
}

function own(fields: Readonly<Record<string, readonly WriteRecord[]>>, field: string): readonly WriteRecord[] {
  return Object.hasOwn(fields, field) ? (fields[field] ?? []) : [];
}

/** Sorted by HLC, one write per HLC (for a forged duplicate, the greater canonical form). */
function normalise(writes: readonly WriteRecord[]): WriteRecord[] {
  const byHlc = new Map<string, WriteRecord>();
  for (const w of writes) {
    const seen = byHlc.get(w.hlc);
    if (seen === undefined || tieKey(w) > tieKey(seen)) byHlc.set(w.hlc, { value: w.value, hlc: w.hlc, base: w.base });
  }
  return [...byHlc.values()].sort((x, y) => (x.hlc < y.hlc ? -1 : x.hlc > y.hlc ? 1 : 0));
}

function winnerOf(writes: readonly WriteRecord[]): WriteRecord | undefined {
  let best: WriteRecord | undefined;
  for (const w of writes) {
    if (best === undefined || w.hlc > best.hlc || (w.hlc === best.hlc && tieKey(w) > tieKey(best))) best = w;
  }
  return best;
}

/** The conflicts among sorted, deduplicated writes of one field. */
function fieldConflicts(field: string, writes: readonly WriteRecord[]): Conflict[] {
  const out: Conflict[] = [];
  writes.forEach((winner, j) => {
    // Walk down from the write just before: once one is at or below the base, all earlier are too.
    for (let i = j - 1; i >= 0; i--) {
      const loser = writes[i];
      if (loser === undefined || (winner.base !== null && winner.base >= loser.hlc)) break;
      out.push({ id: conflictId(field, loser.hlc, winner.hlc), field, winner, loser });
    }
  });
  return out;
}

function byId(a: Conflict, b: Conflict): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function tieKey(w: WriteRecord): string {
  return `${w.base ?? ''} ${canonicalJson(w.value)}`;
}

/** JSON with object keys sorted, so equal values have equal text. */
function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] ?? null)}`).join(',')}}`;
}
