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
  readonly receiptProblems: readonly string[];
  readonly derivedMismatches: readonly string[];
  /** Ops the server applied for these registers that no recorded command explains (a phantom). */
  readonly unexplained: number;
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
  const unexplained = syncOps.filter((r) => !recordedIds.has(r.op_id)).length;
  if (unexplained > 0) problems.push(`unexplained: the server applied ${unexplained} ops no cashier was told about`);

  // Receipt numbers: unique and gapless per register, from 1.
  const receiptProblems: string[] = [];
  for (const r of registers) {
    const numbers = recorded.filter((c) => c.register === r.code && c.receiptNo !== undefined).map((c) => receiptSeq(c.receiptNo ?? ''));
    const sorted = [...numbers].sort((a, b) => a - b);
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
  const ops: Op[] = registers.flatMap((r) => r.ops().filter((o) => applied.has(o.opId)).map((o) => OpSchema.parse(o.op)));
  const { state } = deriveState(emptyDerivedState(currency), ops);
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
    const held = Number(totals.find((t) => t.register_id === r.deviceId)?.total ?? 0);
    if (told !== held) derivedMismatches.push(`sales total ${r.code}: cashiers were told ${told}, server holds ${held}`);
  }
  problems.push(...derivedMismatches.slice(0, 10));

  const quarantine = (await server.query<{ register_id: string; reason: string }>('SELECT register_id, reason FROM quarantine')).filter((q) => deviceIds.has(q.register_id));
  const quarantinedWithoutReason = quarantine.filter((q) => q.reason.trim() === '').length;
  if (quarantinedWithoutReason > 0) problems.push(`${quarantinedWithoutReason} quarantined ops without a reason`);
  for (const q of quarantine.slice(0, 5)) problems.push(`quarantined (${codeOf.get(q.register_id) ?? q.register_id}): ${q.reason}`);

  const conflicts = Number((await server.query<{ n: number }>('SELECT COUNT(*) AS n FROM conflicts'))[0]?.n ?? 0);
  const alerts: Record<string, number> = {};
  for (const a of await server.query<{ kind: string; n: number }>('SELECT kind, COUNT(*) AS n FROM alerts GROUP BY kind')) alerts[a.kind] = Number(a.n);

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
    problems,
  };
}
