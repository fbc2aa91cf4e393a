/**
 * Byte helpers shared by the crypto module. Written against what both browsers and Node 20 offer
 * (`btoa`/`atob`, `TextEncoder`, WebCrypto), never `Buffer` or `node:crypto`, so the same file runs
 * in the register's worker and in the simulator.
 */
import { KassaError } from '@kassa/core';

/**
 * Bytes backed by a plain `ArrayBuffer`. WebCrypto's `BufferSource` excludes views over a
 * `SharedArrayBuffer`, so every buffer we hand to `crypto.subtle` has this type.
 */
export type Bytes = Uint8Array<ArrayBuffer>;

/** WebCrypto is missing: an old runtime, or a page served over plain http from a LAN address. */
export class WebCryptoUnavailableError extends KassaError {
  readonly code = 'webcrypto_unavailable';
  constructor() {
    super(
      'WebCrypto (crypto.subtle) is not available: browsers offer it only in a secure context ' +
        '(https:// or http://localhost), Node from version 19 on',
    );
  }
}

/** A string that should have been unpadded base64url was not. */
export class InvalidBase64UrlError extends KassaError {
  readonly code = 'invalid_base64url';
  constructor(readonly input: string) {
    super(`not unpadded base64url: ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`);
  }
}

/** The platform's `SubtleCrypto`, or a named error saying why there is none. */
export function subtle(): SubtleCrypto {
  const s = (globalThis.crypto as Crypto | undefined)?.subtle;
  if (s === undefined) throw new WebCryptoUnavailableError();
  return s;
}

/** `length` bytes from the platform's CSPRNG. */
export function randomBytes(length: number): Bytes {
  const c = globalThis.crypto as Crypto | undefined;
  if (c === undefined) throw new WebCryptoUnavailableError();
  return c.getRandomValues(new Uint8Array(length));
}

const encoder = new TextEncoder();
// fatal: a sealed value that decrypts (so it is authentic) but is not UTF-8 was sealed as bytes;
// replacing characters silently would hand the caller a different string than was stored.
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Bytes {
  return encoder.encode(text);
}

/** `bytes` decoded as UTF-8; throws a `TypeError` on invalid UTF-8. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** The concatenation of `parts`. */
export function concatBytes(...parts: readonly Uint8Array[]): Bytes {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** A copy of `view` in a fresh `ArrayBuffer` (WebCrypto rejects views over shared memory). */
export function toBytes(view: ArrayBuffer | Uint8Array): Bytes {
  return view instanceof ArrayBuffer ? new Uint8Array(view.slice(0)) : new Uint8Array(view);
}

/**
 * Unpadded base64url (RFC 4648 §5) of `bytes`: safe in SQL text, JSON and URLs without escaping.
 *
 * @example
 * ```ts
 * toBase64Url(new Uint8Array([0xfb, 0xff])) // '-_8'
 * ```
 */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  // Chunked: String.fromCharCode(...bytes) overflows the argument limit on large values.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** The bytes of unpadded base64url `text`; {@link InvalidBase64UrlError} for anything else. */
export function fromBase64Url(text: string): Bytes {
  // A length of 1 mod 4 cannot come from any byte string.
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new InvalidBase64UrlError(text);
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const binary = atob(padded);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  // Reject non-canonical encodings (unused low bits set), so one value has exactly one spelling.
  if (toBase64Url(out) !== text) throw new InvalidBase64UrlError(text);
  return out;
}

/** Compares two byte strings in time that depends only on their lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
