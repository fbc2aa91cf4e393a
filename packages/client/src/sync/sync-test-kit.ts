/**
 * Test kit for the sync engine: an in-memory server that speaks the sync API's contract (push
 * dedupe by id and seq with a hash, `pending_gap`, `deferred`, quarantine, `ackedSeq`; a change log
 * with cursors, long-poll and 410; a paged snapshot with stock levels), behind a `fetch` with fault
 * seams: answer with a status, fail before the server sees the request, or drop the answer after
 * the server committed. Everything waits on injected timers, so fake timers drive it.
 */
import {
  canonicalJson,
  isFactOp,
  movementDelta,
  opStockMovements,
  parseOp,
  type Clock,
  type FactOp,
  type Op,
  type SaleRef,
} from '@kassa/core';
import type { CatalogBatch } from '../store/catalog.js';
import { FIXTURE, FIXTURE_IDENTITY, FIXTURE_SETTINGS, fixtureCatalog } from '../store/store-fixtures.js';
import type { FetchLike } from './sync-api.js';
import type { Timers } from './timers.js';
import type { PushStatus } from './wire-schemas.js';

/** A change of the fake server's log. */
export interface FakeChange {
  readonly seq: number;
  readonly id: string;
  readonly entity: string;
  readonly entityId: string;
  readonly storeId: string | null;
  readonly op: 'upsert' | 'delete';
  readonly data: unknown;
}

/** How the fake server answers one request instead of handling it. */
export type Fault = (
  /** Answer this status (and body, headers) without handling the request. */
  | { readonly kind: 'status'; readonly status: number; readonly body?: unknown; readonly headers?: Record<string, string> }
  /** The request never reaches the server (offline, refused). */
  | { readonly kind: 'unreachable' }
  /** The server handles the request and commits, then the answer is lost. */
  | { readonly kind: 'drop_response' }
) & {
  /** Push only: strike only a push that carries ops (an empty probe passes and leaves the fault queued). */
  readonly onlyWithOps?: boolean;
};

type Route = 'push' | 'pull' | 'snapshot' | 'pair';

/** One request the fake saw, with the time it arrived. */
export interface SeenRequest {
  readonly route: Route;
  readonly at: number;
  readonly faulted: boolean;
}

interface State {
  lastSeq: number;
  taken: Map<number, { id: string; hash: string }>;
  ids: Set<string>;
  facts: Map<string, FactOp>;
  stock: Map<string, number>;
  log: FakeChange[];
  epoch: string;
  horizon: number;
  applied: string[];
}

function skuKey(productId: string, variantId: string | undefined): string {
  return `${productId}|${variantId ?? ''}`;
}

let changeIds = 0;

/** The fixture's catalog as the server sends it (server field names: `priceMinor`, …). */
export function serverCatalogItems(batch: CatalogBatch = fixtureCatalog()): { entity: string; entityId: string; storeId: string | null; op: 'upsert'; data: unknown }[] {
  const items: { entity: string; entityId: string; storeId: string | null; op: 'upsert'; data: unknown }[] = [];
  items.push({
    entity: 'store',
    entityId: FIXTURE.store,
    storeId: FIXTURE.store,
    op: 'upsert',
    data: { id: FIXTURE.store, code: 'S01', name: 'Demo', currency: 'EUR', locale: 'de-DE', settings: { ...FIXTURE_SETTINGS } },
  });
  for (const t of batch.taxRates ?? []) items.push({ entity: 'tax_rate', entityId: t.id, storeId: null, op: 'upsert', data: { ...t, fieldHlc: {} } });
  for (const p of batch.products ?? []) {
    const barcodes = (batch.barcodes ?? []).filter((b) => b.productId === p.id && b.variantId === undefined).map((b) => b.code);
    items.push({
      entity: 'product',
      entityId: p.id,
      storeId: null,
      op: 'upsert',
      data: {
        id: p.id,
        sku: p.sku,
        name: p.name,
        priceMinor: p.unitPrice,
        currency: p.currency,
        categoryId: p.categoryId ?? null,
        taxRateIds: p.taxRateIds ?? [],
        weighed: p.weighed ?? false,
        unit: p.unit ?? 'piece',
        active: p.active ?? true,
        barcodes,
        fieldHlc: {},
      },
    });
  }
  for (const s of batch.staff ?? []) {
    items.push({
      entity: 'staff',
      entityId: s.id,
      storeId: FIXTURE.store,
      op: 'upsert',
      data: { id: s.id, storeId: FIXTURE.store, name: s.name, role: s.role, active: true, pin: { kdf: 'pbkdf2-sha256', iterations: 600_000, salt: 'c2FsdA', hash: 'aGFzaA' }, updatedAt: 1 },
    });
  }
  return items;
}

