import { sql } from 'kysely';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Storage } from '../db/database.js';
import { SERVER_VERSION } from '../version.js';
import { ApiError, ErrorBodySchema } from './api-error.js';
import type { Metrics } from './metrics.js';

/** `GET /healthz`'s answer (DESIGN §7). */
export const HealthSchema = z
  .object({
    status: z.literal('ok'),
    db: z.enum(['sqlite', 'postgres']),
    version: z.string(),
  })
  .meta({ id: 'Health' });

const HOME_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Kassa server</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style>
</head>
<body>
<h1>Kassa server is running</h1>
<p>This is the Kassa API server (version ${SERVER_VERSION}). The register app and the back office
are not built yet; when they are, this page serves the register and <code>/admin</code> the back office.</p>
<ul>
<li><a href="/docs">API documentation</a> (OpenAPI: <a href="/docs/json">/docs/json</a>)</li>
<li><a href="/healthz">Health check</a></li>
</ul>
</body>
</html>
`;

/** What the system routes need. */
export interface SystemRoutesOptions {
  readonly storage: Storage;
  readonly metrics: Metrics;
}

/**
 * `GET /` (what is running), `GET /healthz` (database reachable, kind, version) and
 * `GET /metrics` (Prometheus text). None of them is rate limited: probes call them often.
 */
export const systemRoutes: FastifyPluginAsyncZod<SystemRoutesOptions> = async (app, { storage, metrics }) => {
  app.get('/', { schema: { hide: true }, config: { rateLimit: false } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(HOME_PAGE),
  );

  app.get(
    '/healthz',
    {
      config: { rateLimit: false },
      schema: {
        summary: 'Liveness and readiness: the database answers',
        tags: ['system'],
        response: { 200: HealthSchema, 503: ErrorBodySchema },
      },
    },
    async () => {
      try {
        await sql`select 1`.execute(storage.db);
      } catch (err) {
        throw new ApiError(503, 'db_unavailable', `the database does not answer: ${err instanceof Error ? err.message : String(err)}`);
      }
      return { status: 'ok' as const, db: storage.kind, version: SERVER_VERSION };
    },
  );

  app.get(
    '/metrics',
    { config: { rateLimit: false }, schema: { summary: 'Prometheus metrics', tags: ['system'], produces: ['text/plain'] } },
    async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
};
