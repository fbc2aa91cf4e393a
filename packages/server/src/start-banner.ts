import type { ServerConfig } from './config.js';
import type { Storage } from './db/database.js';
import type { SeedResult } from './seed/seed-demo.js';
import { SERVER_VERSION } from './version.js';

/** What the banner reports. */
export interface BannerInput {
  readonly config: ServerConfig;
  readonly storage: Storage;
  readonly seed: SeedResult;
  /** Owners' emails read from the database (for runs after the first). */
  readonly ownerEmails: readonly string[];
  /** The port actually listened on. */
  readonly port: number;
}

/** The URL people type: `localhost` when listening on every interface. */
export function publicUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

/**
 * The lines `npm start` prints once the server listens: where it is, which database, and how to
 * log in. Secrets appear only on the first run, when they were just generated; later runs say
 * where the password came from instead.
 */
export function startBanner({ config, storage, seed, ownerEmails, port }: BannerInput): string {
  const url = publicUrl(config.host, port);
  const lines = [
    '',
    `Kassa server ${SERVER_VERSION} is running.`,
    `  URL:                ${url}   (API docs: ${url}/docs, health: ${url}/healthz)`,
    storage.kind === 'sqlite'
      ? `  Database:           SQLite, file ${storage.location}`
      : `  Database:           PostgreSQL, ${storage.location}`,
  ];
  if (seed.seeded) {
    lines.push(
      `First run: created the demo store "Demo Shop" (${seed.storeCode}) with ${seed.productCount} products.`,
      `  Back office login:  ${seed.ownerEmail}`,
      seed.generatedPassword !== undefined
        ? `  Password:           ${seed.generatedPassword}   (generated; shown only on this first run, keep it)`
        : '  Password:           the one set in KASSA_ADMIN_PASSWORD',
      `  Staff PINs for unlocking a register in store ${seed.storeCode} (shown only on this first run):`,
      ...seed.staff.map((s) => `    ${s.name.padEnd(14)} ${s.role.padEnd(8)} PIN ${s.pin}`),
    );
  } else {
    // The password was fixed on the first run; KASSA_ADMIN_PASSWORD is not applied to an existing owner.
    const source =
      config.adminPassword !== undefined
        ? 'as set on the first run; KASSA_ADMIN_PASSWORD is read only then'
        : 'printed on the first run';
    for (const email of ownerEmails) lines.push(`  Back office login:  ${email}   (password ${source})`);
    lines.push('  Staff PINs were printed on the first run.');
  }
  lines.push('Stop with Ctrl+C (SIGINT) or SIGTERM.', '');
  return lines.join('\n');
}
