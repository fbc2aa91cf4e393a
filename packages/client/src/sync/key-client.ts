/**
 * The register's calls to the server's key routes (`packages/server/src/keys/`, docs/adr/0032):
 * sending the escrow of its key bundle, and a staff member's first unlock through the server.
 * The device token comes from the store's `meta`; nothing here ever sends a PIN or a key in clear.
 */
import type { AsyncRegisterStore } from '../store/register-engine.js';
import type { IncomingChange } from './entity-mapping.js';
import type { BeforeApply } from './loop-deps.js';
import { SyncHttpError, SyncNetworkError } from './errors.js';
import type { FetchLike } from './sync-api.js';

/** Where and how to reach the server. */
export interface KeyClientOptions {
  readonly baseUrl: string;
  readonly fetch?: FetchLike;
}

async function call(o: KeyClientOptions, token: string | null, method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const f = o.fetch ?? ((url, init) => globalThis.fetch(url, init));
  let res: Response;
  try {
    res = await f(`${o.baseUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (e) {
    throw new SyncNetworkError(e instanceof Error ? e.message : String(e));
  }
  const text = await res.text();
  if (!res.ok) {
    let error = 'http_error';
    let message = text.slice(0, 200);
    try {
      const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
      if (typeof parsed.error === 'string') error = parsed.error;
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // not JSON: the text is the message
    }
    throw new SyncHttpError(res.status, error, message, undefined);
  }
  return text === '' ? null : JSON.parse(text);
}

/**
 * Sends the register's pending escrow (`PUT /api/v1/keys/escrow`) and records that the server
 * keeps it; a no-op when nothing is pending. Call after pairing and after each unlock (a rotation
 * makes a new escrow).
 *
 * @returns whether an escrow was sent.
 * @example
 * ```ts
 * await sendEscrow({ baseUrl, store });
 * ```
 */
export async function sendEscrow(o: KeyClientOptions & { readonly store: Pick<AsyncRegisterStore, 'meta' | 'pendingEscrow' | 'escrowSent'> }): Promise<boolean> {
  const pending = await o.store.pendingEscrow();
  if (pending === null) return false;
  const { token } = await o.store.meta();
  await call(o, token, 'PUT', '/api/v1/keys/escrow', pending);
  await o.store.escrowSent(pending.registerKeyId);
  return true;
}

/**
 * A staff member's first unlock on this register without a manager present: checks the PIN
 * against the synced verifier (on the register), asks the server to release the escrowed keys
 * sealed to a staff key made for this request, wraps them under the PIN and unlocks.
 *
 * @throws WrongPinError, PinLockedOutError (nothing asked); SyncHttpError 404 `no_escrow` /
 *   `unknown_staff`, 403 `staff_inactive`; KeyMismatchError when the answer holds other keys.
 * @example
 * ```ts
 * await enrolThroughServer({ baseUrl, store, staffId: cashierId, pin: '4821' });
 * ```
 */
export async function enrolThroughServer(
  o: KeyClientOptions & { readonly store: Pick<AsyncRegisterStore, 'meta' | 'beginServerEnrolment' | 'finishServerEnrolment'>; readonly staffId: string; readonly pin: string },
): ReturnType<AsyncRegisterStore['finishServerEnrolment']> {
  const request = await o.store.beginServerEnrolment({ staffId: o.staffId, pin: o.pin });
  const { token } = await o.store.meta();
  const answer = (await call(o, token, 'POST', '/api/v1/keys/escrow/release', request)) as { registerKeys?: unknown };
  if (typeof answer.registerKeys !== 'string') throw new SyncHttpError(502, 'bad_answer', 'the server answered without registerKeys', undefined);
  return o.store.finishServerEnrolment({ staffId: o.staffId, registerKeys: answer.registerKeys });
}

/**
 * The sync engine's default `beforeApply`: pulled customers are sealed to the register's public
 * key before they are stored (the store's `sealPulled`; no secret needed, so it works locked).
 */
export function sealOnArrival(store: object): BeforeApply {
  const s = store as Partial<Pick<AsyncRegisterStore, 'sealPulled'>>;
  return <T extends IncomingChange>(changes: readonly T[]): Promise<readonly T[]> =>
    typeof s.sealPulled === 'function' ? (s.sealPulled(changes) as Promise<readonly T[]>) : Promise.resolve(changes);
}
