/**
 * `npm start`: read the environment, open and migrate the database, seed the demo store on first
 * run, serve, and shut down gracefully on SIGTERM/SIGINT (stop accepting, finish requests in
 * flight, close the database, exit 0). Start-up failures print one clear line and exit 1.
 */
import { buildApp } from './app.js';
import { systemClock } from './clock.js';
import { ConfigError, loadConfig } from './config.js';
import type { ServerConfig } from './config.js';
import { openStorage } from './db/database.js';
import type { Storage } from './db/database.js';
import { migrateToLatest } from './db/migrations.js';
import { createLogger } from './http/logger.js';
import { seedDemoIfEmpty } from './seed/seed-demo.js';
import { startBanner } from './start-banner.js';
import { createChangeFeed } from './sync/change-feed.js';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function readConfig(): ServerConfig {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

async function run(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config.logLevel);

  let storage: Storage;
  try {
    storage = openStorage(config.storage, {
      onPoolError: (err) => logger.warn({ err }, 'an idle PostgreSQL connection failed; the pool reconnects'),
    });
    await migrateToLatest(storage.db);
  } catch (err) {
    fail(`Kassa cannot start: cannot open the database (${config.storage.kind}): ${err instanceof Error ? err.message : String(err)}`);
  }

  const seed = await seedDemoIfEmpty(storage.db, {
    clock: systemClock,
    dbKind: storage.kind,
    adminEmail: config.adminEmail,
    adminPassword: config.adminPassword,
  });
  const owners = await storage.db.selectFrom('users').select('email').where('role', '=', 'owner').orderBy('email').execute();

  // Wakes long-polls on every server process sharing the database (LISTEN/NOTIFY on PostgreSQL).
  const changeFeed = createChangeFeed({
    config: config.storage,
    db: storage.db,
    onError: (err, what) => logger.warn({ err }, what),
  });
  await changeFeed.ready;
  const app = await buildApp({ storage, config, clock: systemClock, logger, changeFeed });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await changeFeed.close();
    await storage.close();
    fail(`Kassa cannot start: cannot listen on ${config.host}:${config.port}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  process.stdout.write(`${startBanner({ config, storage, seed, ownerEmails: owners.map((o) => o.email), port })}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    // Fastify's close stops accepting, waits for in-flight requests, then runs onClose hooks.
    app
      .close()
      .then(() => changeFeed.close())
      .then(() => storage.close())
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

run().catch((err: unknown) => {
  fail(`Kassa stopped with an unexpected error: ${err instanceof Error ? err.message : String(err)}`);
});
