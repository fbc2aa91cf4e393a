/**
 * Text fields that reach the database. PostgreSQL refuses a NUL character in `text` (an error, so
 * a 500), and control characters have no business in a name or an email anyway, so these schemas
 * turn them into a 400 at the edge.
 */
import { z } from 'zod';

// A regex (not a refine) so the OpenAPI document shows the rule as a pattern.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NO_CONTROL_CHARS = /^[^\u0000-\u001f\u007f]*$/;

/**
 * A trimmed single-line text of `min`–`max` characters without control characters.
 *
 * @example
 * ```ts
 * const body = z.strictObject({ name: plainText(1, 80) });
 * ```
 */
export function plainText(min: number, max: number) {
  return z.string().trim().min(min).max(max).regex(NO_CONTROL_CHARS, 'must not contain control characters');
}
