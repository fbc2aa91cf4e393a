/**
 * Recovery of a register that lost its database (DESIGN §3, ADR 0034): it never starts empty as
 * if new. With the pairing marker's word for what it had committed (kept outside the database),
 * it pairs again AS ITSELF (same register code, so the server re-pairs the same device), resumes
 * numbering from the server, records what the server lacks from it — the ops and receipts made
 * after the server's last acknowledged seq — and tells the server, which raises an alert. The
 * sync engine then bootstraps the new database from the snapshot and shows the loss in its status
 * until a manager acknowledges it.
 *
 * ```
 *   DatabaseLostError (marker: S01-R02, ops ≤ 46, receipts ≤ S01-R02-000021)
 *     │ recoverStore() (browser) / a new file (Node)
 *     ▼
 *   POST /registers/pair {code, registerCode: R02} ──► same deviceId, resume {lastSeq 40, receipt 17}
 *     ▼
 *   pairAfterLoss (one transaction): identity + data_losses row
 *     (seq resumes at 41; receipts at 22 — a printed number is never printed twice)
 *     ▼
 *   POST /registers/me/data-loss ──► alert register_data_loss (ops 41–46, receipts 18–21 missing)
 *     ▼                               (if it fails, the sync engine sends it later)
 *   SyncEngine.start(): bootstrap; status.dataLoss until acknowledged
 * ```
 */
import type { Clock } from '@kassa/core';
import type { RegisterMeta } from '../store/meta.js';
import type { AsyncRegisterStore } from '../store/register-engine.js';
import type { DataLoss, DataLossReason } from '../store/sync-review.js';
import { RecoveryMismatchError } from './errors.js';
import { SyncApi, type FetchLike, type PairingRequest } from './sync-api.js';
import { platformTimers, type Timers } from './timers.js';
import type { PairingResponse } from './wire-schemas.js';

/**
 * What the register knew before it lost its database: the pairing marker's record. A browser
 * tab's `DatabaseLostError` has exactly these fields.
 */
export interface LostDatabase {
  readonly reason: DataLossReason;
  readonly deviceId: string;
  readonly storeCode: string;
  readonly registerCode: string;
  /** The highest op seq known committed. */
  readonly lastSeq: number;
  /** The last receipt number known printed, or null. */
  readonly lastReceiptNo: string | null;
}

/** What {@link recoverRegister} needs. */
export interface RecoverOptions {
  readonly baseUrl: string;
  /** The new, empty database's store (`recoverStore()` in the browser). */
  readonly store: Pick<AsyncRegisterStore, 'pairAfterLoss' | 'markDataLossReported' | 'meta'>;
  readonly lost: LostDatabase;
  /** A pairing code from the back office, or a manager's login; the register code is the lost one's. */
  readonly request: PairingRequest;
  readonly fetch?: FetchLike;
  readonly clock?: Clock;
  readonly timers?: Timers;
}

/** What recovery did. */
export interface RecoverResult {
  readonly meta: RegisterMeta;
  readonly response: PairingResponse;
  /** What the server lacks from this register (also in the sync status until acknowledged). */
  readonly loss: DataLoss;
  /** The server was told at once (else the sync engine tells it on its next review). */
  readonly reported: boolean;
}

/**
 * Pairs a register that lost its database again as itself and records, and reports, what the
 * server lacks from it. Start the sync engine afterwards: it bootstraps the new database.
 *
 * @throws RecoveryMismatchError when the pairing gave another register (a code of another store);
 *   nothing is written locally. Pairing errors as {@link pairRegister}.
 * @example
 * ```ts
 * if (status.phase === 'database-lost') {
 *   const store = await tab.recoverStore();
 *   const { loss } = await recoverRegister({ baseUrl, store, lost: status.error, request: { code } });
 *   alarm(`ops ${loss.missingSeqs?.from}–${loss.missingSeqs?.to} never reached the server`);
 * }
 * ```
 */
export async function recoverRegister(options: RecoverOptions): Promise<RecoverResult> {
  const clock = options.clock ?? { now: () => Date.now() };
  const lost = options.lost;
  let token: string | null = null;
  const api = new SyncApi({
    baseUrl: options.baseUrl,
    fetch: options.fetch ?? ((url, init) => globalThis.fetch(url, init)),
    clock,
    timers: options.timers ?? platformTimers,
    token: () => token,
  });
  const { body } = await api.pair({ ...options.request, registerCode: lost.registerCode });
  if (body.deviceId !== lost.deviceId || body.registerCode !== lost.registerCode || body.storeCode !== lost.storeCode) {
    throw new RecoveryMismatchError(`${lost.storeCode}-${lost.registerCode} (${lost.deviceId})`, `${body.storeCode}-${body.registerCode} (${body.deviceId})`);
  }
  const now = clock.now();
  const loss = await options.store.pairAfterLoss(
    { deviceId: body.deviceId, storeId: body.storeId, storeCode: body.storeCode, registerCode: body.registerCode, token: body.token, resume: body.resume, pairedAt: now },
    { reason: lost.reason, localLastSeq: lost.lastSeq, localLastReceiptNo: lost.lastReceiptNo },
  );
  token = body.token;
  let reported = false;
  try {
    await api.reportDataLoss({ reason: loss.reason, localLastSeq: loss.localLastSeq, localLastReceiptNo: loss.localLastReceiptNo, detectedAt: loss.detectedAt });
    await options.store.markDataLossReported(loss.id);
    reported = true;
  } catch {
    // Offline, or a server without the route: the sync engine sends it on its next review.
  }
  return { meta: await options.store.meta(), response: body, loss: reported ? { ...loss, reportedAt: clock.now() } : loss, reported };
}
