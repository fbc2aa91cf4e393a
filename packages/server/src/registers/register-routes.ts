/**
 * Registers: pairing codes, pairing, the list, revocation, and a register's own view of itself.
 *
 * ```
 *   back office (manager)                     register
 *   POST /registers/pairing-codes ──code──►   (typed on the register)
 *                                             POST /registers/pair {code} ─┐
 *                                             POST /registers/pair {email, password, storeId}
 *                                               ◄── {deviceId, token, resume, …} (token shown once)
 *                                             GET /registers/me  (Bearer token)
 *   POST /registers/:id/revoke ─────────────► next request: 401 register_revoked
 * ```
 */
import { randomUUID } from 'node:crypto';
import { RECEIPT_CODE_PATTERN } from '@kassa/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import type { AuthRateLimit } from '../auth/auth-rate-limit.js';
import { keyedLimiter, perAddressLimit } from '../auth/auth-rate-limit.js';
import { checkCredentials, normalizeEmail } from '../auth/credentials.js';
import { plainText } from '../auth/plain-text.js';
import { deviceOf, requireDevice } from '../auth/device-auth.js';
import type { SessionDeps } from '../auth/session.js';
import { requireUser, userOf } from '../auth/session.js';
import { requireOwnStore } from '../auth/tenancy.js';
import type { Database } from '../db/schema.js';
import { ApiError, ErrorBodySchema } from '../http/api-error.js';
import { ServerKeySchema } from '../keys/key-routes.js';
import { orgKey } from '../keys/org-keys.js';
import { PAIRING_CODE_TTL_MS, generatePairingCode, hashPairingCode, normalizePairingCode } from './pairing-code.js';
import type { PairingResult } from './pairing.js';
import { PairingRaceError, isUniqueViolation, pairRegister, resumeOf } from './pairing.js';

/** A register code: 1–8 of `A–Z0–9`, as receipt numbers need (`R01`). */
export const RegisterCodeSchema = z.string().regex(RECEIPT_CODE_PATTERN, 'a register code is 1–8 upper-case letters or digits');

const RegisterNameSchema = plainText(1, 60);

/** What a register resumes from. */
export const ResumeSchema = z
  .object({
    lastSeq: z.int().describe('highest contiguous op seq acknowledged; continue at lastSeq + 1'),
    lastReceiptNumber: z.int().describe('last receipt sequence number seen; the next is one more'),
    chainHead: z.string().nullable().describe('hash at the head of the receipt chain'),
  })
  .meta({ id: 'RegisterResume' });

/** `POST /api/v1/registers/pair`'s answer. */
export const PairingResultSchema = z
  .object({
    deviceId: z.string().describe('the register id, which is the deviceId of its ops'),
    storeId: z.string(),
    storeCode: z.string(),
    registerCode: z.string(),
    token: z.string().describe('device token for `Authorization: Bearer`; shown once, only its hash is kept'),
    resume: ResumeSchema,
    repaired: z.boolean().describe('this register code was paired before; its old token no longer works'),
    serverTime: z.int(),
    serverKey: ServerKeySchema.describe('the organisation’s public key: personal fields of ops and the key escrow are sealed to it (docs/adr/0032)'),
  })
  .meta({ id: 'PairingResult' });

/** A register as the back office lists it. */
export const RegisterViewSchema = z
  .object({
    id: z.string(),
    storeId: z.string(),
    storeCode: z.string(),
    code: z.string(),
    name: z.string(),
    paired: z.boolean(),
    revoked: z.boolean(),
    pairedAt: z.int().nullable(),
    lastSeenAt: z.int().nullable(),
    lastSeq: z.int(),
    lastReceiptNumber: z.int(),
  })
  .meta({ id: 'Register' });

type RegisterView = z.infer<typeof RegisterViewSchema>;

const PairWithCodeSchema = z.strictObject({
  code: z.string().min(1).max(32).describe('the one-time code from the back office; case, spaces and dashes do not matter'),
  registerCode: RegisterCodeSchema.optional(),
  name: RegisterNameSchema.optional(),
});

const PairWithLoginSchema = z.strictObject({
  email: plainText(3, 254),
  password: z.string().min(1).max(200),
  storeId: z.uuid(),
  registerCode: RegisterCodeSchema.optional(),
  name: RegisterNameSchema.optional(),
});

