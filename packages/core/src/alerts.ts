/**
 * A broken rule at the till (an oversell, a refund beyond the sale, a gift card below zero, a sale
 * rung up after the shift closed) is returned as data, never as a refusal: what happened at the till
 * happened, and the facts are applied anyway (DESIGN.md §2). The reducers of the stock ledger,
 * shifts and balances return these alongside their new state; the server stores them by `key`.
 *
 * The `key` names the subject of an alert (which product, which sale line, which account), not its
 * current figures, so the same breach computed twice, or recomputed after more facts arrived,
 * is recognised as one alert whose figures are updated.
 */
import { canonicalJson } from './canonical-json.js';
import type { CurrencyCode } from './currency.js';
import type { Qty } from './quantity.js';

/** The kind of a customer-facing balance: gift card, store credit or loyalty points. */
export type AccountKind = 'gift_card' | 'store_credit' | 'loyalty';

/** Which reducer a fact belongs to, for {@link AlertData} `conflicting_fact`. */
export type FactSubject = 'stock_movement' | 'shift_event' | 'balance_event';

/** The shift boundary events: there should be exactly one of each per shift. */
export type ShiftBoundary = 'opened' | 'closed';

/** An alert without its key: what the reducers construct before {@link alert} names it. */
export type AlertData =
  /** On-hand of a product (or one of its variants) is below zero. */
  | {
      readonly kind: 'oversell';
      readonly productId: string;
      readonly variantId?: string;
      readonly onHand: Qty;
    }
  /** More of a sale line was refunded than was sold. */
  | {
      readonly kind: 'over_refund';
      readonly orderId: string;
      readonly lineId: string;
      readonly productId: string;
      readonly sold: Qty;
      readonly refunded: Qty;
    }
  /** A balance is below zero; `unit` is the currency, or `points` for loyalty. */
  | {
      readonly kind: 'negative_balance';
      readonly account: AccountKind;
      readonly id: string;
      readonly unit: CurrencyCode | 'points';
      readonly balance: number;
    }
  /** An event of a shift is timed before the shift opened or after it closed (it still counts). */
  | {
      readonly kind: 'event_outside_shift';
      readonly shiftId: string;
      readonly eventId: string;
      readonly eventKind: string;
      readonly position: 'before_open' | 'after_close';
    }
  /** A void names a sale that is not part of its shift; nothing was reversed. */
  | {
      readonly kind: 'unmatched_void';
      readonly shiftId: string;
      readonly voidId: string;
      readonly orderId: string;
    }
  /** An event of a shift is in another currency than the shift's; it is left out of the totals. */
  | {
      readonly kind: 'foreign_currency';
      readonly shiftId: string;
      readonly eventId: string;
      readonly currency: CurrencyCode;
      readonly shiftCurrency: CurrencyCode;
    }
  /** A drawer count's entered total disagrees with its denominations (the denominations are used). */
  | {
      readonly kind: 'count_mismatch';
      readonly shiftId: string;
      readonly eventId: string;
      readonly boundary: ShiftBoundary;
      readonly enteredTotal: number;
      readonly denominationsTotal: number;
    }
  /** A shift was opened (or closed) more than once; the earliest such event is used. */
  | {
      readonly kind: 'duplicate_shift_boundary';
      readonly shiftId: string;
      readonly boundary: ShiftBoundary;
      readonly eventIds: readonly string[];
    }
  /** Two different facts arrived under one id; the reducer kept one of them deterministically. */
  | {
      readonly kind: 'conflicting_fact';
      readonly subject: FactSubject;
      readonly id: string;
    };

/** A breach reported as data, with the stable key that identifies its subject. */
export type Alert = AlertData & { readonly key: string };

/** The kinds of {@link Alert}. */
export type AlertKind = AlertData['kind'];

// Ids are usually UUIDs, but gift-card codes and rate ids are free text: escaping the separator
// keeps two different subjects from ever sharing a key.
const part = (s: string): string => s.replace(/%/g, '%25').replace(/:/g, '%3A');

/**
 * The stable key of an alert: its kind and the ids of its subject, never its figures.
 *
 * @example
 * ```ts
 * alertKey({ kind: 'oversell', productId: 'p1', onHand: qtyMilli(-2000) }) // 'oversell:p1'
 * ```
 */
export function alertKey(data: AlertData): string {
  const parts: string[] = (() => {
    switch (data.kind) {
      case 'oversell':
        return data.variantId === undefined ? [data.productId] : [data.productId, data.variantId];
      case 'over_refund':
        return [data.orderId, data.lineId];
      case 'negative_balance':
        return [data.account, data.id, data.unit];
      case 'event_outside_shift':
        return [data.shiftId, data.eventId];
      case 'unmatched_void':
        return [data.shiftId, data.voidId];
      case 'foreign_currency':
        return [data.shiftId, data.eventId];
      case 'duplicate_shift_boundary':
        return [data.shiftId, data.boundary];
      case 'count_mismatch':
        return [data.shiftId, data.eventId];
      case 'conflicting_fact':
        return [data.subject, data.id];
    }
  })();
  return [data.kind, ...parts].map(part).join(':');
}

/**
 * Names an alert with its {@link alertKey}.
 *
 * @example
 * ```ts
 * alert({ kind: 'negative_balance', account: 'gift_card', id: 'GC-1', unit: 'EUR', balance: -500 }).key
 * // 'negative_balance:gift_card:GC-1:EUR'
 * ```
 */
export function alert(data: AlertData): Alert {
  return { ...data, key: alertKey(data) };
}

/** Alerts sorted by key, one per key (the last given wins), so two computations compare equal. */
export function sortAlerts(alerts: Iterable<Alert>): Alert[] {
  const byKey = new Map<string, Alert>();
  for (const a of alerts) byKey.set(a.key, a);
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Decides which of two facts with the same id is kept, independently of which arrived first: the
 * one whose canonical JSON is smaller. Returns `conflict: true` when they differ (the caller raises
 * a `conflicting_fact` alert). The sync layer already refuses a different op under a known id, so
 * this is the last line of defence that keeps every reducer order-independent even then.
 *
 * @example
 * ```ts
 * resolveSameId({ id: 'm1', qty: 2000 }, { id: 'm1', qty: 1000 }) // { fact: { id: 'm1', qty: 1000 }, conflict: true }
 * ```
 */
export function resolveSameId<T>(kept: T, incoming: T): { readonly fact: T; readonly conflict: boolean } {
  const a = canonicalJson(kept);
  const b = canonicalJson(incoming);
  if (a === b) return { fact: kept, conflict: false };
  return { fact: b < a ? incoming : kept, conflict: true };
}
