import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { auditRoutes } from './audit/audit-routes.js';
import { backofficeRoutes } from './backoffice/backoffice-routes.js';
import { DEFAULT_AUTH_RATE_LIMIT } from './auth/auth-rate-limit.js';
import { authRoutes } from './auth/auth-routes.js';
import type { Clock } from './clock.js';
import type { ServerConfig } from './config.js';
import type { Storage } from './db/database.js';
import { installErrorMapper } from './http/api-error.js';
import { createMetrics, recordRequestDurations } from './http/metrics.js';
import { keyRoutes } from './keys/key-routes.js';
import { dataLossRoute } from './registers/data-loss-route.js';
import { registerRoutes } from './registers/register-routes.js';
import { staffRoutes } from './staff/staff-routes.js';
import { systemRoutes } from './http/system-routes.js';
import { createLocalChangeFeed } from './sync/change-feed.js';
import { startChangeLogPruner } from './sync/change-log-retention.js';
import { DEFAULT_DEVICE_RATE_LIMIT } from './sync/device-rate-limit.js';
import type { ChangeFeed } from './sync/change-feed.js';
import { pullRoutes } from './sync/pull/pull-routes.js';
import { pushRoute } from './sync/push/push-route.js';
import { SERVER_VERSION } from './version.js';

/** Largest request body accepted by default (DESIGN §4: request size limits). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** What {@link buildApp} is made of: everything with state or I/O is passed in. */
export interface AppDeps {
  readonly storage: Storage;
  readonly config: ServerConfig;
  readonly clock: Clock;
  /** Defaults to no logging (tests). `main.ts` passes the real logger. */
  readonly logger?: Logger;
  /**
   * Requests per client address per window on rate-limited routes; tests lower or raise it.
   * `authMax` (default 10) bounds login and pairing attempts per address and per email or code
   * in the same window (default one minute). `deviceMax` bounds each register's requests per route
   * on push, pull and snapshot, which are limited per register instead of per address (default: 600,
   * or `max` when that is higher, so tests that raise `max` raise it too).
   */
  readonly rateLimit?: { readonly max: number; readonly windowMs: number; readonly authMax?: number; readonly deviceMax?: number };
  /**
   * Wakes long-polling pulls after a change commits. `main.ts` passes `createChangeFeed(…)`
   * (LISTEN/NOTIFY across processes on PostgreSQL); when absent, an in-process feed is made and
   * closed with the app. Whoever passes one closes it.
   */
  readonly changeFeed?: ChangeFeed;
  /**
   * The change log's pruning timer (retention: `config.changeLogRetentionDays`): tests shorten the
   * wait before the first run and between runs (a minute and an hour by default).
   */
  readonly changeLogPruning?: { readonly firstRunMs?: number; readonly intervalMs?: number };
}

/** The Fastify instance with zod types, as every route sees it. */
export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Routes a register syncs through (push, pull, snapshot): JSON for a program, not a browser. */
export const SYNC_ROUTE_PREFIX = '/api/v1/sync/';

/** Helmet on the sync routes: every browser header off but `X-Content-Type-Options: nosniff`. */
const SYNC_HELMET = {
  contentSecurityPolicy: false,
  crossOriginEmbedderPolicy: false,
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  strictTransportSecurity: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
} as const;

/**
 * Builds the HTTP application without listening, so tests drive it with `app.inject` and
 * `main.ts` calls `listen`. Closing the app does not close the storage: whoever opened it does.
 *
 * @example
 * ```ts
 * const app = await buildApp({ storage, config, clock: systemClock });
 * const res = await app.inject({ method: 'GET', url: '/healthz' });
 * await app.close();
 * ```
 */