const IdParamsSchema = z.strictObject({ id: z.uuid() });

/** What the register routes need. */
export interface RegisterRoutesOptions extends SessionDeps {
  readonly authRateLimit: AuthRateLimit;
}

const MANAGERS = ['owner', 'manager'] as const;
const PAIR_ATTEMPTS = 3;

async function listRegisters(db: Kysely<Database>, orgId: string, filter: { storeId?: string | undefined; id?: string }): Promise<RegisterView[]> {
  let q = db
    .selectFrom('registers')
    .innerJoin('stores', 'stores.id', 'registers.store_id')
    .select([
      'registers.id',
      'registers.store_id',
      'stores.code as store_code',
      'registers.code',
      'registers.name',
      'registers.token_hash',
      'registers.revoked',
      'registers.paired_at',
      'registers.last_seen_at',
      'registers.last_seq',
      'registers.last_receipt_number',
    ])
    .where('registers.org_id', '=', orgId);
  if (filter.storeId !== undefined) q = q.where('registers.store_id', '=', filter.storeId);
  if (filter.id !== undefined) q = q.where('registers.id', '=', filter.id);
  const rows = await q.orderBy('stores.code').orderBy('registers.code').execute();
  return rows.map((r) => ({
    id: r.id,
    storeId: r.store_id,
    storeCode: r.store_code,
    code: r.code,
    name: r.name,
    paired: r.token_hash !== null,
    revoked: r.revoked === 1,
    pairedAt: r.paired_at,
    lastSeenAt: r.last_seen_at,
    lastSeq: r.last_seq,
    lastReceiptNumber: r.last_receipt_number,
  }));
}

