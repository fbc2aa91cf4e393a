/**
 * Issue 7's encryption test, end to end: a register in a real Chromium (its own persistent profile,
 * sqlite-wasm on OPFS) paired with a real server process, synced by the real `SyncEngine` (which
 * runs in Node and calls the page's store for every read and write). The session: customers made
 * at the till, a sale paid by card, then — with the register LOCKED — customers made and edited at
 * another register arriving by pull. Chromium is closed, and then:
 *
 *   (a) every file of the profile is scanned for each name, phone, email, note and card reference
 *       in UTF-8, Latin-1 and UTF-16LE;
 *   (b) the register's SQLite image is read out of the `opfs-sahpool` files (after their 4 KiB
 *       header) and every table dumped with better-sqlite3 and searched the same way;
 *
 * zero hits in both — while a deliberately unencrypted canary (a cash movement's reason) IS found
 * by both, so a scan that cannot see the data fails. A wrong PIN against the staff key record read
 * out of the image yields no key; the right one opens what the image holds.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { addLine, cartTotals, createCart, units, type Cart, type TenderInput } from '@kassa/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpener, fieldAad } from '../crypto/seal.js';
import { parseStaffKeyRecord } from '../crypto/staff-key-record.js';
import { unlock as cryptoUnlock } from '../crypto/unlock.js';
import { openNodeStore } from '../node.js';
import type { AsyncRegisterStore } from '../store/register-engine.js';
import { pairRegister } from '../sync/pairing.js';
import { BackOffice, boundFetch, startServer, waitFor, type RealServer } from '../sync/real-server-kit.js';
import { SyncEngine } from '../sync/sync-engine.js';
import { buildTabHarness, ensureChromium, serveStatic, spawnChromium, type SpawnedChromium, type StaticServer } from './testing/chromium.js';

const PIN = '482913';
const ADA = { name: 'Ada Lovelace', phone: '+49 170 5550123', email: 'ada.lovelace@example.org', note: 'Allergic to walnuts' };
const ADA_NEW_PHONE = '+49 160 4441987';
const GRACE = { name: 'Grace Hopper', phone: '+49 151 7770456', email: 'grace.hopper@example.net', note: 'Pays by invoice' };
const CARD = { approvalCode: 'APPR778899', providerRef: 'PSPREF20261125X42' };
const CANARY = 'Canary Quokka Zebra 7781';
const POOL = 'scan';

type Answer = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Record<string, unknown> };

let executablePath = '';
let outDir = '';
let profileDir = '';
let nodeDir = '';
let statics: StaticServer | undefined;
let chrome: SpawnedChromium | undefined;
let server: RealServer | undefined;

beforeAll(async () => {
  executablePath = ensureChromium();
  outDir = mkdtempSync(join(tmpdir(), 'kassa-scan-harness-'));
  profileDir = mkdtempSync(join(tmpdir(), 'kassa-scan-profile-'));
  nodeDir = mkdtempSync(join(tmpdir(), 'kassa-scan-node-'));
  await buildTabHarness(outDir);
  statics = await serveStatic(outDir);
  server = await startServer('sqlite');
}, 180_000);

afterAll(async () => {
  await chrome?.close();
  await statics?.close();
  await server?.dispose();
  for (const d of [outDir, profileDir, nodeDir]) if (d !== '') rmSync(d, { recursive: true, force: true });
}, 60_000);

/** The page's store as an `AsyncRegisterStore`: every call is `kassaTab.call` in the page. */
function pageStore(page: Page): AsyncRegisterStore {
  return new Proxy({} as AsyncRegisterStore, {
    get: (_t, prop) => {
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      return async (...args: unknown[]) => {
        const a = await page.evaluate(([m, x]) => (globalThis as unknown as { kassaTab: { call(m: string, a: unknown[]): Promise<Answer> } }).kassaTab.call(m, x), [prop, args] as const);
        if (a.ok) return a.value;
        const e = new Error(String(a.error['message']));
        Object.assign(e, a.error);
        e.name = String(a.error['name']);
        throw e;
      };
    },
  });
}

/** Every occurrence of `needle` in `hay` as UTF-8, Latin-1 and UTF-16LE. */
function encodingsFound(hay: Buffer, needle: string): string[] {
  return (['utf8', 'latin1', 'utf16le'] as const).filter((enc) => hay.includes(Buffer.from(needle, enc)));
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory() === true) out.push(...filesUnder(p));
    else if (st?.isFile() === true) out.push(p);
  }
  return out;
}

