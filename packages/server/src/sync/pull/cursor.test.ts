import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../http/api-error.js';
import { CursorStringSchema, decodeCursor, encodeCursor } from './cursor.js';

const v1 = (json: unknown): string => Buffer.from(JSON.stringify(json), 'utf8').toString('base64url');
const refused = (text: string): void => {
  expect(() => decodeCursor(text)).toThrow(ApiError);
  try {
    decodeCursor(text);
  } catch (err) {
    expect(err).toMatchObject({ statusCode: 400, code: 'invalid_cursor' });
  }
};

describe('pull cursor', () => {
  it('round-trips positions in the short form, one string per position', () => {
    const epoch = randomUUID();
    for (const seq of [1, 255, 256, 50_002, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      const pos = { epoch, seq, changeId: randomUUID() };
      const text = encodeCursor(pos);
      expect(decodeCursor(text)).toEqual(pos);
      expect(encodeCursor(decodeCursor(text))).toBe(text);
      expect(CursorStringSchema.safeParse(text).success).toBe(true);
      expect(text.length).toBeLessThanOrEqual(54);
    }
    const start = { epoch, seq: 0, changeId: null };
    expect(decodeCursor(encodeCursor(start))).toEqual(start);
  });

  it('is less than half the length of the first form', () => {
    const pos = { epoch: randomUUID(), seq: 50_002, changeId: randomUUID() };
    const old = v1({ v: 1, e: pos.epoch, s: pos.seq, c: pos.changeId });
    expect(encodeCursor(pos).length * 2).toBeLessThan(old.length);
  });

  it('still reads cursors registers got in the first form', () => {
    const pos = { epoch: randomUUID(), seq: 41, changeId: randomUUID() };
    expect(decodeCursor(v1({ v: 1, e: pos.epoch, s: pos.seq, c: pos.changeId }))).toEqual(pos);
    expect(decodeCursor(v1({ v: 1, e: pos.epoch, s: 0, c: null }))).toEqual({ epoch: pos.epoch, seq: 0, changeId: null });
  });

  it('refuses short-form cursors this server would not write', () => {
    const epoch = Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
    const id = Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
    const b64 = (...parts: Buffer[]): string => Buffer.concat(parts).toString('base64url');
    const head = Buffer.from([2]);
    // a seq with no change id, and a change id at seq 0
    refused(b64(head, epoch, Buffer.from([3])));
    refused(b64(head, epoch, id, Buffer.from([0])));
    // a seq with a leading zero byte, too long a seq, no seq at all, a cut-off epoch
    refused(b64(head, epoch, id, Buffer.from([0, 3])));
    refused(b64(head, epoch, id, Buffer.alloc(8, 1)));
    refused(b64(head, epoch, id));
    refused(b64(head, epoch.subarray(0, 8)));
    // beyond the safe integers
    refused(b64(head, epoch, id, Buffer.from([0x20, 0, 0, 0, 0, 0, 0])));
    // the same 34 bytes with a stray bit set in the last character (which carries 2 bits and 4 unused)
    const good = encodeCursor({ epoch: randomUUID(), seq: 7, changeId: randomUUID() });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = good.slice(0, -1) + (alphabet[alphabet.indexOf(good.at(-1) ?? 'A') + 1] ?? '');
    expect(Buffer.from(twin, 'base64url').equals(Buffer.from(good, 'base64url'))).toBe(true);
    refused(twin);
  });

  it('refuses what is no cursor at all', () => {
    for (const text of ['garbage!', 'abc', 'AA', v1({ v: 1 }), v1([1, 2]), v1({ v: 2, e: randomUUID(), s: 1, c: randomUUID() }), 'x'.repeat(600)]) refused(text);
  });
});