/** Registers the register routes. */
export const registerRoutes: FastifyPluginAsyncZod<RegisterRoutesOptions> = async (app, options) => {
  const { storage, clock, authRateLimit } = options;
  const db = storage.db;
  const managers = requireUser(options, { roles: MANAGERS });
  const perCode = keyedLimiter(app, authRateLimit, 'pair-code');
  const perEmail = keyedLimiter(app, authRateLimit, 'pair-email');

  app.post(
    '/api/v1/registers/pairing-codes',
    {
      onRequest: managers,
      config: perAddressLimit(authRateLimit),
      schema: {
        summary: 'Create a one-time pairing code (10 minutes, single use) for a new or replaced register',
        tags: ['registers'],
        body: z.strictObject({
          storeId: z.uuid(),
          registerCode: RegisterCodeSchema.optional().describe('pair exactly this register (re-pairing resumes it); else the first free one'),
        }),
        response: {
          201: z
            .object({ code: z.string(), expiresAt: z.int(), storeId: z.string(), registerCode: z.string().nullable() })
            .meta({ id: 'PairingCode' }),
          401: ErrorBodySchema,
          403: ErrorBodySchema,
          404: ErrorBodySchema,
          429: ErrorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const { storeId, registerCode } = request.body;
      const now = clock.now();
      const code = generatePairingCode();
      const id = randomUUID();
      const expiresAt = now + PAIRING_CODE_TTL_MS;
      await db.transaction().execute(async (trx) => {
        await requireOwnStore(trx, user.orgId, storeId);
        await trx
          .insertInto('pairing_codes')
          .values({
            id,
            org_id: user.orgId,
            store_id: storeId,
            code_hash: hashPairingCode(code),
            created_by: user.userId,
            created_at: now,
            expires_at: expiresAt,
            used_at: null,
            register_id: null,
            register_code: registerCode ?? null,
          })
          .execute();
        await audit(trx, {
          orgId: user.orgId,
          storeId,
          actorType: 'user',
          actorId: user.userId,
          action: 'register.pairing_code_created',
          target: { kind: 'pairing_code', id },
          details: { registerCode: registerCode ?? null, expiresAt },
          at: now,
        });
      });
      return reply.status(201).send({ code, expiresAt, storeId, registerCode: registerCode ?? null });
    },
  );

  app.post(
    '/api/v1/registers/pair',
    {
      config: perAddressLimit(authRateLimit),
      schema: {
        summary: 'Pair a register: with a one-time code, or with a manager signing in on it',
        description:
          'Returns the device token (shown once) and what the server knows of the register, so a re-paired register resumes its seq, receipt numbers and chain. ' +
          'A wrong, used or expired code answers 401 `invalid_pairing_code`; wrong credentials 401 `invalid_credentials`. Limited per client address and per code or email.',
        tags: ['registers'],
        body: z.union([PairWithCodeSchema, PairWithLoginSchema]),
        response: {
          200: PairingResultSchema,
          401: ErrorBodySchema,
          403: ErrorBodySchema,
          404: ErrorBodySchema,
          409: ErrorBodySchema,
          429: ErrorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      let authorize: (trx: Parameters<typeof pairRegister>[0], now: number) => Promise<{ orgId: string; storeId: string; registerCode: string | undefined; finish: (result: PairingResult) => Promise<void> }>;

      if ('code' in body) {
        const code = normalizePairingCode(body.code);
        await perCode(request, reply, code ?? body.code.toUpperCase());
        if (code === undefined) throw new ApiError(401, 'invalid_pairing_code', 'the pairing code is unknown, used or expired');
        authorize = async (trx, now) => {
          const row = await trx.selectFrom('pairing_codes').selectAll().where('code_hash', '=', hashPairingCode(code)).executeTakeFirst();
          if (!row || row.used_at !== null || row.expires_at <= now) {
            throw new ApiError(401, 'invalid_pairing_code', 'the pairing code is unknown, used or expired');
          }
          // Single use even under a race: only the transaction that flips used_at gets to pair.
          const claimed = await trx.updateTable('pairing_codes').set({ used_at: now }).where('id', '=', row.id).where('used_at', 'is', null).executeTakeFirst();
          if (claimed.numUpdatedRows !== 1n) throw new ApiError(401, 'invalid_pairing_code', 'the pairing code is unknown, used or expired');
          if (row.register_code !== null && body.registerCode !== undefined && body.registerCode !== row.register_code) {
            throw new ApiError(409, 'register_code_mismatch', `this code pairs register ${row.register_code}, not ${body.registerCode}`);
          }
          return {
            orgId: row.org_id,
            storeId: row.store_id,
            registerCode: row.register_code ?? body.registerCode,
            finish: async (result) => {
              await trx.updateTable('pairing_codes').set({ register_id: result.deviceId }).where('id', '=', row.id).execute();
              await audit(trx, {
                orgId: row.org_id,
                storeId: row.store_id,
                actorType: 'register',
                actorId: result.deviceId,
                action: result.repaired ? 'register.repaired' : 'register.paired',
                target: { kind: 'register', id: result.deviceId },
                details: { via: 'pairing_code', pairingCodeId: row.id, authorizedBy: row.created_by, registerCode: result.registerCode, wasRevoked: result.wasRevoked, ip: request.ip },
                at: now,
              });
            },
          };
        };
      } else {
        const email = normalizeEmail(body.email);
        await perEmail(request, reply, email);
        const { user, failed } = await checkCredentials(db, email, body.password);
        if (!user) {
          if (failed.length > 0) {
            const now = clock.now();
            await db.transaction().execute(async (trx) => {
              for (const account of failed) {
                await audit(trx, {
                  orgId: account.org_id,
                  actorType: 'user',
                  actorId: account.id,
                  action: 'auth.login_failed',
                  target: { kind: 'user', id: account.id },
                  details: { ip: request.ip, reason: 'wrong_password', via: 'register_pairing' },
                  at: now,
                });
              }
            });
          }
          throw new ApiError(401, 'invalid_credentials', 'wrong email or password');
        }
        if (user.role !== 'owner' && user.role !== 'manager') throw new ApiError(403, 'forbidden', 'only an owner or a manager can pair a register');
        authorize = async (trx, now) => ({
          orgId: user.org_id,
          storeId: body.storeId,
          registerCode: body.registerCode,
          finish: async (result) => {
            await audit(trx, {
              orgId: user.org_id,
              storeId: body.storeId,
              actorType: 'user',
              actorId: user.id,
              action: result.repaired ? 'register.repaired' : 'register.paired',
              target: { kind: 'register', id: result.deviceId },
              details: { via: 'manager_login', registerCode: result.registerCode, wasRevoked: result.wasRevoked, ip: request.ip },
              at: now,
            });
          },
        });
      }

      // A concurrent pairing may take the same free register or new code first (PostgreSQL); the
      // loser's transaction rolled back whole, so it simply runs again.
      for (let attempt = 1; ; attempt++) {
        const now = clock.now();
        try {
          let orgId = '';
          const result = await db.transaction().execute(async (trx) => {
            const target = await authorize(trx, now);
            orgId = target.orgId;
            const paired = await pairRegister(trx, { ...target, name: body.name, now });
            await target.finish(paired);
            return paired;
          });
          return {
            deviceId: result.deviceId,
            storeId: result.storeId,
            storeCode: result.storeCode,
            registerCode: result.registerCode,
            token: result.token,
            resume: result.resume,
            repaired: result.repaired,
            serverTime: now,
            serverKey: await orgKey(db, orgId, now).then((k) => ({ keyId: k.keyId, publicKey: k.publicKey })),
          };
        } catch (err) {
          if (attempt < PAIR_ATTEMPTS && (err instanceof PairingRaceError || isUniqueViolation(err))) continue;
          if (err instanceof PairingRaceError || isUniqueViolation(err)) throw new ApiError(409, 'conflict', 'another register was paired at the same moment; try again');
          throw err;
        }
      }
    },
  );

  app.get(
    '/api/v1/registers',
    {
      onRequest: managers,
      schema: {
        summary: 'List the registers: code, name, last seen, last seq, revoked',
        tags: ['registers'],
        querystring: z.strictObject({ storeId: z.uuid().optional() }),
        response: { 200: z.object({ registers: z.array(RegisterViewSchema) }), 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const { orgId } = userOf(request);
      if (request.query.storeId !== undefined) await requireOwnStore(db, orgId, request.query.storeId);
      return { registers: await listRegisters(db, orgId, { storeId: request.query.storeId }) };
    },
  );

  app.post(
    '/api/v1/registers/:id/revoke',
    {
      onRequest: managers,
      schema: {
        summary: 'Revoke a register: its next request gets 401 `register_revoked`',
        description: 'Revoking again changes nothing. Pairing the register code again (code or manager login) gives it a new token.',
        tags: ['registers'],
        params: IdParamsSchema,
        response: { 200: RegisterViewSchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { id } = request.params;
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('registers').select(['id', 'store_id', 'code', 'revoked']).where('id', '=', id).where('org_id', '=', user.orgId).executeTakeFirst();
        if (!row) throw new ApiError(404, 'not_found', 'no such register');
        if (row.revoked === 1) return;
        await trx.updateTable('registers').set({ revoked: 1, updated_at: now }).where('id', '=', id).execute();
        await audit(trx, {
          orgId: user.orgId,
          storeId: row.store_id,
          actorType: 'user',
          actorId: user.userId,
          action: 'register.revoked',
          target: { kind: 'register', id },
          details: { registerCode: row.code },
          at: now,
        });
      });
      const [view] = await listRegisters(db, user.orgId, { id });
      if (!view) throw new ApiError(404, 'not_found', 'no such register');
      return view;
    },
  );

  app.get(
    '/api/v1/registers/me',
    {
      onRequest: requireDevice(storage),
      schema: {
        summary: 'The calling register’s identity and resume info (device token)',
        tags: ['registers'],
        response: {
          200: z
            .object({
              deviceId: z.string(),
              storeId: z.string(),
              storeCode: z.string(),
              registerCode: z.string(),
              name: z.string(),
              resume: ResumeSchema,
              serverTime: z.int(),
            })
            .meta({ id: 'RegisterSelf' }),
          401: ErrorBodySchema,
        },
      },
    },
    async (request) => {
      const device = deviceOf(request);
      const now = clock.now();
      await db.updateTable('registers').set({ last_seen_at: now }).where('id', '=', device.registerId).execute();
      const row = await db
        .selectFrom('registers')
        .innerJoin('stores', 'stores.id', 'registers.store_id')
        .select(['registers.name', 'registers.last_seq', 'registers.last_receipt_number', 'registers.chain_head', 'stores.code as store_code'])
        .where('registers.id', '=', device.registerId)
        .executeTakeFirstOrThrow();
      return {
        deviceId: device.registerId,
        storeId: device.storeId,
        storeCode: row.store_code,
        registerCode: device.registerCode,
        name: row.name,
        resume: resumeOf(row),
        serverTime: now,
      };
    },
  );
};
