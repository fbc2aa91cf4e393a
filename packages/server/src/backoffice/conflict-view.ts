/**
 * A merge conflict as the back office reviews it: the two writes of one field that were made
 * without seeing each other (the later one won), the field's value now (which may be a third,
 * later write), who made the edit that revealed it, and its resolution.
 */
import { docHlcs, docValues, JsonValueSchema, ReferenceDocSchema } from '@kassa/core';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { z } from 'zod';
import type { ConflictsTable, Database } from '../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

const WriteViewSchema = z.object({
  value: JsonValueSchema,
  hlc: z.string(),
  base: z.string().nullable().describe('the HLC of the value its editor saw; null: saw none'),
});

/** One conflict. */
export const ConflictViewSchema = z
  .object({
    id: z.string().describe('`docType:docId:field:loserHlc:winnerHlc`; URL-encode it in paths'),
    docType: z.string(),
    docId: z.string(),
    field: z.string(),
    winner: WriteViewSchema.describe('the later write, which won the merge'),
    loser: WriteViewSchema.describe('the earlier write it overwrote without seeing it'),
    current: z.object({ value: JsonValueSchema, hlc: z.string() }).nullable().describe('the field’s value now'),
    source: z.unknown().describe('who made the edit that revealed the conflict: a register (with its op) or a user'),
    status: z.enum(['open', 'resolved']),
    detectedAt: z.int(),
    resolvedAt: z.int().nullable(),
    resolvedBy: z.string().nullable().describe('the user who resolved it'),
  })
  .meta({ id: 'Conflict' });

/** A conflict view. */
export type ConflictView = z.infer<typeof ConflictViewSchema>;

const StoredWriteSchema = z.object({ value: JsonValueSchema, hlc: z.string(), base: z.string().nullable() });

/**
 * Views of conflict rows, in their order, with each field's current value read from its doc.
 *
 * @example
 * ```ts
 * const views = await conflictViews(db, orgId, await db.selectFrom('conflicts').selectAll().where('org_id', '=', orgId).execute());
 * ```
 */
export async function conflictViews(db: Db, orgId: string, rows: readonly Selectable<ConflictsTable>[]): Promise<ConflictView[]> {
  const current = new Map<string, { values: Record<string, unknown>; hlcs: Record<string, string> }>();
  const keys = [...new Set(rows.map((r) => JSON.stringify([r.doc_type, r.doc_id])))].map((k) => z.tuple([z.string(), z.string()]).parse(JSON.parse(k)));
  for (const [docType, docId] of keys) {
    const row = await db.selectFrom('reference_docs').select('doc_json').where('org_id', '=', orgId).where('doc_type', '=', docType).where('doc_id', '=', docId).executeTakeFirst();
    if (row === undefined) continue;
    const doc = ReferenceDocSchema.parse(JSON.parse(row.doc_json));
    current.set(JSON.stringify([docType, docId]), { values: docValues(doc), hlcs: docHlcs(doc) });
  }
  return rows.map((r) => {
    const doc = current.get(JSON.stringify([r.doc_type, r.doc_id]));
    const hlc = doc?.hlcs[r.field];
    return {
      id: r.id,
      docType: r.doc_type,
      docId: r.doc_id,
      field: r.field,
      winner: StoredWriteSchema.parse(JSON.parse(r.winner_json)),
      loser: StoredWriteSchema.parse(JSON.parse(r.loser_json)),
      current: doc === undefined || hlc === undefined ? null : { value: JsonValueSchema.parse(doc.values[r.field] ?? null), hlc },
      source: JSON.parse(r.source_json) as unknown,
      status: r.status,
      detectedAt: r.detected_at,
      resolvedAt: r.resolved_at,
      resolvedBy: r.resolved_by,
    };
  });
}
