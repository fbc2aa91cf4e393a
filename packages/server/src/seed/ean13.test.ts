import { describe, expect, it } from 'vitest';
import { ean13CheckDigit, isInStoreCode, isValidEan13, withEan13CheckDigit } from './ean13.js';

describe('EAN-13', () => {
  it('computes the check digit of known codes', () => {
    // Published examples: 4006381333931 (a German retail product), 5901234123457 (GS1's example).
    expect(ean13CheckDigit('400638133393')).toBe(1);
    expect(ean13CheckDigit('590123412345')).toBe(7);
    expect(withEan13CheckDigit('210010100000')).toMatch(/^\d{13}$/);
  });

  it('rejects a wrong check digit or a wrong length', () => {
    expect(isValidEan13('4006381333931')).toBe(true);
    expect(isValidEan13('4006381333932')).toBe(false);
    expect(isValidEan13('400638133393')).toBe(false);
    expect(() => ean13CheckDigit('12')).toThrow(RangeError);
  });

  it('recognises in-store variable-measure codes by the GS1 prefix 20–29', () => {
    expect(isInStoreCode(withEan13CheckDigit('210010100000'))).toBe(true);
    expect(isInStoreCode('4006381333931')).toBe(false);
  });
});
