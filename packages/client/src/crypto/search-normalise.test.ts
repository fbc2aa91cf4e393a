import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NAME_WORDS, MAX_PREFIX, foldText, nameWords, normalisePhone, phoneSuffixes, queryPrefix, wordPrefixes } from './search-normalise.js';

describe('search normalisation', () => {
  it('folds case and diacritics, including letters NFKD leaves alone', () => {
    expect(foldText('Jürgen MÜLLER')).toBe('jurgen muller');
    expect(foldText('Łukasz Øster Ærø Straße Þór İlker ﬁnn')).toBe('lukasz oster aero strasse thor ilker finn');
    expect(nameWords("Seán O'Brien-Nuñez")).toEqual(['sean', 'obrien', 'nunez']);
    expect(nameWords('  ,, ')).toEqual([]);
  });

  it('folding is idempotent, so a query folds to what was indexed (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (text) => {
        expect(foldText(foldText(text))).toBe(foldText(text));
        expect(nameWords(nameWords(text).join(' '))).toEqual(nameWords(text));
      }),
      { numRuns: 500 },
    );
  });

  it('name prefixes are bounded: length 2..10, at most 8 words', () => {
    expect(wordPrefixes('muller')).toEqual(['mu', 'mul', 'mull', 'mulle', 'muller']);
    expect(wordPrefixes('a')).toEqual([]);
    expect(wordPrefixes('wolfeschlegelsteinhausen')).toHaveLength(MAX_PREFIX - 1);
    expect(queryPrefix('wolfeschlegelsteinhausen')).toBe('wolfeschle');
    expect(queryPrefix('j')).toBeUndefined();
    expect(nameWords('a b c d e f g h i j k')).toHaveLength(MAX_NAME_WORDS);
  });

  it('every query prefix of any word of a name is among its index prefixes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 14 }), { minLength: 1, maxLength: 6 }), fc.nat(), fc.nat(), (parts, pick, cut) => {
        const words = nameWords(parts.join(' '));
        fc.pre(words.length > 0);
        const word = words[pick % words.length] ?? '';
        const chars = [...word];
        fc.pre(chars.length >= 2);
        const typed = chars.slice(0, 2 + (cut % (chars.length - 1))).join('');
        const query = nameWords(typed).map(queryPrefix);
        expect(query).toHaveLength(1);
        const indexed = new Set(words.flatMap(wordPrefixes));
        expect(indexed.has(query[0] ?? '')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('phone numbers: international, 00, national with trunk 0 and separators all normalise alike', () => {
    const forms = ['+49 170 1234567', '+49 (0)170-123 45 67', '0049 170 1234567', '0170 / 123 45 67', '01701234567'];
    for (const f of forms) expect(normalisePhone(f.replace('(0)', ''), '49')).toBe('491701234567');
    expect(normalisePhone('0170 1234567')).toBe('1701234567');
    expect(normalisePhone('１７０１２３４５６７')).toBe('1701234567');
    expect(() => normalisePhone('0170', '+49')).toThrow(RangeError);
    expect(phoneSuffixes('491701234567')).toEqual(['234567', '1234567', '01234567', '701234567', '1701234567', '91701234567', '491701234567']);
    expect(phoneSuffixes('12345')).toEqual(['12345']);
    expect(phoneSuffixes('')).toEqual([]);
  });
});
