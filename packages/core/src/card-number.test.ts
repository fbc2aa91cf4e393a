import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from './clock.js';
import {
  GIFT_CARD_PREFIX,
  InvalidGiftCardNumberError,
  containsCardNumber,
  detectCardBrand,
  formatGiftCardNumber,
  isCardNumber,
  isGiftCardNumber,
  luhnValid,
  newGiftCardNumber,
} from './card-number.js';

// Published test PANs of the networks and gateways (Stripe, Adyen, Braintree test-card lists).
const testPans: [string, string][] = [
  ['4111 1111 1111 1111', 'visa'],
  ['4012 8888 8888 1881', 'visa'],
  ['4222 2222 22222', 'visa'], // the 13-digit Visa test number; not a valid EAN-13
  ['5555 5555 5555 4444', 'mastercard'],
  ['5105 1051 0510 5100', 'mastercard'],
  ['2223 0031 2200 3222', 'mastercard'],
  ['3782 822463 10005', 'amex'],
  ['3714 496353 98431', 'amex'],
  ['6011 1111 1111 1117', 'discover'],
  ['6011 0009 9013 9424', 'discover'],
  ['3530 1113 3330 0000', 'jcb'],
  ['3566 0020 2036 0505', 'jcb'],
  ['3056 9309 0259 04', 'diners'],
  ['3622 720627 1667', 'diners'],
  ['6200 0000 0000 0005', 'unionpay'],
  ['6759 6498 2643 8453', 'maestro'],
  ['5018 0000 0000 0009', 'maestro'],
];

