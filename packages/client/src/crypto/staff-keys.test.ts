import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url } from './bytes.js';
import { changePin, enrolStaff, enrolStaffViaServer, reSealEscrow, sealEscrow } from './enrolment.js';
import type { EscrowRequest } from './enrolment.js';
import { InvalidKeyRecordError, InvalidPinError, KeyMismatchError, SealOpenError, WrongPinError } from './errors.js';
import { generateRegisterKeys, registerPublicKey } from './register-keys.js';
import type { RegisterKeys } from './register-keys.js';
import { createOpener, createSealer, fieldAad, generateSealingKeyPair, importPublicKey, open, openBytes, seal } from './seal.js';
import { parseStaffKeyRecord, registerKeysAad } from './staff-key-record.js';
import type { StaffKeyRecord } from './staff-key-record.js';
import { unlock } from './unlock.js';

// Tests unlock hundreds of times; 600k iterations each would take minutes. pin-kdf.test.ts covers
// the real count and that production code refuses this one.
const TEST_KDF = { unsafeTestOnlyIterations: 1_000 } as const;

async function wrongPin(p: Promise<unknown>): Promise<WrongPinError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WrongPinError) return e;
    throw e;
  }
  throw new Error('expected WrongPinError, but a key came out');
}

async function sameKeys(a: RegisterKeys, b: RegisterKeys): Promise<void> {
  expect(a.keyId).toBe(b.keyId);
  const sealed = await createSealer(a.publicKey).seal('probe', 'probe');
  expect(await open(b.privateKey, sealed, 'probe')).toBe('probe');
  const mac = async (k: RegisterKeys): Promise<string> => toBase64Url(new Uint8Array(await crypto.subtle.sign('HMAC', k.searchKey, new Uint8Array([1]))));
  expect(await mac(a)).toBe(await mac(b));
}

