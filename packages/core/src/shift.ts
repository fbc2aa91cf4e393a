/**
 * A shift at one register: opened with a counted float, then sales, refunds, exchanges, voids and
 * cash movements, then closed with a count of the drawer. Every total of the X report (mid-shift)
 * and the Z report (at close) is a sum over the shift's events, so the same set of events gives the
 * same report whatever order they arrived in, and an event applied twice counts once.
 *
 * Expected cash in the drawer:
 *
 *   float + cash taken for sales − cash paid for refunds ± cash of exchanges + cash in − cash out
 *
 * Cash tenders are recorded net of change and after cash rounding (`Tender.amount`), so the
 * drawer's figure already includes the rounding. Variance = counted − expected (negative: short).
 *
 * A voided sale is left out of every total (its money went back) and shown under voids. Events
 * timed after the close still count (they happened) and raise an `event_outside_shift` alert.
 */
import { alert, resolveSameId, sortAlerts, type Alert } from './alerts.js';
import type { CurrencyCode } from './currency.js';
import { InvalidArgumentError, KassaError } from './errors.js';
import { money, type Money } from './money.js';
import type { CompletedExchange, CompletedRefund, CompletedSale, RefundLine, TaxSummaryRow, Tender } from './order-schema.js';
import { assertInteger, toSafeInteger } from './rounding.js';

/** One line of a drawer count: `count` notes or coins of `denomination` minor units. */
export interface DenominationCount {
  readonly denomination: number;
  readonly count: number;
}

interface EventBase {
  /** The fact's id (for sales, refunds and exchanges, their order, refund or exchange id suits). */
  readonly id: string;
  /** When it happened at the till, ms since the epoch; used only to tell events outside the shift. */
  readonly at: number;
}

/**
 * A count of the drawer: by denomination, and the total as entered. When both are given and
 * disagree, the denominations are used (they are what was physically counted) and a
 * `count_mismatch` alert is raised; with no denomination lines, the total is used.
 */
export interface CashCount {
  readonly denominations: readonly DenominationCount[];
  /** Minor units; absent means the sum of the denominations. */
  readonly total?: number;
}

/** The shift was opened with this float in the drawer. */
export interface ShiftOpened extends EventBase {
  readonly kind: 'opened';
  readonly float: CashCount;
}
/** A sale completed during the shift. */
export interface ShiftSale extends EventBase {
  readonly kind: 'sale';
  readonly sale: CompletedSale;
}
/** A refund completed during the shift. */
export interface ShiftRefund extends EventBase {
  readonly kind: 'refund';
  readonly refund: CompletedRefund;
}
/** An exchange completed during the shift. */
export interface ShiftExchange extends EventBase {
  readonly kind: 'exchange';
  readonly exchange: CompletedExchange;
}
/** A completed sale of this shift was voided: its money went back and it no longer counts. */
export interface ShiftVoid extends EventBase {
  readonly kind: 'void';
  readonly orderId: string;
  readonly reason?: string;
}
/** Cash put into (`in`: float top-up, paid-in) or taken from (`out`: safe drop, paid-out) the drawer. */
export interface CashMoved extends EventBase {
  readonly kind: 'cash_moved';
  readonly direction: 'in' | 'out';
  /** A magnitude (≥ 0); `direction` gives the sign. */
  readonly amount: Money;
  readonly reason: string;
}
/** The shift was closed with this count of the drawer. */
export interface ShiftClosed extends EventBase {
  readonly kind: 'closed';
  readonly counted: CashCount;
}

/** A fact of a shift. A later adapter maps ops onto these. */
export type ShiftEvent = ShiftOpened | ShiftSale | ShiftRefund | ShiftExchange | ShiftVoid | CashMoved | ShiftClosed;

/** The state of one shift: the events applied. Never mutated; totals are computed from it. */
export interface Shift {
  readonly shiftId: string;
  readonly currency: CurrencyCode;
  readonly events: ReadonlyMap<string, ShiftEvent>;
  /** Ids under which two different events arrived. */
  readonly conflicts: ReadonlySet<string>;
}

/** The new state and every alert the shift holds now. */
export interface ShiftApplyResult {
  readonly state: Shift;
  readonly alerts: Alert[];
}

/** One rate's row of the report: net, tax and gross, sales less refunds. */
export interface ShiftTaxRow {
  readonly rateId: string;
  /** The name and rate as sold; for a rate seen only in refunds, the name is its id and the rate `null`. */
  readonly name: string;
  readonly ratePpm: number | null;
  readonly net: Money;
  readonly tax: Money;
  readonly gross: Money;
}

