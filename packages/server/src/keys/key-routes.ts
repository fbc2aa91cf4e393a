/**
 * The register's side of the organisation's key (docs/adr/0032; DESIGN §4), device token only:
 *
 * ```
 * GET  /api/v1/keys/server          → {keyId, publicKey}   seal personal fields of ops to this
 * PUT  /api/v1/keys/escrow          {registerKeyId, escrowed}   the register's key bundle sealed
 *                                   to that key (AAD escrowAad(deviceId, registerKeyId)); checked
 *                                   to open before it is kept; replaces the previous one
 * POST /api/v1/keys/escrow/release  {staffId, registerKeyId, staffPublicKey} → {registerKeys}
 *                                   the bundle re-sealed to the staff member's new key (AAD
 *                                   registerKeysAad(staffId, registerKeyId)), for an ACTIVE staff
 *                                   member of the register's own store, for the register the token
 *                                   names: a staff member's first unlock without a manager present
 * ```
 *
 * The PIN never reaches the server: the register checks it against the staff member's synced
 * verifier before it asks. What the server authenticates is the device (token) and that the staff
 * member belongs to its store and is active; the answer opens only with the private half of
 * `staffPublicKey`, which the register made for this request.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import { deviceOf, requireDevice } from '../auth/device-auth.js';
import type { Clock } from '../clock.js';
import type { Storage } from '../db/database.js';
import { ApiError, ErrorBodySchema } from '../http/api-error.js';
import { SealedValueError, escrowAad, openSealedBytes, registerKeysAad, sealTo } from './k1.js';
import { orgKey, readEscrow, writeEscrow } from './org-keys.js';

// Lengths by pattern rather than min/max: the fuzz test derives plausible strings from the schema's
// lengths up to 20 characters.
const KeyIdSchema = z.string().regex(/^[A-Za-z0-9_-]{11}$/, 'an 8-byte key id, base64url').describe('8-byte key id, base64url');
const PublicKeySchema = z.string().regex(/^[A-Za-z0-9_-]{87}$/, 'an uncompressed P-256 point, base64url').describe('uncompressed P-256 point (65 bytes), base64url');
const SealedSchema = z
  .string()
  .max(4096)
  .regex(/^k1\.[A-Za-z0-9_-]{100,}$/, 'a k1 sealed envelope')
  .describe('a `k1.` envelope (docs/adr/0032)');

/** `GET /api/v1/keys/server`'s answer. */
export const ServerKeySchema = z
  .object({
    keyId: KeyIdSchema,
    publicKey: PublicKeySchema,
  })
  .meta({ id: 'ServerKey' });

const EscrowBodySchema = z.strictObject({ registerKeyId: KeyIdSchema, escrowed: SealedSchema });
// Loose shapes here, checked in the handler AFTER the staff member: a request naming someone else's
// staff gets its 404 whatever else it says (the tenancy test), a malformed key its 400.
const ReleaseBodySchema = z.strictObject({
  staffId: z.string().min(1).max(64),
  registerKeyId: z.string().min(1).max(64).describe('8-byte key id, base64url: the register key the register holds'),
  staffPublicKey: z.string().min(1).max(200).describe('uncompressed P-256 point (65 bytes), base64url: the answer is sealed to it'),
});

/** What the key routes need. */
export interface KeyRoutesOptions {
  readonly storage: Storage;
  readonly clock: Clock;
}