describe('luhnValid', () => {
  it('accepts numbers whose check digit is right', () => {
    // 79927398713: digits from the right 3,1,7,8,9,3,7,2,9,9,7; doubled every second: 1→2, 8→16→7,
    // 3→6, 2→4, 9→18→9 → 3+2+7+7+9+6+7+4+9+9+7 = 70.
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('4111111111111111')).toBe(true);
  });

  it('refuses a wrong check digit, non-digits and too-short input', () => {
    expect(luhnValid('79927398710')).toBe(false);
    expect(luhnValid('4111 1111 1111 1111')).toBe(false);
    expect(luhnValid('0')).toBe(false);
    expect(luhnValid('')).toBe(false);
  });

  it('catches every single-digit change', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{15}$/), fc.nat(15), fc.integer({ min: 1, max: 9 }), (body, at, delta) => {
        const check = [...'0123456789'].find((c) => luhnValid(body + c)) as string;
        const valid = body + check;
        const changed = valid.slice(0, at) + String((Number(valid[at]) + delta) % 10) + valid.slice(at + 1);
        expect(luhnValid(changed)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('detectCardBrand', () => {
  it('names the network of each published test PAN', () => {
    for (const [pan, brand] of testPans) expect(detectCardBrand(pan.replace(/ /g, ''))).toBe(brand);
  });

  it('checks the length against what the network issues', () => {
    expect(detectCardBrand('4111111111111')).toBe('visa'); // 13
    expect(detectCardBrand('4111111111111111111')).toBe('visa'); // 19
    expect(detectCardBrand('41111111111111')).toBeNull(); // 14: Visa never
    expect(detectCardBrand('37828224631000')).toBeNull(); // Amex is 15 only
    expect(detectCardBrand('55555555555544440')).toBeNull(); // Mastercard is 16 only
  });

  it('draws the range edges where the networks do', () => {
    expect(detectCardBrand('2220000000000000')).toBeNull();
    expect(detectCardBrand('2221000000000000')).toBe('mastercard');
    expect(detectCardBrand('2720990000000000')).toBe('mastercard');
    expect(detectCardBrand('2721000000000000')).toBeNull();
    expect(detectCardBrand('2204000000000000')).toBe('mir');
    expect(detectCardBrand('3527000000000000')).toBeNull();
    expect(detectCardBrand('3589000000000000')).toBe('jcb');
    expect(detectCardBrand('30600000000000')).toBeNull();
    expect(detectCardBrand('6440000000000000')).toBe('discover');
    expect(detectCardBrand('6500000000000000')).toBe('discover'); // before Maestro's 56–69
    expect(detectCardBrand('6212345678901234')).toBe('unionpay');
    expect(detectCardBrand('6212345678901')).toBe('maestro'); // 13 digits: UnionPay issues 16–19
    expect(detectCardBrand('5500000000000')).toBeNull();
    expect(detectCardBrand('9800000000000000')).toBeNull();
    expect(detectCardBrand('8800000000000000')).toBeNull();
    expect(detectCardBrand('1234567890123456')).toBeNull();
  });

  it('returns null for anything but digits', () => {
    expect(detectCardBrand('4111-1111-1111-1111')).toBeNull();
    expect(detectCardBrand('')).toBeNull();
  });
});

describe('isCardNumber', () => {
  it('accepts the published test PANs, grouped or not', () => {
    for (const [pan] of testPans) {
      expect(isCardNumber(pan)).toBe(true);
      expect(isCardNumber(pan.replace(/ /g, ''))).toBe(true);
      expect(isCardNumber(pan.replace(/ /g, '-'))).toBe(true);
      expect(isCardNumber(`  ${pan}\n`)).toBe(true);
    }
  });

  it('refuses a wrong check digit', () => {
    expect(isCardNumber('4111 1111 1111 1112')).toBe(false);
    expect(isCardNumber('5555 5555 5555 4445')).toBe(false);
  });

  it('refuses other separators, doubled separators and other text', () => {
    expect(isCardNumber('4111.1111.1111.1111')).toBe(false);
    expect(isCardNumber('4111  1111 1111 1111')).toBe(false);
    expect(isCardNumber('4111--1111-1111-1111')).toBe(false);
    expect(isCardNumber('card 4111 1111 1111 1111')).toBe(false);
  });
});

describe('barcodes are not card numbers', () => {
  const barcodes: [string, string][] = [
    ['4006381333931', 'EAN-13, Germany (the Wikipedia EAN example); fails Luhn'],
    ['5901234123457', 'EAN-13, Poland (the GS1 example); passes Luhn too, Maestro-shaped'],
    ['6901028075862', 'EAN-13, China; passes Luhn too, Maestro-shaped'],
    ['8710000528153', 'EAN-13, Netherlands'],
    ['9780306406157', 'ISBN-13'],
    ['4002000000093', 'EAN-13, Germany, constructed to pass Luhn: Visa-13-shaped'],
    ['4260000000097', 'EAN-13, Germany, constructed to pass Luhn: Visa-13-shaped'],
    ['012345678905', 'UPC-A (12 digits)'],
    ['0012345678905', 'UPC-A written as EAN-13'],
    ['96385074', 'EAN-8'],
  ];
  for (const [code, what] of barcodes) {
    it(`passes ${code} (${what})`, () => {
      expect(isCardNumber(code)).toBe(false);
      expect(containsCardNumber(`scanned ${code} twice`)).toBe(false);
    });
  }

  it('passes a 12-digit Maestro-shaped UPC-A that happens to pass Luhn', () => {
    // 501234500095: UPC 3·(5+1+3+5+0+9) + (0+2+4+0+0) = 69 + 6 = 75 → check 5. Luhn from the right:
    // 5, 9→9, 0, 0→0, 0, 5→1, 4, 3→6, 2, 1→2, 0, 5→1 = 30. Twelve digits are never a PAN here.
    expect(luhnValid('501234500095')).toBe(true);
    expect(containsCardNumber('item 501234500095')).toBe(false);
  });

  it('still catches a 13-digit Visa that is not a valid EAN-13', () => {
    // 4222222222222: EAN sum 4+3·2+2+3·2+… = 4 + 6·(2·3) + 5·2 = 4+36+10 = 50 → check 0, not 2.
    expect(containsCardNumber('old card 4222222222222')).toBe(true);
  });
});

describe('provider references and gift cards are not card numbers', () => {
  const references = [
    '8815123412341234', // Adyen-style PSP reference: 88 is no network's prefix
    '8835296650153317',
    '1234567890123456', // prefix 1: no network
    '4111111111111112', // Visa-shaped, Luhn fails
    '5555555555554440', // Mastercard-shaped, Luhn fails
    '7000000000000007', // prefix 7: no network
    '00000000000000000000', // 20 digits
    '41111111111111111111', // 20 digits with a PAN inside: not split
  ];
  for (const ref of references) {
    it(`passes the reference ${ref}`, () => {
      expect(isCardNumber(ref)).toBe(false);
      expect(containsCardNumber(`terminal ref ${ref}`)).toBe(false);
    });
  }

  it('passes Kassa gift-card numbers, whatever their Luhn digit', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const number = newGiftCardNumber(seededRandom(seed));
        expect(isCardNumber(number)).toBe(false);
        expect(containsCardNumber(`gift card ${formatGiftCardNumber(number)}`)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('containsCardNumber', () => {
  it('finds PANs inside free text', () => {
    expect(containsCardNumber('paid with 4111-1111-1111-1111 thx')).toBe(true);
    expect(containsCardNumber('card no.5555555555554444.')).toBe(true);
    expect(containsCardNumber('Amex 3782 822463 10005 exp 12/27')).toBe(true);
    expect(containsCardNumber('diners:30569309025904')).toBe(true);
    expect(containsCardNumber('unionpay 6200 0000 0000 0005')).toBe(true);
  });

  it('finds a PAN next to other numbers in the same run of groups', () => {
    // A table number before it and an expiry year after it join the run; whole-group windows find the PAN.
    expect(containsCardNumber('table 12 4111 1111 1111 1111 2027')).toBe(true);
    expect(containsCardNumber('3 x 6011-1111-1111-1117')).toBe(true);
  });

  it('ignores text without one', () => {
    expect(containsCardNumber('')).toBe(false);
    expect(containsCardNumber('customer asked for a bag')).toBe(false);
    expect(containsCardNumber('call +49 170 1234567 tomorrow 2026-03-01')).toBe(false);
    expect(containsCardNumber('4111 1111 1111')).toBe(false); // 12 digits
    expect(containsCardNumber('4111  1111  1111  1111')).toBe(false); // double spaces do not join
  });

  it('finds any valid PAN of any brand embedded in arbitrary text', () => {
    const brandPrefix = fc.constantFrom('4', '51', '55', '2221', '2720', '34', '37', '6011', '65', '3528', '36', '62');
    const lengthFor = (p: string): number => (p === '34' || p === '37' ? 15 : 16);
    fc.assert(
      fc.property(brandPrefix, fc.stringMatching(/^\d{14}$/), fc.string(), fc.string(), (prefix, fill, before, after) => {
        const body = (prefix + fill).slice(0, lengthFor(prefix) - 1);
        const check = [...'0123456789'].find((c) => luhnValid(body + c)) as string;
        const pan = body + check;
        // Non-digit, non-separator neighbours, so the PAN stays its own run.
        const text = `${before.replace(/[\d -]/g, '')}#${pan}#${after.replace(/[\d -]/g, '')}`;
        expect(containsCardNumber(text)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with isCardNumber on a lone number', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{10,21}$/), (digits) => {
        expect(containsCardNumber(digits)).toBe(isCardNumber(digits));
      }),
      { numRuns: 500 },
    );
  });
});

describe('gift-card numbers', () => {
  it('accepts a valid number, grouped or not', () => {
    // Damm over 985260181590830: interim ends at 5, so 5 is the check digit.
    expect(isGiftCardNumber('9852601815908305')).toBe(true);
    expect(isGiftCardNumber('9852 6018 1590 8305')).toBe(true);
    expect(isGiftCardNumber('9852-6018-1590-8305')).toBe(true);
  });

  it('refuses a wrong check digit, a swap of adjacent digits, another prefix or length', () => {
    expect(isGiftCardNumber('9852601815908304')).toBe(false);
    expect(isGiftCardNumber('9852601815903805')).toBe(false); // …8305 with 8 and 3 swapped
    expect(isGiftCardNumber('9752601815908305')).toBe(false);
    expect(isGiftCardNumber('985260181590830')).toBe(false);
    expect(isGiftCardNumber('GC9852601815908305')).toBe(false);
  });

  it('formats in four groups of four and refuses what is not one', () => {
    expect(formatGiftCardNumber('9852-6018-1590-8305')).toBe('9852 6018 1590 8305');
    expect(() => formatGiftCardNumber('4111111111111111')).toThrow(InvalidGiftCardNumberError);
  });

  it('makes valid numbers with the prefix, and catches every single-digit error in them', () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat(15), fc.integer({ min: 1, max: 9 }), (seed, at, delta) => {
        const number = newGiftCardNumber(seededRandom(seed));
        expect(number).toMatch(/^\d{16}$/);
        expect(number.startsWith(GIFT_CARD_PREFIX)).toBe(true);
        expect(isGiftCardNumber(number)).toBe(true);
        const changed = number.slice(0, at) + String((Number(number[at]) + delta) % 10) + number.slice(at + 1);
        expect(isGiftCardNumber(changed)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('catches every swap of two different adjacent digits', () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat(14), (seed, at) => {
        const number = newGiftCardNumber(seededRandom(seed));
        const [a, b] = [number[at], number[at + 1]];
        if (a === b) return;
        const swapped = number.slice(0, at) + b + a + number.slice(at + 2);
        expect(isGiftCardNumber(swapped)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
