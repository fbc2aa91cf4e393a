/**
 * The register's local engine over one SQLite connection: schema, lookups and the commands, all
 * synchronous, running where the database is (the worker in the browser, the main thread in Node).
 * The UI reaches it through {@link AsyncRegisterStore} (Comlink in the browser, a thin wrapper in
 * Node), so every caller sees one asynchronous API.
 */
import { uuidV7Generator, type Clock, type GtinOptions, type IdGenerator, type RandomSource, type StoreSettings as CartSettings } from '@kassa/core';
import {
  adjustStock,
  closeShift,
  completeSale,
  countStock,
  editProduct,
  moveCash,
  openShift,
  refund,
  saveCustomer,
  voidSale,
  type CommandContext,
  type Faults,
} from '../commands/index.js';
import { findOpenShift, onHandOf, type OpenShift } from '../commands/local-state.js';
import { writeCatalog, type CatalogBatch } from './catalog.js';
import { InjectedFaultError, StorageFullError } from './errors.js';
import { findByBarcode, getItem, searchCatalog, type CatalogItem, type ScanResult } from './lookups.js';
import { readMeta, writeIdentity, type RegisterIdentity, type RegisterMeta } from './meta.js';
import { migrate, schemaVersion } from './migrations.js';
import { cartSettings, readSettings, writeSettings, type RegisterSettings, type RegisterSettingsInput } from './settings.js';
import type { SqlDb, SqlRow } from './sql-db.js';
import * as syncStore from './sync-store.js';
import { Vault, type CustomerView, type EncryptionStatus, type ServerKey } from './vault.js';
import type { EscrowRequest } from '../crypto/enrolment.js';
import type { SaveCustomerInput, SaveCustomerResult } from '../commands/index.js';
import type { TenderInput } from '@kassa/core';
import * as syncReview from './sync-review.js';

/** A wall clock from the platform: the default outside tests. */
export const systemClock: Clock = { now: () => Date.now() };

/** Randomness from WebCrypto (`crypto.getRandomValues`), in the browser and in Node alike. */
export const cryptoRandom: RandomSource = (length) => globalThis.crypto.getRandomValues(new Uint8Array(length));

/** Options of {@link RegisterEngine.open}. */
export interface EngineOptions {
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** A seam for tests: called before each step of each command (see `commands/context.ts`). */
  readonly faults?: Faults;
  /**
   * How long synced rows are kept (`syncedMs`: journal, seen facts; `pulledSalesMs`: other
   * registers' sales lines). A command that meets a full disk prunes what is older first and tries
   * once more before `StorageFullError` reaches the caller. Default `DEFAULT_RETENTION`.
   */
  readonly retention?: { readonly syncedMs: number; readonly pulledSalesMs: number };
}

/**
 * Faults as data, so a test can set them across a worker boundary: throw {@link InjectedFaultError}
 * at the `throwAt`-th time (default first) a step of that name is reached, and/or record the steps.
 */
export interface FaultPlan {
  readonly throwAt?: string;
  readonly record?: boolean;
}

/** One op waiting in the outbox. */
export interface OutboxEntry {
  readonly seq: number;
  readonly opId: string;
  readonly type: string;
  /** The op as validated and queued. */
  readonly op: unknown;
  readonly createdAt: number;
}

