/**
 * Staff and their PINs in the back office. Every change reaches the store's registers through the
 * change log (appended in the same transaction, feed published after the commit), so a register
 * checks a new PIN or a role change offline once it has pulled.
 *
 * Who may do what: owners everything; managers everything except touching the `owner` role (create
 * an owner, promote to or demote from owner, edit an owner or set their PIN), which would let a
 * manager grant themselves an owner's powers at the till. Cashier logins: nothing here.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import type { SessionDeps, SessionUser } from '../auth/session.js';
import { plainText } from '../auth/plain-text.js';
import { requireUser, userOf } from '../auth/session.js';
import { requireOwnStore } from '../auth/tenancy.js';
import type { Database, StaffRole, StaffTable } from '../db/schema.js';
import { ApiError, ErrorBodySchema } from '../http/api-error.js';
import { isValidPin, makePinVerifier } from '../security/pin-verifier.js';
import type { ChangeFeed } from '../sync/change-feed.js';
import { appendChanges } from '../sync/change-log.js';
import { staffChange } from './staff-doc.js';
import { recordStaffRole } from './staff-roles.js';

const StaffRoleSchema = z.enum(['cashier', 'manager', 'owner']);
const StaffNameSchema = plainText(1, 80);
/** The PIN rule is pin-verifier.ts's `isValidPin`; the refine keeps that the one source of truth. */
const PinSchema = z
  .string()
  .regex(/^\d+$/, 'a PIN is digits only')
  .refine(isValidPin, 'a PIN is 4 to 6 digits')
  .describe('4 to 6 digits; stored only as a PBKDF2-SHA256 verifier, never returned');

/** A staff member as the back office sees it: never the PIN nor its verifier. */
export const StaffViewSchema = z
  .object({
    id: z.string(),
    storeId: z.string(),
    name: z.string(),
    role: StaffRoleSchema,
    active: z.boolean(),
    createdAt: z.int(),
    updatedAt: z.int(),
  })
  .meta({ id: 'Staff' });

type StaffView = z.infer<typeof StaffViewSchema>;

/** What the staff routes need. */
export interface StaffRoutesOptions extends SessionDeps {
  /** Wakes registers' pulls after a staff change commits. */
  readonly changeFeed: ChangeFeed;
}

const IdParamsSchema = z.strictObject({ id: z.uuid() });

