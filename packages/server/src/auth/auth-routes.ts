/**
 * `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`, `GET /api/v1/auth/me`: back-office
 * sign-in with a session cookie and a CSRF token (see session.ts).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import { ErrorBodySchema, ApiError } from '../http/api-error.js';
import type { AuthRateLimit } from './auth-rate-limit.js';
import { keyedLimiter, perAddressLimit } from './auth-rate-limit.js';
import { plainText } from './plain-text.js';
import { checkCredentials, normalizeEmail } from './credentials.js';
import type { SessionDeps } from './session.js';
import { clearSessionCookie, createSession, requireUser, sessionOf, setSessionCookie, userOf } from './session.js';

/** A back-office user as the API shows it. */
export const UserSchema = z
  .object({
    id: z.string(),
    orgId: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(['owner', 'manager', 'cashier']),
  })
  .meta({ id: 'User' });

/** Login's and `/auth/me`'s answer: the user, and the CSRF token to send in `x-csrf-token`. */
export const SessionInfoSchema = z
  .object({
    csrfToken: z.string().describe('send it in `x-csrf-token` on every POST, PUT, PATCH and DELETE'),
    user: UserSchema,
  })
  .meta({ id: 'SessionInfo' });

/** Login's body. */
export const LoginBodySchema = z.strictObject({
  email: plainText(3, 254),
  password: z.string().min(1).max(200),
});

/** What the auth routes need. */
export interface AuthRoutesOptions extends SessionDeps {
  readonly authRateLimit: AuthRateLimit;
}

/** Registers the auth routes. */
export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, options) => {
  const { storage, clock, authRateLimit } = options;
  const perEmail = keyedLimiter(app, authRateLimit, 'login-email');
  const signedIn = requireUser(options);

  app.post(
    '/api/v1/auth/login',
    {
      config: perAddressLimit(authRateLimit),
      schema: {
        summary: 'Sign in to the back office: sets the session cookie and returns the CSRF token',
        description:
          'Wrong password and unknown email answer alike (401 `invalid_credentials`). Limited per client address and per email (429 with `Retry-After`).',
        tags: ['auth'],
        body: LoginBodySchema,
        response: { 200: SessionInfoSchema, 401: ErrorBodySchema, 429: ErrorBodySchema },
      },
    },
    async (request, reply) => {
      const email = normalizeEmail(request.body.email);
      await perEmail(request, reply, email);
      const { user, failed } = await checkCredentials(storage.db, email, request.body.password);
      const now = clock.now();
      if (!user) {
        if (failed.length > 0) {
          await storage.db.transaction().execute(async (trx) => {
            for (const account of failed) {
              await audit(trx, {
                orgId: account.org_id,
                actorType: 'user',
                actorId: account.id,
                action: 'auth.login_failed',
                target: { kind: 'user', id: account.id },
                details: { ip: request.ip, reason: 'wrong_password' },
                at: now,
              });
            }
          });
        }
        // An unknown email has no organisation to audit in; the log line says only that it happened.
        else request.log.info('login with an unknown email');
        throw new ApiError(401, 'invalid_credentials', 'wrong email or password');
      }
      const session = await storage.db.transaction().execute(async (trx) => {
        const created = await createSession(trx, { id: user.id, orgId: user.org_id }, now);
        await audit(trx, {
          orgId: user.org_id,
          actorType: 'user',
          actorId: user.id,
          action: 'auth.login_succeeded',
          target: { kind: 'session', id: created.id },
          details: { ip: request.ip },
          at: now,
        });
        return created;
      });
      setSessionCookie(request, reply, session, now);
      return {
        csrfToken: session.csrfToken,
        user: { id: user.id, orgId: user.org_id, email: user.email, name: user.display_name, role: user.role },
      };
    },
  );

  app.post(
    '/api/v1/auth/logout',
    {
      onRequest: signedIn,
      schema: {
        summary: 'Sign out: ends the session and clears the cookie',
        tags: ['auth'],
        response: { 200: z.object({ signedOut: z.literal(true) }), 401: ErrorBodySchema, 403: ErrorBodySchema },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const session = sessionOf(request);
      await storage.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('sessions').where('id', '=', session.id).execute();
        await audit(trx, {
          orgId: user.orgId,
          actorType: 'user',
          actorId: user.userId,
          action: 'auth.logged_out',
          target: { kind: 'session', id: session.id },
          at: clock.now(),
        });
      });
      clearSessionCookie(request, reply);
      return { signedOut: true as const };
    },
  );

  app.get(
    '/api/v1/auth/me',
    {
      onRequest: signedIn,
      schema: {
        summary: 'The signed-in user and the session’s CSRF token (e.g. after a page reload)',
        tags: ['auth'],
        response: { 200: SessionInfoSchema, 401: ErrorBodySchema },
      },
    },
    async (request) => {
      const user = userOf(request);
      return {
        csrfToken: sessionOf(request).csrfToken,
        user: { id: user.userId, orgId: user.orgId, email: user.email, name: user.name, role: user.role },
      };
    },
  );
};
