/**
 * Pairing a register with its server (DESIGN §4): a one-time code from the back office, or a
 * manager signing in on the register, gets a device token; the store records the identity and
 * resumes its seq and receipt numbering from what the server knows (never going back).
 */
import type { Clock } from '@kassa/core';
import type { AsyncRegisterStore } from '../store/register-engine.js';
import type { RegisterMeta } from '../store/meta.js';
import { sendEscrow } from './key-client.js';
import { SyncApi, type FetchLike, type PairingRequest } from './sync-api.js';
import { platformTimers, type Timers } from './timers.js';
import type { PairingResponse } from './wire-schemas.js';

/** What {@link pairRegister} needs. */
export interface PairOptions {
  readonly baseUrl: string;
  readonly store: Pick<AsyncRegisterStore, 'pair' | 'meta' | 'setupEncryption' | 'pendingEscrow' | 'escrowSent'>;
  /**
   * The manager pairing the register, enrolled at once with their PIN (docs/adr/0032). Without it
   * the first unlock of anyone goes through the server's escrow (`enrolThroughServer`).
   */
  readonly firstStaff?: { readonly staffId: string; readonly pin: string };
  readonly request: PairingRequest;
  readonly fetch?: FetchLike;
  readonly clock?: Clock;
  readonly timers?: Timers;
}

/** What pairing gave. */
export interface PairResult {
  readonly meta: RegisterMeta;
  readonly response: PairingResponse;
}

/**
 * Pairs the register and records its identity. Start (or restart) the sync engine afterwards: it
 * reads the new token then; a register that was locked by a revocation is unlocked by the new one.
 *
 * @throws SyncHttpError 401 `invalid_pairing_code`, 409 `register_code_mismatch`, 429; SyncNetworkError.
 * @example
 * ```ts
 * await pairRegister({ baseUrl, store, request: { code: 'K7QX-M2PD', registerCode: 'R02' } });
 * ```
 */
export async function pairRegister(options: PairOptions): Promise<PairResult> {
  const clock = options.clock ?? { now: () => Date.now() };
  const api = new SyncApi({
    baseUrl: options.baseUrl,
    fetch: options.fetch ?? ((url, init) => globalThis.fetch(url, init)),
    clock,
    timers: options.timers ?? platformTimers,
    token: () => null,
  });
  const { body } = await api.pair(options.request);
  const meta = await options.store.pair({
    deviceId: body.deviceId,
    storeId: body.storeId,
    storeCode: body.storeCode,
    registerCode: body.registerCode,
    token: body.token,
    resume: body.resume,
    pairedAt: clock.now(),
  });
  if (body.serverKey !== undefined) {
    // The register's keys for personal data, and their escrow for the server (docs/adr/0032).
    await options.store.setupEncryption({ serverKey: body.serverKey, ...(options.firstStaff === undefined ? {} : { firstStaff: options.firstStaff }) });
    await sendEscrow({ baseUrl: options.baseUrl, store: options.store, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) });
  }
  return { meta, response: body };
}
