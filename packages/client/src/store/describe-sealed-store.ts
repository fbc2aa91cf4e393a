/**
 * The store's contract for personal data sealed at rest (docs/adr/0032; `vault.ts`), run by
 * {@link describeStore} on every implementation (better-sqlite3 in Node, sqlite-wasm on OPFS in
 * Chromium). The test plays the server with its own key pair, so it can check what the register
 * sends is sealed to the server and opens there.
 */
import { createCart, addLine, units, type TenderInput } from '@kassa/core';
import { describe, expect, it } from 'vitest';
import { reSealEscrow } from '../crypto/enrolment.js';
import { encodeKeyBundle, generateRegisterKeys } from '../crypto/register-keys.js';
import { createOpener, fieldAad, generateSealingKeyPair, importPublicKey, isSealed, open, seal, type SealingKeyPair } from '../crypto/seal.js';
import { parseStaffKeyRecord, registerKeysAad } from '../crypto/staff-key-record.js';
import { unlock as cryptoUnlock } from '../crypto/unlock.js';
import type { AsyncRegisterStore, StoreDump } from './register-engine.js';
import { FIXTURE, FIXTURE_IDENTITY, fixtureId } from './store-fixtures.js';
import type { StoreFactory, StoreUnderTest } from './describe-store.js';

const MANAGER_PIN = '482913';
const CASHIER_PIN = '5831';
const ADA = { name: 'Ada Lovelace', phone: '+49 170 5550123', email: 'ada.lovelace@example.org', note: 'Prefers oat milk' };
const GRACE = { name: 'Grace Hopper', phone: '+49 151 7770456', email: 'grace.hopper@example.net' };

async function expectName(p: Promise<unknown>, name: string): Promise<unknown> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect((caught as Error | undefined)?.name, `expected ${name}, got ${String(caught)}`).toBe(name);
  return caught;
}

/** Every cell of every table as one string: what a reader of the file could find. */
const textOf = (dump: StoreDump): string => JSON.stringify(dump);

function expectNoTrace(dump: StoreDump, ...secrets: string[]): void {
  const text = textOf(dump).toLowerCase();
  for (const s of secrets) {
    for (const part of [s, ...s.split(/[\s@.+]+/).filter((p) => p.length >= 4)]) {
      expect(text.includes(part.toLowerCase()), `"${part}" is in the store`).toBe(false);
    }
  }
}

/** A PIN verifier as the server makes one (PBKDF2-SHA256, 600,000 iterations, standard base64). */
async function pinVerifier(pin: string): Promise<{ kdf: 'pbkdf2-sha256'; iterations: number; salt: string; hash: string }> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, ['deriveBits']);
  const bits = new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 600_000 }, base, 256));
  const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
  return { kdf: 'pbkdf2-sha256', iterations: 600_000, salt: b64(salt), hash: b64(bits) };
}

interface Sealed {
  readonly store: AsyncRegisterStore;
  readonly server: SealingKeyPair;
}

/** Pairs, seeds and sets up sealing with the manager enrolled and unlocked. */
async function sealedStore(t: StoreUnderTest): Promise<Sealed> {
  const { store } = t;
  await store.pair(FIXTURE_IDENTITY);
  await store.writeSettings({ currency: 'EUR', taxMode: 'inclusive', variableMeasureLayouts: [] });
  await store.importCatalog({
    taxRates: [{ id: 'vat-19', name: 'MwSt 19 %', ratePpm: 190_000 }],
    products: [{ id: FIXTURE.mug, sku: 'MUG-01', name: 'Coffee mug', unitPrice: 250, currency: 'EUR', taxRateIds: ['vat-19'] }],
    staff: [
      { id: FIXTURE.cashier, name: 'Jonas Weber', role: 'cashier' },
      { id: FIXTURE.manager, name: 'Anna Becker', role: 'manager' },
    ],
  });
  const server = await generateSealingKeyPair({ extractable: true });
  const status = await store.setupEncryption({ serverKey: { keyId: server.keyId, publicKey: server.publicKeyRaw }, firstStaff: { staffId: FIXTURE.manager, pin: MANAGER_PIN } });
  expect(status).toMatchObject({ setUp: true, unlockedBy: FIXTURE.manager, enrolled: [FIXTURE.manager], escrowPending: true, rotationDue: false });
  return { store, server };
}

