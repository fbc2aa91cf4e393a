/**
 * The store's half of what the register keeps for review and of retention (docs/adr/0033,
 * migration 0005): the server's open alerts and conflicts for its store, the data losses it
 * found and reported, and the pruning of what it no longer needs after the retention window.
 * Each function is one transaction.
 */
import { formatReceiptNo } from '@kassa/core';
import { z } from 'zod';
import { CorruptRowError } from './errors.js';
import { readMeta, writeIdentity, type RegisterIdentity, type RegisterMeta } from './meta.js';
import type { SqlDb } from './sql-db.js';
import { pruneJournal } from './sync-store.js';

// ───────────────────────────── server alerts and conflicts ─────────────────────────────

/** An alert of the register's store as the server lists it (`GET /api/v1/alerts`). */
export interface ServerAlert {
  /** Stable key naming the alert's subject (`oversell:<product>@<store>`, …). */
  readonly key: string;
  /** The API id (base64url of the key). */
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly registerId: string | null;
  /** The alert's current figures. */
  readonly data: unknown;
  readonly occurrences: number;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  readonly acknowledgedAt: number | null;
}

/** A merge conflict as the server lists it (`GET /api/v1/conflicts`); values left out for customers. */
export interface ServerConflict {
  readonly id: string;
  readonly docType: string;
  readonly docId: string;
  readonly field: string;
  /** The later write, which won; `value` absent for a customer's field (personal data). */
  readonly winner: { readonly value?: unknown; readonly hlc: string };
  readonly loser: { readonly value?: unknown; readonly hlc: string };
  readonly current: { readonly value?: unknown; readonly hlc: string } | null;
  readonly detectedAt: number;
}

const AlertRowSchema = z.object({ view_json: z.string() });
const ConflictRowSchema = z.object({ view_json: z.string() });

/**
 * Replaces what the register knows of its store's open alerts with `alerts` (the server's whole
 * list): one that is gone from the list was resolved on the server.
 */
export function replaceServerAlerts(db: SqlDb, alerts: readonly ServerAlert[], now: number): void {
  db.transaction(() => {
    db.run('DELETE FROM server_alerts');
    for (const a of alerts) {
      db.run(
        `INSERT INTO server_alerts (key, kind, register_id, view_json, last_seen_at, fetched_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, register_id = excluded.register_id, view_json = excluded.view_json, last_seen_at = excluded.last_seen_at, fetched_at = excluded.fetched_at`,
        [a.key, a.kind, a.registerId, JSON.stringify(a), a.lastSeenAt, now],
      );
    }
  });
}

/** The store's open alerts as last fetched, most recent first. */
export function serverAlerts(db: SqlDb): ServerAlert[] {
  return db.all('SELECT view_json FROM server_alerts ORDER BY last_seen_at DESC, key').map((r) => {
    const row = AlertRowSchema.safeParse(r);
    if (!row.success) throw new CorruptRowError('server_alerts', row.error.message);
    return JSON.parse(row.data.view_json) as ServerAlert;
  });
}

/** Customers' field values are personal data: never kept in clear (DESIGN §4). */
function withoutPersonalValues(c: ServerConflict): ServerConflict {
  if (c.docType !== 'customer') return c;
  return { ...c, winner: { hlc: c.winner.hlc }, loser: { hlc: c.loser.hlc }, current: c.current === null ? null : { hlc: c.current.hlc } };
}

/** Replaces what the register knows of the open merge conflicts with `conflicts` (the server's whole list). */
export function replaceServerConflicts(db: SqlDb, conflicts: readonly ServerConflict[], now: number): void {
  db.transaction(() => {
    db.run('DELETE FROM server_conflicts');
    for (const raw of conflicts) {
      const c = withoutPersonalValues(raw);
      db.run(
        `INSERT INTO server_conflicts (id, doc_type, doc_id, field, view_json, detected_at, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET view_json = excluded.view_json, detected_at = excluded.detected_at, fetched_at = excluded.fetched_at`,
        [c.id, c.docType, c.docId, c.field, JSON.stringify(c), c.detectedAt, now],
      );
    }
  });
}

/** The open merge conflicts as last fetched, newest first. */
export function serverConflicts(db: SqlDb): ServerConflict[] {
  return db.all('SELECT view_json FROM server_conflicts ORDER BY detected_at DESC, id').map((r) => {
    const row = ConflictRowSchema.safeParse(r);
    if (!row.success) throw new CorruptRowError('server_conflicts', row.error.message);
    return JSON.parse(row.data.view_json) as ServerConflict;
  });
}

// ───────────────────────────── data losses ─────────────────────────────

