import { deriveState, emptyDerivedState, onHand, OpSchema } from '@kassa/core';
import type { CurrencyCode, Op } from '@kassa/core';
import type { RecordedCommand } from './sim-register.js';
import type { ServerControl } from './server-control.js';

/** What the checker found. Every list holds one readable line per problem. */
export interface CheckResult {
  /** Commands the cashier was told succeeded that the server lacks. */
  readonly lost: number;
  /** Things the server holds twice (an op, a receipt number, a (register, seq)). */
  readonly duplicated: number;
  readonly quarantined: number;
  readonly quarantinedWithoutReason: number;
  readonly conflicts: number;
  /** Alerts raised, by kind. */
  readonly alerts: Readonly<Record<string, number>>;
  /**
   * Alerts matched to their causes: products below zero on the server (each must have its open
   * oversell alert), over-refunded sale lines by core's reducers over the journals (each its
   * over_refund alert), registers whose clock is off (each its clock_skew alert, in the right
   * direction). `missing` lists causes without their alert (a failure); `unexpected` alerts
   * without a cause (reported, not a failure).
   */
  readonly alertMatch: { readonly oversells: number; readonly overRefunds: number; readonly skewedClocks: number; readonly missing: readonly string[]; readonly unexpected: readonly string[] };
  readonly receiptProblems: readonly string[];
  readonly derivedMismatches: readonly string[];
  /** Ops the server holds for these registers that no register ever wrote (a phantom). */
  readonly unexplained: number;
  /**
   * Ops a register committed whose process was SIGKILLed before the cashier was told (so not
   * recorded): on the server, as they should be, but no one saw them succeed. Not a failure.
   */
  readonly unreported: number;
  readonly problems: readonly string[];
}

interface SyncOpRow {
  op_id: string;
  register_id: string;
  seq: number;
  status: string;
}

interface ReceiptRow {
  register_id: string;
  receipt_no: string;
}

interface MovementRow {
  op_id: string;
  store_id: string;
  product_id: string;
  variant_id: string;
  delta: number;
}

interface LevelRow {
  store_id: string;
  product_id: string;
  variant_id: string;
  on_hand: number;
}

/** Counts of each key occurring more than once (the excess). */
function excess(keys: readonly string[]): { count: number; examples: string[] } {
  const seen = new Map<string, number>();
  for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
  const dup = [...seen].filter(([, n]) => n > 1);
  return { count: dup.reduce((sum, [, n]) => sum + n - 1, 0), examples: dup.slice(0, 5).map(([k]) => k) };
}

/** The per-register number at the end of a receipt number (`S01-R02-000123` → 123). */
function receiptSeq(receiptNo: string): number {
  return Number(/(\d+)$/.exec(receiptNo)?.[1] ?? NaN);
}

/** What the checker needs of each register. */
export interface CheckedRegister {
  readonly code: string;
  readonly deviceId: string;
  /** How far off the register's clock is (`none`, `plus_day`, `minus_day`, `year_2000`). */
  readonly skew?: string;
  /** Every op the register wrote, as its journal holds it. */
  ops(): readonly { opId: string; op: unknown }[];
}

/**
 * Compares what the cashiers were told with what the server holds, after quiescence. Reads the
 * server's database directly (read-only): a checker must see duplicates that the API would fold.
 */
