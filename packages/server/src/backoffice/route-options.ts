/**
 * What every back-office route plugin is given, and the two access levels they use.
 */
import type { FastifyRequest } from 'fastify';
import { authenticateDevice } from '../auth/device-auth.js';
import type { DeviceIdentity } from '../auth/device-auth.js';
import type { SessionDeps, SessionUser } from '../auth/session.js';
import { requireUser } from '../auth/session.js';
import type { UserRole } from '../db/schema.js';
import type { ChangeFeed } from '../sync/change-feed.js';

/** Options of the back-office route plugins. */
export interface BackofficeRouteOptions extends SessionDeps {
  /** Wakes registers' pulls after a change commits. */
  readonly changeFeed: ChangeFeed;
}

/** Roles that manage: every write, and the review lists (alerts, conflicts, quarantine). */
export const MANAGERS: readonly UserRole[] = ['owner', 'manager'];

/**
 * The `onRequest` hooks of back-office routes: any signed-in user, managers only, or — for the
 * review lists registers show too (DESIGN §7) — managers or a register by its device token. A
 * request with an `Authorization` header is judged as a register's, never as a session's.
 */
export function accessHooks(options: SessionDeps) {
  const managers = requireUser(options, { roles: MANAGERS });
  return {
    signedIn: requireUser(options),
    managers,
    managersOrDevice: async (request: FastifyRequest): Promise<void> => {
      if (request.headers.authorization === undefined) return managers(request);
      request.device = await authenticateDevice(options.storage, request.headers.authorization);
    },
  };
}

/** Who made a request that passed `managersOrDevice`: a back-office user or a register. */
export type Caller = { readonly kind: 'user'; readonly user: SessionUser; readonly orgId: string } | { readonly kind: 'device'; readonly device: DeviceIdentity; readonly orgId: string };

/** The caller of a request that passed `managersOrDevice`. */
export function callerOf(request: FastifyRequest): Caller {
  if (request.device !== undefined) return { kind: 'device', device: request.device, orgId: request.device.orgId };
  if (request.user !== undefined) return { kind: 'user', user: request.user, orgId: request.user.orgId };
  throw new Error('route is missing the managersOrDevice hook');
}

/** Tag of the OpenAPI document for each area. */
export const TAGS = { catalog: 'catalog', stores: 'stores', review: 'review', stock: 'stock' } as const;
