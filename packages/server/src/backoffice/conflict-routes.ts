/**
 * Merge conflicts for review (DESIGN §2): two edits of one field made without seeing each other.
 * The merge already let the later one win; review confirms it or picks another value.
 *
 * Resolving writes the picked value — the winner's, the loser's or a new one — as a NEW edit based
 * on the field's current HLC and stamped with a fresh server HLC. Being based on the current value,
 * it is sequential: it never conflicts with anything, and every register converges on it through
 * the change log. Every open conflict of that field of that doc is resolved with it, because the
 * pick was made looking at the value that superseded them all.
 *
 * ```
 *   open ──resolve {value}──► resolved     (value ≠ current: written as a new edit first)
 * ```
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { JsonValueSchema } from '@kassa/core';
import type { DocType, JsonValue } from '@kassa/core';
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import { plainText } from '../auth/plain-text.js';
import { userOf } from '../auth/session.js';
import type { ConflictsTable, Database } from '../db/schema.js';
import { ApiError, ErrorBodySchema } from '../http/api-error.js';
import { catalogTransaction, editCatalogDoc } from './catalog-edit.js';
import { CATALOG_FIELDS, isCatalogDocType } from './catalog-fields.js';
import { ConflictViewSchema, conflictViews } from './conflict-view.js';
import { refuseControlChars } from './control-chars.js';
import { PageInfoShape, PageQueryShape } from './paging.js';
import { accessHooks, callerOf, TAGS } from './route-options.js';
import type { BackofficeRouteOptions } from './route-options.js';
import { writeReferenceFields } from './reference-write.js';

type Db = Kysely<Database> | Transaction<Database>;

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const ConflictIdSchema = z.string().min(3).max(400).regex(/^[^\u0000-\u001f\u007f]+$/).describe('the conflict’s id, URL-encoded');
const ParamsSchema = z.strictObject({ id: ConflictIdSchema });
const DocTypeSchema = z.enum(['product', 'category', 'tax_rate', 'customer', 'variant', 'barcode', 'price_list', 'promotion']);

async function findConflict(db: Db, orgId: string, id: string): Promise<Selectable<ConflictsTable>> {
  const row = await db.selectFrom('conflicts').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new ApiError(404, 'not_found', 'no such conflict');
  return row;
}

/** The picked value, checked against the field's schema when the back office knows the field. */
function checkedValue(docType: string, field: string, value: JsonValue): JsonValue {
  if (!isCatalogDocType(docType)) return value;
  const fields = CATALOG_FIELDS[docType];
  if (!Object.hasOwn(fields, field)) return value;
  const schema = fields[field];
  const parsed = schema === undefined ? { success: true as const, data: value } : schema.safeParse(value);
  if (!parsed.success) {
    throw new ApiError(400, 'invalid_input', `the value does not fit the field ${field} of a ${docType}`, {
      issues: parsed.error.issues.map((i) => ({ path: ['/value', ...i.path].join('/'), code: i.code, message: i.message })),
    });
  }
  const data = parsed.data as JsonValue;
  return field === 'barcodes' && Array.isArray(data) ? [...(data as string[])].sort() : data;
}

