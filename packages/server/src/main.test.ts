import { afterEach, describe, expect, it } from 'vitest';
import { verifyPassword } from './security/password.js';
import { verifyPin } from './security/pin-verifier.js';
import { describeDb } from './testing/describe-db.js';
import { freePort, spawnServer, stopServer, waitUntilServing } from './testing/spawn-server.js';
import type { ServerProcess } from './testing/spawn-server.js';

const running: ServerProcess[] = [];
afterEach(async () => {
  // A failed assertion must not leave a server behind.
  for (const s of running.splice(0)) if (s.exitCode() === undefined) s.child.kill('SIGKILL');
});

async function start(env: Record<string, string>): Promise<ServerProcess> {
  const server = spawnServer(env, await freePort());
  running.push(server);
  return server;
}

describeDb('npm start', (dbs) => {
  it('migrates, seeds, serves /healthz, prints working logins, and exits 0 on SIGTERM; a restart keeps the data', async () => {
    const db = await dbs.create();
    const first = await start(db.env);
    expect(await waitUntilServing(first)).toMatchObject({ status: 'ok', db: dbs.kind });

    const out = first.stdout();
    expect(out).toContain(`URL:                http://127.0.0.1:${first.port}`);
    expect(out).toContain(dbs.kind === 'sqlite' ? `SQLite, file ${db.env['DATA_DIR'] ?? '?'}/kassa.sqlite` : 'PostgreSQL, postgres://');
    const email = /Back office login:\s+(\S+)/.exec(out)?.[1];
    const password = /Password:\s+(\S+)\s+\(generated/.exec(out)?.[1];
    expect(email).toBe('owner@demo.kassa');
    expect(password).toMatch(/^\S{16}$/);
    const pins = [...out.matchAll(/^\s+(\S+ \S+)\s+(manager|cashier)\s+PIN (\d{4,6})$/gm)].map((m) => ({ name: m[1], role: m[2], pin: m[3] ?? '' }));
    expect(pins.map((p) => p.role).sort()).toEqual(['cashier', 'cashier', 'manager']);

    // The printed login works against what was stored.
    const check = db.reopen();
    const owner = await check.db.selectFrom('users').selectAll().where('email', '=', email ?? '').executeTakeFirstOrThrow();
    expect(await verifyPassword(owner.password_hash, password ?? '')).toBe(true);
    for (const p of pins) {
      const row = await check.db.selectFrom('staff').selectAll().where('name', '=', p.name ?? '').executeTakeFirstOrThrow();
      expect(await verifyPin(p.pin, { kdf: 'pbkdf2-sha256', iterations: row.pin_iterations, salt: row.pin_salt, hash: row.pin_hash })).toBe(true);
    }
    const countProducts = async () =>
      (await check.db.selectFrom('products').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    const products = await countProducts();
    expect(products).toBeGreaterThanOrEqual(500);

    expect(await stopServer(first)).toBe(0);
    expect(first.stderr()).not.toMatch(/\n\s+at /);

    const second = await start(db.env);
    await waitUntilServing(second);
    expect(second.stdout()).toContain('owner@demo.kassa   (password printed on the first run)');
    expect(second.stdout()).not.toContain('Password:');
    expect(second.stdout()).not.toContain('PIN ');
    expect(await countProducts()).toBe(products);
    expect(await stopServer(second)).toBe(0);
  });
});

describe('npm start with a bad environment', () => {
  it('prints a clear message and exits 1, without a stack trace', async () => {
    const server = await start({ PORT: 'eighty', KASSA_ADMIN_EMAIL: 'nobody' });
    expect(await server.exited).toBe(1);
    expect(server.stderr()).toContain('Kassa cannot start: the environment is not valid.');
    expect(server.stderr()).toContain('PORT: must be a whole number (got "eighty")');
    expect(server.stderr()).toContain('KASSA_ADMIN_EMAIL: must be an email address');
    expect(server.stderr()).not.toMatch(/\n\s+at /);
    expect(server.stdout()).toBe('');
  });

  it('says so and exits 1 when the database cannot be reached', async () => {
    const unused = await freePort();
    const server = await start({ DATABASE_URL: `postgres://postgres@127.0.0.1:${unused}/kassa` });
    expect(await server.exited).toBe(1);
    expect(server.stderr()).toMatch(/Kassa cannot start: cannot open the database \(postgres\): .*ECONNREFUSED/);
    expect(server.stderr()).not.toMatch(/\n\s+at /);
  });
});