/** One receipt of the register's local chain. */
export interface ReceiptEntry {
  readonly receiptSeq: number;
  readonly receiptNo: string;
  readonly opType: string;
  readonly opId: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** A recorded sale as the UI shows it. */
export interface OrderEntry {
  readonly orderId: string;
  readonly receiptNo: string;
  readonly status: string;
  readonly shiftId: string;
  readonly total: number;
  readonly currency: string;
  readonly payload: unknown;
}

/** Every table's rows (FTS shadow tables excluded), sorted: what "no trace" compares. */
export type StoreDump = Readonly<Record<string, readonly SqlRow[]>>;

/** The engine's commands and queries: what the async store exposes. */
export type RegisterEngineApi = Pick<
  RegisterEngine,
  | 'pair'
  | 'meta'
  | 'writeSettings'
  | 'settings'
  | 'cartSettings'
  | 'importCatalog'
  | 'findByBarcode'
  | 'search'
  | 'getItem'
  | 'onHand'
  | 'currentShift'
  | 'order'
  | 'outbox'
  | 'receipts'
  | 'completeSale'
  | 'refund'
  | 'voidSale'
  | 'moveCash'
  | 'openShift'
  | 'closeShift'
  | 'adjustStock'
  | 'countStock'
  | 'saveCustomer'
  | 'editProduct'
  | 'schemaVersion'
  | 'migrate'
  | 'dump'
  | 'setFaultPlan'
  | 'recordedSteps'
  | 'setMaxPageCount'
  | 'describe'
  | 'syncInfo'
  | 'nextPushBatch'
  | 'recordPushResults'
  | 'clearPushInDoubt'
  | 'applyPullPage'
  | 'applySnapshotPage'
  | 'markRevoked'
  | 'quarantineNotices'
  | 'journal'
  | 'serverOnHand'
  | 'pruneJournal'
  | 'exportUnsynced'
  | 'importUnsynced'
  | 'setupEncryption'
  | 'encryptionStatus'
  | 'pendingEscrow'
  | 'escrowSent'
  | 'unlock'
  | 'lock'
  | 'enrolStaff'
  | 'beginServerEnrolment'
  | 'finishServerEnrolment'
  | 'changePin'
  | 'removeStaff'
  | 'customer'
  | 'searchCustomers'
  | 'saveCustomerSealed'
  | 'sealPulled'
  | 'sealTenders'
  | 'pruneSynced'
  | 'replaceServerReview'
  | 'serverAlerts'
  | 'serverConflicts'
  | 'reviewInfo'
  | 'pairAfterLoss'
  | 'dataLosses'
  | 'markDataLossReported'
  | 'acknowledgeDataLoss'
>;

/**
 * {@link RegisterEngineApi} as seen from the UI thread: every method returns a promise. The Node
 * store ({@link asyncStore}) and the browser store (Comlink over the worker) both implement it, and
 * one contract suite (`describeStore`) runs against both.
 */
export type AsyncRegisterStore = {
  [K in keyof RegisterEngineApi]: RegisterEngineApi[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
} & {
  /** Closes the database (the worker's, in the browser). */
  close(): Promise<void>;
};

/**
 * The register's engine. Open it with {@link RegisterEngine.open}, which migrates the schema.
 *
 * @example
 * ```ts
 * const engine = RegisterEngine.open(openBetterSqlite3('register.sqlite'));
 * engine.pair(identity);
 * const { shiftId } = engine.openShift({ staffId, float: { denominations: [], total: 10000 } });
 * ```
 */
export class RegisterEngine {
  readonly #db: SqlDb;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #ctx: CommandContext;
  readonly #retention: { readonly syncedMs: number; readonly pulledSalesMs: number };
  #plan: FaultPlan | null = null;
  #recorded: string[] = [];
  readonly #vault: Vault;

  private constructor(db: SqlDb, options: EngineOptions) {
    this.#db = db;
    this.#clock = options.clock ?? systemClock;
    this.#ids = uuidV7Generator(this.#clock, options.random ?? cryptoRandom);
    const userFaults = options.faults;
    const faults: Faults = {
      beforeStep: (name) => {
        if (this.#plan?.record === true) this.#recorded.push(name);
        if (this.#plan?.throwAt === name) throw new InjectedFaultError(name);
        userFaults?.beforeStep?.(name);
      },
    };
    this.#ctx = { db, clock: this.#clock, ids: this.#ids, faults };
    this.#vault = new Vault(db, this.#ctx);
    this.#retention = options.retention ?? syncReview.DEFAULT_RETENTION;
  }

  /**
   * Runs a command; if the disk is full, prunes what the retention window lets go (the command
   * was rolled back whole) and runs it once more. Still full, or nothing to prune: the
   * `StorageFullError` goes to the caller.
   */
  #withRoom<T>(run: () => T): T {
    try {
      return run();
    } catch (e) {
      if (!(e instanceof StorageFullError)) throw e;
      let freed = 0;
      try {
        const c = this.pruneSynced(this.#cutoffs());
        freed = c.journal + c.seenFacts + c.pulledSales;
      } catch {
        // pruning needs a little room too; the disk's fullness is the error to report
      }
      if (freed === 0) throw e;
      return run();
    }
  }

  #cutoffs(): syncReview.RetentionCutoffs {
    const now = this.#clock.now();
    return { syncedBefore: now - this.#retention.syncedMs, pulledSalesBefore: now - this.#retention.pulledSalesMs };
  }

  /** Opens the engine on a connection, migrating its schema to the latest version first. */
  static open(db: SqlDb, options: EngineOptions = {}): RegisterEngine {
    migrate(db, (options.clock ?? systemClock).now());
    return new RegisterEngine(db, options);
  }

  /** The connection's description (driver, SQLite version, location). */
  describe(): string {
    return this.#db.description;
  }

  /** The schema version of the database. */
  schemaVersion(): number {
    return schemaVersion(this.#db);
  }

  /** Runs any pending migrations (idempotent); returns the versions applied. */
  migrate(): number[] {
    return migrate(this.#db, this.#clock.now());
  }

  /** Records the register's identity after pairing; see `writeIdentity`. */
  pair(identity: RegisterIdentity): RegisterMeta {
    return this.#db.transaction(() => {
      writeIdentity(this.#db, identity);
      return readMeta(this.#db);
    });
  }

  /** The register's `meta` row. */
  meta(): RegisterMeta {
    return readMeta(this.#db);
  }

  /** Stores the store settings. */
  writeSettings(settings: RegisterSettingsInput): void {
    this.#db.transaction(() => writeSettings(this.#db, settings));
  }

  /** The store settings. */
  settings(): RegisterSettings {
    return readSettings(this.#db);
  }

  /** The settings a core `Cart` prices by (`createCart(await store.cartSettings())`). */
  cartSettings(): CartSettings {
    return cartSettings(readSettings(this.#db));
  }

  /** Writes a batch of catalog, staff and stock rows in one transaction. */
  importCatalog(batch: CatalogBatch): void {
    this.#db.transaction(() => writeCatalog(this.#db, batch, this.#clock.now()));
  }

  /** What a scanned barcode sells; see `findByBarcode`. */
  findByBarcode(code: string, options?: GtinOptions): ScanResult | undefined {
    return findByBarcode(this.#db, code, options);
  }

  /** Name/SKU search, at most 20 matches; see `searchCatalog`. */
  search(text: string, limit?: number): CatalogItem[] {
    return searchCatalog(this.#db, text, limit);
  }

  /** One active product or variant as the till sells it. */
  getItem(productId: string, variantId?: string): CatalogItem {
    return getItem(this.#db, productId, variantId);
  }

  /** Stock on hand as the register knows it, thousandths. */
  onHand(productId: string, variantId?: string): number {
    return onHandOf(this.#db, productId, variantId);
  }

  /** The open shift, if any. */
  currentShift(): OpenShift | undefined {
    return findOpenShift(this.#db);
  }

  /** A recorded sale, or undefined. */
  order(orderId: string): OrderEntry | undefined {
    const r = this.#db.get<{ id: string; receipt_no: string; status: string; shift_id: string; total: number; currency: string; payload_json: string }>(
      'SELECT id, receipt_no, status, shift_id, total, currency, payload_json FROM orders WHERE id = ?',
      [orderId],
    );
    if (r === undefined) return undefined;
    return { orderId: r.id, receiptNo: r.receipt_no, status: r.status, shiftId: r.shift_id, total: r.total, currency: r.currency, payload: JSON.parse(r.payload_json) };
  }

  /** Ops waiting for the server, in seq order (the order they are pushed in). */
  outbox(limit = 10_000): OutboxEntry[] {
    return this.#db
      .all<{ seq: number; op_id: string; op_type: string; op_json: string; created_at: number }>('SELECT * FROM outbox ORDER BY seq LIMIT ?', [limit])
      .map((r) => ({ seq: r.seq, opId: r.op_id, type: r.op_type, op: JSON.parse(r.op_json), createdAt: r.created_at }));
  }

  /** The register's receipts in chain order. */
  receipts(): ReceiptEntry[] {
    return this.#db
      .all<{ receipt_seq: number; receipt_no: string; op_type: string; op_id: string; prev_hash: string; hash: string }>('SELECT * FROM receipts ORDER BY receipt_seq')
      .map((r) => ({ receiptSeq: r.receipt_seq, receiptNo: r.receipt_no, opType: r.op_type, opId: r.op_id, prevHash: r.prev_hash, hash: r.hash }));
  }

  /** See `commands/complete-sale.ts`. */
  completeSale(input: Parameters<typeof completeSale>[1]): ReturnType<typeof completeSale> {
    this.#vault.assertSealedTenders('completeSale', input.tenders);
    return this.#withRoom(() => completeSale(this.#ctx, input));
  }

  /** See `commands/refund.ts`. */
  refund(input: Parameters<typeof refund>[1]): ReturnType<typeof refund> {
    this.#vault.assertSealedTenders('refund', (input as { tenders?: readonly unknown[] }).tenders);
    return this.#withRoom(() => refund(this.#ctx, input));
  }

  /** See `commands/void-sale.ts`. */
  voidSale(input: Parameters<typeof voidSale>[1]): ReturnType<typeof voidSale> {
    return this.#withRoom(() => voidSale(this.#ctx, input));
  }

  /** See `commands/move-cash.ts`. */
  moveCash(input: Parameters<typeof moveCash>[1]): ReturnType<typeof moveCash> {
    return this.#withRoom(() => moveCash(this.#ctx, input));
  }

  /** See `commands/open-shift.ts`. */
  openShift(input: Parameters<typeof openShift>[1]): ReturnType<typeof openShift> {
    return this.#withRoom(() => openShift(this.#ctx, input));
  }

  /** See `commands/close-shift.ts`. */
  closeShift(input: Parameters<typeof closeShift>[1]): ReturnType<typeof closeShift> {
    return this.#withRoom(() => closeShift(this.#ctx, input));
  }

  /** See `commands/adjust-stock.ts`. */
  adjustStock(input: Parameters<typeof adjustStock>[1]): ReturnType<typeof adjustStock> {
    return this.#withRoom(() => adjustStock(this.#ctx, input));
  }

  /** See `commands/adjust-stock.ts`. */
  countStock(input: Parameters<typeof countStock>[1]): ReturnType<typeof countStock> {
    return this.#withRoom(() => countStock(this.#ctx, input));
  }

  /**
   * See `commands/reference-edit.ts`. On a register that seals personal data (after
   * {@link RegisterEngine.setupEncryption}) this throws `SealingRequiredError`: use
   * {@link RegisterEngine.saveCustomerSealed}.
   */
  saveCustomer(input: Parameters<typeof saveCustomer>[1]): ReturnType<typeof saveCustomer> {
    return this.#withRoom(() => saveCustomer(this.#ctx, input));
  }

  /** See `commands/reference-edit.ts`. */
  editProduct(input: Parameters<typeof editProduct>[1]): ReturnType<typeof editProduct> {
    return this.#withRoom(() => editProduct(this.#ctx, input));
  }

  /** Every table's rows, sorted, for tests and support exports. */
  dump(): StoreDump {
    const tables = this.#db
      .all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'catalog_fts%' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .map((t) => t.name);
    return Object.fromEntries(tables.map((t) => [t, this.#db.all(`SELECT * FROM "${t}" ORDER BY 1, 2`)]));
  }

  /** Sets (or clears, with null) the data-driven fault plan; clears the recorded steps. */
  setFaultPlan(plan: FaultPlan | null): void {
    this.#plan = plan;
    this.#recorded = [];
  }

  /** The steps recorded since the last {@link setFaultPlan} with `record`. */
  recordedSteps(): string[] {
    return [...this.#recorded];
  }

  /**
   * Caps the database file at `pages` pages (SQLite's `max_page_count`), so a test can fill the
   * "disk" and see `StorageFullError`; returns the cap in force (never below the current size).
   */
  setMaxPageCount(pages: number): number {
    return this.#db.get<{ max_page_count: number }>(`PRAGMA max_page_count = ${Math.max(1, Math.floor(pages))}`)?.max_page_count ?? 0;
  }

  // ── sync (see sync-store.ts; called by the sync engine in src/sync) ──

  /** The sync-relevant state: cursor, bootstrap progress, ops waiting, quarantine count, lock. */
  syncInfo(): syncStore.SyncInfo {
    return syncStore.syncInfo(this.#db);
  }

  /** The next push batch (seq order, bounded), or null; marks the push in doubt. */
  nextPushBatch(limits: syncStore.PushLimits): syncStore.PushBatch | null {
    return syncStore.nextPushBatch(this.#db, limits);
  }

  /** Records a push's answer: journal, outbox, quarantine notices, shown stock, in one transaction. */
  recordPushResults(input: Parameters<typeof syncStore.recordPushResults>[1]): syncStore.PushOutcome {
    return syncStore.recordPushResults(this.#db, input, this.#clock.now());
  }

  /** The last push was answered with an error status: nothing of it was stored. */
  clearPushInDoubt(): void {
    syncStore.clearPushInDoubt(this.#db);
  }

  /** Applies a pulled page and advances the cursor in one transaction. */
  applyPullPage(input: syncStore.PullPageInput): syncStore.ApplyCounts {
    return syncStore.applyPullPage(this.#db, input, this.#clock.now());
  }

  /** Applies one snapshot page (the last one also saves the cursor and recomputes the shown stock). */
  applySnapshotPage(input: syncStore.SnapshotPageInput): syncStore.SnapshotProgress {
    return syncStore.applySnapshotPage(this.#db, input, this.#clock.now());
  }

  /** Records that the current token was revoked: the register stays locked until paired again. */
  markRevoked(): void {
    syncStore.markRevoked(this.#db);
  }

  /** Ops the server kept for review (quarantined, seq conflicts), for the UI. */
  quarantineNotices(): syncStore.QuarantineNotice[] {
    return syncStore.quarantineNotices(this.#db);
  }

  /** Acknowledged ops kept for the retention window. */
  journal(): syncStore.JournalEntry[] {
    return syncStore.journalEntries(this.#db);
  }

  /** The server's stock at the pull cursor as the register knows it (thousandths). */
  serverOnHand(productId: string, variantId?: string): number {
    return syncStore.serverOnHand(this.#db, productId, variantId);
  }

  /** Forgets acknowledged, already reflected ops older than `beforeMs`; returns how many. */
  pruneJournal(beforeMs: number): number {
    return syncStore.pruneJournal(this.#db, beforeMs);
  }

  /** Everything the server has not acknowledged, as one JSON document (works while locked). */
  exportUnsynced(): syncStore.UnsyncedExport {
    return syncStore.exportUnsynced(this.#db, this.#clock.now());
  }

  /** Re-queues an export on the same register paired again; see `importUnsynced` in sync-store.ts. */
  importUnsynced(doc: unknown): syncStore.ImportOutcome {
    return syncStore.importUnsynced(this.#db, doc, this.#clock.now());
  }

  // ── review, losses and retention (see sync-review.ts) ──

  /**
   * Forgets synced rows older than the cut-offs (default: the retention window from now); see
   * `pruneSynced`. The sync engine calls it after pushes; commands call it on a full disk.
   */
  pruneSynced(cutoffs?: syncReview.RetentionCutoffs): syncReview.PruneCounts {
    return syncReview.pruneSynced(this.#db, cutoffs ?? this.#cutoffs());
  }

  /** Replaces the store's open alerts and conflicts with the server's lists (either may be left out). */
  replaceServerReview(review: { readonly alerts?: readonly syncReview.ServerAlert[]; readonly conflicts?: readonly syncReview.ServerConflict[] }): void {
    const now = this.#clock.now();
    if (review.alerts !== undefined) syncReview.replaceServerAlerts(this.#db, review.alerts, now);
    if (review.conflicts !== undefined) syncReview.replaceServerConflicts(this.#db, review.conflicts, now);
  }

  /** The open alerts of the register's store, as last fetched from the server. */
  serverAlerts(): syncReview.ServerAlert[] {
    return syncReview.serverAlerts(this.#db);
  }

  /** The open merge conflicts, as last fetched (no customer values). */
  serverConflicts(): syncReview.ServerConflict[] {
    return syncReview.serverConflicts(this.#db);
  }

  /** Counts of alerts and conflicts, and the data loss not yet acknowledged. */
  reviewInfo(): syncReview.ReviewInfo {
    return syncReview.reviewInfo(this.#db);
  }

  /** Pairs again as itself after losing the database, recording what was lost; see `pairAfterLoss`. */
  pairAfterLoss(identity: RegisterIdentity, loss: syncReview.DataLossInput): syncReview.DataLoss {
    return syncReview.pairAfterLoss(this.#db, identity, loss, this.#clock.now());
  }

  /** Every data loss recorded, newest first. */
  dataLosses(): syncReview.DataLoss[] {
    return syncReview.dataLosses(this.#db);
  }

  /** The server took the alert of a data loss. */
  markDataLossReported(id: number): void {
    syncReview.markDataLossReported(this.#db, id, this.#clock.now());
  }

  /** A manager saw a data loss: the status stops showing it. */
  acknowledgeDataLoss(id: number): void {
    syncReview.acknowledgeDataLoss(this.#db, id, this.#clock.now());
  }

  // ── personal data sealed at rest (see vault.ts; docs/adr/0032) ──

  /** Makes the register's keys at pairing (see `Vault.setupEncryption`). */
  setupEncryption(input: { serverKey: ServerKey; firstStaff?: { staffId: string; pin: string } }): Promise<EncryptionStatus> {
    return this.#vault.setupEncryption(input);
  }

  /** Keys, lock state, enrolled staff, escrow and rotation state. */
  encryptionStatus(): EncryptionStatus {
    return this.#vault.encryptionStatus();
  }

  /** The escrow to send to the server, or null. */
  pendingEscrow(): { registerKeyId: string; escrowed: string } | null {
    return this.#vault.pendingEscrow();
  }

  /** The server keeps the escrow of `registerKeyId`. */
  escrowSent(registerKeyId: string): void {
    this.#vault.escrowSent(registerKeyId);
  }

  /** Unlocks with a staff member's PIN (attempt-limited); `WrongPinError` yields no key. */
  unlock(staffId: string, pin: string): Promise<EncryptionStatus> {
    return this.#vault.unlock(staffId, pin);
  }

  /** Forgets the keys. */
  lock(): EncryptionStatus {
    return this.#vault.lock();
  }

  /** Enrols a staff member from the unlocked manager's keys (offline). */
  enrolStaff(input: { staffId: string; pin: string }): Promise<EncryptionStatus> {
    return this.#vault.enrolStaff(input);
  }

  /** First unlock through the server, step 1: checks the PIN, answers what to ask the server. */
  beginServerEnrolment(input: { staffId: string; pin: string }): Promise<EscrowRequest> {
    return this.#vault.beginServerEnrolment(input);
  }

  /** First unlock through the server, step 2: the server's answer; enrols and unlocks. */
  finishServerEnrolment(input: { staffId: string; registerKeys: string }): Promise<EncryptionStatus> {
    return this.#vault.finishServerEnrolment(input);
  }

  /** Changes a staff member's PIN (old PIN required). */
  changePin(input: { staffId: string; oldPin: string; newPin: string }): Promise<EncryptionStatus> {
    return this.#vault.changePin(input);
  }

  /** Removes a staff member's access and rotates the register keys (now, or at the next unlock). */
  removeStaff(staffId: string): Promise<{ rotated: boolean; status: EncryptionStatus }> {
    return this.#vault.removeStaff(staffId);
  }

  /** One customer, opened (unlocked). */
  customer(customerId: string): Promise<CustomerView | undefined> {
    return this.#vault.customer(customerId);
  }

  /** Customer search by name words, phone ending or email through keyed tokens (unlocked). */
  searchCustomers(query: string, limit?: number): Promise<CustomerView[]> {
    return this.#vault.searchCustomers(query, limit);
  }

  /** Creates or edits a customer on a sealing register (unlocked). */
  saveCustomerSealed(input: SaveCustomerInput): Promise<SaveCustomerResult> {
    return this.#vault.saveCustomerSealed(input);
  }

  /** Seals pulled customer docs to the register's public key (works locked). */
  sealPulled<T extends { readonly entity: string; readonly entityId: string; readonly op: string; readonly data?: unknown }>(changes: readonly T[]): Promise<readonly T[]> {
    return this.#vault.sealPulled(changes);
  }

  /** Card tenders with their approval code and provider reference sealed to the server's key. */
  sealTenders(tenders: readonly TenderInput[]): Promise<TenderInput[]> {
    return this.#vault.sealTenders(tenders);
  }

  /** Closes the connection. */
  close(): void {
    this.#db.close();
  }
}

/**
 * The engine behind the asynchronous store API, in the same thread (Node). Results are
 * structured-cloned so a caller never holds an object the engine still references, exactly as
 * across the browser's worker boundary.
 */
export function asyncStore(engine: RegisterEngine): AsyncRegisterStore {
  const api: Record<string, unknown> = {};
  const methods = Object.getOwnPropertyNames(RegisterEngine.prototype).filter((m) => m !== 'constructor');
  for (const name of methods) {
    const fn = (engine as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
    if (typeof fn !== 'function') continue;
    api[name] = (...args: unknown[]) => {
      try {
        const result = fn.apply(engine, structuredClone(args));
        if (result instanceof Promise) return result.then((r: unknown) => structuredClone(r));
        return Promise.resolve(structuredClone(result));
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    };
  }
  return api as unknown as AsyncRegisterStore;
}
