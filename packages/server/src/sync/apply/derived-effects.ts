/**
 * Derived state (DESIGN §2): stock on hand, refunded per sale line, and balances are sums of facts.
 * Facts are stored once, so adding each new fact's contribution exactly once keeps every sum equal
 * to the sum over the stored facts, whatever order they arrived in.
 *
 * A batch collects contributions here and {@link DerivedEffects.flush} writes them at the end, one
 * upsert per touched row (`value = value + delta`), then re-evaluates the alerts of exactly the rows
 * it touched: an oversell, an over-refund or a negative balance opens (or updates) its alert; a
 * row back in order resolves it. What happened at the till is never rejected for these.
 *
 * `sale_line_tallies` has a row only for sale lines something was refunded (or voided) from: what
 * was sold is read from the sale itself, so the common case — a sale — writes no tally at all.
 */
import { sql } from 'kysely';
import type { Transaction } from 'kysely';
import { alert, balanceDelta, movementDelta, qtyMilli } from '@kassa/core';
import type { AccountKind, BalanceEvent, SaleRef, StockMovement } from '@kassa/core';
import type { Database } from '../../db/schema.js';
import { clearAlerts, raiseAlerts } from './alerts.js';
import type { AlertInput } from './alerts.js';

interface LevelDelta {
  readonly storeId: string;
  readonly productId: string;
  readonly variantId: string;
  delta: number;
}

interface TallyDelta {
  readonly orderId: string;
  readonly lineId: string;
  /** The refund's product: the line's until the sale is known. */
  readonly productId: string;
  refunded: number;
}

/** The sales of these orders, as far as they are known (this batch's, then the stored ones). */
export type SalesOf = (orderIds: readonly string[]) => Promise<ReadonlyMap<string, SaleRef>>;

interface BalanceDeltaEntry {
  readonly account: AccountKind;
  readonly accountId: string;
  readonly unit: string;
  delta: number;
}

/** Rows per multi-row upsert (each row ≤ 7 parameters). */
const CHUNK = 1000;

/**
 * The key of an oversell alert: core's key names product and variant but no store (one derived
 * state is one store's view), so the server appends the store.
 */
export function oversellAlertKey(storeId: string, productId: string, variantId: string | undefined): string {
  const core = alert({ kind: 'oversell', productId, ...(variantId === undefined ? {} : { variantId }), onHand: qtyMilli(0) });
  return `${core.key}@${storeId}`;
}

/** Contributions of one batch to the derived tables, written by {@link DerivedEffects.flush}. */
export class DerivedEffects {
  readonly #levels = new Map<string, LevelDelta>();
  readonly #tallies = new Map<string, TallyDelta>();
  readonly #balances = new Map<string, BalanceDeltaEntry>();
  readonly #orders = new Set<string>();

  constructor(readonly orgId: string) {}

  /** Adds (`sign` 1) or takes back (−1) a stock movement stored for `storeId`. */
  addMovement(storeId: string, m: StockMovement, sign: 1 | -1): void {
    const variantId = m.variantId ?? '';
    const lk = JSON.stringify([storeId, m.productId, variantId]);
    const level = this.#levels.get(lk) ?? { storeId, productId: m.productId, variantId, delta: 0 };
    level.delta += sign * movementDelta(m);
    this.#levels.set(lk, level);

    if (m.kind !== 'refund' || m.originalOrderId === undefined) return;
    const tk = JSON.stringify([m.originalOrderId, m.saleLineId]);
    const tally = this.#tallies.get(tk) ?? { orderId: m.originalOrderId, lineId: m.saleLineId, productId: m.productId, refunded: 0 };
    tally.refunded += sign * m.qty;
    this.#tallies.set(tk, tally);
  }

  /** Adds a balance fact's contribution. */
  addBalance(event: BalanceEvent): void {
    const d = balanceDelta(event);
    const key = JSON.stringify([d.account, d.id, d.unit]);
    const entry = this.#balances.get(key) ?? { account: d.account, accountId: d.id, unit: d.unit, delta: 0 };
    entry.delta += d.balance;
    this.#balances.set(key, entry);
  }

  /** Marks an order whose sale just arrived: its lines' over-refund state is looked at again. */
  touchOrder(orderId: string): void {
    this.#orders.add(orderId);
  }

  /**
   * Writes the collected contributions and updates the alerts of the rows touched.
   *
   * @param salesOf the sales refunded lines belong to: what was sold, and whether the sale is known.
   */
  async flush(trx: Transaction<Database>, now: number, salesOf: SalesOf): Promise<void> {
    const raise: AlertInput[] = [];
    const clear: string[] = [];
    await this.#flushLevels(trx, now, raise, clear);
    await this.#flushTallies(trx, salesOf, raise, clear);
    await this.#flushBalances(trx, now, raise, clear);
    await raiseAlerts(trx, this.orgId, raise, now);
    await clearAlerts(trx, this.orgId, clear, now);
  }

