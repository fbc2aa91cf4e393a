/**
 * Paging and text search of the back-office lists: `limit` + `offset` with the `total`, which is
 * what a table with page numbers needs (lists here are catalog-sized, not log-sized).
 */
import { sql } from 'kysely';
import type { Expression, RawBuilder, SqlBool } from 'kysely';
import { z } from 'zod';
import { plainText } from '../auth/plain-text.js';

/** Largest page a list returns. */
export const MAX_PAGE = 200;

/** `limit` and `offset` of a list's query string. */
export const PageQueryShape = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50).describe(`items per page, at most ${MAX_PAGE}`),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0).describe('items to skip'),
};

/** `?q=`: a search text (no control characters, which PostgreSQL would refuse in a parameter). */
export const SearchQuerySchema = plainText(1, 100).describe('case-insensitive text to look for');

/** The paging part of every list's answer. */
export const PageInfoShape = {
  total: z.int().describe('items matching the filters, over all pages'),
  limit: z.int(),
  offset: z.int(),
};

/** A `query` or `?` boolean: `true`/`false` (query strings are text). */
export const QueryBooleanSchema = z.enum(['true', 'false']).transform((v) => v === 'true');

/**
 * `lower(column) LIKE lower('%text%')` with `%`, `_` and the escape character in `text` taken
 * literally, on SQLite and PostgreSQL alike (PostgreSQL's LIKE is case-sensitive, hence `lower`;
 * SQLite's `lower` folds ASCII only, which is what its LIKE would do anyway).
 *
 * @example
 * ```ts
 * query.where(({ or, ref }) => or([contains(ref('name'), q), contains(ref('sku'), q)]))
 * ```
 */
export function contains(column: Expression<string>, text: string): RawBuilder<SqlBool> {
  const escaped = text.replace(/[!%_]/g, (c) => `!${c}`);
  return sql<SqlBool>`lower(${column}) like lower(${`%${escaped}%`}) escape '!'`;
}
