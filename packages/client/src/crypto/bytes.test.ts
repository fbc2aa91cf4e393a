import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidBase64UrlError, constantTimeEqual, fromBase64Url, toBase64Url } from './bytes.js';

describe('base64url', () => {
  it('round-trips any bytes and uses only the URL-safe alphabet, unpadded (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = toBase64Url(bytes);
        expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
        expect([...fromBase64Url(text)]).toEqual([...bytes]);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects other alphabets, padding, impossible lengths and non-canonical spellings', () => {
    for (const bad of ['a+b/', 'YQ==', 'Y', 'YR', '%%']) expect(() => fromBase64Url(bad)).toThrow(InvalidBase64UrlError);
    expect([...fromBase64Url('YQ')]).toEqual([0x61]);
  });

  it('compares bytes', () => {
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
  });
});
