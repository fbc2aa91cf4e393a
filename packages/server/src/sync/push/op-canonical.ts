/**
 * Canonical JSON of pushed ops, computed once per op and shared by the two hashes that need it: the
 * op hash (core's `opHash`: SHA-256 of the whole op's canonical JSON) and the receipt hash (core's
 * `receiptHash`: SHA-256 of `{format, payload, type}`'s canonical JSON). The payload is by far the
 * largest part of both, so its canonical text is made once and spliced into each.
 *
 * Core's `canonicalJson` is the definition; this is a faster walk for what a push can hold — values
 * from `JSON.parse` and zod's plain-object output — that produces the very same text: keys sorted by
 * UTF-16 code units, `undefined` members left out, strings and numbers as `JSON.stringify` writes
 * them. It keeps no paths or cycle set (JSON has no cycles, and the push bounds depth before it
 * gets here). Whatever it does not recognise — a lone surrogate, a non-finite number, `undefined` in
 * an array, a non-plain object — makes it return `undefined`, and the caller asks core, which
 * either serialises the value or says why not. `op-canonical.test.ts` checks the two agree.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, RECEIPT_HASH_FORMAT } from '@kassa/core';

const ANY_SURROGATE = /[\ud800-\udfff]/;
// Same rule as core: a high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Thrown inside the walk when core must decide; never escapes this module. */
const ASK_CORE = Symbol('ask core');

function write(value: unknown): string {
  switch (typeof value) {
    case 'string':
      if (ANY_SURROGATE.test(value) && LONE_SURROGATE.test(value)) throw ASK_CORE;
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw ASK_CORE;
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      throw ASK_CORE;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined) throw ASK_CORE;
      out += (i === 0 ? '' : ',') + write(item);
    }
    return `${out}]`;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw ASK_CORE;
  return writeObject(value as Record<string, unknown>, undefined);
}

/** An object's canonical text; when `spliced` is given, its `payload` member is that text as is. */
function writeObject(record: Record<string, unknown>, spliced: string | undefined): string {
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    if (ANY_SURROGATE.test(key) && LONE_SURROGATE.test(key)) throw ASK_CORE;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${spliced !== undefined && key === 'payload' ? spliced : write(member)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * Core's `canonicalJson(value)`, faster for JSON-shaped values; throws exactly when core throws
 * (core's `NonCanonicalValueError`).
 *
 * @example
 * ```ts
 * canonicalJsonOf({ b: 1, a: [true, 'x'] }); // '{"a":[true,"x"],"b":1}'
 * ```
 */
export function canonicalJsonOf(value: unknown): string {
  try {
    return write(value);
  } catch (err) {
    if (err !== ASK_CORE) throw err;
    return canonicalJson(value);
  }
}

/** SHA-256 of a string's UTF-8 bytes, lower-case hex, with Node's native implementation. */
export function sha256Native(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The two hashes of an op, from one canonical serialisation. */
export interface OpDigests {
  /** Core's `opHash(op)` (the hash of whatever arrived, for dedupe). */
  readonly opHash: string;
  /**
   * Core's `receiptHash({type, payload})` of the op; undefined when that has no canonical form (the
   * receipt chain then reports it `unhashable`).
   */
  readonly receiptHash: string | undefined;
}

/**
 * Hashes an op as core's `opHash` and `receiptHash` would, serialising its payload once.
 * Throws core's `NonCanonicalValueError` when the op as a whole has no canonical form (the caller
 * then hashes it some other way, as before).
 *
 * @example
 * ```ts
 * const { opHash, receiptHash } = opDigests(parsed.received);
 * ```
 */
export function opDigests(op: Record<string, unknown>): OpDigests {
  let payloadText: string | undefined;
  let opText: string;
  try {
    const proto: unknown = Object.getPrototypeOf(op);
    if (proto !== Object.prototype && proto !== null) throw ASK_CORE;
    payloadText = op['payload'] === undefined ? undefined : write(op['payload']);
    opText = writeObject(op, payloadText);
  } catch (err) {
    if (err !== ASK_CORE) throw err;
    // Core decides: it serialises the op or throws why it cannot; the payload alone may still hash.
    opText = canonicalJson(op);
    payloadText = tryCanonical(op['payload']);
  }
  // `{format, payload, type}` has its keys in canonical order already; an absent member is left out.
  const typeText = tryCanonical(op['type']);
  const receiptHash =
    typeText === undefined && op['type'] !== undefined
      ? undefined
      : payloadText === undefined && op['payload'] !== undefined
        ? undefined
        : sha256Native(
            `{"format":${JSON.stringify(RECEIPT_HASH_FORMAT)}${payloadText === undefined ? '' : `,"payload":${payloadText}`}${typeText === undefined ? '' : `,"type":${typeText}`}}`,
          );
  return { opHash: sha256Native(opText), receiptHash };
}

function tryCanonical(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  try {
    return canonicalJsonOf(value);
  } catch {
    return undefined;
  }
}
