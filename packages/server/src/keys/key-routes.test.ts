import { webcrypto } from 'node:crypto';
import { manualClock } from '@kassa/core';
import { SAMPLE_IDS, SAMPLE_TIME } from '@kassa/core/test-fixtures/ops';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import type { App } from '../app.js';
import { loadConfig } from '../config.js';
import { migrateToLatest } from '../db/migrations.js';
import type { Storage } from '../db/database.js';
import { describeDb } from '../testing/describe-db.js';
import type { TestDatabase } from '../testing/describe-db.js';
import { addStaff, bearer, createPushWorld, hlcAt, OpSequence } from '../sync/push/push-test-kit.js';
import type { PushWorld } from '../sync/push/push-test-kit.js';
import { escrowAad, fieldAad, importServerKeyPair, isSealed, keyIdOf, openSealed, openSealedBytes, registerKeysAad, SealedValueError, sealTo } from './k1.js';

// Sealed by the register's code (packages/client/src/crypto/seal.ts) to this key pair: the
// server must open exactly what a register seals.
const CLIENT_VECTOR = {
  keyId: 'RCYB9K8-oj0',
  publicKey: 'BN4nBNyNfXipxPy3L1VRLsfrgeyZ0oy9qDNv0w2XuPX0AYknRJwpi8U7JogY8q-E5f_pQwaamNaGcAVPQDu6Crk',
  pkcs8: 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgM_qQV8ruXhirr5px-2k8jG2t78LzWLeQ1cVPzziJpmOhRANCAATeJwTcjX14qcT8ty9VUS7H64HsmdKMvagzb9MNl7j19AGJJ0ScKYvFOyaIGPKvhOX_6UMGmpjWhnAFT0A7ugq5',
  sealed:
    'k1.RCYB9K8-oj0EQZlvajvIzZ7qtIu8zec84auiuZVeSSd9KgoIcRU7Ddp9qzpqRu-Gs6JBh8Om-ZH0XLCpC3hqpilgXMRI0ee2ITV8zsrCeqHJJ5BpYS9Qs0KW8c4A-JSZsFdzbvoa2Kbk7tjOZOC5h1vhPsTX',
  aad: fieldAad('customer.upserted', 'name', '0190f5a0-0000-7000-8000-000000000001'),
};

describe('k1 envelopes on the server', () => {
  it('opens what the register sealed, and nothing bound elsewhere', async () => {
    const key = await importServerKeyPair(CLIENT_VECTOR);
    expect(await keyIdOf(CLIENT_VECTOR.publicKey)).toBe(CLIENT_VECTOR.keyId);
    expect(JSON.parse(await openSealed(key, CLIENT_VECTOR.sealed, CLIENT_VECTOR.aad))).toBe('Ada Lovelace');
    await expect(openSealed(key, CLIENT_VECTOR.sealed, fieldAad('customer.upserted', 'email', '0190f5a0-0000-7000-8000-000000000001'))).rejects.toMatchObject({ reason: 'authentication_failed' });
    const flipped = CLIENT_VECTOR.sealed.slice(0, -3) + (CLIENT_VECTOR.sealed.endsWith('A') ? 'B' : 'A') + CLIENT_VECTOR.sealed.slice(-2);
    await expect(openSealed(key, flipped, CLIENT_VECTOR.aad)).rejects.toBeInstanceOf(SealedValueError);
  });

  it('seals to a public key so that only its private half opens, and not under another AAD', async () => {
    const key = await importServerKeyPair(CLIENT_VECTOR);
    const sealed = await sealTo(CLIENT_VECTOR.publicKey, 'grace@example.org', 'x');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('grace');
    expect(await openSealed(key, sealed, 'x')).toBe('grace@example.org');
    await expect(openSealed(key, sealed, 'y')).rejects.toMatchObject({ reason: 'authentication_failed' });
    const other = await webcrypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
    const otherRaw = Buffer.from(await webcrypto.subtle.exportKey('raw', other.publicKey)).toString('base64url');
    await expect(openSealed(key, await sealTo(otherRaw, 'a', 'x'), 'x')).rejects.toMatchObject({ reason: 'other_key' });
    expect(isSealed('k1.short')).toBe(false);
    expect(isSealed('Ada')).toBe(false);
  });
});

