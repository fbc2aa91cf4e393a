import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url } from './bytes.js';
import { SealOpenError } from './errors.js';
import {
  createOpener,
  createSealer,
  exportPublicKey,
  fieldAad,
  generateSealingKeyPair,
  importPublicKey,
  isSealed,
  keyIdOf,
  open,
  openBytes,
  seal,
  sealedKeyId,
} from './seal.js';

const RUNS = 500;

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SealOpenError) return e.reason;
    throw e;
  }
  throw new Error('expected SealOpenError, but the value opened');
}

// 500 runs of WebCrypto each: seconds on an idle core, more on a loaded CI machine; a limit, not a goal.
describe('seal / open', { timeout: 60_000 }, () => {
  it('round-trips any string under any AAD (property)', async () => {
    const kp = await generateSealingKeyPair();
    const sealer = createSealer(kp.publicKey);
    const opener = createOpener(kp.privateKey, kp.keyId);
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 60 }), async (text, aad) => {
        const sealed = await sealer.seal(text, aad);
        expect(sealed.startsWith('k1.')).toBe(true);
        expect(await opener.open(sealed, aad)).toBe(text);
      }),
      { numRuns: RUNS },
    );
  });

  it('round-trips bytes, and the one-shot functions agree with the batch ones', async () => {
    const kp = await generateSealingKeyPair();
    const bytes = new Uint8Array([0, 1, 2, 0x80, 0, 0, 0xff, 0]);
    const sealed = await seal(kp.publicKey, bytes, 'x');
    expect([...(await openBytes(kp.privateKey, sealed, 'x'))]).toEqual([...bytes]);
    expect(await open(kp.privateKey, await seal(kp.publicKey, ''), undefined)).toBe('');
  });

  it('fails when the AAD differs: a value moved to another row, column or table does not open', async () => {
    const kp = await generateSealingKeyPair();
    const sealed = await seal(kp.publicKey, 'Anna Becker', fieldAad('customers', 'name', 'row-1'));
    expect(await open(kp.privateKey, sealed, fieldAad('customers', 'name', 'row-1'))).toBe('Anna Becker');
    for (const aad of [fieldAad('customers', 'name', 'row-2'), fieldAad('customers', 'note', 'row-1'), fieldAad('staff', 'name', 'row-1'), '', undefined]) {
      expect(await failure(open(kp.privateKey, sealed, aad))).toBe('authentication_failed');
    }
  });

  it('fails for any single changed byte of the envelope (property)', async () => {
    const kp = await generateSealingKeyPair();
    const sealed = await seal(kp.publicKey, 'DE89 3704 0044 0532 0130 00', 'aad');
    const bytes = fromBase64Url(sealed.slice(3));
    const opener = createOpener(kp.privateKey);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), async (index, flip) => {
        const tampered = new Uint8Array(bytes);
        tampered[index] = (tampered[index] ?? 0) ^ flip;
        const reason = await failure(opener.open(`k1.${toBase64Url(tampered)}`, 'aad'));
        // A flipped kid or point byte may also be rejected before decryption; never does it open.
        expect(['authentication_failed', 'malformed']).toContain(reason);
      }),
      { numRuns: RUNS },
    );
  });

  it('fails for a truncated or extended envelope, and for what is not an envelope', async () => {
    const kp = await generateSealingKeyPair();
    const sealed = await seal(kp.publicKey, 'x');
    expect(await failure(open(kp.privateKey, sealed.slice(0, -4)))).toBe('malformed');
    expect(await failure(open(kp.privateKey, `${sealed}AAAA`))).toBe('malformed');
    expect(await failure(open(kp.privateKey, 'Anna Becker'))).toBe('malformed');
    expect(await failure(open(kp.privateKey, 'k1.!!!'))).toBe('malformed');
    expect(await failure(open(kp.privateKey, `k2.${sealed.slice(3)}`))).toBe('unsupported_version');
    expect(isSealed(sealed)).toBe(true);
    expect(isSealed('Anna Becker')).toBe(false);
  });

  it('a value sealed to one key does not open with another; with the expected key id it says so', async () => {
    const a = await generateSealingKeyPair();
    const b = await generateSealingKeyPair();
    const sealed = await seal(a.publicKey, 'secret');
    expect(await failure(open(b.privateKey, sealed))).toBe('authentication_failed');
    expect(await failure(createOpener(b.privateKey, b.keyId).open(sealed))).toBe('other_key');
    expect(sealedKeyId(sealed)).toBe(a.keyId);
  });

  it('the same plaintext seals differently every time (fresh IV, and a fresh ephemeral key per one-shot seal)', async () => {
    const kp = await generateSealingKeyPair();
    const one = await seal(kp.publicKey, 'same');
    const two = await seal(kp.publicKey, 'same');
    expect(one).not.toBe(two);
    const sealer = createSealer(kp.publicKey);
    expect(await sealer.seal('same')).not.toBe(await sealer.seal('same'));
  });

  it('pads: lengths leak only to 16-byte buckets', async () => {
    const kp = await generateSealingKeyPair();
    const size = async (n: number): Promise<number> => fromBase64Url((await seal(kp.publicKey, 'a'.repeat(n))).slice(3)).length;
    expect(await size(0)).toBe(await size(15));
    expect(await size(16)).toBe((await size(15)) + 16);
    expect(await size(1)).toBe(8 + 65 + 12 + 16 + 16);
  });

  it('a sealer shares one ephemeral key per batch and rolls it after the limit, also under concurrency', async () => {
    const kp = await generateSealingKeyPair();
    const sealer = createSealer(kp.publicKey, { valuesPerEphemeralKey: 3 });
    const sealed = await Promise.all(Array.from({ length: 10 }, (_, i) => sealer.seal(`v${i}`)));
    const ephemerals = sealed.map((s) => toBase64Url(fromBase64Url(s.slice(3)).subarray(8, 73)));
    const counts = new Map<string, number>();
    for (const e of ephemerals) counts.set(e, (counts.get(e) ?? 0) + 1);
    expect([...counts.values()].every((n) => n <= 3)).toBe(true);
    expect(counts.size).toBe(4);
    const opener = createOpener(kp.privateKey);
    expect(await Promise.all(sealed.map((s) => opener.open(s)))).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
  });

  it('seals to a public key that arrived as text (the server\'s key), without any private key', async () => {
    const server = await generateSealingKeyPair();
    const imported = await importPublicKey(await exportPublicKey(server.publicKey));
    expect(await keyIdOf(imported)).toBe(server.keyId);
    expect(await keyIdOf(server.publicKeyRaw)).toBe(server.keyId);
    const sealed = await seal(imported, '{"customer":"Anna"}', 'kassa.export.v1');
    expect(await open(server.privateKey, sealed, 'kassa.export.v1')).toBe('{"customer":"Anna"}');
  });

  it('refuses a public key that is not a point on P-256', async () => {
    const raw = fromBase64Url((await generateSealingKeyPair()).publicKeyRaw);
    raw[64] = (raw[64] ?? 0) ^ 1;
    await expect(importPublicKey(toBase64Url(raw))).rejects.toThrow();
  });

  // A fixed vector: the envelope format is a contract with the server (which must open values
  // sealed to its key without importing this package). If this test fails, the format changed.
  it('opens the k1 test vector', async () => {
    const vector = {
      d: 'PkU5jv64HcAx2S1jlkXE_oEMVpgt6eusvrtZuDL2MLQ',
      x: 'VV-bhoJ_kL-jBhOAS21nv9uS8LREciMdlzJk86xxuWw',
      y: 'qRaaA4yFiYeelqdIm2lqQ-zk2qgmwsU-1sZCf4TZqto',
      keyId: 'UTg7zkj87Uo',
      aad: '["kassa.field.v1","customers","name","019b76da-a800-7000-8000-000000000001"]',
      sealed:
        'k1.UTg7zkj87UoE3IX0LoowNVqX8I6GSq11b7nBsRc9g62n0xW6rYhtHJsi3qoCFBlwPXMYCiaC0lmLlQ7o2u3x8bz5bqvX-FNy7IEEcL-hD1BHCczzMrC9mfeDsdPmVxmMn5R4YgCJc7rTHVxINBY3dvdwxNqB',
    };
    const privateKey = await crypto.subtle.importKey(
      'jwk',
      { kty: 'EC', crv: 'P-256', d: vector.d, x: vector.x, y: vector.y },
      { name: 'ECDH', namedCurve: 'P-256' },
      false,
      ['deriveBits'],
    );
    expect(fieldAad('customers', 'name', '019b76da-a800-7000-8000-000000000001')).toBe(vector.aad);
    expect(sealedKeyId(vector.sealed)).toBe(vector.keyId);
    expect(await open(privateKey, vector.sealed, vector.aad)).toBe('Jürgen Müller');
  });
});
