/**
 * Back-office sessions (DESIGN §4): an HttpOnly, SameSite=Strict cookie holding a random token
 * whose SHA-256 is the only thing stored, and a CSRF token every mutating request must echo in
 * `x-csrf-token`.
 *
 * A session's life, by the injected clock:
 *
 * ```
 *   login ──► active ──(request; touch last_used_at at most once a minute)──► active
 *               │ │
 *               │ └──(no request for 12 h: idle)  ─┐
 *               └────(7 days after login: absolute)┴──► expired: row deleted, 401 session_expired
 *   logout ──► row deleted: the cookie's token no longer resolves (401 unauthenticated)
 * ```
 *
 * Why SameSite=Strict and a token too: SameSite stops a cross-site form from carrying the cookie in
 * today's browsers; the CSRF token also covers older browsers and same-site subdomains. The token
 * is not a credential by itself (it is useless without the cookie), so it is stored as is.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import type { Storage } from '../db/database.js';
import type { Database, UserRole } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import { randomToken, sha256Hex } from '../security/secrets.js';

/** The session cookie's name. */
export const SESSION_COOKIE = 'kassa_session';
/** Header a mutating cookie-authenticated request must carry, holding the session's CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';
/** A session ends after this long without a request. */
export const SESSION_IDLE_MS = 12 * 3600_000;
/** A session ends this long after login, however active. */
export const SESSION_ABSOLUTE_MS = 7 * 24 * 3600_000;
/** `last_used_at` is written at most this often, so reads do not each cost a write. */
const TOUCH_INTERVAL_MS = 60_000;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,200}$/;

/** The back-office user a request was authenticated as. */
export interface SessionUser {
  readonly userId: string;
  readonly orgId: string;
  readonly role: UserRole;
  readonly email: string;
  readonly name: string;
}

/** The session behind {@link SessionUser}: for logout and `/auth/me`. */
export interface SessionRef {
  readonly id: string;
  readonly csrfToken: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by {@link requireUser}. */
    user?: SessionUser;
    /** Set by {@link requireUser}. */
    authSession?: SessionRef;
  }
}

/** What the session functions need. */
export interface SessionDeps {
  readonly storage: Storage;
  readonly clock: Clock;
}

/** A new session: the cookie's token (never stored) and the CSRF token. */
export interface NewSession {
  readonly id: string;
  readonly token: string;
  readonly csrfToken: string;
  readonly expiresAt: number;
}

/**
 * Creates a session for `userId` and removes the user's sessions that have already expired.
 * Call it in the login's transaction.
 */
export async function createSession(db: Kysely<Database> | Transaction<Database>, user: { id: string; orgId: string }, now: number): Promise<NewSession> {
  await db
    .deleteFrom('sessions')
    .where('user_id', '=', user.id)
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_used_at', '<=', now - SESSION_IDLE_MS)]))
    .execute();
  const session: NewSession = { id: randomUUID(), token: randomToken(), csrfToken: randomToken(), expiresAt: now + SESSION_ABSOLUTE_MS };
  await db
    .insertInto('sessions')
    .values({
      id: session.id,
      org_id: user.orgId,
      user_id: user.id,
      token_hash: sha256Hex(session.token),
      csrf_token: session.csrfToken,
      created_at: now,
      expires_at: session.expiresAt,
      last_used_at: now,
    })
    .execute();
  return session;
}

/**
 * Sets the session cookie: HttpOnly, SameSite=Strict, Path=/, Secure when the request came over
 * HTTPS (registers and the back office also run over plain HTTP on a shop's LAN, where a Secure
 * cookie would never be sent back).
 */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, session: NewSession, now: number): void {
  reply.setCookie(SESSION_COOKIE, session.token, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: request.protocol === 'https',
    maxAge: Math.max(0, Math.floor((session.expiresAt - now) / 1000)),
  });
}

/** Tells the browser to forget the session cookie. */
export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/', secure: request.protocol === 'https' });
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(sha256Hex(given), 'hex');
  const b = Buffer.from(sha256Hex(expected), 'hex');
  return timingSafeEqual(a, b);
}