const config = loadConfig({}, '/tmp');
const NOW = SAMPLE_TIME + 3_600_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface H {
  readonly storage: Storage;
  readonly app: App;
  readonly world: PushWorld;
  req(method: 'GET' | 'PUT' | 'POST', url: string, body?: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
}

async function harness(dbs: { create(): Promise<TestDatabase> }): Promise<H> {
  const { storage } = await dbs.create();
  await migrateToLatest(storage.db);
  const world = await createPushWorld(storage.db);
  const app = await buildApp({ storage, config, clock: manualClock(NOW), rateLimit: { max: 1_000_000, windowMs: 60_000 } });
  cleanups.push(() => app.close());
  const req: H['req'] = async (method, url, body, token = world.token) => {
    const res = await app.inject({ method, url, headers: token === '' ? {} : bearer(token), ...(body === undefined ? {} : { payload: body as Record<string, unknown> }) });
    return { status: res.statusCode, body: res.body === '' ? {} : res.json<Record<string, unknown>>() };
  };
  return { storage, app, world, req };
}

/** A staff key pair as a register makes one for an enrolment. */
async function staffKeyPair(): Promise<{ publicKey: string; privateKey: webcrypto.CryptoKey; keyId: string }> {
  const pair = await webcrypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const publicKey = Buffer.from(await webcrypto.subtle.exportKey('raw', pair.publicKey)).toString('base64url');
  return { publicKey, privateKey: pair.privateKey, keyId: await keyIdOf(publicKey) };
}

const BUNDLE = new Uint8Array(Array.from({ length: 173 }, (_, i) => (i * 7 + 1) & 0xff));
const REGISTER_KEY_ID = 'AAAAAAAAAAA';

describeDb('keys: the organisation’s key, escrow and release', (dbs) => {
  it('serves one public key per organisation to its registers, and none to a stranger', async () => {
    const h = await harness(dbs);
    const a = await h.req('GET', '/api/v1/keys/server');
    expect(a.status).toBe(200);
    expect(a.body['keyId']).toBe(await keyIdOf(String(a.body['publicKey'])));
    expect((await h.req('GET', '/api/v1/keys/server')).body).toEqual(a.body);
    expect((await h.req('GET', '/api/v1/keys/server', undefined, '')).status).toBe(401);
    expect((await h.req('GET', '/api/v1/keys/server', undefined, 'x'.repeat(43))).status).toBe(401);
    const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, unknown> }>();
    for (const p of ['/api/v1/keys/server', '/api/v1/keys/escrow', '/api/v1/keys/escrow/release']) expect(doc.paths).toHaveProperty(p);
  });

  it('keeps an escrow that opens, refuses one that does not, and releases it re-sealed to an active staff member of the store', async () => {
    const h = await harness(dbs);
    const server = (await h.req('GET', '/api/v1/keys/server')).body as { keyId: string; publicKey: string };
    const escrowed = await sealTo(server.publicKey, BUNDLE, escrowAad(h.world.registerId, REGISTER_KEY_ID));

    // Sealed for another register, or not sealed at all: 400, nothing kept.
    const forOther = await sealTo(server.publicKey, BUNDLE, escrowAad(SAMPLE_IDS.otherStore, REGISTER_KEY_ID));
    expect(await h.req('PUT', '/api/v1/keys/escrow', { registerKeyId: REGISTER_KEY_ID, escrowed: forOther })).toMatchObject({ status: 400, body: { error: 'invalid_escrow' } });
    expect((await h.req('PUT', '/api/v1/keys/escrow', { registerKeyId: REGISTER_KEY_ID, escrowed: 'Ada Lovelace' })).status).toBe(400);
    const staff = await staffKeyPair();
    const ask = { staffId: h.world.cashierId, registerKeyId: REGISTER_KEY_ID, staffPublicKey: staff.publicKey };
    expect(await h.req('POST', '/api/v1/keys/escrow/release', ask)).toMatchObject({ status: 404, body: { error: 'no_escrow' } });

    expect((await h.req('PUT', '/api/v1/keys/escrow', { registerKeyId: REGISTER_KEY_ID, escrowed })).status).toBe(204);
    const released = await h.req('POST', '/api/v1/keys/escrow/release', ask);
    expect(released.status).toBe(200);
    const sealed = String(released.body['registerKeys']);
    const staffSide = { keyId: staff.keyId, publicKey: staff.publicKey, privateKey: staff.privateKey };
    expect(await openSealedBytes(staffSide, sealed, registerKeysAad(h.world.cashierId, REGISTER_KEY_ID))).toEqual(BUNDLE);
    // Bound to the staff member it was released for.
    await expect(openSealedBytes(staffSide, sealed, registerKeysAad(h.world.managerId, REGISTER_KEY_ID))).rejects.toBeInstanceOf(SealedValueError);

    expect((await h.req('POST', '/api/v1/keys/escrow/release', { ...ask, staffPublicKey: 'A'.repeat(87) })).status).toBe(400);
    expect((await h.req('POST', '/api/v1/keys/escrow/release', { ...ask, extra: 1 })).status).toBe(400);
    // Another key id than the one escrowed, a stranger, another store's staff, a deactivated person.
    expect((await h.req('POST', '/api/v1/keys/escrow/release', { ...ask, registerKeyId: 'BBBBBBBBBBB' })).status).toBe(404);
    expect(await h.req('POST', '/api/v1/keys/escrow/release', { ...ask, staffId: 'nobody' })).toMatchObject({ status: 404, body: { error: 'unknown_staff' } });
    await addStaff(h.storage.db, { orgId: h.world.orgId, storeId: SAMPLE_IDS.otherStore }, 'other-store-cashier', 'cashier');
    expect((await h.req('POST', '/api/v1/keys/escrow/release', { ...ask, staffId: 'other-store-cashier' })).status).toBe(404);
    await h.storage.db.updateTable('staff').set({ active: 0 }).where('id', '=', h.world.cashierId).execute();
    expect(await h.req('POST', '/api/v1/keys/escrow/release', ask)).toMatchObject({ status: 403, body: { error: 'staff_inactive' } });

    const audited = await h.storage.db.selectFrom('audit_log').select('action').where('org_id', '=', h.world.orgId).execute();
    expect(audited.map((a) => a.action).sort()).toEqual(['keys.escrow_released', 'keys.escrowed']);
  });

  it('opens sealed customer fields of a pushed op and keeps the customer in clear; a value that does not open quarantines the op', async () => {
    const h = await harness(dbs);
    const server = (await h.req('GET', '/api/v1/keys/server')).body as { publicKey: string };
    const customerId = SAMPLE_IDS.customer;
    const sealField = (field: string, value: unknown, id = customerId) => sealTo(server.publicKey, JSON.stringify(value), fieldAad('customer.upserted', field, id));
    const ops = new OpSequence();
    const created = ops.next('customer.upserted', {
      payload: {
        customerId,
        writes: [
          { field: 'name', value: await sealField('name', 'Ada Lovelace'), hlc: hlcAt(SAMPLE_TIME + 1000), base: null },
          { field: 'email', value: await sealField('email', 'ada@example.org'), hlc: hlcAt(SAMPLE_TIME + 1000), base: null },
          { field: 'loyalty', value: true, hlc: hlcAt(SAMPLE_TIME + 1000), base: null },
        ],
      },
    });
    const r1 = await h.req('POST', '/api/v1/sync/push', { ops: [created] });
    expect((r1.body['results'] as { status: string }[]).map((x) => x.status)).toEqual(['applied']);
    const row = await h.storage.db.selectFrom('customers').select(['name', 'email', 'values_json']).where('id', '=', customerId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.org' });
    expect(JSON.parse(row.values_json)).toMatchObject({ loyalty: true });

    // Sealed for the email field but sent as the name: does not open, nothing applied.
    const moved = ops.next('customer.upserted', {
      payload: { customerId, writes: [{ field: 'name', value: await sealField('email', 'Mallory'), hlc: hlcAt(SAMPLE_TIME + 2000), base: hlcAt(SAMPLE_TIME + 1000) }] },
    });
    const r2 = await h.req('POST', '/api/v1/sync/push', { ops: [moved] });
    expect((r2.body['results'] as { status: string; reason?: string }[]).map((x) => [x.status, x.reason])).toEqual([['quarantined', 'invalid']]);
    expect((await h.storage.db.selectFrom('customers').select('name').where('id', '=', customerId).executeTakeFirstOrThrow()).name).toBe('Ada Lovelace');
  });
});
