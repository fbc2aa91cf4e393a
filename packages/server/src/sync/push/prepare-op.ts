/**
 * The pure part of a push (DESIGN §3): each op parsed with core's `parseOp` and hashed, before the
 * batch's transaction — no locks held, no database. `push-batch.ts` judges and applies the result;
 * `prepare-pool.ts` may run it on a worker thread.
 */
import { OpHeadSchema, parseOp, sha256Hex } from '@kassa/core';
import type { Op, OpHead, ParseOpResult } from '@kassa/core';
import { canonicalJsonOf, opDigests, sha256Native } from './op-canonical.js';

/** One pushed op, parsed and hashed before the transaction (pure work, no locks held). */
export interface Prepared {
  readonly index: number;
  readonly raw: unknown;
  readonly parsed: ParseOpResult<Op>;
  /** id, deviceId, seq as readable; null when the op does not even have those. */
  readonly head: OpHead | null;
  readonly hash: string;
  /**
   * Core's `receiptHash` of the op as received, computed with `hash` from one serialisation; only
   * for a parsed op (undefined otherwise, or when it has no canonical form).
   */
  readonly receiptHash?: string | undefined;
}

/**
 * Core's `opHash` of whatever arrived — SHA-256 of its canonical JSON — with Node's native SHA-256
 * (the same digest; core's is portable JavaScript, several times slower on a 500-op batch). A
 * value with no canonical form (never from JSON, but) still gets a hash.
 */
function hashOf(value: unknown): string {
  let text: string;
  try {
    text = canonicalJsonOf(value);
  } catch {
    return sha256Hex(String(JSON.stringify(value)));
  }
  return sha256Native(text);
}

/** The op hash and receipt hash of a parsed op, from one canonical serialisation (op-canonical.ts). */
function digestsOf(received: OpHead): { hash: string; receiptHash: string | undefined } {
  try {
    const d = opDigests(received);
    return { hash: d.opHash, receiptHash: d.receiptHash };
  } catch {
    return { hash: hashOf(received), receiptHash: undefined };
  }
}

/** Deeper than any op (an op is about 8 levels; field values get the rest). */
export const MAX_OP_DEPTH = 64;

/** Whether `value` nests deeper than `limit`, found without recursion (the value may be hostile). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * A value nested too deep to validate, hash or store (each would recurse past the stack): kept as
 * its head fields only, so it can still be placed, quarantined and answered for.
 */
function tooDeep(raw: unknown, index: number): Prepared {
  const top = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const stub: Record<string, unknown> = { unreadable: `nested deeper than ${MAX_OP_DEPTH} levels` };
  for (const key of ['v', 'id', 'deviceId', 'seq', 'type']) if (typeof top[key] === 'string' || typeof top[key] === 'number') stub[key] = top[key];
  const head = OpHeadSchema.safeParse(stub);
  const issues = [{ path: [], code: 'too_deep', message: `the op is nested deeper than ${MAX_OP_DEPTH} levels` }];
  return { index, raw: stub, parsed: { ok: false, kind: 'invalid', version: null, head: head.success ? head.data : null, issues }, head: head.success ? head.data : null, hash: hashOf(stub) };
}

/**
 * Validates and hashes one pushed op: core's `parseOp`, the op hash and (for a parsed op) the
 * receipt hash. Pure, so it can run on another thread (prepare-pool.ts).
 *
 * @example
 * ```ts
 * const prepared = ops.map(prepareOp);
 * ```
 */
export function prepareOp(raw: unknown, index: number): Prepared {
  if (nestsDeeperThan(raw, MAX_OP_DEPTH)) return tooDeep(raw, index);
  const parsed = parseOp(raw);
  if (parsed.ok) return { index, raw, parsed, head: parsed.received, ...digestsOf(parsed.received) };
  // The head as read keeps every field of the op (a loose object), so its hash is the whole op's.
  return { index, raw, parsed, head: parsed.head, hash: hashOf(parsed.head ?? raw) };
}
