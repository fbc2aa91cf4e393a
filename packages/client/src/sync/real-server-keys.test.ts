/**
 * The register's keys against a real server process (`node scripts/start.mjs`) on SQLite and on
 * PostgreSQL: pairing makes the keys and escrows them; a cashier whose PIN the server knows (its
 * synced verifier) gets the keys on a first unlock through the server's escrow, re-sealed by the
 * server to a staff key the register made — the server's sealing opened by the register's code;
 * a customer saved sealed reaches the server's table in clear — the register's sealing opened by
 * the server's code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNodeStore } from '../node.js';
import { enrolThroughServer } from './key-client.js';
import { pairRegister } from './pairing.js';
import { BackOffice, boundFetch, startServer, waitFor, type DbKind, type RealServer } from './real-server-kit.js';
import { SyncEngine } from './sync-engine.js';

const CASHIER_PIN = '731942';

/** The server's verifier of a PIN (PBKDF2-SHA256, 600,000 iterations, standard base64), as its staff routes store it. */
async function verifier(pin: string): Promise<{ salt: string; hash: string }> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, ['deriveBits']);
  const bits = new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 600_000 }, base, 256));
  return { salt: Buffer.from(salt).toString('base64'), hash: Buffer.from(bits).toString('base64') };
}

for (const kind of ['sqlite', 'postgres'] as const satisfies readonly DbKind[]) {
  describe(`register keys against a real server on ${kind}`, { timeout: 180_000 }, () => {
    let server: RealServer;
    let dir = '';
    beforeAll(async () => {
      server = await startServer(kind);
      dir = mkdtempSync(join(tmpdir(), 'kassa-keys-'));
    }, 120_000);
    afterAll(async () => {
      await server?.dispose();
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
    }, 30_000);

    it('pairing escrows the keys; a first unlock through the server opens them; a sealed customer lands in clear on the server', async () => {
      const [store] = await server.sql<{ id: string }>("SELECT id FROM stores WHERE code = 'S01'");
      const [cashier] = await server.sql<{ id: string }>("SELECT id FROM staff WHERE role = 'cashier' ORDER BY name LIMIT 1");
      const cashierId = cashier?.id ?? '';
      const v = await verifier(CASHIER_PIN);
      await server.sql('UPDATE staff SET pin_salt = ?, pin_hash = ? WHERE id = ?', [v.salt, v.hash, cashierId]);

      const addr = '127.0.0.50';
      const fetch = boundFetch(addr);
      const office = await new BackOffice(server.url, addr).login();
      const file = join(dir, `${kind}.sqlite`);
      const node = openNodeStore(file);
      const paired = await pairRegister({ baseUrl: server.url, store: node.store, request: { code: await office.pairingCode(store?.id ?? '') }, fetch });
      expect(paired.response.serverKey?.keyId).toMatch(/^[A-Za-z0-9_-]{11}$/);
      const status = await node.store.encryptionStatus();
      expect(status).toMatchObject({ setUp: true, unlockedBy: null, enrolled: [], escrowPending: false, serverKeyId: paired.response.serverKey?.keyId });
      const [escrow] = await server.sql<{ register_key_id: string }>('SELECT register_key_id FROM register_escrows WHERE register_id = ?', [paired.meta.deviceId]);
      expect(escrow?.register_key_id).toBe(status.keyId);

      const sync = new SyncEngine({ store: node.store, baseUrl: server.url, database: file, fetch, pullWaitS: 1 });
      await sync.start();
      try {
        await waitFor('the register to bootstrap', async () => {
          const info = await node.store.syncInfo();
          return info.pullCursor !== null && info.bootstrap === null;
        }, 60_000);

        // A wrong PIN is refused on the register: the server is never asked.
        await expect(enrolThroughServer({ baseUrl: server.url, store: node.store, staffId: cashierId, pin: '000000', fetch })).rejects.toMatchObject({ name: 'WrongPinError' });
        const unlocked = await enrolThroughServer({ baseUrl: server.url, store: node.store, staffId: cashierId, pin: CASHIER_PIN, fetch });
        expect(unlocked).toMatchObject({ unlockedBy: cashierId, enrolled: [cashierId], keyId: status.keyId });
        const [audited] = await server.sql<{ n: number }>("SELECT count(*) AS n FROM audit_log WHERE action = 'keys.escrow_released'");
        expect(Number(audited?.n)).toBe(1);

        // From now on offline: the PIN opens the keys on the register alone.
        await node.store.lock();
        expect((await node.store.unlock(cashierId, CASHIER_PIN)).unlockedBy).toBe(cashierId);

        const saved = await node.store.saveCustomerSealed({ changes: { name: 'Katherine Johnson', email: 'katherine@example.org' }, staffId: cashierId });
        sync.notifyLocalOp();
        await waitFor('the customer on the server', async () => {
          const [row] = await server.sql<{ name: string | null; email: string | null }>('SELECT name, email FROM customers WHERE id = ?', [saved.customerId]);
          return row?.name === 'Katherine Johnson' && row.email === 'katherine@example.org';
        }, 60_000);
      } finally {
        await sync.stop();
        await node.store.close();
      }
    });
  });
}