/** Registers the key routes. */
export const keyRoutes: FastifyPluginAsyncZod<KeyRoutesOptions> = async (app, { storage, clock }) => {
  const { db } = storage;
  const auth = requireDevice(storage);

  app.get(
    '/api/v1/keys/server',
    {
      onRequest: auth,
      schema: {
        summary: 'The organisation’s public key: personal fields of ops and the key escrow are sealed to it',
        tags: ['registers'],
        security: [{ deviceToken: [] }],
        response: { 200: ServerKeySchema, 401: ErrorBodySchema },
      },
    },
    async (request) => {
      const key = await orgKey(db, deviceOf(request).orgId, clock.now());
      return { keyId: key.keyId, publicKey: key.publicKey };
    },
  );

  app.put(
    '/api/v1/keys/escrow',
    {
      onRequest: auth,
      schema: {
        summary: 'Keep the register’s key bundle, sealed to the organisation’s key (after pairing and each rotation)',
        tags: ['registers'],
        security: [{ deviceToken: [] }],
        body: EscrowBodySchema,
        response: { 204: z.null(), 400: ErrorBodySchema, 401: ErrorBodySchema },
      },
    },
    async (request, reply) => {
      const device = deviceOf(request);
      const now = clock.now();
      const key = await orgKey(db, device.orgId, now);
      const { registerKeyId, escrowed } = request.body;
      try {
        const bundle = await openSealedBytes(key, escrowed, escrowAad(device.registerId, registerKeyId));
        bundle.fill(0);
      } catch (e) {
        if (e instanceof SealedValueError) {
          throw new ApiError(400, 'invalid_escrow', `the escrow does not open with the organisation’s key ${key.keyId} for this register and key (${e.reason})`);
        }
        throw e;
      }
      await db.transaction().execute(async (trx) => {
        await writeEscrow(trx, { orgId: device.orgId, registerId: device.registerId, registerKeyId, serverKeyId: key.keyId, escrowed, now });
        await audit(trx, {
          orgId: device.orgId,
          storeId: device.storeId,
          actorType: 'register',
          actorId: device.registerId,
          action: 'keys.escrowed',
          target: { kind: 'register', id: device.registerId },
          details: { registerKeyId },
          at: now,
        });
      });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/keys/escrow/release',
    {
      onRequest: auth,
      schema: {
        summary: 'The register’s key bundle re-sealed to a staff member’s new key (first unlock without a manager)',
        description:
          'For an active staff member of the register’s store, and the register key this register escrowed last. 404 `no_escrow` when the register has not escrowed that key; 404 `unknown_staff`; 403 `staff_inactive`.',
        tags: ['registers'],
        security: [{ deviceToken: [] }],
        body: ReleaseBodySchema,
        response: {
          200: z.object({ registerKeys: SealedSchema }).meta({ id: 'ReleasedRegisterKeys' }),
          400: ErrorBodySchema,
          401: ErrorBodySchema,
          403: ErrorBodySchema,
          404: ErrorBodySchema,
        },
      },
    },
    async (request) => {
      const device = deviceOf(request);
      const now = clock.now();
      const { staffId, registerKeyId, staffPublicKey } = request.body;
      const staff = await db
        .selectFrom('staff')
        .select(['id', 'active'])
        .where('org_id', '=', device.orgId)
        .where('store_id', '=', device.storeId)
        .where('id', '=', staffId)
        .executeTakeFirst();
      if (staff === undefined) throw new ApiError(404, 'unknown_staff', `no staff member ${staffId} in this register’s store`);
      if (staff.active !== 1) throw new ApiError(403, 'staff_inactive', `staff member ${staffId} is not active`);
      if (!KeyIdSchema.safeParse(registerKeyId).success) throw new ApiError(400, 'invalid_input', 'registerKeyId must be an 8-byte key id, base64url');
      if (!PublicKeySchema.safeParse(staffPublicKey).success) throw new ApiError(400, 'invalid_staff_key', 'staffPublicKey must be an uncompressed P-256 point, base64url');
      const escrow = await readEscrow(db, device.orgId, device.registerId);
      if (escrow === undefined || escrow.registerKeyId !== registerKeyId) {
        throw new ApiError(404, 'no_escrow', `this register has not escrowed register key ${registerKeyId}`);
      }
      const key = await orgKey(db, device.orgId, now);
      // The escrow was checked to open when it was kept; failing now is the server's fault, not the caller's.
      const bundle = await openSealedBytes(key, escrow.escrowed, escrowAad(device.registerId, registerKeyId));
      let registerKeys: string;
      try {
        registerKeys = await sealTo(staffPublicKey, bundle, registerKeysAad(staffId, registerKeyId));
      } catch (e) {
        if (e instanceof SealedValueError) throw new ApiError(400, 'invalid_staff_key', 'staffPublicKey is not a P-256 point');
        throw e;
      } finally {
        bundle.fill(0);
      }
      await audit(db, {
        orgId: device.orgId,
        storeId: device.storeId,
        actorType: 'register',
        actorId: device.registerId,
        action: 'keys.escrow_released',
        target: { kind: 'staff', id: staffId },
        details: { registerKeyId },
        at: now,
      });
      return { registerKeys };
    },
  );
};