function view(row: Selectable<StaffTable>): StaffView {
  return {
    id: row.id,
    storeId: row.store_id,
    name: row.name,
    role: row.role,
    active: row.active === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function assertMayAssign(user: SessionUser, role: StaffRole): void {
  if (role === 'owner' && user.role !== 'owner') throw new ApiError(403, 'forbidden', 'only an owner can give or take the owner role');
}

async function findStaff(db: Kysely<Database> | Transaction<Database>, orgId: string, id: string): Promise<Selectable<StaffTable>> {
  const row = await db.selectFrom('staff').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
  if (!row) throw new ApiError(404, 'not_found', 'no such staff member');
  return row;
}

/** Re-reads the row and logs it for the registers; returns the view. */
async function logStaff(trx: Transaction<Database>, orgId: string, id: string, now: number): Promise<StaffView> {
  const row = await findStaff(trx, orgId, id);
  await appendChanges(trx, orgId, [staffChange(row)], { clock: { now: () => now } });
  return view(row);
}

/** Registers the staff routes. */
export const staffRoutes: FastifyPluginAsyncZod<StaffRoutesOptions> = async (app, options) => {
  const { storage, clock, changeFeed } = options;
  const db = storage.db;
  const managers = requireUser(options, { roles: ['owner', 'manager'] });

  app.get(
    '/api/v1/staff',
    {
      onRequest: managers,
      schema: {
        summary: 'List staff (who unlock registers with a PIN)',
        tags: ['staff'],
        querystring: z.strictObject({ storeId: z.uuid().optional() }),
        response: { 200: z.object({ staff: z.array(StaffViewSchema) }), 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const { orgId } = userOf(request);
      let q = db.selectFrom('staff').selectAll().where('org_id', '=', orgId);
      if (request.query.storeId !== undefined) {
        await requireOwnStore(db, orgId, request.query.storeId);
        q = q.where('store_id', '=', request.query.storeId);
      }
      const rows = await q.orderBy('name').orderBy('id').execute();
      return { staff: rows.map(view) };
    },
  );

  app.post(
    '/api/v1/staff',
    {
      onRequest: managers,
      schema: {
        summary: 'Add a staff member with a PIN',
        tags: ['staff'],
        body: z.strictObject({ name: StaffNameSchema, role: StaffRoleSchema, storeId: z.uuid(), pin: PinSchema }),
        response: { 201: StaffViewSchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const { name, role, storeId, pin } = request.body;
      assertMayAssign(user, role);
      await requireOwnStore(db, user.orgId, storeId);
      // The slow derivation (600,000 rounds) runs before the transaction, which stays short.
      const verifier = await makePinVerifier(pin);
      const now = clock.now();
      const id = randomUUID();
      const created = await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('staff')
          .values({
            id,
            org_id: user.orgId,
            store_id: storeId,
            name,
            role,
            pin_kdf: verifier.kdf,
            pin_iterations: verifier.iterations,
            pin_salt: verifier.salt,
            pin_hash: verifier.hash,
            active: 1,
            field_hlc_json: '{}',
            created_at: now,
            updated_at: now,
          })
          .execute();
        await recordStaffRole(trx, { orgId: user.orgId, staffId: id, role, effectiveFrom: now });
        await audit(trx, {
          orgId: user.orgId,
          storeId,
          actorType: 'user',
          actorId: user.userId,
          action: 'staff.created',
          target: { kind: 'staff', id },
          details: { name, role },
          at: now,
        });
        return logStaff(trx, user.orgId, id, now);
      });
      await changeFeed.publish(user.orgId);
      return reply.status(201).send(created);
    },
  );

  app.patch(
    '/api/v1/staff/:id',
    {
      onRequest: managers,
      schema: {
        summary: 'Rename, change the role of, or (de)activate a staff member',
        description: 'A role change takes effect now; ops made before keep being judged by the role held then.',
        tags: ['staff'],
        params: IdParamsSchema,
        body: z
          .strictObject({ name: StaffNameSchema.optional(), role: StaffRoleSchema.optional(), active: z.boolean().optional() })
          .refine((b) => b.name !== undefined || b.role !== undefined || b.active !== undefined, 'give at least one of name, role, active'),
        response: { 200: StaffViewSchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { id } = request.params;
      const patch = request.body;
      const now = clock.now();
      const updated = await db.transaction().execute(async (trx) => {
        const before = await findStaff(trx, user.orgId, id);
        assertMayAssign(user, before.role);
        if (patch.role !== undefined) assertMayAssign(user, patch.role);
        const changes = {
          ...(patch.name !== undefined && patch.name !== before.name ? { name: patch.name } : {}),
          ...(patch.role !== undefined && patch.role !== before.role ? { role: patch.role } : {}),
          ...(patch.active !== undefined && (patch.active ? 1 : 0) !== before.active ? { active: patch.active ? (1 as const) : (0 as const) } : {}),
        };
        if (Object.keys(changes).length === 0) return { view: view(before), changed: false };
        await trx
          .updateTable('staff')
          .set({ ...changes, updated_at: now })
          .where('id', '=', id)
          .where('org_id', '=', user.orgId)
          .execute();
        if (changes.role !== undefined) {
          await recordStaffRole(trx, { orgId: user.orgId, staffId: id, role: changes.role, effectiveFrom: now });
          await audit(trx, {
            orgId: user.orgId,
            storeId: before.store_id,
            actorType: 'user',
            actorId: user.userId,
            action: 'staff.role_changed',
            target: { kind: 'staff', id },
            details: { from: before.role, to: changes.role },
            at: now,
          });
        }
        if (changes.name !== undefined || changes.active !== undefined) {
          await audit(trx, {
            orgId: user.orgId,
            storeId: before.store_id,
            actorType: 'user',
            actorId: user.userId,
            action: 'staff.updated',
            target: { kind: 'staff', id },
            details: {
              ...(changes.name !== undefined ? { name: { from: before.name, to: changes.name } } : {}),
              ...(changes.active !== undefined ? { active: changes.active === 1 } : {}),
            },
            at: now,
          });
        }
        return { view: await logStaff(trx, user.orgId, id, now), changed: true };
      });
      if (updated.changed) await changeFeed.publish(user.orgId);
      return updated.view;
    },
  );

  app.put(
    '/api/v1/staff/:id/pin',
    {
      onRequest: managers,
      schema: {
        summary: 'Set a staff member’s PIN',
        description: 'The server keeps a PBKDF2-SHA256 verifier (≥600,000 iterations) and sends it to the store’s registers; the PIN is never stored, logged or returned.',
        tags: ['staff'],
        params: IdParamsSchema,
        body: z.strictObject({ pin: PinSchema }),
        response: { 200: StaffViewSchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { id } = request.params;
      // Check existence and rights before the slow derivation, so a wrong id costs nothing.
      assertMayAssign(user, (await findStaff(db, user.orgId, id)).role);
      const verifier = await makePinVerifier(request.body.pin);
      const now = clock.now();
      const updated = await db.transaction().execute(async (trx) => {
        const before = await findStaff(trx, user.orgId, id);
        assertMayAssign(user, before.role);
        await trx
          .updateTable('staff')
          .set({ pin_kdf: verifier.kdf, pin_iterations: verifier.iterations, pin_salt: verifier.salt, pin_hash: verifier.hash, updated_at: now })
          .where('id', '=', id)
          .where('org_id', '=', user.orgId)
          .execute();
        await audit(trx, {
          orgId: user.orgId,
          storeId: before.store_id,
          actorType: 'user',
          actorId: user.userId,
          action: 'staff.pin_changed',
          target: { kind: 'staff', id },
          at: now,
        });
        return logStaff(trx, user.orgId, id, now);
      });
      await changeFeed.publish(user.orgId);
      return updated;
    },
  );
};
