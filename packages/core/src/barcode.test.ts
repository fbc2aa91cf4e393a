import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BarcodeError,
  CheckDigitError,
  compressUpcA,
  expandUpcE,
  gs1CheckDigit,
  isValidEan13,
  isValidEan8,
  isValidGtin,
  isValidUpcA,
  isValidUpcE,
  MalformedBarcodeError,
  normalizeGtin,
  parseBarcode,
  priceCheckDigit,
  ValueCheckDigitError,
  VariableMeasureLayoutSchema,
  VariableMeasureLayoutsSchema,
  type VariableMeasureLayout,
} from './barcode.js';
import { InvalidArgumentError } from './errors.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('GS1 check digits on real codes', () => {
  // Weights 1,3,1,3… from the left for 13 digits (3 on the digit next to the check).
  it.each([
    // 4·1+0·3+0+6·3+3+8·3+1+3·3+3+3·3+9+3·3 = 89 → 1
    ['4006381333931', '400638133393', 1],
    // 5+9·3+0+1·3+2+3·3+4+1·3+2+3·3+4+5·3 = 83 → 7
    ['5901234123457', '590123412345', 7],
    // ISBN 978-0-201-37962-4: 9+7·3+8+0+2+0+1+3·3+7+9·3+6+2·3 = 96 → 4
    ['9780201379624', '978020137962', 4],
  ])('EAN-13 %s is valid', (code, body, check) => {
    expect(gs1CheckDigit(body)).toBe(check);
    expect(isValidEan13(code)).toBe(true);
    expect(isValidGtin(code)).toBe(true);
  });

  it('rejects 8711000023560: its check digit should be 3', () => {
    // 8+7·3+1+1·3+0+0+0+0+2+3·3+5+6·3 = 67 → 3, not 0
    expect(isValidEan13('8711000023560')).toBe(false);
    expect(isValidEan13('8711000023563')).toBe(true);
    expect(thrown(() => normalizeGtin('8711000023560'))).toMatchObject({ code: 'barcode_check_digit', expected: 3, actual: 0 });
  });

  it.each([
    // 9·3+6+3·3+8+5·3+0+7·3 = 86 → 4
    ['96385074', 4],
    // 7·3+3+5·3+1+3·3+5+3·3 = 63 → 7
    ['73513537', 7],
  ])('EAN-8 %s is valid', (code, check) => {
    expect(gs1CheckDigit(code.slice(0, 7))).toBe(check);
    expect(isValidEan8(code)).toBe(true);
  });

  it.each([
    // 0·3+3+6·3+0+0+0+2·3+9+1·3+4+5·3 = 58 → 2
    ['036000291452', 2],
    // 0·3+1+2·3+3+4·3+5+6·3+7+8·3+9+0·3 = 85 → 5
    ['012345678905', 5],
  ])('UPC-A %s is valid', (code, check) => {
    expect(gs1CheckDigit(code.slice(0, 11))).toBe(check);
    expect(isValidUpcA(code)).toBe(true);
  });

  it('rejects wrong check digits, lengths and characters', () => {
    expect(isValidEan13('4006381333932')).toBe(false);
    expect(isValidEan8('96385075')).toBe(false);
    expect(isValidUpcA('036000291453')).toBe(false);
    expect(isValidEan13('400638133393')).toBe(false);
    expect(isValidEan13('40063813339a1')).toBe(false);
    expect(isValidGtin('')).toBe(false);
    expect(() => gs1CheckDigit('12a')).toThrow(MalformedBarcodeError);
    expect(() => gs1CheckDigit('')).toThrow(MalformedBarcodeError);
  });
});

