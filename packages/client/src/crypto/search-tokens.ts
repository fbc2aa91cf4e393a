/**
 * A customer search index without cleartext at rest: each searchable field is stored as a set of
 * keyed hashes (HMAC-SHA256 under the register's search key, truncated to 128 bits) of its
 * normalised tokens (search-normalise.ts). While unlocked, the register hashes the query the same
 * way and looks the tokens up; a copy of the profile holds only tokens.
 *
 * What it leaks (docs/adr/0032): equality. Two customers whose names share a prefix share that
 * token, so a thief can count how many names start alike and see which rows match each other —
 * not what the letters are, without the search key (which is sealed like the private key). Token
 * counts are padded with random tokens to a multiple of 8 (names) or to 16 (phones) so a row does
 * not reveal the lengths of its words or number exactly.
 *
 * How the store uses it: a table `(token, row id)` indexed by token; a query returns the rows that
 * hold EVERY query token ({@link matchesQuery}).
 */
import { randomBytes, subtle, toBase64Url, utf8 } from './bytes.js';
import { nameWords, normaliseEmail, normalisePhone, phoneSuffixes, queryPrefix, wordPrefixes, MIN_PHONE_SUFFIX } from './search-normalise.js';

/** Which normalisation a field gets. */
export type SearchKind = 'name' | 'phone' | 'email';

/** Options of {@link searchTokens} and {@link searchQueryTokens}. */
export interface SearchTokenOptions {
  /** The store's country calling code (e.g. `'49'`), so national and international numbers match. */
  readonly defaultCountryCode?: string;
  /** Pad index tokens with random ones (default `true`); `false` only to look at the real tokens. */
  readonly pad?: boolean;
}

const TOKEN_BYTES = 16;
const NAME_PAD_MULTIPLE = 8;
const PHONE_PAD_TO = 16;
// Domain separation: a phone token can never equal a name token of the same characters.
const KIND_TAG: Readonly<Record<SearchKind, string>> = { name: 'n', phone: 'p', email: 'e' };

/**
 * The index tokens of one field value, sorted (so their order says nothing), padded unless
 * `pad: false`. An empty value has none.
 *
 * @example
 * ```ts
 * const tokens = await searchTokens(keys.searchKey, 'Jürgen Müller', 'name');
 * const query = await searchQueryTokens(keys.searchKey, 'mül', 'name');
 * matchesQuery(tokens, query) // true
 * ```
 */
export async function searchTokens(
  searchKey: CryptoKey,
  text: string,
  kind: SearchKind = 'name',
  options: SearchTokenOptions = {},
): Promise<string[]> {
  const plain = indexTerms(text, kind, options);
  if (plain.length === 0) return [];
  const tokens = await Promise.all(plain.map((t) => token(searchKey, kind, t)));
  if (options.pad !== false) {
    const target = kind === 'name' ? Math.ceil(tokens.length / NAME_PAD_MULTIPLE) * NAME_PAD_MULTIPLE : kind === 'phone' ? PHONE_PAD_TO : tokens.length;
    while (tokens.length < target) tokens.push(toBase64Url(randomBytes(TOKEN_BYTES)));
  }
  return tokens.sort();
}

/**
 * The tokens a search box query looks up; a row matches when it holds all of them. Empty when the
 * query is too short to search (a one-letter name, fewer than 6 phone digits).
 */
export async function searchQueryTokens(
  searchKey: CryptoKey,
  query: string,
  kind: SearchKind = 'name',
  options: SearchTokenOptions = {},
): Promise<string[]> {
  const plain = queryTerms(query, kind, options);
  return Promise.all(plain.map((t) => token(searchKey, kind, t)));
}

/** True when `rowTokens` holds every one of `queryTokens` (and there is at least one). */
export function matchesQuery(rowTokens: readonly string[], queryTokens: readonly string[]): boolean {
  if (queryTokens.length === 0) return false;
  const row = new Set(rowTokens);
  return queryTokens.every((t) => row.has(t));
}

function indexTerms(text: string, kind: SearchKind, options: SearchTokenOptions): string[] {
  switch (kind) {
    case 'name':
      return [...new Set(nameWords(text).flatMap(wordPrefixes))];
    case 'phone':
      return phoneSuffixes(normalisePhone(text, options.defaultCountryCode));
    case 'email': {
      const email = normaliseEmail(text);
      return email === '' ? [] : [email];
    }
  }
}

function queryTerms(query: string, kind: SearchKind, options: SearchTokenOptions): string[] {
  switch (kind) {
    case 'name': {
      const prefixes = nameWords(query).map(queryPrefix);
      return [...new Set(prefixes.filter((p): p is string => p !== undefined))];
    }
    case 'phone': {
      const digits = normalisePhone(query, options.defaultCountryCode);
      return digits.length < MIN_PHONE_SUFFIX ? [] : [digits];
    }
    case 'email': {
      const email = normaliseEmail(query);
      return email === '' ? [] : [email];
    }
  }
}

async function token(searchKey: CryptoKey, kind: SearchKind, term: string): Promise<string> {
  const mac = await subtle().sign('HMAC', searchKey, utf8(`${KIND_TAG[kind]}:${term}`));
  return toBase64Url(new Uint8Array(mac, 0, TOKEN_BYTES));
}