  async #flushLevels(trx: Transaction<Database>, now: number, raise: AlertInput[], clear: string[]): Promise<void> {
    const entries = [...this.#levels.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
    for (let i = 0; i < entries.length; i += CHUNK) {
      const rows = await trx
        .insertInto('stock_levels')
        .values(
          entries.slice(i, i + CHUNK).map((e) => ({
            org_id: this.orgId,
            store_id: e.storeId,
            product_id: e.productId,
            variant_id: e.variantId,
            on_hand: e.delta,
            updated_at: now,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['org_id', 'store_id', 'product_id', 'variant_id']).doUpdateSet({
            on_hand: sql<number>`stock_levels.on_hand + excluded.on_hand`,
            updated_at: sql<number>`excluded.updated_at`,
          }),
        )
        .returning(['store_id', 'product_id', 'variant_id', 'on_hand'])
        .execute();
      for (const r of rows) {
        const variantId = r.variant_id === '' ? undefined : r.variant_id;
        const key = oversellAlertKey(r.store_id, r.product_id, variantId);
        if (r.on_hand < 0) {
          const data = alert({ kind: 'oversell', productId: r.product_id, ...(variantId === undefined ? {} : { variantId }), onHand: qtyMilli(r.on_hand) });
          raise.push({ key, kind: 'oversell', storeId: r.store_id, data: { ...data, storeId: r.store_id } });
        } else {
          clear.push(key);
        }
      }
    }
  }

  async #flushTallies(trx: Transaction<Database>, salesOf: SalesOf, raise: AlertInput[], clear: string[]): Promise<void> {
    const entries = [...this.#tallies.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
    if (entries.length === 0 && this.#orders.size === 0) return;
    const sales = await salesOf([...new Set([...entries.map((e) => e.orderId), ...this.#orders])]);
    /** What the sale says of a line: sold (0 for a line the sale does not have) and its product. */
    const lineOf = (orderId: string, lineId: string) => {
      const sale = sales.get(orderId);
      if (sale === undefined) return undefined;
      const lines = sale.lines.filter((l) => l.lineId === lineId);
      return { sold: lines.reduce((n, l) => n + l.qty, 0), productId: lines[0]?.productId };
    };

    const touched: { order_id: string; line_id: string; product_id: string; sold: number; refunded: number }[] = [];
    for (let i = 0; i < entries.length; i += CHUNK) {
      const rows = await trx
        .insertInto('sale_line_tallies')
        .values(
          entries.slice(i, i + CHUNK).map((e) => {
            const line = lineOf(e.orderId, e.lineId);
            return { org_id: this.orgId, order_id: e.orderId, line_id: e.lineId, product_id: line?.productId ?? e.productId, sold: line?.sold ?? 0, refunded: e.refunded };
          }),
        )
        .onConflict((oc) =>
          oc.columns(['org_id', 'order_id', 'line_id']).doUpdateSet({
            refunded: sql<number>`sale_line_tallies.refunded + excluded.refunded`,
            sold: sql<number>`excluded.sold`,
            product_id: sql<string>`excluded.product_id`,
          }),
        )
        .returning(['order_id', 'line_id', 'product_id', 'sold', 'refunded'])
        .execute();
      touched.push(...rows);
    }
    // Refunded lines of orders whose sale just arrived: now it is known what was sold (and a refund
    // of a line the sale does not have becomes an over-refund).
    const seen = new Set(touched.map((r) => JSON.stringify([r.order_id, r.line_id])));
    const orders = [...this.#orders];
    for (let i = 0; i < orders.length; i += CHUNK) {
      const more = await trx
        .selectFrom('sale_line_tallies')
        .select(['order_id', 'line_id', 'product_id', 'sold', 'refunded'])
        .where('org_id', '=', this.orgId)
        .where('order_id', 'in', orders.slice(i, i + CHUNK))
        .execute();
      for (const r of more) {
        if (seen.has(JSON.stringify([r.order_id, r.line_id]))) continue;
        const line = lineOf(r.order_id, r.line_id);
        const updated = { ...r, sold: line?.sold ?? r.sold, product_id: line?.productId ?? r.product_id };
        await trx
          .updateTable('sale_line_tallies')
          .set({ sold: updated.sold, product_id: updated.product_id })
          .where('org_id', '=', this.orgId)
          .where('order_id', '=', r.order_id)
          .where('line_id', '=', r.line_id)
          .execute();
        touched.push(updated);
      }
    }
    for (const r of touched) {
      const data = alert({
        kind: 'over_refund',
        orderId: r.order_id,
        lineId: r.line_id,
        productId: r.product_id,
        sold: qtyMilli(r.sold),
        refunded: qtyMilli(r.refunded),
      });
      // Core's rule: refunded beyond sold, once the sale is known. A refund whose sale has not
      // arrived yet (or is older than the server's history) is not an over-refund.
      const over = sales.has(r.order_id) && r.refunded > r.sold;
      if (over) raise.push({ key: data.key, kind: 'over_refund', data });
      else clear.push(data.key);
    }
  }

  async #flushBalances(trx: Transaction<Database>, now: number, raise: AlertInput[], clear: string[]): Promise<void> {
    const entries = [...this.#balances.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
    for (let i = 0; i < entries.length; i += CHUNK) {
      const rows = await trx
        .insertInto('balances')
        .values(
          entries.slice(i, i + CHUNK).map((e) => ({
            org_id: this.orgId,
            account: e.account,
            account_id: e.accountId,
            unit: e.unit,
            balance: e.delta,
            updated_at: now,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['org_id', 'account', 'account_id', 'unit']).doUpdateSet({
            balance: sql<number>`balances.balance + excluded.balance`,
            updated_at: sql<number>`excluded.updated_at`,
          }),
        )
        .returning(['account', 'account_id', 'unit', 'balance'])
        .execute();
      for (const r of rows) {
        const data = alert({ kind: 'negative_balance', account: r.account, id: r.account_id, unit: r.unit, balance: r.balance });
        if (r.balance < 0) raise.push({ key: data.key, kind: 'negative_balance', data });
        else clear.push(data.key);
      }
    }
  }
}