/**
 * The fake server. `fetch` is its network; `faults` its misbehaviour, consumed one per request
 * of the route they are queued for.
 */
export class FakeSyncServer {
  readonly deviceId = FIXTURE_IDENTITY.deviceId;
  readonly storeId = FIXTURE_IDENTITY.storeId;
  token = FIXTURE_IDENTITY.token;
  revoked = false;
  /** The server's clock is this far ahead of the test clock. */
  clockOffsetMs = 0;
  /** Ops (by id) to quarantine with this reason instead of applying. */
  readonly quarantine = new Map<string, string>();
  /** Ops (by id) in a schema version this server does not read yet. */
  readonly defer = new Set<string>();
  readonly requests: SeenRequest[] = [];
  readonly #faults = new Map<Route, Fault[]>();
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #catalog: readonly { entity: string; entityId: string; storeId: string | null; op: 'upsert'; data: unknown }[];
  #s: State;
  #waiters: (() => void)[] = [];
  readonly #snapshots = new Map<string, { epoch: string; cursor: string; items: readonly unknown[] }>();

  constructor(clock: Clock, timers: Timers, catalog = serverCatalogItems()) {
    this.#clock = clock;
    this.#timers = timers;
    this.#catalog = catalog;
    this.#s = {
      lastSeq: 0,
      taken: new Map(),
      ids: new Set(),
      facts: new Map(),
      stock: new Map([
        [skuKey(FIXTURE.mug, undefined), 10_000],
        [skuKey(FIXTURE.tea, undefined), 5_000],
      ]),
      log: [],
      epoch: 'e1',
      horizon: 0,
      applied: [],
    };
  }

  /** Queues a fault for the next request of `route`. */
  fault(route: Route, fault: Fault, times = 1): void {
    const q = this.#faults.get(route) ?? [];
    for (let i = 0; i < times; i++) q.push(fault);
    this.#faults.set(route, q);
  }

  /** Forgets every queued fault. */
  clearFaults(): void {
    this.#faults.clear();
  }

  /** Ops applied, in order (one entry per application: a duplicate would show twice). */
  get applied(): readonly string[] {
    return this.#s.applied;
  }

  /** The highest contiguous seq stored. */
  get ackedSeq(): number {
    return this.#s.lastSeq;
  }

  /** Stock on hand as the server derives it. */
  onHand(productId: string, variantId?: string): number {
    return this.#s.stock.get(skuKey(productId, variantId)) ?? 0;
  }

  /** The log. */
  get log(): readonly FakeChange[] {
    return this.#s.log;
  }

  /** A deep copy of the server's state, to restore later (a database backup). */
  backup(): unknown {
    return structuredClone(this.#s);
  }

  /** Restores a {@link backup}: a new log epoch, so old cursors get 410. */
  restore(saved: unknown): void {
    this.#s = structuredClone(saved) as State;
    this.#s.epoch = `e${String(Number(this.#s.epoch.slice(1)) + 100)}`;
  }

  /** Prunes the log up to its head: every cursor before it gets 410. */
  pruneAll(): void {
    this.#s.horizon = this.#s.log.at(-1)?.seq ?? 0;
  }

  /** Appends a change as another writer (the back office, another register) would. */
  append(change: Omit<FakeChange, 'seq' | 'id'>): FakeChange {
    const c: FakeChange = { ...change, seq: (this.#s.log.at(-1)?.seq ?? 0) + 1, id: `c${String(++changeIds)}` };
    this.#s.log.push(c);
    for (const w of this.#waiters.splice(0)) w();
    return c;
  }

  /** Applies a fact made by another register of the store (it reaches this register by pull). */
  applyForeign(op: FactOp): void {
    this.#applyFact(op);
  }

  /** The server's `fetch`. */
  readonly fetch: FetchLike = async (url, init) => {
    const u = new URL(url);
    const route = (u.pathname.split('/').at(-1) ?? '') as Route;
    const queue = this.#faults.get(route);
    const emptyPush = route === 'push' && (JSON.parse(String(init.body)) as { ops: unknown[] }).ops.length === 0;
    const fault = queue?.[0]?.onlyWithOps === true && emptyPush ? undefined : queue?.shift();
    this.requests.push({ route, at: this.#clock.now(), faulted: fault !== undefined && fault.kind !== 'drop_response' });
    if (fault?.kind === 'unreachable') throw new TypeError('fetch failed: connect ECONNREFUSED');
    if (fault?.kind === 'status') return this.#json(fault.status, fault.body ?? { error: `http_${String(fault.status)}`, message: 'injected' }, fault.headers);
    const auth = new Headers(init.headers).get('authorization');
    if (route !== 'pair') {
      if (auth !== `Bearer ${this.token}`) return this.#json(401, { error: 'invalid_token', message: 'the device token is not known' });
      if (this.revoked) return this.#json(401, { error: 'register_revoked', message: 'this register has been revoked' });
    }
    let res: Response;
    if (route === 'push') res = this.#push(String(init.body));
    else if (route === 'pull') res = await this.#pull(u, init.signal ?? undefined);
    else if (route === 'snapshot') res = this.#snapshot(u);
    else res = this.#json(404, { error: 'not_found' });
    if (fault?.kind === 'drop_response') throw new TypeError('fetch failed: socket hang up');
    return res;
  };

  #json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
  }

  #push(body: string): Response {
    const { ops } = JSON.parse(body) as { ops: unknown[] };
    const results: { id: string | null; status: PushStatus; reason?: string }[] = [];
    for (const raw of ops) {
      const parsed = parseOp(raw);
      const head = raw as { id: string; seq: number };
      const hash = canonicalJson(raw);
      const s = this.#s;
      if (head.seq <= s.lastSeq) {
        results.push({ id: head.id, status: s.taken.get(head.seq)?.hash === hash ? 'duplicate' : 'seq_conflict' });
        continue;
      }
      if (head.seq > s.lastSeq + 1) {
        results.push({ id: head.id, status: 'pending_gap', reason: 'gap' });
        continue;
      }
      if (this.defer.has(head.id)) {
        results.push({ id: head.id, status: 'deferred', reason: 'unknown_version' });
        continue;
      }
      s.taken.set(head.seq, { id: head.id, hash });
      s.ids.add(head.id);
      s.lastSeq = head.seq;
      const reason = this.quarantine.get(head.id) ?? (parsed.ok ? undefined : 'invalid');
      if (reason !== undefined || !parsed.ok) {
        results.push({ id: head.id, status: 'quarantined', reason: reason ?? 'invalid' });
        continue;
      }
      if (isFactOp(parsed.op)) this.#applyFact(parsed.op);
      s.applied.push(head.id);
      results.push({ id: head.id, status: 'applied' });
    }
    return this.#json(200, { ackedSeq: this.#s.lastSeq, serverTime: this.#clock.now() + this.clockOffsetMs, results });
  }

  #saleOf(orderId: string | undefined): SaleRef | undefined {
    if (orderId === undefined) return undefined;
    for (const op of this.#s.facts.values()) {
      if (op.type === 'sale.completed' && op.payload.orderId === orderId) return op.payload;
    }
    return undefined;
  }

  #applyFact(op: FactOp): void {
    if (this.#s.facts.has(op.id)) return;
    this.#s.facts.set(op.id, op);
    const dep = op.type === 'refund.completed' ? op.payload.originalOrderId : op.type === 'sale.voided' ? op.payload.orderId : undefined;
    for (const m of opStockMovements(op, this.#saleOf(dep))) {
      const k = skuKey(m.productId, m.variantId);
      this.#s.stock.set(k, (this.#s.stock.get(k) ?? 0) + movementDelta(m));
    }
    this.append({ entity: 'fact', entityId: op.id, storeId: op.storeId, op: 'upsert', data: op as Op });
  }

  #cursor(seq: number): string {
    return `${this.#s.epoch}.${String(seq)}`;
  }

  async #pull(u: URL, signal: AbortSignal | undefined): Promise<Response> {
    const since = u.searchParams.get('since') ?? '';
    const [epoch, seqText] = since.split('.');
    const seq = Number(seqText);
    if (epoch !== this.#s.epoch || !Number.isInteger(seq) || seq < this.#s.horizon || seq > (this.#s.log.at(-1)?.seq ?? 0)) {
      return this.#json(410, { error: 'resync_required', message: 'bootstrap again', details: { reason: epoch !== this.#s.epoch ? 'other_log' : 'pruned' } });
    }
    const limit = Number(u.searchParams.get('limit') ?? 500);
    const waitMs = Number(u.searchParams.get('wait') ?? 0) * 1000;
    const read = () => {
      const visible = this.#s.log.filter((c) => c.seq > seq && (c.storeId === null || c.storeId === this.storeId));
      return visible;
    };
    if (read().length === 0 && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#timers.clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = this.#timers.setTimeout(done, waitMs);
        signal?.addEventListener('abort', done, { once: true });
        this.#waiters.push(done);
      });
      if (signal?.aborted === true) throw new DOMException('aborted', 'AbortError');
    }
    const visible = read();
    const page = visible.slice(0, limit);
    const head = this.#s.log.at(-1)?.seq ?? 0;
    const hasMore = visible.length > limit;
    const cursor = this.#cursor(hasMore ? (page.at(-1)?.seq ?? seq) : head);
    // As the real server: `serverTime` in the body (ms), and the `Date` header (1 s).
    const serverNow = this.#clock.now() + this.clockOffsetMs;
    return this.#json(200, { changes: page.map((c) => ({ ...c, at: this.#clock.now() })), cursor, hasMore, serverTime: serverNow }, { date: new Date(serverNow).toUTCString() });
  }

  #snapshot(u: URL): Response {
    const limit = Number(u.searchParams.get('limit') ?? 500);
    const token = u.searchParams.get('page');
    let id: string;
    let offset = 0;
    if (token === null) {
      // Everything captured at the head, as the real snapshot's levels must be (facts after the
      // head come by pull and would otherwise count twice).
      id = `s${String(this.#snapshots.size + 1)}`;
      const head = this.#s.log.at(-1)?.seq ?? 0;
      const stock = [...this.#s.stock.entries()].map(([k, onHand]) => {
        const [productId = '', variantId = ''] = k.split('|');
        return { entity: 'stock_level', entityId: k, storeId: this.storeId, op: 'upsert' as const, data: { productId, variantId: variantId === '' ? null : variantId, onHand } };
      });
      this.#snapshots.set(id, { epoch: this.#s.epoch, cursor: this.#cursor(head), items: [...this.#catalog, ...stock] });
    } else {
      [id = '', offset = 0] = [token.split('-')[0], Number(token.split('-')[1])];
    }
    const snap = this.#snapshots.get(id);
    if (snap === undefined || snap.epoch !== this.#s.epoch) return this.#json(410, { error: 'resync_required', message: 'start the snapshot again', details: { reason: 'other_log' } });
    const items = snap.items.slice(offset, offset + limit);
    const next = offset + limit < snap.items.length ? `${id}-${String(offset + limit)}` : null;
    return this.#json(200, { items, nextPage: next, cursor: snap.cursor, total: snap.items.length, serverTime: this.#clock.now() + this.clockOffsetMs });
  }
}