export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    ...(deps.logger === undefined ? { logger: false } : { loggerInstance: deps.logger as FastifyBaseLogger }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Honour a caller's request id when it is sane, so logs line up across hops; otherwise a UUID.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    // Conflict ids (`product:<id>:price:<hlc>:<hlc>`) and alert ids (base64url keys) outgrow the
    // default 100 characters of a path parameter.
    routerOptions: { maxParamLength: 1024 },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorMapper(app);

  const metrics = createMetrics();
  recordRequestDurations(app, metrics);
  // Graceful close: Fastify stops accepting and closes idle keep-alive sockets, but a socket busy
  // with a request when close began would stay open until its keep-alive timeout (72 s) after the
  // answer. Answering with `Connection: close` once closing has begun lets it end right away.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
  });

  // The register's sync routes answer JSON to a program, not a page to a browser: helmet's browser
  // headers (CSP, HSTS, COOP, …, ~600 bytes) would be most of a one-change pull on the wire. They
  // keep `nosniff` only; HTML, the docs and the back-office API keep every header (docs/adr/0017).
  // Added before helmet, whose own onRoute hook reads `route.helmet` after this one set it.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith(SYNC_ROUTE_PREFIX)) route.helmet = SYNC_HELMET;
  });
  await app.register(helmet, {
    contentSecurityPolicy: {
      // Registers reach the server over plain HTTP on the shop's LAN: upgrading would break them.
      directives: { upgradeInsecureRequests: null },
    },
  });
  await app.register(cookie);
  await app.register(rateLimit, {
    global: true,
    max: deps.rateLimit?.max ?? 600,
    timeWindow: deps.rateLimit?.windowMs ?? 60_000,
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Kassa server API',
        description: 'Offline-first point of sale: sync, registers and back office. Errors are `{error, message, details?}`.',
        version: SERVER_VERSION,
      },
      tags: [
        { name: 'system', description: 'health, metrics' },
        { name: 'sync', description: 'register sync: push, pull, snapshot' },
      ],
      components: {
        securitySchemes: {
          deviceToken: { type: 'http', scheme: 'bearer', description: 'a paired register’s device token' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });

  await app.register(systemRoutes, { storage: deps.storage, metrics });

  // One feed per app, shared by the routes that write changes (publish) and pull (subscribe).
  const changeFeed = deps.changeFeed ?? createLocalChangeFeed();
  if (deps.changeFeed === undefined) app.addHook('onClose', () => changeFeed.close());
  // Register sync routes are limited per register, not per address (sync/device-rate-limit.ts).
  const deviceRateLimit = {
    max: deps.rateLimit?.deviceMax ?? Math.max(DEFAULT_DEVICE_RATE_LIMIT.max, deps.rateLimit?.max ?? 0),
    windowMs: deps.rateLimit?.windowMs ?? DEFAULT_DEVICE_RATE_LIMIT.windowMs,
  };
  await app.register(pullRoutes, { storage: deps.storage, changeFeed, metrics, clock: deps.clock, deviceRateLimit });
  await app.register(pushRoute, { storage: deps.storage, clock: deps.clock, changeFeed, metrics, deviceRateLimit });
  // The change log's retention window (docs/adr/0014): pruned on an unref'd timer, stopped on close.
  const pruner = startChangeLogPruner({
    db: deps.storage.db,
    clock: deps.clock,
    retentionDays: deps.config.changeLogRetentionDays,
    ...deps.changeLogPruning,
    onPruned: (run) => app.log.info(run, 'change log pruned past the retention window'),
    onError: (err) => app.log.warn({ err }, 'pruning the change log failed; trying again at the next run'),
  });
  app.addHook('onClose', () => pruner.stop());

  // Back office and pairing: sessions, registers, staff, audit (docs/adr/0015).
  const session = { storage: deps.storage, clock: deps.clock };
  const authRateLimit = {
    max: deps.rateLimit?.authMax ?? DEFAULT_AUTH_RATE_LIMIT.max,
    windowMs: deps.rateLimit?.windowMs ?? DEFAULT_AUTH_RATE_LIMIT.windowMs,
  };
  await app.register(authRoutes, { ...session, authRateLimit });
  await app.register(registerRoutes, { ...session, authRateLimit });
  // A register's report of its lost database → an alert (docs/adr/0033).
  await app.register(dataLossRoute, session);
  await app.register(keyRoutes, session);
  await app.register(staffRoutes, { ...session, changeFeed });
  await app.register(auditRoutes, session);
  // Catalog, stores, stock, alerts, conflicts, quarantine (docs/adr/0016).
  await app.register(backofficeRoutes, { ...session, changeFeed });

  return app;
}
