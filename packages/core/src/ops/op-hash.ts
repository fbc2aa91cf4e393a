/**
 * The hash that identifies an op's content: the server stores it with (deviceId, seq) to tell a
 * retried op (`duplicate`) from a different op under a seq already taken (`seq_conflict`). It
 * covers the whole op, envelope included; the receipt chain's `receiptHash` is a different hash
 * (over type and payload only).
 */
import { canonicalJson } from '../canonical-json.js';
import { sha256Hex } from '../sha256.js';
import type { OpHead } from './op-envelope.js';

/**
 * SHA-256 (64 lower-case hex digits) of the op's canonical JSON, so key order and whitespace do
 * not matter. Hash the op as parsed at its own schema version (`received` from `parseOp`), not
 * after an upgrade: a retry must hash the same on a server that has since moved a version on.
 *
 * @example
 * ```ts
 * const result = parseOp(raw);
 * if (result.ok) store(result.op, opHash(result.received));
 * ```
 */
export function opHash(op: OpHead): string {
  return sha256Hex(canonicalJson(op));
}
