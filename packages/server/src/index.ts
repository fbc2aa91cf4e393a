/**
 * `@kassa/server`: the HTTP API and its storage, for `main.ts`, tests, the simulator and benches.
 *
 * @example
 * ```ts
 * const config = loadConfig(process.env);
 * const storage = openStorage(config.storage);
 * await migrateToLatest(storage.db);
 * const app = await buildApp({ storage, config, clock: systemClock });
 * await app.listen({ port: config.port, host: config.host });
 * ```
 */
export { buildApp, BODY_LIMIT_BYTES } from './app.js';
export type { App, AppDeps } from './app.js';
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { ConfigError, DEFAULT_ADMIN_EMAIL, loadConfig } from './config.js';
export type { LogLevel, ServerConfig, StorageConfig } from './config.js';
export { openStorage, parseInt8, redactUrl } from './db/database.js';
export type { DbKind, Storage } from './db/database.js';
export { MigrationError, migrateToLatest, migrations } from './db/migrations.js';
export type { Database } from './db/schema.js';
export { ApiError, ErrorBodySchema, mapError } from './http/api-error.js';
export type { ErrorBody } from './http/api-error.js';
export { createLogger } from './http/logger.js';
export { seedDemoIfEmpty } from './seed/seed-demo.js';
export type { SeedOptions, SeedResult, SeededStaff } from './seed/seed-demo.js';
export { parseStoreSettings, StoreSettingsSchema } from './store-settings.js';
export type { StoreSettings } from './store-settings.js';
export { createChangeFeed, createLocalChangeFeed } from './sync/change-feed.js';
export type { ChangeFeed, ChangeFeedOptions } from './sync/change-feed.js';
export { appendChanges, pruneChangeLog } from './sync/change-log.js';
export type { Change, ChangeInput, PruneResult } from './sync/change-log.js';
export { SERVER_VERSION } from './version.js';
