/**
 * Customer-facing balances as sums of facts: a gift card's balance is issued + reloaded − redeemed,
 * a customer's store credit is issued − redeemed (per currency), loyalty points are accrued −
 * redeemed.
 *
 * Every event is keyed by its id (applying it twice changes nothing) and a balance is a sum (the
 * order of arrival changes nothing). Balances are sums of these events alone: a sale's gift-card or
 * store-credit tender is the sale's view of a redemption that arrives as its own event, so it is
 * never turned into a second one here. Two registers offline may both redeem the last of a gift card:
 * both redemptions happened, the balance goes below zero, and a `negative_balance` alert says so.
 */
import { alert, resolveSameId, sortAlerts, type AccountKind, type Alert } from './alerts.js';
import type { CurrencyCode } from './currency.js';
import { InvalidArgumentError } from './errors.js';
import { money, type Money } from './money.js';
import { assertInteger } from './rounding.js';

/** A gift card was sold or activated with `amount`. */
export interface GiftCardIssued {
  readonly kind: 'gift_card_issued';
  readonly id: string;
  readonly giftCardId: string;
  readonly amount: Money;
}
/** Money was added to a gift card (including a refund paid onto it). */
export interface GiftCardReloaded {
  readonly kind: 'gift_card_reloaded';
  readonly id: string;
  readonly giftCardId: string;
  readonly amount: Money;
}
/** A gift card paid `amount`. */
export interface GiftCardRedeemed {
  readonly kind: 'gift_card_redeemed';
  readonly id: string;
  readonly giftCardId: string;
  readonly amount: Money;
}
/** A customer was given store credit (typically a refund). */
export interface StoreCreditIssued {
  readonly kind: 'store_credit_issued';
  readonly id: string;
  readonly customerId: string;
  readonly amount: Money;
}
/** A customer paid with store credit. */
export interface StoreCreditRedeemed {
  readonly kind: 'store_credit_redeemed';
  readonly id: string;
  readonly customerId: string;
  readonly amount: Money;
}
/** A customer earned loyalty points. */
export interface LoyaltyAccrued {
  readonly kind: 'loyalty_accrued';
  readonly id: string;
  readonly customerId: string;
  readonly points: number;
}
/** A customer spent loyalty points. */
export interface LoyaltyRedeemed {
  readonly kind: 'loyalty_redeemed';
  readonly id: string;
  readonly customerId: string;
  readonly points: number;
}

/** A fact that moves a balance. Amounts and points are magnitudes (≥ 0); the kind gives the sign. */
export type BalanceEvent =
  | GiftCardIssued
  | GiftCardReloaded
  | GiftCardRedeemed
  | StoreCreditIssued
  | StoreCreditRedeemed
  | LoyaltyAccrued
  | LoyaltyRedeemed;

/** One balance: minor units of `unit` for gift cards and store credit, points for loyalty. */
export interface AccountBalance {
  readonly account: AccountKind;
  /** The gift card's id, or the customer's id. */
  readonly id: string;
  readonly unit: CurrencyCode | 'points';
  readonly balance: number;
}

interface AccountTally extends AccountBalance {
  /** How many kept events touch this account: the entry exists exactly while some do. */
  readonly events: number;
}

/** The state: the events applied and the balances summed from them. Never mutated. */
export interface Balances {
  readonly events: ReadonlyMap<string, BalanceEvent>;
  readonly accounts: ReadonlyMap<string, AccountTally>;
  /** Ids under which two different events arrived. */
  readonly conflicts: ReadonlySet<string>;
}

/** The new state and the alerts now open among the accounts the batch touched. */
export interface BalancesApplyResult {
  readonly state: Balances;
  readonly alerts: Alert[];
}

/** No balances yet. */
export function emptyBalances(): Balances {
  return { events: new Map(), accounts: new Map(), conflicts: new Set() };
}

const accountKey = (account: AccountKind, id: string, unit: string): string => JSON.stringify([account, id, unit]);

function magnitude(value: number, e: BalanceEvent): number {
  assertInteger(value, `${e.kind} ${e.id} amount`);
  if (value < 0) throw new InvalidArgumentError(`${e.kind} ${e.id} amount`, 'must not be negative');
  return value;
}

/**
 * Which balance an event moves and by how much (signed minor units or points).
 *
 * @example
 * ```ts
 * balanceDelta({ kind: 'gift_card_redeemed', id: 'e1', giftCardId: 'GC-1', amount: money(500, 'EUR') })
 * // { account: 'gift_card', id: 'GC-1', unit: 'EUR', balance: -500 }
 * ```
 */
