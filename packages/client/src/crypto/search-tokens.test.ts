import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateRegisterKeys } from './register-keys.js';
import { foldText } from './search-normalise.js';
import { matchesQuery, searchQueryTokens, searchTokens } from './search-tokens.js';
import type { SearchKind } from './search-tokens.js';

const keysPromise = generateRegisterKeys();

async function finds(stored: string, query: string, kind: SearchKind = 'name', defaultCountryCode?: string): Promise<boolean> {
  const { searchKey } = await keysPromise;
  const options = defaultCountryCode === undefined ? {} : { defaultCountryCode };
  return matchesQuery(await searchTokens(searchKey, stored, kind, options), await searchQueryTokens(searchKey, query, kind, options));
}

describe('search tokens', () => {
  it('find names by prefixes of their words, whatever the case and diacritics', async () => {
    expect(await finds('Jürgen Müller', 'mül')).toBe(true);
    expect(await finds('Jürgen Müller', 'MUL')).toBe(true);
    expect(await finds('Jürgen Müller', 'jur mull')).toBe(true);
    expect(await finds('Jürgen Müller', 'müller jürgen')).toBe(true);
    expect(await finds('Jürgen Müller', 'mül xy')).toBe(false); // every word (of ≥2 letters) must match
    expect(await finds('Jürgen Müller', 'üller')).toBe(false); // prefixes, not infixes
    expect(await finds('Jürgen Müller', 'm')).toBe(false); // one letter searches nothing
    expect(await finds('Zoë Çelik', 'zoe celi')).toBe(true);
    expect(await finds('Seán O’Brien', "o'brien")).toBe(true);
  });

  it('find phone numbers typed in any usual form', async () => {
    const stored = '+49 170 1234567';
    for (const q of ['+49 170 1234567', '0049 170 1234567', '0170 1234567', '0170/123 45 67', '1701234567', '1234567']) {
      expect(await finds(stored, q, 'phone', '49')).toBe(true);
    }
    expect(await finds('0170 1234567', '+49 170 1234567', 'phone', '49')).toBe(true);
    expect(await finds(stored, '0170 7654321', 'phone', '49')).toBe(false);
    expect(await finds(stored, '4567', 'phone', '49')).toBe(false); // fewer than 6 digits searches nothing
  });

  it('find e-mail addresses whole, case-insensitively, and only whole', async () => {
    expect(await finds('Anna.Becker@Example.org', ' anna.becker@example.ORG ', 'email')).toBe(true);
    expect(await finds('anna.becker@example.org', 'anna', 'email')).toBe(false);
  });

  it('contain no cleartext, are padded to fixed buckets and sorted', async () => {
    const { searchKey } = await keysPromise;
    const name = 'Jürgen Müller-Lüdenscheidt';
    const tokens = await searchTokens(searchKey, name, 'name');
    expect(tokens.length % 8).toBe(0);
    expect([...tokens].sort()).toEqual(tokens);
    const joined = tokens.join(' ').toLowerCase();
    for (const word of foldText(name).split(/[^a-z]+/)) if (word.length >= 3) expect(joined).not.toContain(word);
    const phone = await searchTokens(searchKey, '+49 170 1234567', 'phone');
    expect(phone).toHaveLength(16);
    for (const digits of ['491701234567', '1701234567', '1234567', '234567']) expect(phone.join(' ')).not.toContain(digits);
    expect(await searchTokens(searchKey, '', 'name')).toEqual([]);
    const unpadded = await searchTokens(searchKey, 'Anna', 'name', { pad: false });
    expect(unpadded).toHaveLength(3); // an, ann, anna
  });

  it('depend on the key and on the kind: another register, or a phone vs a name, share no token', async () => {
    const { searchKey } = await keysPromise;
    const other = (await generateRegisterKeys()).searchKey;
    const a = await searchTokens(searchKey, 'Anna', 'name', { pad: false });
    const b = await searchTokens(other, 'Anna', 'name', { pad: false });
    expect(a.filter((t) => b.includes(t))).toEqual([]);
    const digitsAsName = await searchTokens(searchKey, '1701234567', 'name', { pad: false });
    const digitsAsPhone = await searchTokens(searchKey, '1701234567', 'phone', { pad: false });
    expect(digitsAsName.filter((t) => digitsAsPhone.includes(t))).toEqual([]);
  });

  it('a name is found by any prefix (≥2) of any of its words (property)', async () => {
    const { searchKey } = await keysPromise;
    const word = fc.stringMatching(/^[A-Za-zÀ-ÖØ-öø-ÿ]{2,12}$/);
    await fc.assert(
      fc.asyncProperty(fc.array(word, { minLength: 1, maxLength: 4 }), fc.nat(), fc.nat(), async (words, pick, cut) => {
        const chosen = words[pick % words.length] ?? '';
        const chars = [...foldText(chosen)];
        fc.pre(chars.length >= 2);
        const typed = chars.slice(0, 2 + (cut % (chars.length - 1))).join('');
        const row = await searchTokens(searchKey, words.join(' '), 'name');
        expect(matchesQuery(row, await searchQueryTokens(searchKey, typed, 'name'))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