/** Why a register came back without (all of) its database. */
export type DataLossReason = 'missing' | 'unreadable' | 'rolled_back' | 'other_register';

/** What the register knew it had committed (the pairing marker, kept outside the database). */
export interface DataLossInput {
  readonly reason: DataLossReason;
  /** The highest op seq the marker knew committed. */
  readonly localLastSeq: number;
  /** The last receipt number the marker knew printed (`S01-R02-000042`), or null. */
  readonly localLastReceiptNo: string | null;
}

/** A data loss as the register keeps and shows it. */
export interface DataLoss {
  readonly id: number;
  readonly reason: DataLossReason;
  readonly detectedAt: number;
  readonly localLastSeq: number;
  readonly localLastReceiptNo: string | null;
  readonly serverLastSeq: number;
  readonly serverLastReceiptNumber: number;
  /** Ops the register made that the server never got (seq range, inclusive), or null: none. */
  readonly missingSeqs: { readonly from: number; readonly to: number; readonly count: number } | null;
  /** Receipts printed that the server never got (numbers, inclusive), or null: none. */
  readonly missingReceipts: { readonly from: string; readonly to: string; readonly count: number } | null;
  /** When the server took the alert; null while it is still to be sent. */
  readonly reportedAt: number | null;
  /** When a manager confirmed having seen it; until then the status shows it. */
  readonly acknowledgedAt: number | null;
}

const DataLossRowSchema = z.object({
  id: z.int(),
  detected_at: z.int(),
  reason: z.enum(['missing', 'unreadable', 'rolled_back', 'other_register']),
  local_last_seq: z.int(),
  local_last_receipt_no: z.string().nullable(),
  server_last_seq: z.int(),
  server_last_receipt_number: z.int(),
  reported_at: z.int().nullable(),
  acknowledged_at: z.int().nullable(),
});

const RECEIPT_SEQ = /-(\d+)$/;

/** The sequence part of a receipt number (`S01-R02-000042` → 42), or 0. */
export function receiptSeqOf(receiptNo: string | null): number {
  const m = receiptNo === null ? null : RECEIPT_SEQ.exec(receiptNo);
  return m?.[1] === undefined ? 0 : Number(m[1]);
}

function toDataLoss(raw: unknown, meta: RegisterMeta): DataLoss {
  const parsed = DataLossRowSchema.safeParse(raw);
  if (!parsed.success) throw new CorruptRowError('data_losses', parsed.error.message);
  const r = parsed.data;
  const seqs = r.local_last_seq > r.server_last_seq ? { from: r.server_last_seq + 1, to: r.local_last_seq, count: r.local_last_seq - r.server_last_seq } : null;
  const localReceipt = receiptSeqOf(r.local_last_receipt_no);
  const receipt = (seq: number): string =>
    meta.storeCode !== null && meta.registerCode !== null ? formatReceiptNo({ storeCode: meta.storeCode, registerCode: meta.registerCode, seq }) : String(seq);
  const receipts =
    localReceipt > r.server_last_receipt_number
      ? { from: receipt(r.server_last_receipt_number + 1), to: receipt(localReceipt), count: localReceipt - r.server_last_receipt_number }
      : null;
  return {
    id: r.id,
    reason: r.reason,
    detectedAt: r.detected_at,
    localLastSeq: r.local_last_seq,
    localLastReceiptNo: r.local_last_receipt_no,
    serverLastSeq: r.server_last_seq,
    serverLastReceiptNumber: r.server_last_receipt_number,
    missingSeqs: seqs,
    missingReceipts: receipts,
    reportedAt: r.reported_at,
    acknowledgedAt: r.acknowledged_at,
  };
}

/**
 * Pairs a register that lost its database again as itself, in ONE transaction with the record of
 * what it lost: a `data_losses` row comparing what the marker knew committed with what the server
 * holds (`identity.resume`), and the identity. The op seq resumes from the server (its seq must
 * stay gapless); receipt numbers resume after the HIGHER of the server's and the marker's, so no
 * number a customer holds on paper is printed twice — the jump is a receipt-chain break the server
 * reports, explained by this loss.
 */