/** The totals of one tender kind: taken in (sales, exchanges paid by the customer) and paid out. */
export interface TenderTotal {
  readonly kind: Tender['kind'];
  readonly count: number;
  readonly received: Money;
  readonly paidOut: Money;
  readonly net: Money;
}

/** How the drawer's expected cash is made up, and what was counted. */
export interface CashSummary {
  readonly float: Money;
  /** Cash taken for sales, net of change. */
  readonly sales: Money;
  /** Cash paid out for refunds. */
  readonly refunds: Money;
  /** Cash of exchanges: taken in when the customer paid the difference, paid out otherwise. */
  readonly exchanges: Money;
  /** Cash moved in less cash moved out. */
  readonly movements: Money;
  readonly expected: Money;
  /** The closing count; `null` on an X report. */
  readonly counted: Money | null;
  /** counted − expected; `null` on an X report. */
  readonly variance: Money | null;
}

/** The X (mid-shift) or Z (at close) report. Every amount is in the shift's currency. */
export interface ShiftReport {
  readonly type: 'X' | 'Z';
  readonly shiftId: string;
  readonly currency: CurrencyCode;
  readonly openedAt: number | null;
  readonly closedAt: number | null;
  /** Sales, refunds and exchanges completed, voided sales included (their receipts were issued). */
  readonly transactionCount: number;
  /** Sales not voided: `gross` is Σ subtotal (before discounts), `total` what was owed incl. tax. */
  readonly sales: { readonly count: number; readonly gross: Money; readonly discounts: Money; readonly tax: Money; readonly total: Money };
  readonly refunds: { readonly count: number; readonly tax: Money; readonly total: Money };
  /** `balance` = salesTotal − refundsTotal, what customers paid (or got back) for exchanges. */
  readonly exchanges: { readonly count: number; readonly salesTotal: Money; readonly refundsTotal: Money; readonly balance: Money };
  /** Voided sales: how many and their totals. */
  readonly voids: { readonly count: number; readonly amount: Money };
  /** sales.total − refunds.total + exchanges.balance. */
  readonly netSales: Money;
  /** Discounts of sales and of the sale side of exchanges. */
  readonly discounts: Money;
  readonly taxByRate: readonly ShiftTaxRow[];
  readonly tenders: readonly TenderTotal[];
  /** What cash rounding added to (positive) or took from the takings. */
  readonly cashRounding: Money;
  readonly cashMovements: { readonly count: number; readonly in: Money; readonly out: Money };
  readonly cash: CashSummary;
  readonly alerts: readonly Alert[];
}

/** A Z report was asked of a shift with no `closed` event. */
export class ShiftNotClosedError extends KassaError {
  readonly code = 'shift_not_closed';
  constructor(readonly shiftId: string) {
    super(`shift ${shiftId} is not closed`);
  }
}

/** A shift with no events yet. */
export function emptyShift(shiftId: string, currency: CurrencyCode): Shift {
  money(0, currency); // refuses an unknown currency now rather than at report time
  return { shiftId, currency, events: new Map(), conflicts: new Set() };
}

/**
 * The total of a drawer count.
 *
 * @throws InvalidArgumentError for a denomination ≤ 0 or a negative count.
 * @example
 * ```ts
 * countTotal([{ denomination: 2000, count: 3 }, { denomination: 50, count: 4 }], 'EUR') // €62.00 (60.00 + 2.00)
 * ```
 */
export function countTotal(lines: readonly DenominationCount[], currency: CurrencyCode): Money {
  let total = 0n;
  for (const { denomination, count } of lines) {
    assertInteger(denomination, 'denomination');
    assertInteger(count, 'count');
    if (denomination <= 0) throw new InvalidArgumentError('denomination', 'must be positive');
    if (count < 0) throw new InvalidArgumentError('count', 'must not be negative');
    total += BigInt(denomination) * BigInt(count);
  }
  return money(toSafeInteger(total), currency);
}

/** What a drawer count amounts to, and the entered total when it disagrees with the denominations. */
function countAmount(c: CashCount, currency: CurrencyCode): { readonly amount: Money; readonly enteredTotal?: number } {
  if (c.total !== undefined) {
    assertInteger(c.total, 'count total');
    if (c.total < 0) throw new InvalidArgumentError('count total', 'must not be negative');
  }
  if (c.denominations.length === 0) return { amount: money(c.total ?? 0, currency) };
  const amount = countTotal(c.denominations, currency);
  return c.total === undefined || c.total === amount.amount ? { amount } : { amount, enteredTotal: c.total };
}