describe('UPC-E', () => {
  it('expands 04252614 to 042100005264 and back', () => {
    // Last digit 1: NS 0, "42" + "1" + "0000" + "526", check of 04210000526:
    // 0·3+4+2·3+1+0+0+0+0+5·3+2+6·3 = 46 → 4
    expect(isValidUpcE('04252614')).toBe(true);
    expect(expandUpcE('04252614')).toBe('042100005264');
    expect(compressUpcA('042100005264')).toBe('04252614');
  });

  it.each([
    // last digit 3: 0 123 00000 45, check: 1+2·3+3+4+5·3 = 29 → 1
    ['01234531', '012300000451'],
    // last digit 4: 0 1234 00000 5, check: 1+2·3+3+4·3+5·3 = 37 → 3
    ['01234543', '012340000053'],
    // last digit 7: 0 12345 0000 7, check: 1+2·3+3+4·3+5+7·3 = 48 → 2
    ['01234572', '012345000072'],
  ])('expands %s to %s and back', (upce, upca) => {
    expect(expandUpcE(upce)).toBe(upca);
    expect(compressUpcA(upca)).toBe(upce);
  });

  it('has no UPC-E form for most UPC-A codes', () => {
    expect(compressUpcA('036000291452')).toBeNull();
    expect(compressUpcA('012345678905')).toBeNull();
  });

  it('rejects a bad check digit, number system or length', () => {
    expect(isValidUpcE('04252615')).toBe(false);
    expect(thrown(() => expandUpcE('04252615'))).toMatchObject({ code: 'barcode_check_digit', expected: 4, actual: 5 });
    expect(thrown(() => expandUpcE('24252614'))).toMatchObject({ reason: 'number_system' });
    expect(thrown(() => expandUpcE('0425261'))).toMatchObject({ reason: 'length' });
    expect(() => compressUpcA('042100005265')).toThrow(CheckDigitError);
  });
});

describe('normalizeGtin', () => {
  it('pads to 13 digits and keeps EAN-13 as is', () => {
    expect(normalizeGtin('4006381333931')).toBe('4006381333931');
    expect(normalizeGtin('036000291452')).toBe('0036000291452');
    expect(normalizeGtin('96385074')).toBe('0000096385074');
    expect(normalizeGtin('73513537')).toBe('0000073513537');
  });

  it('expands UPC-E, so UPC-E and UPC-A scans of one can find the same product', () => {
    expect(normalizeGtin('04252614')).toBe('0042100005264');
    expect(normalizeGtin('042100005264')).toBe('0042100005264');
  });

  it('keeps a GTIN-14 with an indicator digit, and drops a leading 0', () => {
    expect(normalizeGtin('00036000291452')).toBe('0036000291452');
    // 1003600029145 from the right: 5·3+4+1·3+9+2·3+0+0+0+6·3+3+0+0+1·3 = 61 → 9
    expect(normalizeGtin('10036000291459')).toBe('10036000291459');
  });

  it('reads an 8-digit code valid as both UPC-E and EAN-8 as UPC-E unless told otherwise', () => {
    // UPC-E 0 123456 → 0 12345 0000 6, check 1+2·3+3+4·3+5+6·3 = 45 → 5
    // EAN-8 0123456: 0·3+1+2·3+3+4·3+5+6·3 = 45 → 5
    expect(normalizeGtin('01234565')).toBe('0012345000065');
    expect(normalizeGtin('01234565', { eightDigits: 'ean8' })).toBe('0000001234565');
    expect(normalizeGtin('04252614', { eightDigits: 'upce' })).toBe('0042100005264');
    expect(() => normalizeGtin('04252614', { eightDigits: 'ean8' })).toThrow(CheckDigitError);
  });

  it('refuses other lengths and non-digits', () => {
    expect(thrown(() => normalizeGtin('123456789'))).toMatchObject({ code: 'malformed_barcode', reason: 'length' });
    expect(thrown(() => normalizeGtin(' 4006381333931'))).toMatchObject({ reason: 'non_digit' });
    expect(thrown(() => normalizeGtin(''))).toMatchObject({ reason: 'non_digit' });
  });
});

describe('priceCheckDigit', () => {
  it.each([
    // 2-(2)=4, 2-(8)=5, 3(7)=1, 5-(5)=3: 13·3 = 39 → 9
    ['2875', 9],
    // 2-(1)=2, 2-(2)=4, 3(3)=9, 5-(4)=8: 23·3 = 69 → 9
    ['1234', 9],
    // 2-(1)=2, 2-(2)=4, 3(5)=5, 5-(0)=0: 11·3 = 33 → 3
    ['1250', 3],
    ['0000', 0],
    // 5+(1)=5, 2-(4)=8, 5-(6)=7, 5+(8)=4, 2-(5)=9: 33; 5-(6)=7 brings it to 40 → 6
    ['14685', 6],
  ])('%s → %i', (value, check) => {
    expect(priceCheckDigit(value)).toBe(check);
  });

  it('only takes 4 or 5 digits', () => {
    expect(() => priceCheckDigit('123')).toThrow(MalformedBarcodeError);
    expect(() => priceCheckDigit('123456')).toThrow(MalformedBarcodeError);
    expect(() => priceCheckDigit('12a4')).toThrow(MalformedBarcodeError);
  });
});