/**
 * Resolves the request's session cookie to its user, or throws the 401 to answer:
 * `unauthenticated` (no cookie, or one no session has) or `session_expired` (the row is deleted).
 */
export async function authenticateSession(deps: SessionDeps, request: FastifyRequest): Promise<{ user: SessionUser; session: SessionRef }> {
  const token = request.cookies[SESSION_COOKIE];
  if (token === undefined || !TOKEN_SHAPE.test(token)) throw new ApiError(401, 'unauthenticated', 'sign in first: this route needs a back-office session');
  const db = deps.storage.db;
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id as sessionId',
      'sessions.csrf_token as csrfToken',
      'sessions.expires_at as expiresAt',
      'sessions.last_used_at as lastUsedAt',
      'users.id as userId',
      'users.org_id as orgId',
      'users.role as role',
      'users.email as email',
      'users.display_name as name',
    ])
    .where('sessions.token_hash', '=', sha256Hex(token))
    .executeTakeFirst();
  if (!row) throw new ApiError(401, 'unauthenticated', 'the session is not known (signed out?); sign in again');
  const now = deps.clock.now();
  if (now >= row.expiresAt || now >= row.lastUsedAt + SESSION_IDLE_MS) {
    await db.deleteFrom('sessions').where('id', '=', row.sessionId).execute();
    throw new ApiError(401, 'session_expired', 'the session has expired; sign in again');
  }
  if (now - row.lastUsedAt >= TOUCH_INTERVAL_MS) {
    await db.updateTable('sessions').set({ last_used_at: now }).where('id', '=', row.sessionId).execute();
  }
  return {
    user: { userId: row.userId, orgId: row.orgId, role: row.role, email: row.email, name: row.name },
    session: { id: row.sessionId, csrfToken: row.csrfToken },
  };
}

/** Options of {@link requireUser}. */
export interface RequireUserOptions {
  /** Roles allowed on the route; any signed-in user when omitted. Others get 403 `forbidden`. */
  readonly roles?: readonly UserRole[];
}

/**
 * A Fastify hook that authenticates the back-office session, checks CSRF on mutating methods, then
 * the role; it sets `request.user`. Use it as `onRequest` (it needs no body, and an unauthenticated
 * request should not learn the body's schema) or as `preHandler`.
 *
 * Order of answers: 401 (no or expired session) → 403 `csrf_required` (POST/PUT/PATCH/DELETE
 * without the session's `x-csrf-token`) → 403 `forbidden` (role).
 *
 * @example
 * ```ts
 * app.post('/api/v1/registers/:id/revoke', { onRequest: requireUser(deps, { roles: ['owner', 'manager'] }) }, handler);
 * ```
 */
export function requireUser(deps: SessionDeps, options: RequireUserOptions = {}) {
  return async (request: FastifyRequest): Promise<void> => {
    const { user, session } = await authenticateSession(deps, request);
    if (!SAFE_METHODS.has(request.method)) {
      const given = request.headers[CSRF_HEADER];
      if (typeof given !== 'string' || !sameSecret(given, session.csrfToken)) {
        throw new ApiError(403, 'csrf_required', `this request changes data: send the session's CSRF token in \`${CSRF_HEADER}\``);
      }
    }
    if (options.roles !== undefined && !options.roles.includes(user.role)) {
      throw new ApiError(403, 'forbidden', `this needs one of the roles ${options.roles.join(', ')}; you are ${user.role}`);
    }
    request.user = user;
    request.authSession = session;
  };
}

/** The authenticated user of a request that passed {@link requireUser}. */
export function userOf(request: FastifyRequest): SessionUser {
  if (!request.user) throw new Error('route is missing the requireUser hook');
  return request.user;
}

/** The session of a request that passed {@link requireUser}. */
export function sessionOf(request: FastifyRequest): SessionRef {
  if (!request.authSession) throw new Error('route is missing the requireUser hook');
  return request.authSession;
}
