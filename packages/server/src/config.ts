import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_CHANGE_LOG_RETENTION_DAYS } from './sync/change-log-retention.js';

/** Where the server keeps its data: an embedded SQLite file, or a PostgreSQL server. */
export type StorageConfig =
  | { readonly kind: 'sqlite'; readonly file: string; readonly dataDir: string }
  | { readonly kind: 'postgres'; readonly url: string };

/** The server's settings, read once from the environment at start-up. */
export interface ServerConfig {
  readonly port: number;
  readonly host: string;
  readonly storage: StorageConfig;
  /** The demo owner's email (first run only). */
  readonly adminEmail: string;
  /** The demo owner's password when set by the operator; otherwise one is generated on first run. */
  readonly adminPassword: string | undefined;
  /** pino level for the server's JSON log lines. */
  readonly logLevel: LogLevel;
  /** Days of change log kept for registers to pull; older changes are pruned (docs/adr/0014). */
  readonly changeLogRetentionDays: number;
}

/** Log levels the server accepts in `LOG_LEVEL`. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The demo owner's email when `KASSA_ADMIN_EMAIL` is not set. */
export const DEFAULT_ADMIN_EMAIL = 'owner@demo.kassa';

const emptyAsUndefined = (value: unknown): unknown => (value === '' ? undefined : value);

const EnvSchema = z.object({
  PORT: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.int().min(1, 'must be between 1 and 65535').max(65535, 'must be between 1 and 65535'))
      .default(8080),
  ),
  HOST: z.preprocess(emptyAsUndefined, z.string().min(1).default('0.0.0.0')),
  DATABASE_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL (leave it unset for SQLite)')
      .pipe(z.url('must be a valid URL'))
      .optional(),
  ),
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().min(1).default('./data')),
  KASSA_ADMIN_EMAIL: z.preprocess(emptyAsUndefined, z.email('must be an email address').default(DEFAULT_ADMIN_EMAIL)),
  KASSA_ADMIN_PASSWORD: z.preprocess(
    emptyAsUndefined,
    z.string().min(8, 'must be at least 8 characters').max(200, 'must be at most 200 characters').optional(),
  ),
  LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  KASSA_CHANGE_LOG_RETENTION_DAYS: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number of days')
      .transform(Number)
      .pipe(z.int().min(1, 'must be between 1 and 3650 days').max(3650, 'must be between 1 and 3650 days'))
      .default(DEFAULT_CHANGE_LOG_RETENTION_DAYS),
  ),
});

/** The environment is not usable; `message` says which variables are wrong and why, one per line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Kassa cannot start: the environment is not valid.\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Reads and validates the server's settings from environment variables.
 *
 * @example
 * ```ts
 * const config = loadConfig({ PORT: '9000', DATA_DIR: '/var/lib/kassa' });
 * config.storage; // { kind: 'sqlite', file: '/var/lib/kassa/kassa.sqlite', dataDir: '/var/lib/kassa' }
 * ```
 * @throws ConfigError when a variable is malformed.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, cwd = process.cwd()): ServerConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const value = typeof issue.path[0] === 'string' ? env[issue.path[0]] : undefined;
        // Never echo a password back, even a bad one.
        const shown = value === undefined || name.includes('PASSWORD') ? '' : ` (got ${JSON.stringify(value)})`;
        return `${name}: ${issue.message}${shown}`;
      }),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(cwd, e.DATA_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    storage:
      e.DATABASE_URL === undefined
        ? { kind: 'sqlite', dataDir, file: path.join(dataDir, 'kassa.sqlite') }
        : { kind: 'postgres', url: e.DATABASE_URL },
    adminEmail: e.KASSA_ADMIN_EMAIL.toLowerCase(),
    adminPassword: e.KASSA_ADMIN_PASSWORD,
    logLevel: e.LOG_LEVEL,
    changeLogRetentionDays: e.KASSA_CHANGE_LOG_RETENTION_DAYS,
  };
}
