/**
 * The server half of exactly-once (DESIGN §3, docs/adr/0013-sync-push.md): one push batch applied
 * in one database transaction, each op judged on its own.
 *
 * Every op lives in the pushing register's seq space (the token's register: organisation, store
 * and device always come from the token). `last_seq` is the highest seq up to which every seq is
 * taken — by an applied or a quarantined op — and is what `ackedSeq` answers. Ops are taken in seq
 * order; the fate of one op:
 *
 * ```
 *   no readable {v, id, deviceId, seq} ─────────────────────────────► quarantined (unreadable; takes no seq)
 *   seq ≤ last_seq ──┬─ same opHash as the op holding it ───────────► duplicate
 *                    └─ another op holds it ────────────────────────► seq_conflict (kept + alert, not acked)
 *   seq > last_seq+1 ───────────────────────────────────────────────► pending_gap (nothing stored)
 *   seq = last_seq+1 ┬─ version newer than this server ─────────────► deferred (nothing stored)
 *                    ├─ op id already used by another op ───────────► quarantined (duplicate_id)  ┐
 *                    ├─ malformed / version too old ────────────────► quarantined (invalid, …)    │ takes the
 *                    ├─ deviceId or storeId not the token's ────────► quarantined (forged)        │ seq:
 *                    ├─ permission missing at the op's time ────────► quarantined (forbidden)     │ last_seq+1
 *                    └─ otherwise ──────────────────────────────────► applied                     ┘
 * ```
 *
 * Applied ops go through the register's HLC check first: a stamp beyond the skew bound is clamped
 * (the op applies with the server's stamp) and raises a `clock_skew` alert. Receipt ops — applied or
 * forbidden, as the receipt was printed either way — are checked against the register's receipt
 * chain. Derived state, the register's row, the server HLC and the change log are written before
 * the commit; the caller publishes on the change feed after it.
 *
 * Concurrency: the transaction locks the register's row (`for update` on PostgreSQL; SQLite's
 * `begin immediate` serialises every writer), so two pushes of one register apply one after the
 * other and the second sees the first's seqs as taken. It then locks the organisation's
 * `server_hlc` row, serialising the organisation's pushes, whose derived state overlaps.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { formatReceiptNo, GENESIS_HASH, headAfter, isFactOp, isReceiptOp, isValidReceiptNo, parseReceiptNo, verifyChain } from '@kassa/core';
import type { ChainedReceipt, ChainHead, Clock, Hlc, Op, OpHead, OpIssue } from '@kassa/core';
import type { DeviceIdentity } from '../../auth/device-auth.js';
import type { Database } from '../../db/schema.js';
import { ApiError } from '../../http/api-error.js';
import { raiseAlert } from '../apply/alerts.js';
import { FactBatch } from '../apply/apply-fact.js';
import { isPostgres, lockServerHlc, saveServerHlc } from '../apply/server-hlc.js';
import { appendChanges } from '../change-log.js';
import type { ChangeInput } from '../change-log.js';
import { applyReferenceOp } from './apply-reference-op.js';
import { openPersonalFields } from '../../keys/open-fields.js';
import { sha256Native } from './op-canonical.js';
import { denialMessage, OpJudge } from './op-judge.js';
import { preparePushedOps } from './prepare-pool.js';
import type { Prepared } from './prepare-op.js';
import { PUSH_STATUSES } from './push-schemas.js';
import type { PushResponse, PushResult, PushStatus } from './push-schemas.js';

/** What a push needs. */
export interface PushDeps {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  /** How far ahead of the server's clock a register's HLC is believed; core's 5 minutes by default. */
  readonly maxDriftMs?: number;
}

/** A push's answer and what the route reports after the commit. */
export interface PushOutcome {
  readonly response: PushResponse;
  /** How many ops got each status (for metrics). */
  readonly counts: Readonly<Record<PushStatus, number>>;
  /** Changes appended to the change log: publish on the change feed when > 0. */
  readonly changesAppended: number;
}

/** Why an op was quarantined (`quarantine.reason` and the result's `reason`). */
export type QuarantineReason = 'unreadable' | 'invalid' | 'unsupported_version' | 'forged' | 'forbidden' | 'duplicate_id';

/** What holds a seq: the op id and its hash. */
interface Taken {
  readonly opId: string;
  readonly hash: string;
}

/** Rows per multi-row insert / `in (…)` list: a 500-op batch in one statement (9 columns → 4,500 parameters). */
const CHUNK = 500;