const weight21: VariableMeasureLayout = {
  kind: 'weight',
  prefixes: ['21'],
  itemDigits: 5,
  valueDigits: 5,
  valueDecimals: 3,
  hasPriceCheckDigit: false,
};
const weight29WithVerifier: VariableMeasureLayout = {
  kind: 'weight',
  prefixes: ['29'],
  itemDigits: 5,
  valueDigits: 4,
  valueDecimals: 3,
  hasPriceCheckDigit: true,
};
const price20: VariableMeasureLayout = {
  kind: 'price',
  currency: 'EUR',
  prefixes: ['20'],
  itemDigits: 5,
  valueDigits: 5,
  valueDecimals: 2,
  hasPriceCheckDigit: false,
};
const price22Whole: VariableMeasureLayout = { ...price20, prefixes: ['22'], valueDecimals: 0 };
const price28FiveDigitVerifier: VariableMeasureLayout = {
  kind: 'price',
  currency: 'EUR',
  prefixes: ['28'],
  itemDigits: 4,
  valueDigits: 5,
  valueDecimals: 2,
  hasPriceCheckDigit: true,
};
// UPC-A number system 2 as US scales print it: 2 IIIII P VVVV C, i.e. 02… once normalised.
const priceUpcA: VariableMeasureLayout = {
  kind: 'price',
  currency: 'USD',
  prefixes: ['02'],
  itemDigits: 5,
  valueDigits: 4,
  valueDecimals: 2,
  hasPriceCheckDigit: true,
};
const layouts = [weight21, weight29WithVerifier, price20, price22Whole, price28FiveDigitVerifier, priceUpcA];

