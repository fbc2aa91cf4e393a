/**
 * Canonical JSON: one value, one string. Whatever built an object and in whatever key order, the
 * register and the server serialise it to the same text, so hashes over it (the receipt chain, op
 * fingerprints) agree. It is the JSON Canonicalization Scheme (RFC 8785) for the values Kassa puts
 * in payloads: no whitespace, object keys sorted by UTF-16 code units, strings escaped as
 * `JSON.stringify` escapes them, numbers printed as ECMAScript prints them (integers as plain
 * digits), and anything RFC 8785 would reject, or that has no single JSON form, refused with
 * {@link NonCanonicalValueError} rather than silently coerced.
 */
import { KassaError } from './errors.js';

/** Why a value has no canonical JSON form. */
export type NonCanonicalReason =
  | 'non_finite_number'
  | 'lone_surrogate'
  | 'unsupported_type'
  | 'undefined_in_array'
  | 'not_plain_object'
  | 'cycle';

/** A value (at `path`, e.g. `$.lines[2].qty`) cannot be serialised canonically. */
export class NonCanonicalValueError extends KassaError {
  readonly code = 'non_canonical_value';
  constructor(
    readonly path: string,
    readonly reason: NonCanonicalReason,
  ) {
    super(`no canonical JSON for the value at ${path}: ${reason}`);
  }
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function childPath(path: string, key: string): string {
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function writeString(s: string, path: string): string {
  // RFC 8785 §3.2.2.2: lone surrogates are not Unicode; a hash over them would differ by encoder.
  if (LONE_SURROGATE.test(s)) throw new NonCanonicalValueError(path, 'lone_surrogate');
  // JSON.stringify's string escaping is exactly RFC 8785's (§3.2.2.2 defers to ECMAScript).
  return JSON.stringify(s);
}

function write(value: unknown, path: string, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return writeString(value, path);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new NonCanonicalValueError(path, 'non_finite_number');
      // ECMAScript Number-to-String is RFC 8785's number form; it prints -0 as 0.
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      // bigint, undefined (outside an object), symbol, function: no JSON form we accept.
      throw new NonCanonicalValueError(path, 'unsupported_type');
  }
  if (value === null) return 'null';
  if (seen.has(value)) throw new NonCanonicalValueError(path, 'cycle');
  seen.add(value);
  let out: string;
  if (Array.isArray(value)) {
    const items: string[] = [];
    value.forEach((item: unknown, i) => {
      const p = `${path}[${i}]`;
      // JSON.stringify would write null here; refusing keeps [undefined] and [null] from colliding.
      if (item === undefined) throw new NonCanonicalValueError(p, 'undefined_in_array');
      items.push(write(item, p, seen));
    });
    out = `[${items.join(',')}]`;
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    // A Date, Map or class instance has no single obvious JSON form (toJSON is not canonical).
    if (proto !== Object.prototype && proto !== null) throw new NonCanonicalValueError(path, 'not_plain_object');
    const record = value as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is the key order RFC 8785 §3.2.3 requires.
    const keys = Object.keys(record).sort();
    const members: string[] = [];
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue;
      const p = childPath(path, key);
      members.push(`${writeString(key, p)}:${write(member, p, seen)}`);
    }
    out = `{${members.join(',')}}`;
  }
  seen.delete(value);
  return out;
}

/**
 * Serialises `value` to canonical JSON (RFC 8785 for strings, finite numbers, booleans, null,
 * arrays and plain objects). Object fields whose value is `undefined` are omitted, as an optional
 * field that is absent. Throws {@link NonCanonicalValueError} for non-finite numbers, lone
 * surrogates, `undefined` inside arrays, bigints, functions, symbols, non-plain objects and cycles.
 *
 * @example
 * ```ts
 * canonicalJson({ b: [1, 'x'], a: { d: null, c: true }, e: undefined })
 * // '{"a":{"c":true,"d":null},"b":[1,"x"]}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$', new Set());
}
