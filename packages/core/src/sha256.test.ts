import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256, sha256Hex, toHex, utf8Encode } from './sha256.js';

describe('sha256 against the NIST FIPS 180-4 example vectors', () => {
  it('hashes the empty message', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('hashes "abc" (one block)', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hashes the 448-bit message (padding spills into a second block)', () => {
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('hashes the 896-bit message', () => {
    const msg =
      'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu';
    expect(sha256Hex(msg)).toBe('cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1');
  });

  it('hashes one million "a"', () => {
    const bytes = new Uint8Array(1_000_000).fill(0x61);
    expect(toHex(sha256(bytes))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });
});

describe('sha256 at the padding boundaries', () => {
  // Expected digests of n × "a" from Python's hashlib.sha256, an independent implementation.
  const cases: [number, string][] = [
    [55, '9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318'],
    [56, 'b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a'],
    [63, '7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34'],
    [64, 'ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb'],
    [119, '31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb'],
    [120, '2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c'],
  ];
  for (const [n, digest] of cases) {
    it(`hashes ${n} × "a"`, () => {
      expect(sha256Hex('a'.repeat(n))).toBe(digest);
    });
  }

  it('hashes non-ASCII text as UTF-8 (digest from Python hashlib)', () => {
    expect(sha256Hex('h\u00e9llo \u20ac \u{1F600}')).toBe(
      '83643b4928cf4914ee6352fed94ef1d9cacb5a843c45544627c6593db3548d74',
    );
  });

  it('always returns 32 bytes and leaves its input untouched', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const copy = Uint8Array.from(bytes);
        expect(sha256(bytes)).toHaveLength(32);
        expect(bytes).toEqual(copy);
      }),
      { numRuns: 500 },
    );
  });
});

describe('utf8Encode', () => {
  it('encodes one to four byte sequences', () => {
    expect([...utf8Encode('A')]).toEqual([0x41]);
    expect([...utf8Encode('é')]).toEqual([0xc3, 0xa9]); // U+00E9
    expect([...utf8Encode('€')]).toEqual([0xe2, 0x82, 0xac]); // U+20AC
    expect([...utf8Encode('\u{1F600}')]).toEqual([0xf0, 0x9f, 0x98, 0x80]); // surrogate pair D83D DE00
  });

  it('replaces lone surrogates with U+FFFD as TextEncoder does', () => {
    expect([...utf8Encode('a\ud800b')]).toEqual([0x61, 0xef, 0xbf, 0xbd, 0x62]);
    expect([...utf8Encode('\udc00')]).toEqual([0xef, 0xbf, 0xbd]);
  });

  it('round-trips well-formed strings through a UTF-8 decoder written from the spec', () => {
    const decode = (bytes: Uint8Array): string => {
      let s = '';
      for (let i = 0; i < bytes.length; ) {
        const b = bytes[i] as number;
        const len = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
        let cp = len === 1 ? b : b & (0xff >> (len + 1));
        for (let k = 1; k < len; k++) cp = (cp << 6) | ((bytes[i + k] as number) & 0x3f);
        s += String.fromCodePoint(cp);
        i += len;
      }
      return s;
    };
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(decode(utf8Encode(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});

describe('toHex', () => {
  it('writes two lower-case digits per byte', () => {
    expect(toHex(new Uint8Array([0x00, 0x0f, 0xab, 0xff]))).toBe('000fabff');
  });
});
