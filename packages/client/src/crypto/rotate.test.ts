import { describe, expect, it } from 'vitest';
import { enrolStaff, reSealEscrow } from './enrolment.js';
import { SealOpenError } from './errors.js';
import { decodeKeyBundle, generateRegisterKeys } from './register-keys.js';
import { resealValues, rotateRegisterKeys } from './rotate.js';
import type { SealedValue } from './rotate.js';
import { createOpener, createSealer, fieldAad, generateSealingKeyPair, open, openBytes, sealedKeyId } from './seal.js';
import { registerKeysAad } from './staff-key-record.js';
import { matchesQuery, searchQueryTokens } from './search-tokens.js';
import { unlock } from './unlock.js';

const TEST_KDF = { unsafeTestOnlyIterations: 1_000 } as const;

const customers = [
  { id: 'c1', name: 'Jürgen Müller', phone: '+49 170 1234567' },
  { id: 'c2', name: 'Zoë Çelik', phone: '0151 9876543' },
  { id: 'c3', name: 'Anna Becker', phone: '030 555 0100' },
];

async function setUp() {
  const keys = await generateRegisterKeys();
  const manager = await enrolStaff(keys, { staffId: 'manager', pin: '918273' }, TEST_KDF);
  const leaver = await enrolStaff(keys, { staffId: 'leaver', pin: '1357' }, TEST_KDF);
  const stayer = await enrolStaff(keys, { staffId: 'stayer', pin: '2468' }, TEST_KDF);
  const sealer = createSealer(keys.publicKey);
  const rows = await Promise.all(
    customers.map(async (c) => ({
      id: c.id,
      name: await sealer.seal(c.name, fieldAad('customers', 'name', c.id)),
      phone: await sealer.seal(c.phone, fieldAad('customers', 'phone', c.id)),
    })),
  );
  const values: SealedValue<{ id: string; column: 'name' | 'phone' }>[] = rows.flatMap((r) => [
    { ref: { id: r.id, column: 'name' as const }, sealed: r.name, aad: fieldAad('customers', 'name', r.id), search: 'name' as const },
    { ref: { id: r.id, column: 'phone' as const }, sealed: r.phone, aad: fieldAad('customers', 'phone', r.id), search: 'phone' as const },
  ]);
  return { keys, manager, leaver, stayer, values };
}