describe('unlock', () => {
  it('the right PIN opens the register keys', async () => {
    const keys = await generateRegisterKeys();
    const record = await enrolStaff(keys, { staffId: 'anna', pin: '482913' }, TEST_KDF);
    await sameKeys(await unlock('482913', record, TEST_KDF), keys);
  });

  it('a wrong PIN throws WrongPinError and yields no key (property)', async () => {
    const keys = await generateRegisterKeys();
    const record = await enrolStaff(keys, { staffId: 'jonas', pin: '4711' }, TEST_KDF);
    await fc.assert(
      // Mostly well-formed PINs (each one a full key derivation), some that no record could hold.
      fc.asyncProperty(fc.oneof(fc.stringMatching(/^\d{4,8}$/), fc.stringMatching(/^\d{4,8}$/), fc.string({ maxLength: 12 })), async (pin) => {
        fc.pre(pin.normalize('NFKC') !== '4711');
        const error = await wrongPin(unlock(pin, record, TEST_KDF));
        expect(error.staffId).toBe('jonas');
      }),
      { numRuns: 500 },
    );
  });

  it('the record holds nothing in clear: no PIN, no key bytes, every secret sealed or wrapped', async () => {
    const keys = await generateRegisterKeys();
    const record = await enrolStaff(keys, { staffId: 'lea', pin: '908172' }, TEST_KDF);
    const json = JSON.stringify(record);
    expect(json).not.toContain('908172');
    const jwk = await crypto.subtle.exportKey('jwk', keys.privateKey);
    expect(json).not.toContain(jwk.d ?? '-');
    const search = toBase64Url(new Uint8Array(await crypto.subtle.exportKey('raw', keys.searchKey)));
    expect(json).not.toContain(search);
    expect(parseStaffKeyRecord(JSON.parse(json))).toEqual(record);
  });

  it('a record copied onto another staff member, or with a swapped salt or blob, does not open', async () => {
    const keys = await generateRegisterKeys();
    const a = await enrolStaff(keys, { staffId: 'a', pin: '1111' }, TEST_KDF);
    const b = await enrolStaff(keys, { staffId: 'b', pin: '2222' }, TEST_KDF);
    await wrongPin(unlock('1111', { ...a, staffId: 'b' }, TEST_KDF));
    await wrongPin(unlock('1111', { ...a, kdf: b.kdf }, TEST_KDF));
    await wrongPin(unlock('1111', { ...a, wrappedStaffKey: b.wrappedStaffKey }, TEST_KDF));
    // Right PIN, but someone else's bundle: the staff key opened, so this is a damaged record.
    await expect(unlock('1111', { ...a, registerKeys: b.registerKeys }, TEST_KDF)).rejects.toThrow(InvalidKeyRecordError);
    const blob = fromBase64Url(a.wrappedStaffKey);
    blob[20] = (blob[20] ?? 0) ^ 1;
    await wrongPin(unlock('1111', { ...a, wrappedStaffKey: toBase64Url(blob) }, TEST_KDF));
    await expect(unlock('1111', { ...a, v: 2 } as unknown as StaffKeyRecord, TEST_KDF)).rejects.toThrow(InvalidKeyRecordError);
  });

  it('values sealed while LOCKED (public key only) open after unlock', async () => {
    const keys = await generateRegisterKeys();
    const record = await enrolStaff(keys, { staffId: 'anna', pin: '482913' }, TEST_KDF);
    // What the store keeps in clear, and all it needs while locked:
    const stored = JSON.parse(JSON.stringify(registerPublicKey(keys))) as { keyId: string; publicKey: string };
    const lockedSealer = createSealer(await importPublicKey(stored.publicKey));
    const pulled = [
      { id: 'c1', name: 'Zoë Çelik', phone: '+49 170 1234567' },
      { id: 'c2', name: 'Łukasz Nowak', phone: '0151 9876543' },
    ];
    const rows = await Promise.all(
      pulled.map(async (c) => ({
        id: c.id,
        name: await lockedSealer.seal(c.name, fieldAad('customers', 'name', c.id)),
        phone: await lockedSealer.seal(c.phone, fieldAad('customers', 'phone', c.id)),
      })),
    );
    for (const row of rows) expect(JSON.stringify(row)).not.toMatch(/Zoë|Łukasz|1234567|9876543/);
    const unlocked = await unlock('482913', record, TEST_KDF);
    const opener = createOpener(unlocked.privateKey, stored.keyId);
    expect(await opener.open(rows[0]?.name ?? '', fieldAad('customers', 'name', 'c1'))).toBe('Zoë Çelik');
    expect(await opener.open(rows[1]?.phone ?? '', fieldAad('customers', 'phone', 'c2'))).toBe('0151 9876543');
  });
});

