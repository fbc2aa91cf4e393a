import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NonCanonicalValueError, canonicalJson } from './canonical-json.js';

/**
 * An independent oracle: JSON.stringify for leaves, an explicit code-unit comparator for keys.
 * (Rebuilding a key-sorted object would not do: JS enumerates integer-like keys such as "0" first.)
 */
function oracle(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oracle).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${oracle(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Rebuilds every object with its keys inserted in an order drawn from `seed`. */
function shuffledDeep(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffledDeep(v, seed));
  if (value !== null && typeof value === 'object') {
    const ranked = Object.entries(value).map(([k, v], i) => ({ k, v, rank: (Math.imul(i + 1, seed) >>> 0) % 1009 }));
    ranked.sort((a, b) => a.rank - b.rank);
    return Object.fromEntries(ranked.map(({ k, v }) => [k, shuffledDeep(v, seed)]));
  }
  return value;
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { z: [3, 2, 1], y: 'x' } })).toBe('{"a":{"y":"x","z":[3,2,1]},"b":1}');
  });

  it('sorts keys by UTF-16 code unit, not by locale', () => {
    // 'B' (0x42) < 'a' (0x61) < 'é' (0xe9) < '€' (0x20ac) < '\u{1F600}' (0xd83d …) < 'ﬀ' (0xfb00)
    const value = { 'ﬀ': 6, a: 2, '\u{1F600}': 5, B: 1, '€': 4, é: 3 };
    expect(canonicalJson(value)).toBe('{"B":1,"a":2,"é":3,"€":4,"\u{1F600}":5,"ﬀ":6}');
  });

  it('sorts integer-like keys as strings, not in JS enumeration order', () => {
    // JS enumerates "9" and "10" before "" and in numeric order; by code unit "" < "1…" < "9".
    expect(canonicalJson({ '9': 'a', '10': 'b', '': 'c' })).toBe('{"":"c","10":"b","9":"a"}');
  });

  it('prints numbers as ECMAScript does: integers plainly, -0 as 0', () => {
    expect(canonicalJson([0, -0, 1, -42, 9007199254740991, 1.5, 1e21, 1e-7])).toBe(
      '[0,0,1,-42,9007199254740991,1.5,1e+21,1e-7]',
    );
  });

  it('escapes strings as RFC 8785 does', () => {
    // Control characters use the short escapes where JSON has them, \u00XX otherwise; "/" is not escaped.
    expect(canonicalJson('a"b\\c\n\t\u0001/é')).toBe('"a\\"b\\\\c\\n\\t\\u0001/é"');
  });

  it('writes null, booleans, empty containers', () => {
    expect(canonicalJson({ n: null, t: true, f: false, a: [], o: {} })).toBe('{"a":[],"f":false,"n":null,"o":{},"t":true}');
  });

  it('omits object fields that are undefined, as absent optional fields', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it('accepts the same object twice when it is shared, not cyclic', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it('accepts objects without a prototype', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o['k'] = 1;
    expect(canonicalJson(o)).toBe('{"k":1}');
  });

  const refusals: [string, unknown, string, string][] = [
    ['NaN', { a: Number.NaN }, '$.a', 'non_finite_number'],
    ['Infinity', [1, Number.POSITIVE_INFINITY], '$[1]', 'non_finite_number'],
    ['a lone high surrogate', { s: 'x\ud800' }, '$.s', 'lone_surrogate'],
    ['a lone low surrogate in a key', { 'k\udc00': 1 }, '$["k\\udc00"]', 'lone_surrogate'],
    ['undefined inside an array', { xs: [1, undefined] }, '$.xs[1]', 'undefined_in_array'],
    ['a bigint', { n: 1n }, '$.n', 'unsupported_type'],
    ['a function', { f: () => 1 }, '$.f', 'unsupported_type'],
    ['top-level undefined', undefined, '$', 'unsupported_type'],
    ['a Date', { d: new Date(0) }, '$.d', 'not_plain_object'],
    ['a Map', { m: new Map() }, '$.m', 'not_plain_object'],
  ];
  for (const [what, value, path, reason] of refusals) {
    it(`refuses ${what}`, () => {
      const error = (() => {
        try {
          canonicalJson(value);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(NonCanonicalValueError);
      expect(error).toMatchObject({ code: 'non_canonical_value', path, reason });
    });
  }

  it('refuses a cycle instead of overflowing the stack', () => {
    const a: Record<string, unknown> = { x: 1 };
    a['self'] = { back: a };
    expect(() => canonicalJson(a)).toThrow(NonCanonicalValueError);
  });

  it('is JSON.stringify with object keys in code-unit order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(oracle(value));
      }),
      { numRuns: 500 },
    );
  });

  it('does not depend on the order keys were inserted in', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer(), (value, seed) => {
        expect(canonicalJson(shuffledDeep(value, seed))).toBe(canonicalJson(value));
      }),
      { numRuns: 500 },
    );
  });

  it('is a fixed point of parse-then-serialise', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});