export function pairAfterLoss(db: SqlDb, identity: RegisterIdentity, loss: DataLossInput, now: number): DataLoss {
  return db.transaction(() => {
    const serverResume = identity.resume;
    const printed = receiptSeqOf(loss.localLastReceiptNo);
    writeIdentity(db, printed > serverResume.lastReceiptNumber ? { ...identity, resume: { ...serverResume, lastReceiptNumber: printed } } : identity);
    db.run(
      `INSERT INTO data_losses (detected_at, reason, local_last_seq, local_last_receipt_no, server_last_seq, server_last_receipt_number)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [now, loss.reason, loss.localLastSeq, loss.localLastReceiptNo, serverResume.lastSeq, serverResume.lastReceiptNumber],
    );
    return toDataLoss(db.get('SELECT * FROM data_losses ORDER BY id DESC LIMIT 1'), readMeta(db));
  });
}

/** Every data loss recorded, newest first. */
export function dataLosses(db: SqlDb): DataLoss[] {
  const meta = readMeta(db);
  return db.all('SELECT * FROM data_losses ORDER BY id DESC').map((r) => toDataLoss(r, meta));
}

/** The server took the alert of loss `id`. */
export function markDataLossReported(db: SqlDb, id: number, now: number): void {
  db.transaction(() => db.run('UPDATE data_losses SET reported_at = ? WHERE id = ? AND reported_at IS NULL', [now, id]));
}

/** A manager saw loss `id`: the status stops showing it (it stays in the table). */
export function acknowledgeDataLoss(db: SqlDb, id: number, now: number): void {
  db.transaction(() => db.run('UPDATE data_losses SET acknowledged_at = ? WHERE id = ? AND acknowledged_at IS NULL', [now, id]));
}

// ───────────────────────────── counts for the status ─────────────────────────────

/** What the status shows of review and losses. */
export interface ReviewInfo {
  /** Open alerts of the register's store, as last fetched. */
  readonly alerts: number;
  /** Open merge conflicts, as last fetched. */
  readonly conflicts: number;
  /** The latest data loss not yet acknowledged by a manager, or null. */
  readonly dataLoss: DataLoss | null;
}

/** Reads {@link ReviewInfo}. */
export function reviewInfo(db: SqlDb): ReviewInfo {
  const n = (sql: string): number => db.get<{ n: number }>(sql)?.n ?? 0;
  const loss = db.get('SELECT * FROM data_losses WHERE acknowledged_at IS NULL ORDER BY id DESC LIMIT 1');
  return {
    alerts: n('SELECT count(*) AS n FROM server_alerts'),
    conflicts: n('SELECT count(*) AS n FROM server_conflicts'),
    dataLoss: loss === undefined ? null : toDataLoss(loss, readMeta(db)),
  };
}

// ───────────────────────────── retention ─────────────────────────────

/** Cut-offs of {@link pruneSynced} (ms since the epoch): rows older than these may go. */
export interface RetentionCutoffs {
  /** Acknowledged ops (the journal) and the facts seen by pull (`seen_facts`). */
  readonly syncedBefore: number;
  /** Lines of sales pulled from other registers, which refunds and voids of them need. */
  readonly pulledSalesBefore: number;
}

/** What {@link pruneSynced} removed. */
export interface PruneCounts {
  readonly journal: number;
  readonly seenFacts: number;
  readonly pulledSales: number;
}

/** The default retention: 30 days for the journal and seen facts, 90 for pulled sales (a refund window). */
export const DEFAULT_RETENTION = { syncedMs: 30 * 24 * 3_600_000, pulledSalesMs: 90 * 24 * 3_600_000 } as const;

/** The cut-offs of the default retention at `now`. */
export function defaultCutoffs(now: number): RetentionCutoffs {
  return { syncedBefore: now - DEFAULT_RETENTION.syncedMs, pulledSalesBefore: now - DEFAULT_RETENTION.pulledSalesMs };
}

/**
 * Forgets what the register no longer needs after the retention window: acknowledged ops whose
 * effect it has seen come back (the journal; `pruneJournal`, one transaction), then, in a second,
 * facts seen by pull that no journal entry refers to any more and whose sale is known (a refund
 * whose sale is still unknown is kept, to be counted again when the sale arrives), then lines of
 * pulled sales. Nothing the server might still need, nothing still pending, goes.
 */
export function pruneSynced(db: SqlDb, cutoffs: RetentionCutoffs): PruneCounts {
  const journal = pruneJournal(db, cutoffs.syncedBefore);
  return db.transaction(() => {
    // A seen fact of an own op still in the journal says "the server counted it"; without it a
    // re-bootstrap or a recount would take the op for pending and count it twice.
    const seenFacts = db.run(
      `DELETE FROM seen_facts WHERE seen_at < ? AND sale_known = 1
         AND NOT EXISTS (SELECT 1 FROM journal j WHERE j.op_id = seen_facts.op_id)
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.op_id = seen_facts.op_id)`,
      [cutoffs.syncedBefore],
    ).changes;
    const pulledSales = db.run('DELETE FROM pulled_sales WHERE pulled_at < ?', [cutoffs.pulledSalesBefore]).changes;
    return { journal, seenFacts, pulledSales };
  });
}