describe('enrolment, PIN change', () => {
  it('manager present: the manager unlocks, a new cashier is enrolled offline and unlocks the same keys', async () => {
    const keys = await generateRegisterKeys();
    const manager = await enrolStaff(keys, { staffId: 'manager', pin: '918273' }, TEST_KDF);
    const managerKeys = await unlock('918273', manager, TEST_KDF);
    const cashier = await enrolStaff(managerKeys, { staffId: 'cashier', pin: '5831' }, TEST_KDF);
    expect(cashier.registerKeyId).toBe(keys.keyId);
    expect(cashier.staffPublicKey).not.toBe(manager.staffPublicKey);
    await sameKeys(await unlock('5831', cashier, TEST_KDF), keys);
    await wrongPin(unlock('918273', cashier, TEST_KDF));
    await expect(enrolStaff(managerKeys, { staffId: 'x', pin: '12' }, TEST_KDF)).rejects.toThrow(InvalidPinError);
  });

  it('PIN change: the old PIN no longer opens the new record, the new one does, the register key stays', async () => {
    const keys = await generateRegisterKeys();
    const before = await enrolStaff(keys, { staffId: 'jonas', pin: '4711' }, TEST_KDF);
    await wrongPin(changePin(before, '0000', '2468', TEST_KDF));
    const { record: after } = await changePin(before, '4711', '2468', TEST_KDF);
    expect(after.kdf.salt).not.toBe(before.kdf.salt);
    expect(after.staffPublicKey).not.toBe(before.staffPublicKey);
    await wrongPin(unlock('4711', after, TEST_KDF));
    await sameKeys(await unlock('2468', after, TEST_KDF), keys);
  });

  it('server escrow: the first unlock of a new staff member online, with no manager present', async () => {
    const server = await generateSealingKeyPair();
    const keys = await generateRegisterKeys();
    const escrowed = await sealEscrow(keys, server.publicKey, { deviceId: 'dev-1' });
    const requests: EscrowRequest[] = [];
    // The server's side: it authenticated device dev-1 and staff lea itself.
    const fetchRegisterKeys = async (request: EscrowRequest): Promise<string> => {
      requests.push(request);
      return reSealEscrow(server.privateKey, escrowed, { deviceId: 'dev-1', registerKeyId: request.registerKeyId, staffId: 'lea', staffPublicKey: request.staffPublicKey });
    };
    const { record, keys: got } = await enrolStaffViaServer({ staffId: 'lea', pin: '7391', registerKeyId: keys.keyId, fetchRegisterKeys }, TEST_KDF);
    await sameKeys(got, keys);
    expect(requests).toEqual([{ staffId: 'lea', registerKeyId: keys.keyId, staffPublicKey: record.staffPublicKey }]);
    expect(JSON.stringify(requests)).not.toContain('7391');
    await sameKeys(await unlock('7391', record, TEST_KDF), keys); // later unlocks are offline
  });

  it('server escrow: an escrow of another device, another register key, or for another staff member is refused', async () => {
    const server = await generateSealingKeyPair();
    const keys = await generateRegisterKeys();
    const other = await generateRegisterKeys();
    const escrowed = await sealEscrow(keys, server.publicKey, { deviceId: 'dev-1' });
    const otherEscrow = await sealEscrow(other, server.publicKey, { deviceId: 'dev-1' });
    // Escrow bound to its device: the server cannot open it for dev-2 by mistake.
    await expect(reSealEscrow(server.privateKey, escrowed, { deviceId: 'dev-2', registerKeyId: keys.keyId, staffId: 'lea', staffPublicKey: (await generateSealingKeyPair()).publicKeyRaw })).rejects.toThrow(SealOpenError);
    // The server answers with another register key (sealed as if it were the expected one): refused.
    const wrongKeys = (request: EscrowRequest): Promise<string> =>
      reSealEscrow(server.privateKey, otherEscrow, { deviceId: 'dev-1', registerKeyId: other.keyId, staffId: request.staffId, staffPublicKey: request.staffPublicKey });
    await expect(enrolStaffViaServer({ staffId: 'lea', pin: '7391', registerKeyId: keys.keyId, fetchRegisterKeys: wrongKeys }, TEST_KDF)).rejects.toThrow(SealOpenError);
    // Sealed for another staff member: the AAD differs, nothing opens.
    const forJonas = (request: EscrowRequest): Promise<string> =>
      reSealEscrow(server.privateKey, escrowed, { deviceId: 'dev-1', registerKeyId: keys.keyId, staffId: 'jonas', staffPublicKey: request.staffPublicKey });
    await expect(enrolStaffViaServer({ staffId: 'lea', pin: '7391', registerKeyId: keys.keyId, fetchRegisterKeys: forJonas }, TEST_KDF)).rejects.toThrow(SealOpenError);
    // A bundle that opens but holds another key than its label claims.
    const mislabelled = async (request: EscrowRequest): Promise<string> => {
      const sealedOther = await reSealEscrow(server.privateKey, otherEscrow, { deviceId: 'dev-1', registerKeyId: other.keyId, staffId: 'tmp', staffPublicKey: server.publicKeyRaw });
      const bundle = await openBytes(server.privateKey, sealedOther, registerKeysAad('tmp', other.keyId));
      return seal(await importPublicKey(request.staffPublicKey), bundle, registerKeysAad(request.staffId, keys.keyId));
    };
    await expect(enrolStaffViaServer({ staffId: 'lea', pin: '7391', registerKeyId: keys.keyId, fetchRegisterKeys: mislabelled }, TEST_KDF)).rejects.toThrow(KeyMismatchError);
  });
});