describe('parseBarcode', () => {
  it('reads a weight: 21 12345 00375 7 is item 12345, 0.375 kg', () => {
    // 2+1·3+1+2·3+3+4·3+5+0+0+3·3+7+5·3 = 63 → 7
    expect(parseBarcode('2112345003757', layouts)).toEqual({
      kind: 'variable',
      measure: 'weight',
      gtin: '2112345003757',
      prefix: '21',
      itemCode: '12345',
      qty: 375,
    });
  });

  it('reads a weight with a verifier digit: 29 12345 3 1250 3 is 1.250 kg', () => {
    // verifier of 1250 is 3 (see priceCheckDigit); check: 2+9·3+1+2·3+3+4·3+5+3·3+1+2·3+5+0 = 77 → 3
    expect(parseBarcode('2912345312503', layouts)).toMatchObject({ measure: 'weight', itemCode: '12345', qty: 1250 });
  });

  it('reads a price without a verifier: 20 00042 01299 1 is €12.99', () => {
    // 2+0+0+0+0+4·3+2+0+1+2·3+9+9·3 = 59 → 1
    expect(parseBarcode('2000042012991', layouts)).toEqual({
      kind: 'variable',
      measure: 'price',
      gtin: '2000042012991',
      prefix: '20',
      itemCode: '00042',
      price: { amount: 1299, currency: 'EUR' },
    });
  });

  it('reads a price in whole units: 22 00001 00012 4 is €12.00', () => {
    // 2+2·3+0+0+0+0+1+0+0+0+1+2·3 = 16 → 4
    expect(parseBarcode('2200001000124', layouts)).toMatchObject({ itemCode: '00001', price: { amount: 1200, currency: 'EUR' } });
  });

  it('reads a price with a 4-digit verifier from a UPC-A: 2 12345 9 2875 2 is $28.75', () => {
    // verifier of 2875 is 9; UPC-A check: 2·3+1+2·3+3+4·3+5+9·3+2+8·3+7+5·3 = 108 → 2
    expect(parseBarcode('212345928752', layouts)).toEqual({
      kind: 'variable',
      measure: 'price',
      gtin: '0212345928752',
      prefix: '02',
      itemCode: '12345',
      price: { amount: 2875, currency: 'USD' },
    });
  });

  it('reads a price with a 5-digit verifier: 28 1234 6 14685 8 is €146.85', () => {
    // verifier of 14685 is 6; check: 2+8·3+1+2·3+3+4·3+6+1·3+4+6·3+8+5·3 = 102 → 8
    expect(parseBarcode('2812346146858', layouts)).toMatchObject({ itemCode: '1234', price: { amount: 14685, currency: 'EUR' } });
  });

  it('rejects a wrong verifier digit even when the check digit is right', () => {
    // 2 12345 8 2875: check 108 − 3 = 105 → 5; verifier should be 9
    const e = thrown(() => parseBarcode('212345828755', layouts));
    expect(e).toBeInstanceOf(ValueCheckDigitError);
    expect(e).toMatchObject({ code: 'barcode_value_check_digit', barcode: '212345828755', expected: 9, actual: 8 });
    // 29 12345 4 1250: check 77 + 3 = 80 → 0; verifier should be 3
    expect(thrown(() => parseBarcode('2912345412500', layouts))).toMatchObject({ expected: 3, actual: 4 });
  });

  it('rejects a variable-measure code with a wrong check digit', () => {
    const e = thrown(() => parseBarcode('2112345003758', layouts));
    expect(e).toBeInstanceOf(CheckDigitError);
    expect(e).toBeInstanceOf(BarcodeError);
    expect(e).toMatchObject({ expected: 7, actual: 8 });
  });

  it('returns other codes as GTINs to look up, 2-prefixed ones no layout claims included', () => {
    expect(parseBarcode('4006381333931', layouts)).toEqual({ kind: 'gtin', gtin: '4006381333931', format: 'ean13' });
    expect(parseBarcode('036000291452', layouts)).toEqual({ kind: 'gtin', gtin: '0036000291452', format: 'upca' });
    expect(parseBarcode('96385074', layouts)).toEqual({ kind: 'gtin', gtin: '0000096385074', format: 'ean8' });
    expect(parseBarcode('04252614', layouts)).toEqual({ kind: 'gtin', gtin: '0042100005264', format: 'upce' });
    expect(parseBarcode('10036000291459', layouts)).toEqual({ kind: 'gtin', gtin: '10036000291459', format: 'gtin14' });
    expect(parseBarcode('2112345003757', [])).toEqual({ kind: 'gtin', gtin: '2112345003757', format: 'ean13' });
  });

  it('rejects wrong lengths and characters', () => {
    expect(thrown(() => parseBarcode('211234500375', layouts))).toBeInstanceOf(CheckDigitError);
    expect(thrown(() => parseBarcode('21123450037', layouts))).toMatchObject({ reason: 'length' });
    expect(thrown(() => parseBarcode('211234500375x', layouts))).toMatchObject({ reason: 'non_digit' });
  });

  it('refuses an inconsistent layout instead of misreading', () => {
    const bad = { ...weight21, itemDigits: 6 };
    expect(() => parseBarcode('2112345003757', [bad])).toThrow(InvalidArgumentError);
  });
});

describe('layout schemas', () => {
  it('accepts the layouts above', () => {
    for (const layout of layouts) expect(VariableMeasureLayoutSchema.safeParse(layout).success).toBe(true);
    expect(VariableMeasureLayoutsSchema.safeParse(layouts).success).toBe(true);
  });

  it.each([
    ['digits not adding up to 13', { ...weight21, valueDigits: 4 }],
    ['a verifier over 3 digits', { ...weight21, itemDigits: 6, valueDigits: 3, hasPriceCheckDigit: true }],
    ['weights finer than thousandths', { ...weight21, valueDecimals: 4 }],
    ['prices finer than the currency', { ...price20, valueDecimals: 3 }],
    ['a prefix that is not restricted circulation', { ...weight21, prefixes: ['31'] }],
    ['prefixes of different lengths', { ...weight21, prefixes: ['21', '2'] }],
    ['no prefix', { ...weight21, prefixes: [] }],
    ['a price without a currency', { ...weight21, kind: 'price' }],
    ['an unknown field', { ...weight21, unit: 'kg' }],
  ])('refuses %s', (_name, layout) => {
    expect(VariableMeasureLayoutSchema.safeParse(layout).success).toBe(false);
  });

  it('refuses overlapping prefixes across layouts', () => {
    const one = { ...weight21, prefixes: ['2'], itemDigits: 6 };
    expect(VariableMeasureLayoutSchema.safeParse(one).success).toBe(true);
    expect(VariableMeasureLayoutsSchema.safeParse([one, price20]).success).toBe(false);
    expect(VariableMeasureLayoutsSchema.safeParse([weight21, weight21]).success).toBe(false);
  });
});

