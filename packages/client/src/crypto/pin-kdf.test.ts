import { pbkdf2Sync, randomBytes as nodeRandomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { enrolStaff } from './enrolment.js';
import { InvalidKeyRecordError, InvalidPinError, WeakKdfError } from './errors.js';
import { MIN_PBKDF2_ITERATIONS, checkPinVerifier, newKdfParams, normalisePin } from './pin-kdf.js';
import { generateRegisterKeys } from './register-keys.js';
import { unlock } from './unlock.js';

const TEST_KDF = { unsafeTestOnlyIterations: 1_000 } as const;

describe('PIN key derivation', () => {
  it('uses at least 600,000 PBKDF2 iterations by default, and production code refuses fewer', async () => {
    expect(MIN_PBKDF2_ITERATIONS).toBeGreaterThanOrEqual(600_000);
    expect(newKdfParams().iterations).toBeGreaterThanOrEqual(600_000);
    expect(() => newKdfParams({ iterations: 599_999 })).toThrow(WeakKdfError);
    const keys = await generateRegisterKeys();
    await expect(enrolStaff(keys, { staffId: 's1', pin: '1234' }, { iterations: 1_000 })).rejects.toThrow(WeakKdfError);
  });

  it('the real 600k path: enrol, record says ≥600,000, unlock gives the same register key', async () => {
    const keys = await generateRegisterKeys();
    const record = await enrolStaff(keys, { staffId: 'anna', pin: '482913' });
    expect(record.kdf.iterations).toBeGreaterThanOrEqual(600_000);
    expect((await unlock('482913', record)).keyId).toBe(keys.keyId);
  });

  it('a record with fewer iterations (made with the test-only parameter) is refused by the production unlock', async () => {
    const keys = await generateRegisterKeys();
    const weak = await enrolStaff(keys, { staffId: 's1', pin: '1234' }, TEST_KDF);
    expect(weak.kdf.iterations).toBe(1_000);
    await expect(unlock('1234', weak)).rejects.toThrow(WeakKdfError);
    expect((await unlock('1234', weak, TEST_KDF)).keyId).toBe(keys.keyId);
    // …and an absurd count (a record altered to hang the till) is refused before any work.
    await expect(unlock('1234', { ...weak, kdf: { ...weak.kdf, iterations: 1e12 } }, TEST_KDF)).rejects.toThrow(InvalidKeyRecordError);
  });

  it('normalises PINs (full-width digits are digits) and refuses fewer than 4 characters', () => {
    expect(normalisePin('１２３４')).toBe('1234');
    expect(() => normalisePin('123')).toThrow(InvalidPinError);
    expect(() => normalisePin('1'.repeat(65))).toThrow(InvalidPinError);
  });

  it('checks a PIN against the server-format verifier (made here with node:crypto, as the server does)', async () => {
    const salt = nodeRandomBytes(16);
    const hash = pbkdf2Sync('4821', salt, 600_000, 32, 'sha256');
    const verifier = { kdf: 'pbkdf2-sha256', iterations: 600_000, salt: salt.toString('base64'), hash: hash.toString('base64') } as const;
    expect(await checkPinVerifier('4821', verifier)).toBe(true);
    expect(await checkPinVerifier('4822', verifier)).toBe(false);
    expect(await checkPinVerifier('48', verifier)).toBe(false);
    await expect(checkPinVerifier('4821', { ...verifier, iterations: 1_000 })).rejects.toThrow(WeakKdfError);
  });

  it('the test-only iteration parameter appears in no client source file except its definition and tests', () => {
    const src = join(dirname(fileURLToPath(import.meta.url)), '..');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.(ts|tsx|js|mjs)$/.test(entry.name) && !/\.test\.(ts|tsx)$/.test(entry.name)) {
          const rel = relative(src, path).split('\\').join('/');
          if (rel !== 'crypto/pin-kdf.ts' && readFileSync(path, 'utf8').includes('unsafeTestOnlyIterations')) offenders.push(rel);
        }
      }
    };
    walk(src);
    expect(offenders).toEqual([]);
  });
});
