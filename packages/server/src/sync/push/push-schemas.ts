/**
 * Wire shapes of `POST /api/v1/sync/push` (DESIGN §3/§7). The body is only checked for being a
 * batch — `{ops: [...]}` with at most {@link MAX_OPS_PER_BATCH} entries — because each op is
 * validated on its own: a malformed op is quarantined and answered for, it never fails the batch.
 */
import { OpSchema } from '@kassa/core';
import { z } from 'zod';

/** Most ops one push may carry; the register sends more in several batches. */
export const MAX_OPS_PER_BATCH = 500;

/** Largest push body: 500 sales of many lines fit; everything else keeps the 1 MiB default. */
export const PUSH_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

/** What happened to one pushed op. */
export const PushStatusSchema = z
  .enum(['applied', 'duplicate', 'quarantined', 'seq_conflict', 'pending_gap', 'deferred'])
  .describe(
    [
      '`applied`: stored now.',
      '`duplicate`: this very op was received before (acknowledged, nothing changed).',
      '`quarantined`: kept for review with its reason and acknowledged — it cannot be understood or may not be accepted.',
      '`seq_conflict`: a different op already holds this seq; kept for review, NOT acknowledged.',
      '`pending_gap`: an earlier seq is missing; nothing stored, send the missing ops first.',
      '`deferred`: written in a newer op schema version than this server reads; nothing stored, retry after the server is upgraded.',
    ].join(' '),
  );

/** One op's status. */
export type PushStatus = z.infer<typeof PushStatusSchema>;

/** Every status, for metrics and tests. */
export const PUSH_STATUSES = PushStatusSchema.options;

/**
 * Registered under the id `Op` so the OpenAPI document carries every op type's schema; the push
 * body refers to it in its description rather than validating with it, since one bad op must not
 * fail the batch.
 */
export const DocumentedOpSchema = OpSchema.meta({
  id: 'Op',
  description: 'An op of the current schema version (DESIGN §3). The server also accepts the previous version.',
});

/** The push body. */
export const PushRequestSchema = z
  .strictObject({
    ops: z
      .array(
        z.unknown().meta({
          description:
            'One op, normally an `Op` (see components.schemas.Op). Each op is validated on its own: one that does not match is quarantined (acknowledged) rather than failing the batch.',
        }),
      )
      .max(MAX_OPS_PER_BATCH, `a push carries at most ${MAX_OPS_PER_BATCH} ops; send the rest in another batch`)
      .describe('The register\u2019s unacknowledged ops, in seq order.'),
  })
  .meta({ id: 'PushRequest' });

/** The push body as parsed. */
export type PushRequest = z.infer<typeof PushRequestSchema>;

/** One op's answer. */
export const PushResultSchema = z
  .object({
    id: z.string().nullable().describe('The op id, or null when the op did not carry a readable one.'),
    status: PushStatusSchema,
    reason: z
      .string()
      .optional()
      .describe(
        'For `quarantined`: `unreadable`, `invalid`, `unsupported_version`, `forged`, `forbidden` or `duplicate_id`. For the other non-applied statuses, a short code too.',
      ),
    message: z.string().optional().describe('For people: what was wrong.'),
  })
  .meta({ id: 'PushResult' });

/** One op's answer as TypeScript sees it. */
export type PushResult = z.infer<typeof PushResultSchema>;

/** The push answer. */
export const PushResponseSchema = z
  .object({
    ackedSeq: z
      .int()
      .min(0)
      .describe('Highest seq up to which every op of this register is stored (applied or quarantined): the register may drop these from its outbox.'),
    serverTime: z.int().min(0).describe('The server\u2019s clock, ms since the epoch, so the register can tell how far off its own is.'),
    results: z.array(PushResultSchema).describe('One per pushed op, in the order they were sent.'),
  })
  .meta({ id: 'PushResponse' });

/** The push answer as TypeScript sees it. */
export type PushResponse = z.infer<typeof PushResponseSchema>;
