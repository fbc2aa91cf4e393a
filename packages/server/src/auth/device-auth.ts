/**
 * Device-token authentication for register routes (DESIGN §4): `Authorization: Bearer <token>`.
 * The server keeps only the token's SHA-256; organisation, store and register always come from the
 * token's row, never from anything the request says about itself.
 */
import type { FastifyRequest } from 'fastify';
import type { Storage } from '../db/database.js';
import { ApiError } from '../http/api-error.js';
import { sha256Hex } from '../security/secrets.js';

/** The register a request was authenticated as. */
export interface DeviceIdentity {
  /** The register's id, which is also the `deviceId` of its ops. */
  readonly registerId: string;
  readonly orgId: string;
  readonly storeId: string;
  readonly registerCode: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by {@link requireDevice} on register routes. */
    device?: DeviceIdentity;
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{20,200})$/;

/**
 * Resolves a device token to its register, or throws the 401 a register must act on:
 * `register_revoked` (stop syncing and lock) or `invalid_token`.
 */
export async function authenticateDevice(storage: Storage, authorization: string | undefined): Promise<DeviceIdentity> {
  const m = authorization === undefined ? null : BEARER.exec(authorization);
  if (!m?.[1]) throw new ApiError(401, 'invalid_token', 'a register request needs `Authorization: Bearer <device token>`');
  const row = await storage.db
    .selectFrom('registers')
    .select(['id', 'org_id', 'store_id', 'code', 'revoked'])
    .where('token_hash', '=', sha256Hex(m[1]))
    .executeTakeFirst();
  if (!row) throw new ApiError(401, 'invalid_token', 'the device token is not known');
  if (row.revoked === 1) throw new ApiError(401, 'register_revoked', 'this register has been revoked; a manager can export its unsynced data');
  return { registerId: row.id, orgId: row.org_id, storeId: row.store_id, registerCode: row.code };
}

/**
 * A Fastify hook that authenticates the device and sets `request.device`. Use it as `onRequest`, so a
 * caller without a valid token gets its 401 before the body is read or validated (a 400 would tell
 * a stranger the schema).
 *
 * @example
 * ```ts
 * app.post('/api/v1/sync/push', { onRequest: requireDevice(storage) }, async (req) => req.device!.orgId);
 * ```
 */
export function requireDevice(storage: Storage) {
  return async (request: FastifyRequest): Promise<void> => {
    request.device = await authenticateDevice(storage, request.headers.authorization);
  };
}

/** The authenticated device of a request that passed {@link requireDevice}. */
export function deviceOf(request: FastifyRequest): DeviceIdentity {
  if (!request.device) throw new Error('route is missing the requireDevice preHandler');
  return request.device;
}
