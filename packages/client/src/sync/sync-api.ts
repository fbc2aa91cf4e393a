/**
 * The register's HTTP client for the sync routes, over an injected `fetch`. Every answer is parsed
 * with `wire-schemas.ts`; every failure becomes one of the sync errors here, in one place:
 *
 * | what happened                         | error                                           |
 * |---------------------------------------|-------------------------------------------------|
 * | fetch threw, timed out, body cut off  | `SyncNetworkError`                              |
 * | 401 (`register_revoked`, `invalid_token`) | `RegisterRevokedError`                       |
 * | 410 `resync_required`                 | `ResyncRequiredError` (with `details.reason`)   |
 * | any other status ≥ 400                | `SyncHttpError` (`Retry-After` on 429 and 503)  |
 * | 2xx with a body of the wrong shape    | `SyncProtocolError`                             |
 */
import type { Clock } from '@kassa/core';
import type { z } from 'zod';
import { parseRetryAfter } from './backoff.js';
import { RegisterRevokedError, ResyncRequiredError, SyncHttpError, SyncNetworkError, SyncProtocolError } from './errors.js';
import type { Timers } from './timers.js';
import {
  AlertListSchema,
  ConflictListSchema,
  DataLossReportResponseSchema,
  ErrorBodySchema,
  PairingResponseSchema,
  PullResponseSchema,
  PushResponseSchema,
  SnapshotPageSchema,
  type AlertList,
  type ConflictList,
  type DataLossReportResponse,
  type PairingResponse,
  type PullResponse,
  type PushResponse,
  type SnapshotPage,
} from './wire-schemas.js';

/** The part of `fetch` the client uses (the platform's, a test's fake, a fault-injecting wrapper). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** What the client needs. */
export interface SyncApiOptions {
  /** e.g. `http://localhost:8080` (no trailing slash needed). */
  readonly baseUrl: string;
  readonly fetch: FetchLike;
  readonly clock: Clock;
  readonly timers: Timers;
  /** The device token, read for each request (it changes when the register is paired again). */
  readonly token: () => string | null;
  /** A request with no answer after this is abandoned as a network error (a pull adds its `wait`). */
  readonly requestTimeoutMs?: number;
}

/** An answer and when it was asked and received, for the clock comparison. */
export interface Timed<T> {
  readonly body: T;
  readonly sentAt: number;
  readonly receivedAt: number;
  /** The server's clock: the body's `serverTime`, else the `Date` header (1 s resolution). */
  readonly serverTime: number | undefined;
  /**
   * The register's time `serverTime` is compared with: the middle of the round trip, except for a
   * long-poll, which the server answers (and stamps) at the END of its hold — there the middle
   * would be off by half the wait, so the answer's arrival is used.
   */
  readonly serverTimeAt: number;
}

/** Pairing by a one-time code from the back office, or by a manager signing in on the register. */
export type PairingRequest =
  | { readonly code: string; readonly registerCode?: string; readonly name?: string }
  | { readonly email: string; readonly password: string; readonly storeId: string; readonly registerCode?: string; readonly name?: string };

/** What a register that lost (part of) its database tells the server. */
export interface DataLossReport {
  readonly reason: 'missing' | 'unreadable' | 'rolled_back' | 'other_register';
  /** The highest op seq the register knew it had committed (its pairing marker). */
  readonly localLastSeq: number;
  /** The last receipt number it knew it had printed, or null. */
  readonly localLastReceiptNo: string | null;
  /** When the register found the loss (its clock). */
  readonly detectedAt: number;
}

/**
 * The sync routes of one server.
 *
 * @example
 * ```ts
 * const api = new SyncApi({ baseUrl, fetch, clock, timers: platformTimers, token: () => token });
 * const { body } = await api.pull(cursor, { limit: 500, waitS: 25 });
 * ```
 */
export class SyncApi {
  readonly #o: SyncApiOptions;
  readonly #base: string;

  constructor(options: SyncApiOptions) {
    this.#o = options;
    this.#base = options.baseUrl.replace(/\/+$/, '');
  }

  /** `POST /api/v1/sync/push` with a body as the store built it. */
  push(body: string, signal?: AbortSignal): Promise<Timed<PushResponse>> {
    return this.#request('push', 'POST', '/api/v1/sync/push', PushResponseSchema, { body, signal, auth: true });
  }