function validate(e: ShiftEvent, currency: CurrencyCode): void {
  if (e.kind === 'opened') countAmount(e.float, currency);
  else if (e.kind === 'closed') countAmount(e.counted, currency);
  else if (e.kind === 'cash_moved') {
    assertInteger(e.amount.amount, 'cash movement amount');
    if (e.amount.amount < 0) throw new InvalidArgumentError('cash movement amount', 'must not be negative');
  }
}

/**
 * Applies events to a shift: an id already applied is a no-op, and neither order nor batching
 * changes any total. Returns every alert the shift holds now (a shift is small, so they are
 * recomputed).
 *
 * @example
 * ```ts
 * let shift = emptyShift('s1', 'EUR');
 * ({ state: shift } = applyShiftEvents(shift, [{ kind: 'opened', id: 'e1', at: t0, float: { denominations: [{ denomination: 1000, count: 10 }] } }]));
 * expectedCash(shift) // €100.00
 * ```
 */
export function applyShiftEvents(state: Shift, events: Iterable<ShiftEvent>): ShiftApplyResult {
  const kept = new Map(state.events);
  const conflicts = new Set(state.conflicts);
  for (const e of events) {
    const old = kept.get(e.id);
    if (old === undefined) {
      validate(e, state.currency);
      kept.set(e.id, e);
      continue;
    }
    const { fact, conflict } = resolveSameId(old, e);
    if (!conflict) continue;
    conflicts.add(e.id);
    validate(fact, state.currency);
    kept.set(e.id, fact);
  }
  const next: Shift = { ...state, events: kept, conflicts };
  return { state: next, alerts: shiftAlerts(next) };
}