function issuesMessage(issues: readonly OpIssue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.path.join('.') || '(op)'}: ${i.message}`);
  return shown.join('; ') + (issues.length > 5 ? `; … ${issues.length - 5} more` : '');
}

function emptyCounts(): Record<PushStatus, number> {
  return Object.fromEntries(PUSH_STATUSES.map((s) => [s, 0])) as Record<PushStatus, number>;
}

interface RegisterState {
  readonly storeCode: string;
  readonly registerCode: string;
  readonly lastSeq: number;
  readonly chainHead: ChainHead;
  readonly lastReceiptNumber: number;
  readonly createdAt: number;
}

/** Applies one batch inside its transaction; one instance per batch. */
class BatchApplier {
  readonly #trx: Transaction<Database>;
  readonly #device: DeviceIdentity;
  readonly #clock: Clock;
  readonly #now: number;
  readonly #facts: FactBatch;
  readonly #changes: ChangeInput[] = [];
  readonly #syncRows: Database['sync_ops'][] = [];
  readonly #takenInBatch = new Map<number, Taken>();
  readonly #idsInBatch = new Set<string>();
  /** HLC, clock-skew alerts, roles and limits at the op's time: the checks a quarantine retry shares. */
  readonly #judge: OpJudge;
  readonly #register: RegisterState;
  #dbSeqs = new Map<number, Taken>();
  #dbIds = new Set<string>();
  #lastSeq: number;
  #chainHead: ChainHead;
  #lastReceiptNumber: number;
  #referenceChanges = 0;

  constructor(trx: Transaction<Database>, deps: PushDeps, device: DeviceIdentity, register: RegisterState, hlc: Hlc, now: number) {
    this.#trx = trx;
    this.#device = device;
    this.#clock = deps.clock;
    this.#now = now;
    this.#judge = new OpJudge(trx, { ...device, createdAt: register.createdAt }, { hlc, now, maxDriftMs: deps.maxDriftMs });
    this.#facts = new FactBatch(trx, device.orgId, device.registerId, now);
    this.#register = register;
    this.#lastSeq = register.lastSeq;
    this.#chainHead = register.chainHead;
    this.#lastReceiptNumber = register.lastReceiptNumber;
  }

  /**
   * Reads, in a few queries, which of the batch's seqs and op ids the database already holds, and
   * the role history of the staff its ops name.
   */
  async preload(ops: readonly Prepared[]): Promise<void> {
    const { orgId, registerId } = this.#device;
    const seqs = [...new Set(ops.flatMap((p) => (p.head !== null && p.head.seq <= this.#lastSeq ? [p.head.seq] : [])))];
    for (let i = 0; i < seqs.length; i += CHUNK) {
      const rows = await this.#trx
        .selectFrom('sync_ops')
        .select(['seq', 'op_id', 'op_hash'])
        .where('org_id', '=', orgId)
        .where('register_id', '=', registerId)
        .where('seq', 'in', seqs.slice(i, i + CHUNK))
        .execute();
      for (const r of rows) this.#dbSeqs.set(r.seq, { opId: r.op_id, hash: r.op_hash });
    }
    const ids = [...new Set(ops.flatMap((p) => (p.head === null ? [] : [p.head.id])))];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await this.#trx.selectFrom('sync_ops').select('op_id').where('org_id', '=', orgId).where('op_id', 'in', ids.slice(i, i + CHUNK)).execute();
      for (const r of rows) this.#dbIds.add(r.op_id);
    }
    // The role history of everyone the batch names, in one query (the judge reads it from there).
    await this.#judge.preloadStaff(ops.flatMap((p) => (p.parsed.ok ? [p.parsed.op.staffId, ...(p.parsed.op.approvedBy === undefined ? [] : [p.parsed.op.approvedBy])] : [])));
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Decides one op's fate (see the drawing above) and does what it implies. */
  async judge(p: Prepared): Promise<PushResult> {
    if (p.head === null) {
      const issues = p.parsed.ok ? [] : p.parsed.issues;
      return this.#quarantine(p, 'unreadable', `the op has no readable v, id, deviceId and seq: ${issuesMessage(issues)}`, { issues });
    }
    const { id, seq } = p.head;
    if (seq <= this.#lastSeq) {
      const taken = this.#takenInBatch.get(seq) ?? this.#dbSeqs.get(seq);
      if (taken?.hash === p.hash) return { id, status: 'duplicate' };
      return this.#seqConflict(p, seq, taken);
    }
    if (seq > this.#lastSeq + 1) {
      return { id, status: 'pending_gap', reason: 'gap', message: `seq ${this.#lastSeq + 1} has not arrived yet; send it first` };
    }
    if (!p.parsed.ok && p.parsed.kind === 'unknown_version') {
      return { id, status: 'deferred', reason: 'unknown_version', message: issuesMessage(p.parsed.issues) };
    }
    const result = await this.#take(p, p.head);
    this.#takenInBatch.set(seq, { opId: id, hash: p.hash });
    this.#idsInBatch.add(id);
    this.#lastSeq = seq;
    return result;
  }

  async #take(p: Prepared, head: OpHead): Promise<PushResult> {
    if (this.#idsInBatch.has(head.id) || this.#dbIds.has(head.id)) {
      return this.#quarantine(p, 'duplicate_id', `op id ${head.id} was already received with other contents or another seq`, {}, head);
    }
    if (!p.parsed.ok) {
      const reason = p.parsed.kind === 'unsupported_version' ? 'unsupported_version' : 'invalid';
      return this.#quarantine(p, reason, issuesMessage(p.parsed.issues), { issues: p.parsed.issues }, head);
    }
    const op = p.parsed.op;
    if (op.deviceId !== this.#device.registerId || op.storeId !== this.#device.storeId) {
      return this.#quarantine(
        p,
        'forged',
        'the op names another register or store than the device token it was pushed with',
        { opDeviceId: op.deviceId, opStoreId: op.storeId, tokenRegisterId: this.#device.registerId, tokenStoreId: this.#device.storeId },
        head,
      );
    }
    const { op: stamped } = await this.#judge.stamp(op);
    if (isReceiptOp(op)) await this.#followChain(p, op);
    const denial = await this.#judge.permissions(stamped);
    if (denial !== undefined) return this.#quarantine(p, 'forbidden', denialMessage(denial), { denial }, head);

    // Personal fields sealed to the organisation's key are opened before they are applied (keys/).
    const personal = await openPersonalFields(this.#trx, this.#device.orgId, stamped, this.#now);
    if (!personal.ok) return this.#quarantine(p, 'invalid', personal.message, { field: personal.field }, head);
    if (isFactOp(stamped)) {
      this.#changes.push(...(await this.#facts.add(stamped, head.seq, op.hlc)));
    } else {
      if (await applyReferenceOp(this.#trx, this.#device, stamped, this.#clock)) this.#referenceChanges += 1;
    }
    this.#record(head, p, 'applied', stamped.type);
    return { id: head.id, status: 'applied' };
  }

  /** Checks a receipt op against the register's chain; a break is an alert, never a refusal. */
  async #followChain(p: Prepared, op: Op): Promise<void> {
    // The register hashed the receipt as it wrote it: the op at its own version.
    const received = (p.parsed.ok ? p.parsed.received : op) as unknown as { type: string; payload: { receiptNo?: unknown; prevHash?: unknown } };
    const { receiptNo, prevHash } = received.payload;
    if (typeof receiptNo !== 'string' || typeof prevHash !== 'string') return;
    const receipt = received as ChainedReceipt;
    // Core's verifyChain judges the link (number, prevHash, register, next seq) and hashes the
    // receipt for the new head. The receipt's hash was already made from the op's one canonical
    // serialisation (op-canonical.ts), so core is handed the link alone and that hash: the verdict
    // and head are exactly core's, without serialising and hashing the payload a second time. No
    // hash (a payload with no canonical form) throws inside core, which reports `unhashable`.
    const hash = p.parsed.ok ? p.receiptHash : undefined;
    const link: ChainedReceipt = { type: received.type, payload: { receiptNo, prevHash } };
    let verdict =
      hash === undefined
        ? verifyChain([receipt], this.#chainHead, sha256Native)
        : verifyChain([link], this.#chainHead, () => hash);
    const parts = isValidReceiptNo(receiptNo) ? parseReceiptNo(receiptNo) : undefined;
    const ours = parts !== undefined && parts.storeCode === this.#register.storeCode && parts.registerCode === this.#register.registerCode;
    if (verdict.ok && parts !== undefined && !ours) {
      verdict = { ok: false, index: 0, receiptNo, expectedPrevHash: this.#chainHead.hash, actualPrevHash: prevHash, reason: 'register_mismatch' };
    }
    if (!verdict.ok) {
      await raiseAlert(
        this.#trx,
        this.#device.orgId,
        {
          key: `receipt_chain_break:${this.#device.registerId}:${receiptNo}`,
          kind: 'receipt_chain_break',
          storeId: this.#device.storeId,
          registerId: this.#device.registerId,
          data: {
            registerId: this.#device.registerId,
            opId: op.id,
            seq: op.seq,
            receiptNo,
            reason: verdict.reason,
            expectedPrevHash: verdict.expectedPrevHash,
            actualPrevHash: verdict.actualPrevHash,
            previousReceiptNo: this.#chainHead.receiptNo,
          },
        },
        this.#now,
      );
    }
    // The chain continues from this receipt either way, so one break is reported once, not at
    // every receipt after it.
    try {
      const head = verdict.ok ? verdict.head : hash === undefined ? headAfter(receipt, sha256Native) : { receiptNo, hash };
      this.#chainHead = ours ? head : { receiptNo: null, hash: head.hash };
    } catch {
      // unhashable payload: the break was reported; keep the previous head
    }
    if (ours) this.#lastReceiptNumber = Math.max(this.#lastReceiptNumber, parts.seq);
  }

  async #quarantine(
    p: Prepared,
    reason: QuarantineReason,
    message: string,
    details: Record<string, unknown>,
    head?: OpHead,
  ): Promise<PushResult> {
    const { orgId, storeId, registerId } = this.#device;
    // Only a type that looks like one goes in the column (PostgreSQL's text refuses NUL, for one).
    const opType = head !== undefined && typeof head['type'] === 'string' && /^[a-z_]{1,32}\.[a-z_]{1,32}$/.test(head['type']) ? head['type'] : null;
    const id = randomUUID();
    const inserted = await this.#trx
      .insertInto('quarantine')
      .values({
        id,
        org_id: orgId,
        store_id: storeId,
        register_id: registerId,
        seq: head?.seq ?? null,
        op_id: head?.id ?? null,
        op_type: opType,
        op_hash: p.hash,
        reason,
        details_json: JSON.stringify({ message, ...details }),
        op_json: JSON.stringify(p.raw) ?? 'null',
        received_at: this.#now,
        resolved_at: null,
        resolved_by: null,
      })
      .onConflict((oc) => oc.columns(['org_id', 'register_id', 'op_hash']).doNothing())
      .returning('id')
      .execute();
    if (inserted.length > 0) {
      await raiseAlert(
        this.#trx,
        orgId,
        {
          key: `quarantine:${id}`,
          kind: 'quarantine',
          storeId,
          registerId,
          data: { quarantineId: id, registerId, seq: head?.seq ?? null, opId: head?.id ?? null, opType, reason, message },
        },
        this.#now,
      );
    }
    if (head !== undefined) this.#record(head, p, 'quarantined', opType);
    const opId = head?.id ?? p.head?.id ?? null;
    return { id: opId, status: 'quarantined', reason, message };
  }

  async #seqConflict(p: Prepared, seq: number, taken: Taken | undefined): Promise<PushResult> {
    const { orgId, storeId, registerId } = this.#device;
    const opId = p.head?.id ?? null;
    const inserted = await this.#trx
      .insertInto('seq_conflicts')
      .values({
        id: randomUUID(),
        org_id: orgId,
        store_id: storeId,
        register_id: registerId,
        seq,
        op_id: opId,
        op_hash: p.hash,
        existing_op_id: taken?.opId ?? null,
        existing_op_hash: taken?.hash ?? null,
        op_json: JSON.stringify(p.raw) ?? 'null',
        received_at: this.#now,
        resolved_at: null,
      })
      .onConflict((oc) => oc.columns(['org_id', 'register_id', 'seq', 'op_hash']).doNothing())
      .returning('id')
      .execute();
    if (inserted.length > 0) {
      await raiseAlert(
        this.#trx,
        orgId,
        {
          key: `seq_conflict:${registerId}:${seq}`,
          kind: 'seq_conflict',
          storeId,
          registerId,
          data: { registerId, seq, opId, opHash: p.hash, existingOpId: taken?.opId ?? null, existingOpHash: taken?.hash ?? null },
        },
        this.#now,
      );
    }
    const holder = taken === undefined ? 'another op' : `op ${taken.opId}`;
    return { id: opId, status: 'seq_conflict', reason: 'seq_taken', message: `seq ${seq} is already held by ${holder} with other contents; this op was kept for review` };
  }

  #record(head: OpHead, p: Prepared, status: 'applied' | 'quarantined', opType: string | null): void {
    this.#syncRows.push({
      org_id: this.#device.orgId,
      register_id: this.#device.registerId,
      seq: head.seq,
      op_id: head.id,
      op_hash: p.hash,
      op_type: opType,
      status,
      store_id: this.#device.storeId,
      received_at: this.#now,
    });
  }

  /** Writes what the batch accumulated: op journal, derived state, register, HLC, change log. */
  async finish(): Promise<number> {
    const { orgId, registerId } = this.#device;
    for (let i = 0; i < this.#syncRows.length; i += CHUNK) {
      await this.#trx.insertInto('sync_ops').values(this.#syncRows.slice(i, i + CHUNK)).execute();
    }
    await this.#facts.flush();
    await this.#trx
      .updateTable('registers')
      .set({
        last_seq: this.#lastSeq,
        chain_head: this.#chainHead.hash === GENESIS_HASH && this.#register.chainHead.hash === GENESIS_HASH ? null : this.#chainHead.hash,
        last_receipt_number: this.#lastReceiptNumber,
        last_seen_at: this.#now,
        updated_at: this.#now,
      })
      .where('id', '=', registerId)
      .execute();
    await this.#judge.settleClockAlerts();
    if (this.#judge.hlcMoved) await saveServerHlc(this.#trx, orgId, this.#judge.hlc, this.#now);
    if (this.#changes.length > 0) await appendChanges(this.#trx, orgId, this.#changes, { clock: this.#clock });
    return this.#changes.length + this.#referenceChanges;
  }
}

async function lockRegister(trx: Transaction<Database>, device: DeviceIdentity): Promise<RegisterState> {
  // The store's code comes along in the same round trip; only the register's row is locked.
  let q = trx
    .selectFrom('registers')
    .innerJoin('stores', 'stores.id', 'registers.store_id')
    .select([
      'registers.code',
      'registers.store_id',
      'registers.revoked',
      'registers.last_seq',
      'registers.chain_head',
      'registers.last_receipt_number',
      'registers.created_at',
      'stores.code as store_code',
    ])
    .where('registers.id', '=', device.registerId)
    .where('registers.org_id', '=', device.orgId);
  if (isPostgres(trx)) q = q.forUpdate('registers');
  const reg = await q.executeTakeFirst();
  // Revoked between the token check and this lock: nothing of the batch may be stored.
  if (reg === undefined || reg.revoked === 1) {
    throw new ApiError(401, 'register_revoked', 'this register has been revoked; a manager can export its unsynced data');
  }
  const store = { code: reg.store_code };
  let receiptNo: string | null = null;
  if (reg.last_receipt_number > 0) {
    try {
      receiptNo = formatReceiptNo({ storeCode: store.code, registerCode: reg.code, seq: reg.last_receipt_number });
    } catch {
      receiptNo = null; // codes that cannot be in a receipt number: the chain is checked by hash alone
    }
  }
  return {
    storeCode: store.code,
    registerCode: reg.code,
    lastSeq: reg.last_seq,
    chainHead: { receiptNo, hash: reg.chain_head ?? GENESIS_HASH },
    lastReceiptNumber: reg.last_receipt_number,
    createdAt: reg.created_at,
  };
}

/**
 * Applies one push batch of `device` (authenticated by its token) in one transaction and answers
 * for every op. Throws `ApiError` 401 `register_revoked` (nothing stored) when the register was
 * revoked meanwhile.
 *
 * @example
 * ```ts
 * const { response, changesAppended } = await pushBatch({ db, clock }, deviceOf(request), request.body.ops);
 * if (changesAppended > 0) void changeFeed.publish(device.orgId);
 * ```
 */
export async function pushBatch(deps: PushDeps, device: DeviceIdentity, ops: readonly unknown[]): Promise<PushOutcome> {
  const prepared = await preparePushedOps(ops);
  // Seq order, so a batch sent out of order still fills its own gaps; unreadable ops anywhere.
  const order = [...prepared].sort((a, b) => (a.head?.seq ?? 0) - (b.head?.seq ?? 0) || a.index - b.index);

  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const register = await lockRegister(trx, device);
    const hlc = await lockServerHlc(trx, device.orgId, now);
    const batch = new BatchApplier(trx, deps, device, register, hlc, now);
    await batch.preload(prepared);

    const results: PushResult[] = new Array<PushResult>(prepared.length);
    const counts = emptyCounts();
    for (const p of order) {
      const result = await batch.judge(p);
      results[p.index] = result;
      counts[result.status] += 1;
    }
    const changesAppended = await batch.finish();
    return { response: { ackedSeq: batch.lastSeq, serverTime: now, results }, counts, changesAppended };
  });
}