  /** `GET /api/v1/sync/pull?since=&limit=&wait=`. */
  pull(since: string, options: { readonly limit: number; readonly waitS: number; readonly signal?: AbortSignal | undefined }): Promise<Timed<PullResponse>> {
    const qs = new URLSearchParams({ since, limit: String(options.limit), wait: String(options.waitS) });
    return this.#request('pull', 'GET', `/api/v1/sync/pull?${qs.toString()}`, PullResponseSchema, {
      signal: options.signal,
      auth: true,
      extraTimeoutMs: options.waitS * 1000,
      longPoll: options.waitS > 0,
    });
  }

  /** `GET /api/v1/sync/snapshot?page=&limit=`; no page: the first. */
  snapshot(page: string | undefined, options: { readonly limit: number; readonly signal?: AbortSignal | undefined }): Promise<Timed<SnapshotPage>> {
    const qs = new URLSearchParams({ limit: String(options.limit), ...(page === undefined ? {} : { page }) });
    return this.#request('snapshot', 'GET', `/api/v1/sync/snapshot?${qs.toString()}`, SnapshotPageSchema, { signal: options.signal, auth: true });
  }

  /** `GET /api/v1/alerts?status=open` (the register's store's), one page. */
  alerts(offset: number, signal?: AbortSignal): Promise<Timed<AlertList>> {
    return this.#request('alerts', 'GET', `/api/v1/alerts?status=open&limit=200&offset=${String(offset)}`, AlertListSchema, { signal, auth: true });
  }

  /** `GET /api/v1/conflicts?status=open`, one page. */
  conflicts(offset: number, signal?: AbortSignal): Promise<Timed<ConflictList>> {
    return this.#request('conflicts', 'GET', `/api/v1/conflicts?status=open&limit=200&offset=${String(offset)}`, ConflictListSchema, { signal, auth: true });
  }

  /** `POST /api/v1/registers/me/data-loss`: tells the server what this register lost (it raises an alert). */
  reportDataLoss(report: DataLossReport, signal?: AbortSignal): Promise<Timed<DataLossReportResponse>> {
    return this.#request('data-loss report', 'POST', '/api/v1/registers/me/data-loss', DataLossReportResponseSchema, { body: JSON.stringify(report), signal, auth: true });
  }

  /** `POST /api/v1/registers/pair` (no token: this is how the register gets one). */
  pair(request: PairingRequest, signal?: AbortSignal): Promise<Timed<PairingResponse>> {
    return this.#request('pair', 'POST', '/api/v1/registers/pair', PairingResponseSchema, { body: JSON.stringify(request), signal, auth: false });
  }

  async #request<S extends z.ZodType>(
    what: string,
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    o: { body?: string; signal?: AbortSignal | undefined; auth: boolean; extraTimeoutMs?: number; longPoll?: boolean },
  ): Promise<Timed<z.infer<S>>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (o.auth) {
      const token = this.#o.token();
      if (token === null) throw new RegisterRevokedError('the register has no device token; pair it first', 'no_token');
      headers['authorization'] = `Bearer ${token}`;
    }
    // One controller per request: aborted by the caller's signal (stop) or by the timeout.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.signal?.aborted === true) controller.abort();
    const timeout = this.#o.timers.setTimeout(() => controller.abort(), (this.#o.requestTimeoutMs ?? 30_000) + (o.extraTimeoutMs ?? 0));
    const sentAt = this.#o.clock.now();
    try {
      let res: Response;
      let text: string;
      try {
        res = await this.#o.fetch(`${this.#base}${path}`, { method, headers, ...(o.body === undefined ? {} : { body: o.body }), signal: controller.signal });
        text = await res.text();
      } catch (e) {
        throw new SyncNetworkError(controller.signal.aborted ? `${what} aborted or timed out` : `${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const receivedAt = this.#o.clock.now();
      if (res.status >= 400) throw this.#error(res, text, receivedAt);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new SyncProtocolError(what, `status ${res.status} with a body that is not JSON`);
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) throw new SyncProtocolError(what, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const body = parsed.data as z.infer<S>;
      const fromBody = (body as { serverTime?: unknown }).serverTime;
      const date = res.headers.get('date');
      const serverTime = typeof fromBody === 'number' ? fromBody : date === null || Number.isNaN(Date.parse(date)) ? undefined : Date.parse(date);
      return { body, sentAt, receivedAt, serverTime, serverTimeAt: o.longPoll === true ? receivedAt : (sentAt + receivedAt) / 2 };
    } finally {
      this.#o.timers.clearTimeout(timeout);
      o.signal?.removeEventListener('abort', onAbort);
    }
  }

  #error(res: Response, text: string, now: number): SyncHttpError {
    let code = `http_${res.status}`;
    let message = res.statusText || 'error';
    let details: unknown;
    try {
      const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
      if (parsed.success) {
        code = parsed.data.error;
        message = parsed.data.message ?? message;
        details = parsed.data.details;
      }
    } catch {
      // not JSON (a proxy's error page): the status says enough
    }
    if (res.status === 401) return new RegisterRevokedError(message, code);
    if (res.status === 410) {
      const reason = typeof details === 'object' && details !== null && typeof (details as { reason?: unknown }).reason === 'string' ? (details as { reason: string }).reason : undefined;
      return new ResyncRequiredError(message, reason);
    }
    const retryAfter = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers.get('retry-after'), now) : undefined;
    return new SyncHttpError(res.status, code, message, retryAfter);
  }
}
