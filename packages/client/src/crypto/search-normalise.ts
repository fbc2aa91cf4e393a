/**
 * How customer names, phone numbers and e-mail addresses are normalised before they become search
 * tokens (search-tokens.ts). Pure string functions, so their properties are tested on their own.
 *
 * - names: lower case, diacritics folded (Müller → muller, Łódź → lodz, ß → ss), apostrophes
 *   dropped (O'Brien → obrien), split into words; each word gives its prefixes of length
 *   {@link MIN_PREFIX}..{@link MAX_PREFIX}, so "mül" finds Müller. Bounded: at most
 *   {@link MAX_NAME_WORDS} words, so one field gives at most 8 × 9 = 72 tokens.
 * - phones: digits only, with the international prefix (`+`, `00`) or the national trunk `0`
 *   resolved — to the store's country code when one is given — and every suffix of at least
 *   {@link MIN_PHONE_SUFFIX} digits, so "+49 170 1234567", "0170 1234567" and "1234567" all find
 *   the same customer.
 * - e-mail: trimmed, lower case, whole address only.
 */

/** Shortest name prefix indexed or searched: one letter would match a large share of customers. */
export const MIN_PREFIX = 2;
/** Longest name prefix indexed; longer query words are cut to it. */
export const MAX_PREFIX = 10;
/** At most this many distinct words of a name are indexed or searched. */
export const MAX_NAME_WORDS = 8;
/** Shortest phone suffix indexed, and the fewest digits a phone query needs. */
export const MIN_PHONE_SUFFIX = 6;
/** Digits of a phone number kept (E.164 allows 15; a few more tolerate an extension). */
export const MAX_PHONE_DIGITS = 20;

// Letters NFKD does not decompose into a base letter and a mark.
const FOLDS: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
  ŧ: 't',
  ŋ: 'n',
  ĸ: 'k',
};
const FOLD_PATTERN = new RegExp(`[${Object.keys(FOLDS).join('')}]`, 'gu');

/**
 * `text` in lower case with diacritics folded away.
 *
 * @example
 * ```ts
 * foldText('Łukasz Müller-Straße') // 'lukasz muller-strasse'
 * ```
 */
export function foldText(text: string): string {
  // NFKD before lower-casing too: compatibility forms such as 𝐀 decompose to an upper-case A.
  return text
    .normalize('NFKD')
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(FOLD_PATTERN, (c) => FOLDS[c] ?? c);
}

/** The distinct words of a name, folded, in order, at most {@link MAX_NAME_WORDS}. */
export function nameWords(text: string): string[] {
  const words = foldText(text)
    .replace(/['’ʼ`´]/gu, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
  return [...new Set(words)].slice(0, MAX_NAME_WORDS);
}

/** The indexed prefixes of one folded word: lengths 2..min(length, 10), counted in code points. */
export function wordPrefixes(word: string): string[] {
  const chars = [...word];
  const out: string[] = [];
  for (let n = MIN_PREFIX; n <= Math.min(chars.length, MAX_PREFIX); n++) out.push(chars.slice(0, n).join(''));
  return out;
}

/** What one word of a search query looks up: itself cut to {@link MAX_PREFIX}; nothing under 2. */
export function queryPrefix(word: string): string | undefined {
  const chars = [...word];
  return chars.length < MIN_PREFIX ? undefined : chars.slice(0, MAX_PREFIX).join('');
}

/** A country calling code: 1 to 3 digits, no `+`. */
export function isCountryCode(code: string): boolean {
  return /^[1-9]\d{0,2}$/.test(code);
}

/**
 * A phone number as digits in international form where it can be told: `+` and `00` prefixes are
 * dropped; a national number's trunk zeros are dropped and, with `defaultCountryCode`, replaced by
 * it. Anything else is kept as typed (digits only).
 *
 * @example
 * ```ts
 * normalisePhone('0170 / 123 45 67', '49') // '491701234567'
 * normalisePhone('+49 (170) 1234567')      // '491701234567'
 * ```
 */
export function normalisePhone(text: string, defaultCountryCode?: string): string {
  if (defaultCountryCode !== undefined && !isCountryCode(defaultCountryCode)) {
    throw new RangeError(`not a country calling code: ${JSON.stringify(defaultCountryCode)}`);
  }
  const trimmed = text.normalize('NFKC').trim();
  const digits = trimmed.replace(/\D/g, '');
  let out: string;
  if (trimmed.startsWith('+')) out = digits;
  else if (digits.startsWith('00')) out = digits.slice(2);
  else if (digits.startsWith('0')) out = (defaultCountryCode ?? '') + digits.replace(/^0+/, '');
  else out = digits;
  return out.replace(/^0+/, '').slice(0, MAX_PHONE_DIGITS);
}

/** The indexed suffixes of normalised phone digits (the whole number if it is shorter than 6). */
export function phoneSuffixes(digits: string): string[] {
  if (digits.length === 0) return [];
  if (digits.length < MIN_PHONE_SUFFIX) return [digits];
  const out: string[] = [];
  for (let n = MIN_PHONE_SUFFIX; n <= digits.length; n++) out.push(digits.slice(digits.length - n));
  return out;
}

/** An e-mail address as indexed and searched: trimmed, NFKC, lower case. */
export function normaliseEmail(text: string): string {
  return text.normalize('NFKC').trim().toLowerCase();
}