describe('rotation on removing a staff member', () => {
  it("re-seals everything to a new key that the remaining staff unlock with their unchanged PINs and the removed one's old record cannot reach", async () => {
    const { keys, manager, leaver, stayer, values } = await setUp();
    const managerKeys = await unlock('918273', manager, TEST_KDF);
    const result = await rotateRegisterKeys({ old: managerKeys, staff: [manager, stayer], values, search: { defaultCountryCode: '49' } });

    expect(result.keys.keyId).not.toBe(keys.keyId);
    expect(result.unreadable).toEqual([]);
    expect(result.staff.map((r) => r.staffId)).toEqual(['manager', 'stayer']);
    expect(result.resealed).toHaveLength(values.length);
    for (const v of result.resealed) expect(sealedKeyId(v.sealed)).toBe(result.keys.keyId);

    // Remaining staff: same PIN, new keys.
    const stayerRecord = result.staff.find((r) => r.staffId === 'stayer');
    if (stayerRecord === undefined) throw new Error('stayer missing');
    expect(stayerRecord.kdf).toEqual(stayer.kdf);
    const stayerKeys = await unlock('2468', stayerRecord, TEST_KDF);
    expect(stayerKeys.keyId).toBe(result.keys.keyId);
    const opener = createOpener(stayerKeys.privateKey, stayerKeys.keyId);
    const jurgen = result.resealed.find((v) => v.ref.id === 'c1' && v.ref.column === 'name');
    expect(await opener.open(jurgen?.sealed ?? '', fieldAad('customers', 'name', 'c1'))).toBe('Jürgen Müller');

    // The removed staff member kept a copy of their old record: it still opens the OLD keys only.
    const leaverKeys = await unlock('1357', leaver, TEST_KDF);
    expect(leaverKeys.keyId).toBe(keys.keyId);
    for (const v of result.resealed) {
      const column = v.ref.column;
      await expect(open(leaverKeys.privateKey, v.sealed, fieldAad('customers', column, v.ref.id))).rejects.toThrow(SealOpenError);
    }
    // …and their search key computes none of the new tokens.
    const oldQuery = await searchQueryTokens(leaverKeys.searchKey, 'müller', 'name');
    expect(result.resealed.some((v) => matchesQuery(v.tokens ?? [], oldQuery))).toBe(false);
    const newQuery = await searchQueryTokens(stayerKeys.searchKey, 'müller', 'name');
    expect(result.resealed.filter((v) => matchesQuery(v.tokens ?? [], newQuery)).map((v) => v.ref)).toEqual([{ id: 'c1', column: 'name' }]);
    const phoneQuery = await searchQueryTokens(stayerKeys.searchKey, '0170 1234567', 'phone', { defaultCountryCode: '49' });
    expect(result.resealed.filter((v) => matchesQuery(v.tokens ?? [], phoneQuery)).map((v) => v.ref)).toEqual([{ id: 'c1', column: 'phone' }]);
  });

  it('reports values it cannot open (another key, damaged) instead of stopping, and re-seals the rest', async () => {
    const { manager, stayer, values } = await setUp();
    const managerKeys = await unlock('918273', manager, TEST_KDF);
    const foreign = await createSealer((await generateSealingKeyPair()).publicKey).seal('x');
    const first = values[0];
    if (first === undefined) throw new Error('no values');
    const withBad = [...values, { ref: { id: 'bad', column: 'name' as const }, sealed: foreign }, { ...first, ref: { id: 'moved', column: 'name' as const }, aad: fieldAad('customers', 'name', 'elsewhere') }];
    const result = await rotateRegisterKeys({ old: managerKeys, staff: [manager, stayer], values: withBad });
    expect(result.unreadable).toEqual([
      { ref: { id: 'bad', column: 'name' }, reason: 'other_key' },
      { ref: { id: 'moved', column: 'name' }, reason: 'authentication_failed' },
    ]);
    expect(result.resealed).toHaveLength(values.length);
  });

  it('returns a new escrow for the server when asked, which opens to the NEW keys', async () => {
    const { manager, stayer, values } = await setUp();
    const server = await generateSealingKeyPair();
    const managerKeys = await unlock('918273', manager, TEST_KDF);
    const result = await rotateRegisterKeys({ old: managerKeys, staff: [manager, stayer], values, escrow: { publicKey: server.publicKey, deviceId: 'dev-1' } });
    expect(result.escrowed).toBeDefined();
    const staffKey = await generateSealingKeyPair();
    const resealed = await reSealEscrow(server.privateKey, result.escrowed ?? '', { deviceId: 'dev-1', registerKeyId: result.keys.keyId, staffId: 'new', staffPublicKey: staffKey.publicKeyRaw });
    const bundle = await openBytes(staffKey.privateKey, resealed, registerKeysAad('new', result.keys.keyId));
    expect((await decodeKeyBundle(bundle)).keyId).toBe(result.keys.keyId);
  });

  it('stragglers sealed to the old public key during the rotation are found by key id and re-sealed to the new keys', async () => {
    const { keys, manager, stayer, values } = await setUp();
    const managerKeys = await unlock('918273', manager, TEST_KDF);
    const result = await rotateRegisterKeys({ old: managerKeys, staff: [manager, stayer], values });
    // A pull sealed this with the public key the store held while the rotation was computing.
    const straggler = await createSealer(keys.publicKey).seal('Late Arrival', fieldAad('customers', 'name', 'c9'));
    const rows = [...result.resealed.map((v) => ({ ref: v.ref.id, sealed: v.sealed })), { ref: 'c9', sealed: straggler }];
    const stale = rows.filter((r) => sealedKeyId(r.sealed) !== result.keys.keyId);
    expect(stale.map((r) => r.ref)).toEqual(['c9']);
    const second = await resealValues({
      from: managerKeys,
      to: result.keys,
      values: stale.map((r) => ({ ref: r.ref, sealed: r.sealed, aad: fieldAad('customers', 'name', r.ref), search: 'name' as const })),
    });
    expect(second.unreadable).toEqual([]);
    const [late] = second.resealed;
    expect(sealedKeyId(late?.sealed ?? '')).toBe(result.keys.keyId);
    expect(await open(result.keys.privateKey, late?.sealed ?? '', fieldAad('customers', 'name', 'c9'))).toBe('Late Arrival');
    expect(matchesQuery(late?.tokens ?? [], await searchQueryTokens(result.keys.searchKey, 'late arr'))).toBe(true);
  });

  it('keeps the input order in its results and handles more values than one concurrent chunk', async () => {
    const keys = await generateRegisterKeys();
    const next = await generateRegisterKeys();
    const sealer = createSealer(keys.publicKey);
    const values = await Promise.all(Array.from({ length: 100 }, async (_, i) => ({ ref: i, sealed: await sealer.seal(`v${i}`, `aad${i}`), aad: `aad${i}` })));
    const { resealed } = await resealValues({ from: keys, to: next, values });
    expect(resealed.map((v) => v.ref)).toEqual(values.map((v) => v.ref));
    const opener = createOpener(next.privateKey, next.keyId);
    expect(await opener.open(resealed[99]?.sealed ?? '', 'aad99')).toBe('v99');
  });
});