export function balanceDelta(e: BalanceEvent): AccountBalance {
  switch (e.kind) {
    case 'gift_card_issued':
    case 'gift_card_reloaded':
      return { account: 'gift_card', id: e.giftCardId, unit: e.amount.currency, balance: magnitude(e.amount.amount, e) };
    case 'gift_card_redeemed':
      return { account: 'gift_card', id: e.giftCardId, unit: e.amount.currency, balance: -magnitude(e.amount.amount, e) };
    case 'store_credit_issued':
      return { account: 'store_credit', id: e.customerId, unit: e.amount.currency, balance: magnitude(e.amount.amount, e) };
    case 'store_credit_redeemed':
      return { account: 'store_credit', id: e.customerId, unit: e.amount.currency, balance: -magnitude(e.amount.amount, e) };
    case 'loyalty_accrued':
      return { account: 'loyalty', id: e.customerId, unit: 'points', balance: magnitude(e.points, e) };
    case 'loyalty_redeemed':
      return { account: 'loyalty', id: e.customerId, unit: 'points', balance: -magnitude(e.points, e) };
  }
}

function contribute(accounts: Map<string, AccountTally>, e: BalanceEvent, sign: 1 | -1): string {
  const d = balanceDelta(e);
  const key = accountKey(d.account, d.id, d.unit);
  const cur = accounts.get(key) ?? { account: d.account, id: d.id, unit: d.unit, balance: 0, events: 0 };
  const next = { ...cur, balance: assertInteger(cur.balance + sign * d.balance, 'balance'), events: cur.events + sign };
  if (next.events === 0) accounts.delete(key);
  else accounts.set(key, next);
  return key;
}

/**
 * Applies balance events: an id already applied is a no-op, and neither order nor batching changes
 * the result. A balance going below zero is applied and reported as a `negative_balance` alert.
 *
 * @example
 * ```ts
 * const { state, alerts } = applyBalanceEvents(emptyBalances(), [
 *   { kind: 'gift_card_issued', id: 'e1', giftCardId: 'GC-1', amount: money(2000, 'EUR') },
 *   { kind: 'gift_card_redeemed', id: 'e2', giftCardId: 'GC-1', amount: money(2500, 'EUR') },
 * ]);
 * giftCardBalance(state, 'GC-1', 'EUR') // −500 EUR; alerts: one negative_balance
 * ```
 */
export function applyBalanceEvents(state: Balances, events: Iterable<BalanceEvent>): BalancesApplyResult {
  const kept = new Map(state.events);
  const accounts = new Map(state.accounts);
  const conflicts = new Set(state.conflicts);
  const touched = new Set<string>();
  const touchedIds = new Set<string>();

  for (const e of events) {
    const old = kept.get(e.id);
    if (old === undefined) {
      balanceDelta(e); // validates before anything changes
      kept.set(e.id, e);
      touched.add(contribute(accounts, e, 1));
      continue;
    }
    const { fact, conflict } = resolveSameId(old, e);
    if (!conflict) continue;
    conflicts.add(e.id);
    touchedIds.add(e.id);
    if (fact !== old) {
      balanceDelta(fact);
      touched.add(contribute(accounts, old, -1));
      touched.add(contribute(accounts, fact, 1));
      kept.set(e.id, fact);
    }
  }

  const next: Balances = { events: kept, accounts, conflicts };
  return { state: next, alerts: collectAlerts(next, touched, touchedIds) };
}

function collectAlerts(state: Balances, accountKeys: Iterable<string>, conflictIds: Iterable<string>): Alert[] {
  const out: Alert[] = [];
  for (const k of accountKeys) {
    const a = state.accounts.get(k);
    if (a && a.balance < 0) out.push(alert({ kind: 'negative_balance', account: a.account, id: a.id, unit: a.unit, balance: a.balance }));
  }
  for (const id of conflictIds) if (state.conflicts.has(id)) out.push(alert({ kind: 'conflicting_fact', subject: 'balance_event', id }));
  return sortAlerts(out);
}

/** Every alert the balances hold now (negative balances, conflicting events), sorted by key. */
export function balanceAlerts(state: Balances): Alert[] {
  return collectAlerts(state, state.accounts.keys(), state.conflicts);
}

/** Every balance with at least one event, sorted by account kind, id and unit. */
export function allBalances(state: Balances): AccountBalance[] {
  return [...state.accounts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, { account, id, unit, balance }]) => ({ account, id, unit, balance }));
}

/**
 * A gift card's balance in `currency` (zero for a card never seen).
 *
 * @example
 * ```ts
 * giftCardBalance(state, 'GC-1', 'EUR') // { amount: 1500, currency: 'EUR' }
 * ```
 */
export function giftCardBalance(state: Balances, giftCardId: string, currency: CurrencyCode): Money {
  return money(state.accounts.get(accountKey('gift_card', giftCardId, currency))?.balance ?? 0, currency);
}

/** A customer's store credit in `currency` (zero when none). */
export function storeCreditBalance(state: Balances, customerId: string, currency: CurrencyCode): Money {
  return money(state.accounts.get(accountKey('store_credit', customerId, currency))?.balance ?? 0, currency);
}

/** A customer's loyalty points (zero when none). */
export function loyaltyPoints(state: Balances, customerId: string): number {
  return state.accounts.get(accountKey('loyalty', customerId, 'points'))?.balance ?? 0;
}