/** The words a reader would look for: each value whole, and its parts of 5+ characters (digits of phones too). */
function needles(): string[] {
  const values = [...Object.values(ADA), ADA_NEW_PHONE, ...Object.values(GRACE), ...Object.values(CARD)];
  const out = new Set<string>();
  for (const v of values) {
    out.add(v);
    for (const part of v.split(/[\s@.]+/)) if (part.length >= 5) out.add(part);
    const digits = v.replace(/\D/g, '');
    if (digits.length >= 8) out.add(digits);
  }
  return [...out];
}

describe('encryption at rest: a Chromium profile after a real session holds no personal data', () => {
  it('scans the profile files and the SQLite image: no name, phone, email, note or card reference; the canary is found by both', { timeout: 600_000 }, async () => {
    const s = server!;
    const [store] = await s.sql<{ id: string }>("SELECT id FROM stores WHERE code = 'S01'");
    const [manager] = await s.sql<{ id: string }>("SELECT id FROM staff WHERE role = 'manager' ORDER BY name LIMIT 1");
    const [cashier] = await s.sql<{ id: string }>("SELECT id FROM staff WHERE role = 'cashier' ORDER BY name LIMIT 1");
    const [product] = await s.sql<{ id: string }>('SELECT id FROM products WHERE weighed = 0 AND active = 1 ORDER BY sku LIMIT 1');
    const storeId = store?.id ?? '';
    const managerId = manager?.id ?? '';
    const cashierId = cashier?.id ?? '';
    const office = await new BackOffice(s.url, '127.0.0.40').login();

    // The register under test, in Chromium on its own profile.
    chrome = await spawnChromium(executablePath, profileDir);
    const context = chrome.browser.contexts()[0];
    if (context === undefined) throw new Error('Chromium has no default context');
    const page = await context.newPage();
    await page.goto(`${statics!.url}/tab.html?pool=${POOL}`);
    const ready = await page.evaluate(() => (globalThis as unknown as { kassaTab: { ready: Promise<unknown> } }).kassaTab.ready);
    expect(ready).toMatchObject({ role: 'owner', phase: 'ready' });
    const a = pageStore(page);
    const fetchA = boundFetch('127.0.0.41');
    await pairRegister({ baseUrl: s.url, store: a, request: { code: await office.at('127.0.0.41').pairingCode(storeId) }, fetch: fetchA, firstStaff: { staffId: managerId, pin: PIN } });
    expect(await a.encryptionStatus()).toMatchObject({ setUp: true, unlockedBy: managerId, escrowPending: false });
    const syncA = new SyncEngine({ store: a, baseUrl: s.url, database: 'chromium-scan-register', fetch: fetchA, pullWaitS: 1 });
    await syncA.start();
    await waitFor('the Chromium register to bootstrap', async () => {
      const info = await a.syncInfo();
      return info.pullCursor !== null && info.bootstrap === null;
    }, 120_000);

    // Another register (Node) where customers are made and edited while the first is locked.
    const fileB = join(nodeDir, 'b.sqlite');
    const b = openNodeStore(fileB).store;
    const fetchB = boundFetch('127.0.0.42');
    await pairRegister({ baseUrl: s.url, store: b, request: { code: await office.at('127.0.0.42').pairingCode(storeId) }, fetch: fetchB, firstStaff: { staffId: managerId, pin: PIN } });
    const syncB = new SyncEngine({ store: b, baseUrl: s.url, database: fileB, fetch: fetchB, pullWaitS: 1 });
    await syncB.start();

    // The session at the Chromium till: a customer, a sale paid by card, a cash movement (the canary).
    const ada = await a.saveCustomerSealed({ changes: ADA, staffId: cashierId });
    await a.openShift({ staffId: cashierId, float: { denominations: [], total: 10_000 } });
    const item = await a.getItem(product?.id ?? '');
    const cart: Cart = addLine(createCart(await a.cartSettings()), item, units(1));
    const card: TenderInput = { tenderId: crypto.randomUUID(), kind: 'card', amount: cartTotals(cart).total.amount, brand: 'visa', last4: '4242', ...CARD };
    await a.completeSale({ cart, staffId: cashierId, tenders: await a.sealTenders([card]) });
    await a.moveCash({ direction: 'in', amount: 500, reason: CANARY, staffId: managerId });
    await waitFor('the Chromium register to push its ops', async () => (await a.syncInfo()).opsWaiting === 0, 60_000);
    await a.lock();

    // Elsewhere: Ada edited, Grace created; the locked register pulls both.
    await waitFor('register B to know Ada', async () => (await b.customer(ada.customerId)) !== undefined, 60_000);
    await b.saveCustomerSealed({ customerId: ada.customerId, changes: { phone: ADA_NEW_PHONE }, staffId: cashierId });
    const grace = await b.saveCustomerSealed({ changes: GRACE, staffId: cashierId });
    await waitFor('register B to push', async () => (await b.syncInfo()).opsWaiting === 0, 60_000);
    const [serverAda] = await s.sql<{ phone: string | null }>(`SELECT phone FROM customers WHERE id = '${ada.customerId}'`);
    expect(serverAda?.phone, 'the server opened the sealed edit').toBe(ADA_NEW_PHONE);
    await waitFor('the locked Chromium register to pull Grace and the edit', async () => {
      const rows = (await a.dump())['customers'] ?? [];
      return rows.length === 2 && rows.every((r) => r['tokens_key_id'] === null);
    }, 60_000);
    expect((await a.encryptionStatus()).unlockedBy).toBeNull();

    await syncA.stop();
    await syncB.stop();
    await b.close();
    await chrome.close();
    chrome = undefined;

    // (a) every file of the profile, raw.
    const files = filesUnder(profileDir);
    expect(files.length).toBeGreaterThan(10);
    const hits: string[] = [];
    let canaryFiles = 0;
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const n of needles()) for (const enc of encodingsFound(bytes, n)) hits.push(`${n} (${enc}) in ${f.slice(profileDir.length)}`);
      if (encodingsFound(bytes, CANARY).length > 0) canaryFiles += 1;
    }
    expect(hits).toEqual([]);
    expect(canaryFiles, 'the unencrypted canary is visible to the raw scan').toBeGreaterThan(0);

    // (b) the SQLite image inside the opfs-sahpool files, every table dumped.
    const images = files.map((f) => readFileSync(f)).filter((bytes) => bytes.length > 4096 + 100 && bytes.subarray(4096, 4096 + 16).toString('latin1') === 'SQLite format 3\u0000');
    expect(images.length, 'one register database in the pool').toBeGreaterThanOrEqual(1);
    const tableHits: string[] = [];
    let canaryInTables = 0;
    let record: unknown;
    let sealedPhone = '';
    for (const [i, image] of images.entries()) {
      const file = join(nodeDir, `image-${String(i)}.sqlite`);
      writeFileSync(file, image.subarray(4096));
      const db = new Database(file, { readonly: true });
      try {
        const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
        expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['customers', 'outbox', 'journal', 'orders', 'customer_tokens', 'staff_keys']));
        for (const { name } of tables) {
          const text = Buffer.from(JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all()));
          for (const n of needles()) if (text.includes(Buffer.from(n))) tableHits.push(`${n} in ${name}`);
          if (text.includes(Buffer.from(CANARY))) canaryInTables += 1;
        }
        const row = db.prepare('SELECT record_json FROM staff_keys WHERE staff_id = ?').get(managerId) as { record_json: string } | undefined;
        if (row !== undefined) record = JSON.parse(row.record_json);
        const doc = db.prepare('SELECT doc_json FROM customers WHERE id = ?').get(ada.customerId) as { doc_json: string } | undefined;
        if (doc !== undefined) {
          const fields = (JSON.parse(doc.doc_json) as { fields: Record<string, { value: string; hlc: string }[]> }).fields;
          sealedPhone = [...(fields['phone'] ?? [])].sort((x, y) => (x.hlc < y.hlc ? 1 : -1))[0]?.value ?? '';
        }
      } finally {
        db.close();
      }
    }
    expect(tableHits).toEqual([]);
    expect(canaryInTables, 'the canary is in the dumped tables').toBeGreaterThan(0);
    expect(grace.customerId).not.toBe(ada.customerId);

    // The key record read out of the image: a wrong PIN yields no key; the right one opens the pulled edit.
    const staffRecord = parseStaffKeyRecord(record);
    await expect(cryptoUnlock('000000', staffRecord)).rejects.toMatchObject({ name: 'WrongPinError' });
    const keys = await cryptoUnlock(PIN, staffRecord);
    expect(JSON.parse(await createOpener(keys.privateKey, keys.keyId).open(sealedPhone, fieldAad('customers', 'phone', ada.customerId)))).toBe(ADA_NEW_PHONE);
  });
});
