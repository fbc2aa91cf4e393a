import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidReceiptNoError,
  InvalidReceiptNoPartsError,
  ReceiptNoSchema,
  compareReceiptNo,
  formatReceiptNo,
  isValidReceiptNo,
  nextReceiptNo,
  parseReceiptNo,
} from './receipt-number.js';

const code = fc.stringMatching(/^[A-Z0-9]{1,8}$/);
const seq = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const parts = fc.record({ storeCode: code, registerCode: code, seq });

function problemOf(text: string): string | undefined {
  try {
    parseReceiptNo(text);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidReceiptNoError);
    return (e as InvalidReceiptNoError).problem;
  }
}

describe('formatReceiptNo', () => {
  it('pads the sequence to six digits', () => {
    expect(formatReceiptNo({ storeCode: 'S01', registerCode: 'R02', seq: 123 })).toBe('S01-R02-000123');
    expect(formatReceiptNo({ storeCode: 'S01', registerCode: 'R02', seq: 1 })).toBe('S01-R02-000001');
    expect(formatReceiptNo({ storeCode: 'S01', registerCode: 'R02', seq: 999_999 })).toBe('S01-R02-999999');
  });

  it('grows past six digits', () => {
    expect(formatReceiptNo({ storeCode: 'S01', registerCode: 'R02', seq: 1_000_000 })).toBe('S01-R02-1000000');
    expect(formatReceiptNo({ storeCode: 'A', registerCode: 'B', seq: Number.MAX_SAFE_INTEGER })).toBe(
      'A-B-9007199254740991',
    );
  });

  it('refuses codes outside [A-Z0-9]{1,8} and sequences below 1 or unsafe', () => {
    const bad: [string, string, number, string][] = [
      ['', 'R02', 1, 'storeCode'],
      ['S-1', 'R02', 1, 'storeCode'],
      ['s01', 'R02', 1, 'storeCode'],
      ['STORE0001', 'R02', 1, 'storeCode'],
      ['S01', 'R 2', 1, 'registerCode'],
      ['S01', 'RÖ', 1, 'registerCode'],
      ['S01', 'R02', 0, 'seq'],
      ['S01', 'R02', -5, 'seq'],
      ['S01', 'R02', 1.5, 'seq'],
      ['S01', 'R02', Number.MAX_SAFE_INTEGER + 1, 'seq'],
    ];
    for (const [storeCode, registerCode, s, part] of bad) {
      expect(() => formatReceiptNo({ storeCode, registerCode, seq: s })).toThrow(InvalidReceiptNoPartsError);
      try {
        formatReceiptNo({ storeCode, registerCode, seq: s });
      } catch (e) {
        expect((e as InvalidReceiptNoPartsError).part).toBe(part);
      }
    }
  });
});

describe('parseReceiptNo', () => {
  it('reads the parts', () => {
    expect(parseReceiptNo('S01-R02-000123')).toEqual({ storeCode: 'S01', registerCode: 'R02', seq: 123 });
    expect(parseReceiptNo('BERLIN1-KASSE12-1000000')).toEqual({
      storeCode: 'BERLIN1',
      registerCode: 'KASSE12',
      seq: 1_000_000,
    });
  });

  it('names what is wrong with a text that is not canonical', () => {
    expect(problemOf('S01R02000123')).toBe('shape');
    expect(problemOf('S01-R02-123')).toBe('shape'); // not padded
    expect(problemOf('S01-R02-00012a')).toBe('shape');
    expect(problemOf(' S01-R02-000123')).toBe('store_code');
    expect(problemOf('s01-R02-000123')).toBe('store_code');
    expect(problemOf('S01-R-02-000123')).toBe('shape');
    expect(problemOf('S01--000123')).toBe('register_code');
    expect(problemOf('S01-R02-000000')).toBe('seq_not_positive');
    expect(problemOf('S01-R02-0001000')).toBe('seq_leading_zero'); // 1000 is written 001000
    expect(problemOf('S01-R02-9007199254740992')).toBe('seq_too_large'); // 2^53
    expect(problemOf('S01-R02-12345678901234567')).toBe('seq_too_large');
    expect(problemOf('S01-R02-000123\n')).toBe('shape');
  });

  it('round-trips with formatReceiptNo', () => {
    fc.assert(
      fc.property(parts, (p) => {
        const text = formatReceiptNo(p);
        expect(parseReceiptNo(text)).toEqual(p);
        expect(isValidReceiptNo(text)).toBe(true);
        expect(ReceiptNoSchema.safeParse(text).success).toBe(true);
        expect(text.length).toBeLessThanOrEqual(34);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts only texts formatReceiptNo would write', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z0-9a-z]{0,9}-[A-Z0-9]{0,9}-[0-9]{0,18}$/), (text) => {
        if (isValidReceiptNo(text)) expect(formatReceiptNo(parseReceiptNo(text))).toBe(text);
        else expect(() => parseReceiptNo(text)).toThrow(InvalidReceiptNoError);
      }),
      { numRuns: 500 },
    );
  });
});

describe('nextReceiptNo', () => {
  it('increments the sequence, growing past six digits', () => {
    expect(nextReceiptNo('S01-R02-000123')).toBe('S01-R02-000124');
    expect(nextReceiptNo('S01-R02-999999')).toBe('S01-R02-1000000');
  });

  it('refuses to run past the largest safe sequence', () => {
    expect(() => nextReceiptNo('S01-R02-9007199254740991')).toThrow(InvalidReceiptNoPartsError);
  });

  it('refuses a text that is not a receipt number', () => {
    expect(() => nextReceiptNo('nope')).toThrow(InvalidReceiptNoError);
  });
});

describe('compareReceiptNo', () => {
  it('orders a register by sequence, not by text', () => {
    const list = ['S01-R02-1000000', 'S01-R02-000002', 'S01-R02-999999', 'S01-R02-000010'];
    expect([...list].sort(compareReceiptNo)).toEqual([
      'S01-R02-000002',
      'S01-R02-000010',
      'S01-R02-999999',
      'S01-R02-1000000',
    ]);
  });

  it('groups by store, then register', () => {
    const list = ['S02-R01-000001', 'S01-R02-000001', 'S01-R01-000005'];
    expect([...list].sort(compareReceiptNo)).toEqual(['S01-R01-000005', 'S01-R02-000001', 'S02-R01-000001']);
  });

  it('agrees with the sequence order on one register', () => {
    fc.assert(
      fc.property(code, code, seq, seq, (s, r, a, b) => {
        const cmp = compareReceiptNo(
          formatReceiptNo({ storeCode: s, registerCode: r, seq: a }),
          formatReceiptNo({ storeCode: s, registerCode: r, seq: b }),
        );
        expect(Math.sign(cmp)).toBe(Math.sign(a - b));
      }),
      { numRuns: 500 },
    );
  });
});