describe('properties', () => {
  const digits = (length: number): fc.Arbitrary<string> =>
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: length, maxLength: length }).map((d) => d.join(''));
  const validGtin = fc
    .constantFrom(7, 11, 12, 13)
    .chain(digits)
    .map((body) => `${body}${gs1CheckDigit(body)}`);

  it('a computed check digit always validates', () => {
    fc.assert(
      fc.property(validGtin, (code) => {
        expect(isValidGtin(code)).toBe(true);
        expect(() => normalizeGtin(code, { eightDigits: 'ean8' })).not.toThrow();
      }),
      { numRuns: 1000 },
    );
  });

  it('changing any single digit of a valid GTIN invalidates it', () => {
    fc.assert(
      fc.property(validGtin, fc.nat(), fc.integer({ min: 1, max: 9 }), (code, at, shift) => {
        const i = at % code.length;
        const changed = `${code.slice(0, i)}${(Number(code[i]) + shift) % 10}${code.slice(i + 1)}`;
        expect(isValidGtin(changed)).toBe(false);
        expect(() => normalizeGtin(changed, { eightDigits: 'ean8' })).toThrow(CheckDigitError);
      }),
      { numRuns: 1000 },
    );
  });

  it('changing any single digit of a price or weight field changes its verifier digit', () => {
    fc.assert(
      fc.property(fc.constantFrom(4, 5).chain(digits), fc.nat(), fc.integer({ min: 1, max: 9 }), (value, at, shift) => {
        const i = at % value.length;
        const changed = `${value.slice(0, i)}${(Number(value[i]) + shift) % 10}${value.slice(i + 1)}`;
        expect(priceCheckDigit(changed)).not.toBe(priceCheckDigit(value));
      }),
      { numRuns: 1000 },
    );
  });

  it('every UPC-E expands to a valid UPC-A that compresses back to the same number', () => {
    fc.assert(
      fc.property(fc.constantFrom('0', '1'), digits(6), (ns, six) => {
        const upcA = `${ns}${six}`;
        // The check digit is whatever makes the expansion valid; find it by trying all ten.
        const upcE = [...'0123456789'].map((c) => `${upcA}${c}`).find(isValidUpcE);
        expect(upcE).toBeDefined();
        const expanded = expandUpcE(upcE ?? '');
        expect(isValidUpcA(expanded)).toBe(true);
        const compressed = compressUpcA(expanded);
        expect(compressed).not.toBeNull();
        expect(expandUpcE(compressed ?? '')).toBe(expanded);
        expect(normalizeGtin(upcE ?? '', { eightDigits: 'upce' })).toBe(`0${expanded}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('a weight code built for any item and weight reads back the same', () => {
    fc.assert(
      fc.property(digits(5), fc.integer({ min: 0, max: 99_999 }), (item, grams) => {
        const body = `21${item}${String(grams).padStart(5, '0')}`;
        const parsed = parseBarcode(`${body}${gs1CheckDigit(body)}`, layouts);
        expect(parsed).toMatchObject({ kind: 'variable', measure: 'weight', itemCode: item, qty: grams });
      }),
      { numRuns: 500 },
    );
  });

  it('a price code with a verifier built for any item and price reads back the same', () => {
    fc.assert(
      fc.property(digits(5), digits(4), (item, cents) => {
        const body = `2${item}${priceCheckDigit(cents)}${cents}`;
        const parsed = parseBarcode(`${body}${gs1CheckDigit(body)}`, layouts);
        expect(parsed).toMatchObject({ measure: 'price', itemCode: item, price: { amount: Number(cents), currency: 'USD' } });
      }),
      { numRuns: 500 },
    );
  });
});
