/**
 * Refusing control characters in free JSON input (DESIGN §4 "bad input changes nothing"):
 * PostgreSQL refuses NUL in text, and no name, note or value of ours needs a control character.
 * `auth/plain-text.ts` covers single text fields; this covers whole JSON values (core's payload
 * schemas and merge-doc values accept any string).
 */
import type { z } from 'zod';

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Adds an issue for every string in `value` (keys included) holding a control character.
 *
 * @example
 * ```ts
 * const Body = z.strictObject({ payload: PayloadSchema }).superRefine((b, ctx) => refuseControlChars(b.payload, ctx, ['payload']));
 * ```
 */
export function refuseControlChars(value: unknown, ctx: z.RefinementCtx, path: (string | number)[] = []): void {
  if (typeof value === 'string') {
    if (CONTROL_CHARS.test(value)) ctx.addIssue({ code: 'custom', path, message: 'must not contain control characters' });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => refuseControlChars(v, ctx, [...path, i]));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (CONTROL_CHARS.test(k)) ctx.addIssue({ code: 'custom', path: [...path, k], message: 'keys must not contain control characters' });
      refuseControlChars(v, ctx, [...path, k]);
    }
  }
}