/** Registers the conflict routes. */
export const conflictRoutes: FastifyPluginAsyncZod<BackofficeRouteOptions> = async (app, options) => {
  const { storage, clock, changeFeed } = options;
  const db = storage.db;
  const { managers, managersOrDevice } = accessHooks(options);

  app.get(
    '/api/v1/conflicts',
    {
      onRequest: managersOrDevice,
      schema: {
        summary: 'List merge conflicts',
        description: 'Managers (session) or registers (device token; the catalog is the organisation’s, so they see all of it). Newest first.',
        tags: [TAGS.review],
        querystring: z.strictObject({
          ...PageQueryShape,
          status: z.enum(['open', 'resolved', 'all']).default('open'),
          docType: DocTypeSchema.optional(),
          docId: z.uuid().optional(),
        }),
        response: { 200: z.object({ conflicts: z.array(ConflictViewSchema), ...PageInfoShape }), 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
      },
    },
    async (request) => {
      const { orgId } = callerOf(request);
      const { limit, offset, status, docType, docId } = request.query;
      let query = db.selectFrom('conflicts').where('org_id', '=', orgId);
      if (status !== 'all') query = query.where('status', '=', status);
      if (docType !== undefined) query = query.where('doc_type', '=', docType);
      if (docId !== undefined) query = query.where('doc_id', '=', docId);
      const { n } = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await query.selectAll().orderBy('detected_at', 'desc').orderBy('id').limit(limit).offset(offset).execute();
      return { conflicts: await conflictViews(db, orgId, rows), total: Number(n), limit, offset };
    },
  );

  app.get(
    '/api/v1/conflicts/:id',
    {
      onRequest: managersOrDevice,
      schema: { summary: 'One merge conflict', tags: [TAGS.review], params: ParamsSchema, response: { 200: ConflictViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema } },
    },
    async (request) => {
      const { orgId } = callerOf(request);
      const [view] = await conflictViews(db, orgId, [await findConflict(db, orgId, request.params.id)]);
      if (view === undefined) throw new ApiError(404, 'not_found', 'no such conflict');
      return view;
    },
  );

  app.post(
    '/api/v1/conflicts/:id/resolve',
    {
      onRequest: managers,
      schema: {
        summary: 'Resolve a conflict by picking the field’s value',
        description: [
          'The value (the winner’s, the loser’s or a new one) is written as a new edit based on the field’s current value, so it never conflicts again;',
          'registers receive it on their next pull. Picking the value the field already has writes nothing. Every open conflict of the same field is resolved.',
        ].join(' '),
        tags: [TAGS.review],
        params: ParamsSchema,
        body: z
          .strictObject({ value: JsonValueSchema.describe('the value the field shall have'), note: plainText(1, 500).optional() })
          .superRefine((b, ctx) => refuseControlChars(b.value, ctx, ['value'])),
        response: {
          200: z.object({
            conflict: ConflictViewSchema,
            resolved: z.array(z.string()).describe('ids of every conflict this resolved'),
            written: z.boolean().describe('whether a new edit was written (false: the field already had the value)'),
          }),
          400: ErrorBodySchema,
          401: ErrorBodySchema,
          403: ErrorBodySchema,
          404: ErrorBodySchema,
          409: ErrorBodySchema,
        },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { id } = request.params;
      const found = await findConflict(db, user.orgId, id);
      const value = checkedValue(found.doc_type, found.field, request.body.value);
      const out = await catalogTransaction(db, user.orgId, clock, async (trx) => {
        const row = await findConflict(trx, user.orgId, id);
        if (row.status !== 'open') throw new ApiError(409, 'conflict_resolved', 'this conflict has been resolved already', { resolvedAt: row.resolved_at, resolvedBy: row.resolved_by });
        const edit = { orgId: user.orgId, userId: user.userId, docId: row.doc_id, values: { [row.field]: value }, clock };
        // No `seen`: the edit is based on the field's current value, which is what makes it sequential.
        const result = isCatalogDocType(row.doc_type)
          ? await editCatalogDoc(trx, { ...edit, docType: row.doc_type })
          : await writeReferenceFields(trx, { ...edit, docType: row.doc_type as DocType });
        const now = clock.now();
        const open = await trx
          .selectFrom('conflicts')
          .select('id')
          .where('org_id', '=', user.orgId)
          .where('doc_type', '=', row.doc_type)
          .where('doc_id', '=', row.doc_id)
          .where('field', '=', row.field)
          .where('status', '=', 'open')
          .orderBy('id')
          .execute();
        const resolved = open.map((c) => c.id);
        await trx.updateTable('conflicts').set({ status: 'resolved', resolved_at: now, resolved_by: user.userId }).where('org_id', '=', user.orgId).where('id', 'in', resolved).execute();
        await audit(trx, {
          orgId: user.orgId,
          actorType: 'user',
          actorId: user.userId,
          action: 'conflict.resolved',
          target: { kind: 'conflict', id },
          details: { docType: row.doc_type, docId: row.doc_id, field: row.field, value, written: result.changed, resolved, ...(request.body.note === undefined ? {} : { note: request.body.note }) },
          at: now,
        });
        const [view] = await conflictViews(trx, user.orgId, [await findConflict(trx, user.orgId, id)]);
        if (view === undefined) throw new Error('resolved conflict vanished');
        return { conflict: view, resolved, written: result.changed };
      });
      if (out.written) await changeFeed.publish(user.orgId);
      return out;
    },
  );
};
