/**
 * `GET /api/v1/audit`: the organisation's audit log, newest first, paged by an opaque cursor.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { plainText } from '../auth/plain-text.js';
import type { SessionDeps } from '../auth/session.js';
import { requireUser, userOf } from '../auth/session.js';
import { ErrorBodySchema } from '../http/api-error.js';

/** One audit entry as listed. */
export const AuditEntrySchema = z
  .object({
    id: z.string(),
    at: z.int(),
    storeId: z.string().nullable(),
    actorType: z.string(),
    actorId: z.string().nullable(),
    action: z.string(),
    target: z.object({ kind: z.string(), id: z.string() }).nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });

/** `at.id` of the last entry of a page: the next page starts strictly after it. */
const CURSOR = /^(\d{1,16})\.([0-9a-f-]{36})$/;

/** Registers the audit route. */
export const auditRoutes: FastifyPluginAsyncZod<SessionDeps> = async (app, options) => {
  const db = options.storage.db;

  app.get(
    '/api/v1/audit',
    {
      onRequest: requireUser(options, { roles: ['owner', 'manager'] }),
      schema: {
        summary: 'The audit log of sensitive actions, newest first',
        tags: ['audit'],
        querystring: z.strictObject({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          before: z.string().regex(CURSOR, 'a cursor from `next`').optional().describe('the `next` of the previous page'),
          action: plainText(1, 60).optional().describe('only this action, e.g. `register.revoked`'),
        }),
        response: {
          200: z.object({ entries: z.array(AuditEntrySchema), next: z.string().nullable().describe('cursor of the next page, null at the end') }),
          400: ErrorBodySchema,
          401: ErrorBodySchema,
          403: ErrorBodySchema,
        },
      },
    },
    async (request) => {
      const { limit, before, action } = request.query;
      let q = db.selectFrom('audit_log').selectAll().where('org_id', '=', userOf(request).orgId);
      if (action !== undefined) q = q.where('action', '=', action);
      const m = before === undefined ? null : CURSOR.exec(before);
      if (m?.[1] !== undefined && m[2] !== undefined) {
        const at = Number(m[1]);
        const id = m[2];
        q = q.where((eb) => eb.or([eb('at', '<', at), eb.and([eb('at', '=', at), eb('id', '<', id)])]));
      }
      const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        entries: page.map((r) => ({
          id: r.id,
          at: r.at,
          storeId: r.store_id,
          actorType: r.actor_kind,
          actorId: r.actor_id,
          action: r.action,
          target: r.target_kind !== null && r.target_id !== null ? { kind: r.target_kind, id: r.target_id } : null,
          details: JSON.parse(r.details_json) as Record<string, unknown>,
        })),
        next: rows.length > limit && last ? `${last.at}.${last.id}` : null,
      };
    },
  );
};