const byAtThenId = (a: ShiftEvent, b: ShiftEvent): number => (a.at !== b.at ? a.at - b.at : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const TENDER_KINDS: readonly Tender['kind'][] = ['cash', 'card', 'gift_card', 'store_credit', 'other'];

interface TaxAcc {
  name: string;
  ratePpm: number | null;
  net: bigint;
  tax: bigint;
  gross: bigint;
}

/** Everything the reports need, summed once. */
function summarize(state: Shift) {
  const currency = state.currency;
  const events = [...state.events.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const alerts: Alert[] = [];
  for (const id of state.conflicts) alerts.push(alert({ kind: 'conflicting_fact', subject: 'shift_event', id }));

  const opens = events.filter((e): e is ShiftOpened => e.kind === 'opened').sort(byAtThenId);
  const closes = events.filter((e): e is ShiftClosed => e.kind === 'closed').sort(byAtThenId);
  for (const [boundary, list] of [['opened', opens], ['closed', closes]] as const) {
    if (list.length > 1) {
      alerts.push(alert({ kind: 'duplicate_shift_boundary', shiftId: state.shiftId, boundary, eventIds: list.map((e) => e.id).sort() }));
    }
  }
  const open = opens[0];
  const close = closes[0];
  const floatCount = open ? countAmount(open.float, currency) : undefined;
  const closeCount = close ? countAmount(close.counted, currency) : undefined;
  for (const [boundary, e, c] of [['opened', open, floatCount], ['closed', close, closeCount]] as const) {
    if (e && c?.enteredTotal !== undefined) {
      alerts.push(
        alert({ kind: 'count_mismatch', shiftId: state.shiftId, eventId: e.id, boundary, enteredTotal: c.enteredTotal, denominationsTotal: c.amount.amount }),
      );
    }
  }

  const eventCurrency = (e: ShiftEvent): CurrencyCode | undefined =>
    e.kind === 'sale' ? e.sale.currency : e.kind === 'refund' ? e.refund.currency : e.kind === 'exchange' ? e.exchange.currency : e.kind === 'cash_moved' ? e.amount.currency : undefined;

  const sales: ShiftSale[] = [];
  const refunds: ShiftRefund[] = [];
  const exchanges: ShiftExchange[] = [];
  const voids: ShiftVoid[] = [];
  const moves: CashMoved[] = [];
  for (const e of events) {
    if (e.kind === 'opened' || e.kind === 'closed') continue;
    if (open && e.at < open.at) {
      alerts.push(alert({ kind: 'event_outside_shift', shiftId: state.shiftId, eventId: e.id, eventKind: e.kind, position: 'before_open' }));
    } else if (close && e.at > close.at) {
      alerts.push(alert({ kind: 'event_outside_shift', shiftId: state.shiftId, eventId: e.id, eventKind: e.kind, position: 'after_close' }));
    }
    const cur = eventCurrency(e);
    if (cur !== undefined && cur !== currency) {
      alerts.push(alert({ kind: 'foreign_currency', shiftId: state.shiftId, eventId: e.id, currency: cur, shiftCurrency: currency }));
      // A void of a foreign-currency sale still matches it below; the sale itself is left out.
      if (e.kind === 'sale') sales.push(e);
      continue;
    }
    if (e.kind === 'sale') sales.push(e);
    else if (e.kind === 'refund') refunds.push(e);
    else if (e.kind === 'exchange') exchanges.push(e);
    else if (e.kind === 'void') voids.push(e);
    else moves.push(e);
  }

  const saleOrderIds = new Set(sales.map((s) => s.sale.orderId));
  const voided = new Set<string>();
  for (const v of voids) {
    if (saleOrderIds.has(v.orderId)) voided.add(v.orderId);
    else alerts.push(alert({ kind: 'unmatched_void', shiftId: state.shiftId, voidId: v.id, orderId: v.orderId }));
  }

  const tax = new Map<string, TaxAcc>();
  const taxRow = (rateId: string): TaxAcc => {
    let row = tax.get(rateId);
    if (!row) {
      row = { name: rateId, ratePpm: null, net: 0n, tax: 0n, gross: 0n };
      tax.set(rateId, row);
    }
    return row;
  };
  const addSummary = (rows: readonly TaxSummaryRow[]): void => {
    for (const r of rows) {
      const row = taxRow(r.rateId);
      // Several snapshots of one rate id (renamed mid-shift): keep the smallest, whatever the order.
      if (row.ratePpm === null || r.ratePpm < row.ratePpm || (r.ratePpm === row.ratePpm && r.name < row.name)) {
        row.ratePpm = r.ratePpm;
        row.name = r.name;
      }
      row.net += BigInt(r.net);
      row.tax += BigInt(r.tax);
      row.gross += BigInt(r.gross);
    }
  };
  const subtractRefundLines = (lines: readonly RefundLine[]): void => {
    for (const l of lines) {
      // The base each rate was charged on: what the line paid less all its taxes.
      const base = BigInt(l.total) - l.tax.reduce((s, t) => s + BigInt(t.amount), 0n);
      for (const t of l.tax) {
        const row = taxRow(t.rateId);
        row.net -= base;
        row.tax -= BigInt(t.amount);
        row.gross -= base + BigInt(t.amount);
      }
    }
  };

  const tenders = new Map<Tender['kind'], { count: number; received: bigint; paidOut: bigint }>();
  let cashSales = 0n;
  let cashRefunds = 0n;
  let cashExchanges = 0n;
  const addTenders = (list: readonly Tender[], direction: 'in' | 'out'): bigint => {
    let cash = 0n;
    for (const t of list) {
      const acc = tenders.get(t.kind) ?? { count: 0, received: 0n, paidOut: 0n };
      acc.count += 1;
      if (direction === 'in') acc.received += BigInt(t.amount);
      else acc.paidOut += BigInt(t.amount);
      tenders.set(t.kind, acc);
      if (t.kind === 'cash') cash += BigInt(t.amount);
    }
    return cash;
  };

  let salesCount = 0;
  let salesGross = 0n;
  let salesDiscounts = 0n;
  let salesTax = 0n;
  let salesTotal = 0n;
  let voidCount = 0;
  let voidAmount = 0n;
  let cashRounding = 0n;
  for (const { sale } of sales) {
    if (sale.currency !== currency) continue;
    if (voided.has(sale.orderId)) {
      voidCount += 1;
      voidAmount += BigInt(sale.total);
      continue;
    }
    salesCount += 1;
    salesGross += BigInt(sale.subtotal);
    salesDiscounts += BigInt(sale.discountTotal);
    salesTax += BigInt(sale.taxTotal);
    salesTotal += BigInt(sale.total);
    addSummary(sale.taxSummary);
    cashSales += addTenders(sale.tenders, 'in');
    cashRounding += BigInt(sale.cashRounding);
  }

  let refundsTax = 0n;
  let refundsTotal = 0n;
  for (const { refund } of refunds) {
    refundsTax += BigInt(refund.taxTotal);
    refundsTotal += BigInt(refund.total);
    subtractRefundLines(refund.lines);
    cashRefunds += addTenders(refund.tenders, 'out');
    // Rounding a payout down (−2) leaves 2 more in the drawer.
    cashRounding -= BigInt(refund.cashRounding);
  }

  let exSales = 0n;
  let exRefunds = 0n;
  let exBalance = 0n;
  let exDiscounts = 0n;
  for (const { exchange } of exchanges) {
    exSales += BigInt(exchange.sale.total);
    exRefunds += BigInt(exchange.refund.total);
    exBalance += BigInt(exchange.balance);
    exDiscounts += BigInt(exchange.sale.discountTotal);
    addSummary(exchange.sale.taxSummary);
    subtractRefundLines(exchange.refund.lines);
    const customerPays = exchange.balance >= 0;
    const cash = addTenders(exchange.tenders, customerPays ? 'in' : 'out');
    cashExchanges += customerPays ? cash : -cash;
    cashRounding += customerPays ? BigInt(exchange.cashRounding) : -BigInt(exchange.cashRounding);
  }

  let movedIn = 0n;
  let movedOut = 0n;
  for (const m of moves) {
    if (m.direction === 'in') movedIn += BigInt(m.amount.amount);
    else movedOut += BigInt(m.amount.amount);
  }

  const m = (n: bigint): Money => money(toSafeInteger(n), currency);
  const float = floatCount ? floatCount.amount : m(0n);
  const expected = BigInt(float.amount) + cashSales - cashRefunds + cashExchanges + movedIn - movedOut;
  const counted = closeCount ? closeCount.amount : null;

  const taxByRate: ShiftTaxRow[] = [...tax.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([rateId, r]) => ({ rateId, name: r.name, ratePpm: r.ratePpm, net: m(r.net), tax: m(r.tax), gross: m(r.gross) }));

  const tenderTotals: TenderTotal[] = TENDER_KINDS.flatMap((kind) => {
    const t = tenders.get(kind);
    return t ? [{ kind, count: t.count, received: m(t.received), paidOut: m(t.paidOut), net: m(t.received - t.paidOut) }] : [];
  });

  const report: Omit<ShiftReport, 'type'> = {
    shiftId: state.shiftId,
    currency,
    openedAt: open ? open.at : null,
    closedAt: close ? close.at : null,
    transactionCount: salesCount + voidCount + refunds.length + exchanges.length,
    sales: { count: salesCount, gross: m(salesGross), discounts: m(salesDiscounts), tax: m(salesTax), total: m(salesTotal) },
    refunds: { count: refunds.length, tax: m(refundsTax), total: m(refundsTotal) },
    exchanges: { count: exchanges.length, salesTotal: m(exSales), refundsTotal: m(exRefunds), balance: m(exBalance) },
    voids: { count: voidCount, amount: m(voidAmount) },
    netSales: m(salesTotal - refundsTotal + exBalance),
    discounts: m(salesDiscounts + exDiscounts),
    taxByRate,
    tenders: tenderTotals,
    cashRounding: m(cashRounding),
    cashMovements: { count: moves.length, in: m(movedIn), out: m(movedOut) },
    cash: {
      float,
      sales: m(cashSales),
      refunds: m(cashRefunds),
      exchanges: m(cashExchanges),
      movements: m(movedIn - movedOut),
      expected: m(expected),
      counted,
      variance: counted ? m(BigInt(counted.amount) - expected) : null,
    },
    alerts: sortAlerts(alerts),
  };
  return report;
}

/** Every alert the shift holds now, sorted by key. */
export function shiftAlerts(state: Shift): Alert[] {
  return [...summarize(state).alerts];
}

/**
 * The cash that should be in the drawer now: float + cash sales − cash refunds ± exchanges ±
 * cash movements.
 */
export function expectedCash(state: Shift): Money {
  return summarize(state).cash.expected;
}

/**
 * The X report: the shift's totals so far, read-only; counted and variance are `null`.
 *
 * @example
 * ```ts
 * xReport(shift).cash.expected // what the drawer should hold now
 * ```
 */
export function xReport(state: Shift): ShiftReport {
  const r = summarize(state);
  return { type: 'X', ...r, cash: { ...r.cash, counted: null, variance: null } };
}

/**
 * The Z report: the closed shift's totals with the closing count and its variance.
 *
 * @throws ShiftNotClosedError when the shift has no `closed` event.
 * @example
 * ```ts
 * const z = zReport(shift);
 * z.cash.variance // counted − expected: { amount: -50, currency: 'EUR' } is 50 cents short
 * ```
 */
export function zReport(state: Shift): ShiftReport {
  const r = summarize(state);
  if (r.closedAt === null) throw new ShiftNotClosedError(state.shiftId);
  return { type: 'Z', ...r };
}