/** Runs the sealed-store contract against `factory`. */
export function describeSealedStore(name: string, factory: StoreFactory, timeout = 120_000): void {
  const withStore = (fn: (t: StoreUnderTest) => Promise<void>) => async () => {
    const t = await factory();
    try {
      await fn(t);
    } finally {
      await t.dispose();
    }
  };

  describe(`sealed personal data: ${name}`, { timeout }, () => {
    it('customers are stored and queued only sealed; the server opens the op, the register opens its table and searches by tokens; locked, nothing opens', withStore(async (t) => {
      const { store, server } = await sealedStore(t);
      await expectName(store.saveCustomer({ changes: { name: ADA.name }, staffId: FIXTURE.cashier }), 'SealingRequiredError');
      const { customerId, op } = await store.saveCustomerSealed({ changes: { ...ADA, loyalty: true }, staffId: FIXTURE.cashier });
      expect(op).not.toBeNull();
      const dump = await store.dump();
      expectNoTrace(dump, ADA.name, ADA.phone, ADA.email, ADA.note);
      expect(dump['customer_tokens']?.length).toBeGreaterThan(8);

      // The op carries every field sealed to the SERVER's key, bound to field and customer.
      const wire = Object.fromEntries((op?.payload.writes ?? []).map((w) => [w.field, w.value]));
      expect(Object.values(wire).every((v) => typeof v === 'string' && isSealed(v))).toBe(true);
      const opened = await open(server.privateKey, String(wire['email']), fieldAad('customer.upserted', 'email', customerId));
      expect(JSON.parse(opened)).toBe(ADA.email);
      await expect(open(server.privateKey, String(wire['email']), fieldAad('customer.upserted', 'name', customerId))).rejects.toThrow();

      expect(await store.customer(customerId)).toMatchObject({ values: { ...ADA, loyalty: true }, deleted: false });
      for (const q of ['ada', 'lov ada', 'LOVELACE', '5550123', '+49 170 5550123', ADA.email.toUpperCase()]) {
        expect((await store.searchCustomers(q)).map((c) => c.customerId), q).toEqual([customerId]);
      }
      expect(await store.searchCustomers('grace')).toEqual([]);
      // An edit that changes nothing queues nothing; one that does, only the changed field.
      expect((await store.saveCustomerSealed({ customerId, changes: { name: ADA.name }, staffId: FIXTURE.cashier })).op).toBeNull();
      const renamed = await store.saveCustomerSealed({ customerId, changes: { name: 'Ada King' }, staffId: FIXTURE.cashier });
      expect(renamed.op?.payload.writes.map((w) => w.field)).toEqual(['name']);
      expect((await store.searchCustomers('king')).map((c) => c.customerId)).toEqual([customerId]);
      expect(await store.searchCustomers('lovelace')).toEqual([]);

      await store.lock();
      await expectName(store.customer(customerId), 'RegisterLockedError');
      await expectName(store.searchCustomers('ada'), 'RegisterLockedError');
      await expectName(store.saveCustomerSealed({ customerId, changes: { name: 'X' }, staffId: FIXTURE.cashier }), 'RegisterLockedError');
      // A wrong PIN never yields the key; the right one does, and it survives a restart.
      await expectName(store.unlock(FIXTURE.manager, '000000'), 'WrongPinError');
      expect((await store.encryptionStatus()).unlockedBy).toBeNull();
      const again = await t.reopen();
      await expectName(again.customer(customerId), 'RegisterLockedError');
      expect((await again.unlock(FIXTURE.manager, MANAGER_PIN)).unlockedBy).toBe(FIXTURE.manager);
      expect((await again.customer(customerId))?.values['name']).toBe('Ada King');
    }));

    it('customers pulled while locked are sealed on arrival without any secret and searchable after unlock; a clear one is refused', withStore(async (t) => {
      const { store } = await sealedStore(t);
      await store.lock();
      const graceId = fixtureId(0x6001);
      const change = {
        seq: 1,
        id: 'c1',
        entity: 'customer',
        entityId: graceId,
        storeId: FIXTURE_IDENTITY.storeId,
        op: 'upsert' as const,
        data: { id: graceId, values: { ...GRACE, loyalty: false }, fieldHlc: { name: '000190000000-0000-server', phone: '000190000000-0000-server', email: '000190000000-0000-server', loyalty: '000190000000-0000-server' } },
      };
      const before = await store.dump();
      await expectName(store.applyPullPage({ since: null, changes: [change], cursor: 'k1' }), 'SealingRequiredError');
      expect(await store.dump()).toEqual(before);
      const sealed = (await store.sealPulled([change])) as (typeof change)[];
      expect(await store.applyPullPage({ since: null, changes: sealed, cursor: 'k1' })).toMatchObject({ applied: 1 });
      expectNoTrace(await store.dump(), GRACE.name, GRACE.phone, GRACE.email);
      await store.unlock(FIXTURE.manager, MANAGER_PIN);
      expect((await store.searchCustomers('hopper')).map((c) => c.values)).toEqual([{ ...GRACE, loyalty: false }]);
      expect((await store.searchCustomers('7770456')).map((c) => c.customerId)).toEqual([graceId]);
      // Deleted by the server: row and tokens go.
      const gone = { ...change, seq: 2, id: 'c2', op: 'delete' as const, data: { id: graceId } };
      await store.applyPullPage({ since: 'k1', changes: (await store.sealPulled([gone])) as (typeof gone)[], cursor: 'k2' });
      expect(await store.searchCustomers('hopper')).toEqual([]);
      expect((await store.dump())['customer_tokens']).toEqual([]);
    }));

    it('card references are sealed to the server key in the op and in orders; in clear they are refused', withStore(async (t) => {
      const { store, server } = await sealedStore(t);
      await store.openShift({ staffId: FIXTURE.cashier, float: { denominations: [], total: 10_000 } });
      const scan = await store.getItem(FIXTURE.mug);
      const cart = addLine(createCart(await store.cartSettings()), scan, units(2));
      const tenderId = fixtureId(0x7001);
      const card: TenderInput = { tenderId, kind: 'card', amount: 500, brand: 'visa', last4: '4242', approvalCode: 'APPR-778899', providerRef: 'PSP-REF-20261125-0042' };
      await expectName(store.completeSale({ cart, staffId: FIXTURE.cashier, tenders: [card] }), 'SealingRequiredError');
      const tenders = await store.sealTenders([card]);
      const sale = await store.completeSale({ cart, staffId: FIXTURE.cashier, tenders });
      const dump = await store.dump();
      expectNoTrace(dump, 'APPR-778899', 'PSP-REF-20261125-0042');
      expect(textOf(dump)).toContain('4242'); // brand and last four stay (ADR 0032)
      const sent = (await store.outbox()).find((e) => e.type === 'sale.completed')?.op as { payload: { tenders: { approvalCode: string; providerRef: string }[] } };
      const t0 = sent.payload.tenders[0];
      expect(await open(server.privateKey, t0?.approvalCode ?? '', fieldAad('tenders', 'approvalCode', tenderId))).toBe('APPR-778899');
      expect(await open(server.privateKey, t0?.providerRef ?? '', fieldAad('tenders', 'providerRef', tenderId))).toBe('PSP-REF-20261125-0042');
      expect(sale.receiptNo).toMatch(/^S01-R02-/);
    }));

    it('enrolment by a manager, PIN change, removal with rotation: the removed record opens nothing stored since', withStore(async (t) => {
      const { store } = await sealedStore(t);
      const { customerId } = await store.saveCustomerSealed({ changes: { name: ADA.name }, staffId: FIXTURE.manager });
      await store.enrolStaff({ staffId: FIXTURE.cashier, pin: CASHIER_PIN });
      await store.lock();
      await store.unlock(FIXTURE.cashier, CASHIER_PIN);
      // A cashier may not enrol others.
      await expectName(store.enrolStaff({ staffId: FIXTURE.manager, pin: '111111' }), 'EnrolmentNotAllowedError');
      await store.changePin({ staffId: FIXTURE.cashier, oldPin: CASHIER_PIN, newPin: '9264' });
      await store.lock();
      await expectName(store.unlock(FIXTURE.cashier, CASHIER_PIN), 'WrongPinError');
      await store.unlock(FIXTURE.cashier, '9264');
      await store.lock();

      // A copy of the profile taken now holds the cashier's record.
      const stolen = parseStaffKeyRecord(JSON.parse(String((await store.dump())['staff_keys']?.find((r) => r['staff_id'] === FIXTURE.cashier)?.['record_json'])));
      const oldKeys = await cryptoUnlock('9264', stolen);

      await store.unlock(FIXTURE.manager, MANAGER_PIN);
      const keyBefore = (await store.encryptionStatus()).keyId;
      const removed = await store.removeStaff(FIXTURE.cashier);
      expect(removed.rotated).toBe(true);
      expect(removed.status.keyId).not.toBe(keyBefore);
      expect(removed.status.enrolled).toEqual([FIXTURE.manager]);
      expect(removed.status.escrowPending).toBe(true);
      expect((await store.customer(customerId))?.values['name']).toBe(ADA.name);
      expect((await store.searchCustomers('ada')).map((c) => c.customerId)).toEqual([customerId]);
      await store.lock();
      await expectName(store.unlock(FIXTURE.cashier, '9264'), 'NotEnrolledError');

      // The old keys open none of the re-sealed values.
      const doc = JSON.parse(String((await store.dump())['customers']?.[0]?.['doc_json'])) as { fields: { name: { value: string }[] } };
      const sealedName = doc.fields.name[0]?.value ?? '';
      await expect(createOpener(oldKeys.privateKey).open(sealedName, fieldAad('customers', 'name', customerId))).rejects.toThrow();
    }));

    it('a staff member removed while locked loses access at once; the rotation runs at the next unlock by someone else', withStore(async (t) => {
      const { store } = await sealedStore(t);
      await store.enrolStaff({ staffId: FIXTURE.cashier, pin: CASHIER_PIN });
      await store.lock();
      const keyBefore = (await store.encryptionStatus()).keyId;
      expect(await store.removeStaff(FIXTURE.cashier)).toMatchObject({ rotated: false, status: { rotationDue: true, enrolled: [FIXTURE.manager] } });
      await expectName(store.unlock(FIXTURE.cashier, CASHIER_PIN), 'NotEnrolledError');
      const after = await store.unlock(FIXTURE.manager, MANAGER_PIN);
      expect(after).toMatchObject({ rotationDue: false });
      expect(after.keyId).not.toBe(keyBefore);
    }));

    it('a staff member deactivated on the server and pulled while locked loses the record at once; the next unlock rotates', withStore(async (t) => {
      const { store } = await sealedStore(t);
      await store.enrolStaff({ staffId: FIXTURE.cashier, pin: CASHIER_PIN });
      await store.lock();
      const keyBefore = (await store.encryptionStatus()).keyId;
      const gone = { seq: 1, id: 'c1', entity: 'staff', entityId: FIXTURE.cashier, storeId: FIXTURE_IDENTITY.storeId, op: 'delete' as const, data: { id: FIXTURE.cashier } };
      await store.applyPullPage({ since: null, changes: (await store.sealPulled([gone])) as (typeof gone)[], cursor: 'k1' });
      expect(await store.encryptionStatus()).toMatchObject({ enrolled: [FIXTURE.manager], rotationDue: true, unlockedBy: null });
      expect(JSON.stringify((await store.dump())['staff_keys'])).not.toContain(FIXTURE.cashier);
      await expectName(store.unlock(FIXTURE.cashier, CASHIER_PIN), 'NotEnrolledError');
      const after = await store.unlock(FIXTURE.manager, MANAGER_PIN);
      expect(after).toMatchObject({ rotationDue: false, enrolled: [FIXTURE.manager] });
      expect(after.keyId).not.toBe(keyBefore);
    }));

    it('first unlock through the server escrow: the PIN is checked against the synced verifier, the answer must hold this register’s keys', withStore(async (t) => {
      const { store, server } = await sealedStore(t);
      await store.importCatalog({ staff: [{ id: FIXTURE.cashier, name: 'Jonas Weber', role: 'cashier', pin: await pinVerifier(CASHIER_PIN) }] });
      const escrow = await store.pendingEscrow();
      expect(escrow).not.toBeNull();
      await store.escrowSent(escrow?.registerKeyId ?? '');
      expect(await store.pendingEscrow()).toBeNull();
      await store.lock();

      await expectName(store.beginServerEnrolment({ staffId: FIXTURE.cashier, pin: '0000' }), 'WrongPinError');
      const request = await store.beginServerEnrolment({ staffId: FIXTURE.cashier, pin: CASHIER_PIN });
      expect(request.registerKeyId).toBe(escrow?.registerKeyId);
      // The server's side (packages/server/src/keys): open the escrow, re-seal to the staff key.
      const answer = await reSealEscrow(server.privateKey, escrow?.escrowed ?? '', { deviceId: FIXTURE_IDENTITY.deviceId, ...request });
      const status = await store.finishServerEnrolment({ staffId: FIXTURE.cashier, registerKeys: answer });
      expect(status).toMatchObject({ unlockedBy: FIXTURE.cashier, enrolled: [FIXTURE.cashier, FIXTURE.manager].sort() });
      await store.lock();
      expect((await store.unlock(FIXTURE.cashier, CASHIER_PIN)).unlockedBy).toBe(FIXTURE.cashier);

      // An answer holding another register's keys is refused: nothing stored, still locked.
      await store.lock();
      const ask = await store.beginServerEnrolment({ staffId: FIXTURE.cashier, pin: CASHIER_PIN });
      const otherKeys = await generateRegisterKeys();
      const forged = await seal(await importPublicKey(ask.staffPublicKey), await encodeKeyBundle(otherKeys), registerKeysAad(FIXTURE.cashier, ask.registerKeyId));
      const before = await store.dump();
      await expectName(store.finishServerEnrolment({ staffId: FIXTURE.cashier, registerKeys: forged }), 'KeyMismatchError');
      expect(await store.dump()).toEqual(before);
      expect((await store.encryptionStatus()).unlockedBy).toBeNull();
    }));

    it('guessing is limited: after 5 wrong PINs the next attempt is refused without deriving, and survives a restart', withStore(async (t) => {
      const { store } = await sealedStore(t);
      await store.lock();
      for (let i = 0; i < 5; i++) await expectName(store.unlock(FIXTURE.manager, `00000${i}`), 'WrongPinError');
      await expectName(store.unlock(FIXTURE.manager, MANAGER_PIN), 'PinLockedOutError');
      const again = await t.reopen();
      await expectName(again.unlock(FIXTURE.manager, MANAGER_PIN), 'PinLockedOutError');
      expect((await again.encryptionStatus()).unlockedBy).toBeNull();
    }));
  });
}