export async function check(server: ServerControl, recorded: readonly RecordedCommand[], registers: readonly CheckedRegister[], currency: CurrencyCode): Promise<CheckResult> {
  const problems: string[] = [];
  const deviceIds = new Set(registers.map((r) => r.deviceId));
  const codeOf = new Map(registers.map((r) => [r.deviceId, r.code]));

  const syncOps = (await server.query<SyncOpRow>('SELECT op_id, register_id, seq, status FROM sync_ops')).filter((r) => deviceIds.has(r.register_id));
  const facts = await server.query<{ id: string; register_id: string }>('SELECT id, register_id FROM facts');
  const onServer = new Set(syncOps.map((r) => r.op_id));

  // Lost: told "done", absent on the server.
  const lostOps = recorded.filter((c) => !onServer.has(c.opId));
  for (const c of lostOps.slice(0, 5)) problems.push(`lost: ${c.register} seq ${c.seq} ${c.type} ${c.opId}${c.receiptNo === undefined ? '' : ` (${c.receiptNo})`}`);

  // Duplicated: the same op, the same (register, seq), or the same receipt number held twice.
  const sales = await server.query<ReceiptRow>('SELECT register_id, receipt_no FROM sales');
  const refunds = await server.query<{ receipt_no: string; store_id: string }>('SELECT receipt_no, store_id FROM refunds');
  const dupOps = excess(syncOps.map((r) => r.op_id));
  const dupSeqs = excess(syncOps.map((r) => `${r.register_id}#${r.seq}`));
  const dupFacts = excess(facts.filter((f) => deviceIds.has(f.register_id)).map((f) => f.id));
  const dupReceipts = excess([...sales.map((s) => s.receipt_no), ...refunds.map((r) => r.receipt_no)]);
  for (const [what, d] of [['op id', dupOps], ['register seq', dupSeqs], ['fact', dupFacts], ['receipt number', dupReceipts]] as const) {
    if (d.count > 0) problems.push(`duplicated ${what}: ${d.count} (${d.examples.join(', ')})`);
  }
  const duplicated = dupOps.count + dupSeqs.count + dupFacts.count + dupReceipts.count;

  const recordedIds = new Set(recorded.map((c) => c.opId));
  // What each register's own database holds (outbox + journal): the register's truth, including
  // commands committed just before its process was killed, which no cashier saw succeed.
  const written = new Map(registers.map((r) => [r.code, r.ops()]));
  const writtenIds = new Set([...written.values()].flatMap((ops) => ops.map((o) => o.opId)));
  const unexplained = syncOps.filter((r) => !recordedIds.has(r.op_id) && !writtenIds.has(r.op_id)).length;
  if (unexplained > 0) problems.push(`unexplained: the server holds ${unexplained} ops no register wrote`);
  const unreported = syncOps.filter((r) => !recordedIds.has(r.op_id) && writtenIds.has(r.op_id)).length;

  // Receipt numbers: unique and gapless per register, from 1 — over every receipt the register
  // printed (its database), and every receipt a cashier was told of is among them.
  // A register prunes acknowledged ops it has seen come back from its journal, so the receipts it
  // printed are what its database still holds, what the server holds of it, and what cashiers were told.
  const receiptProblems: string[] = [];
  const heldReceipts = [
    ...(await server.query<ReceiptRow>('SELECT register_id, receipt_no FROM sales')),
    ...(await server.query<ReceiptRow>('SELECT f.register_id AS register_id, r.receipt_no AS receipt_no FROM refunds r JOIN facts f ON f.org_id = r.org_id AND f.id = r.op_id')),
  ];
  for (const r of registers) {
    const inDb = (written.get(r.code) ?? []).flatMap((o) => {
      const no = (o.op as { payload?: { receiptNo?: unknown } }).payload?.receiptNo;
      return typeof no === 'string' ? [no] : [];
    });
    const printed = [
      ...new Set([
        ...inDb,
        ...heldReceipts.filter((h) => h.register_id === r.deviceId).map((h) => h.receipt_no),
        ...recorded.filter((c) => c.register === r.code && c.receiptNo !== undefined).map((c) => c.receiptNo ?? ''),
      ]),
    ];
    const sorted = printed.map(receiptSeq).sort((a, b) => a - b);
    sorted.forEach((n, i) => {
      if (n !== i + 1) receiptProblems.push(`${r.code}: receipt #${i + 1} is ${n}`);
    });

  }
  problems.push(...receiptProblems.slice(0, 5));

  // Derived state 1: the server's stock levels equal the sum of its own movements.
  const derivedMismatches: string[] = [];
  const movements = await server.query<MovementRow>('SELECT op_id, store_id, product_id, variant_id, delta FROM stock_movements');
  const levels = await server.query<LevelRow>('SELECT store_id, product_id, variant_id, on_hand FROM stock_levels');
  const key = (r: { store_id: string; product_id: string; variant_id: string }) => `${r.store_id}/${r.product_id}/${r.variant_id}`;
  const summed = new Map<string, number>();
  for (const m of movements) summed.set(key(m), (summed.get(key(m)) ?? 0) + Number(m.delta));
  for (const l of levels) {
    const expected = summed.get(key(l)) ?? 0;
    if (Number(l.on_hand) !== expected) derivedMismatches.push(`stock ${key(l)}: level ${l.on_hand}, movements sum to ${expected}`);
  }

  // Derived state 2: core's reducers over the registers' journals give the same stock as the
  // server's movements of those ops. Ops the server quarantined are left out on both sides: they
  // are reported (with their reasons), not applied.
  const applied = new Set(syncOps.filter((r) => r.status === 'applied').map((r) => r.op_id));
  const ops: Op[] = registers.flatMap((r) => (written.get(r.code) ?? []).filter((o) => applied.has(o.opId)).map((o) => OpSchema.parse(o.op)));
  const { state, alerts: derivedAlerts } = deriveState(emptyDerivedState(currency), ops);
  const journalIds = new Set(ops.map((o) => o.id));
  const serverByProduct = new Map<string, number>();
  for (const m of movements) {
    if (!journalIds.has(m.op_id)) continue;
    const k = `${m.product_id}/${m.variant_id}`;
    serverByProduct.set(k, (serverByProduct.get(k) ?? 0) + Number(m.delta));
  }
  for (const [k, fromServer] of serverByProduct) {
    const [productId = '', variantId = ''] = k.split('/');
    const fromCore = Number(onHand(state.stock, productId, variantId === '' ? undefined : variantId));
    if (fromCore !== fromServer) derivedMismatches.push(`stock ${k}: core over the journals ${fromCore}, server ${fromServer}`);
  }

  // Derived state 3: sales totals per register, server vs what the cashiers were told (of the ops it applied).
  const totals = await server.query<{ register_id: string; total: number }>('SELECT register_id, SUM(total) AS total FROM sales GROUP BY register_id');
  for (const r of registers) {
    const told = recorded.filter((c) => c.register === r.code && applied.has(c.opId) && (c.type === 'sale.completed' || c.type === 'exchange.completed')).reduce((s, c) => s + (c.total ?? 0), 0);
    // Sales committed as the register's process was killed, before the cashier was told.
    const unseen = ops
      .filter((o) => o.deviceId === r.deviceId && o.type === 'sale.completed' && !recordedIds.has(o.id))
      .reduce((s, o) => s + (o.type === 'sale.completed' ? Number(o.payload.total) : 0), 0);
    const held = Number(totals.find((t) => t.register_id === r.deviceId)?.total ?? 0);
    if (told + unseen !== held) derivedMismatches.push(`sales total ${r.code}: cashiers were told ${told}${unseen === 0 ? '' : ` (+${unseen} committed unseen at a crash)`}, server holds ${held}`);
  }
  problems.push(...derivedMismatches.slice(0, 10));

  const quarantine = (await server.query<{ register_id: string; reason: string }>('SELECT register_id, reason FROM quarantine')).filter((q) => deviceIds.has(q.register_id));
  const quarantinedWithoutReason = quarantine.filter((q) => q.reason.trim() === '').length;
  if (quarantinedWithoutReason > 0) problems.push(`${quarantinedWithoutReason} quarantined ops without a reason`);
  for (const q of quarantine.slice(0, 5)) problems.push(`quarantined (${codeOf.get(q.register_id) ?? q.register_id}): ${q.reason}`);

  const conflicts = Number((await server.query<{ n: number }>('SELECT COUNT(*) AS n FROM conflicts'))[0]?.n ?? 0);
  const alerts: Record<string, number> = {};
  for (const a of await server.query<{ kind: string; n: number }>('SELECT kind, COUNT(*) AS n FROM alerts GROUP BY kind')) alerts[a.kind] = Number(a.n);

  // Alerts matched to causes.
  const alertRows = await server.query<{ key: string; kind: string; status: string; store_id: string | null; register_id: string | null; data_json: string }>(
    'SELECT key, kind, status, store_id, register_id, data_json FROM alerts',
  );
  const missing: string[] = [];
  const unexpected: string[] = [];
  const dataOf = (a: { data_json: string }) => JSON.parse(a.data_json) as Record<string, unknown>;
  // Oversells: every level below zero has its open oversell alert; no open one without a level below zero.
  const openOversell = new Map<string, unknown>(
    alertRows.filter((a) => a.kind === 'oversell' && a.status === 'open').map((a) => {
      const d = dataOf(a);
      return [`${a.store_id ?? String(d['storeId'])}/${String(d['productId'])}/${typeof d['variantId'] === 'string' ? d['variantId'] : ''}`, a] as const;
    }),
  );
  const negative = levels.filter((l) => Number(l.on_hand) < 0);
  for (const l of negative) if (!openOversell.has(key(l))) missing.push(`oversell ${key(l)} (on hand ${l.on_hand}) has no open alert`);
  const negativeKeys = new Set(negative.map(key));
  for (const k of openOversell.keys()) if (!negativeKeys.has(k)) unexpected.push(`open oversell alert ${k}, stock not below zero`);
  // Over-refunds: what core's reducers over the journals say, against the server's alerts by key.
  const overRefunds = derivedAlerts.filter((a) => a.kind === 'over_refund');
  const serverKeys = new Set(alertRows.map((a) => a.key));
  for (const a of overRefunds) if (!serverKeys.has(a.key)) missing.push(`over-refund ${a.key} has no alert`);
  for (const a of alertRows) if (a.kind === 'over_refund' && a.status === 'open' && !overRefunds.some((o) => o.key === a.key)) unexpected.push(`open over_refund alert ${a.key} that core's reducers do not see`);
  // Skewed clocks: a register a day ahead was clamped (direction ahead); one behind (a day, or the
  // year 2000) applied as stamped with its far-behind alert.
  const skewed = registers.filter((r) => r.skew !== undefined && r.skew !== 'none');
  for (const r of skewed) {
    const direction = r.skew === 'plus_day' ? 'ahead' : 'behind';
    const found = alertRows.some((a) => a.kind === 'clock_skew' && a.register_id === r.deviceId && (dataOf(a)['direction'] ?? 'ahead') === direction);
    if (!found) missing.push(`${r.code} (clock ${r.skew}) has no clock_skew alert (${direction})`);
  }
  for (const a of alertRows) {
    const r = registers.find((g) => g.deviceId === a.register_id);
    if (a.kind === 'clock_skew' && r !== undefined && (r.skew ?? 'none') === 'none') unexpected.push(`clock_skew alert for ${r.code}, whose clock is right`);
  }
  for (const m of missing.slice(0, 5)) problems.push(`alert missing: ${m}`);

  return {
    lost: lostOps.length,
    duplicated,
    quarantined: quarantine.length,
    quarantinedWithoutReason,
    conflicts,
    alerts,
    receiptProblems,
    derivedMismatches,
    unexplained,
    unreported,
    alertMatch: { oversells: negative.length, overRefunds: overRefunds.length, skewedClocks: skewed.length, missing, unexpected },
    problems,
  };
}
