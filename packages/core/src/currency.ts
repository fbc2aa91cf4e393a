/**
 * ISO 4217 currencies and the number of decimals of their minor unit. Kassa keeps every amount
 * as an integer count of minor units, so the exponent is all it needs to know.
 */
import { UnknownCurrencyError } from './errors.js';

const EXPONENTS: Readonly<Record<string, number>> = {
  // Zero-decimal currencies.
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0,
  UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  // Three-decimal currencies.
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  // Four-decimal.
  CLF: 4, UYW: 4,
  // Two-decimal currencies a shop is likely to use.
  AED: 2, ARS: 2, AUD: 2, BGN: 2, BRL: 2, CAD: 2, CHF: 2, CNY: 2, COP: 2, CZK: 2, DKK: 2,
  EGP: 2, EUR: 2, GBP: 2, HKD: 2, HUF: 2, IDR: 2, ILS: 2, INR: 2, MAD: 2, MXN: 2, MYR: 2,
  NGN: 2, NOK: 2, NZD: 2, PEN: 2, PHP: 2, PKR: 2, PLN: 2, RON: 2, RSD: 2, RUB: 2, SAR: 2,
  SEK: 2, SGD: 2, THB: 2, TRY: 2, TWD: 2, UAH: 2, USD: 2, ZAR: 2,
};

/** A three-letter ISO 4217 currency code, e.g. `EUR`. */
export type CurrencyCode = string;

/** True when Kassa knows the currency's minor-unit exponent. */
export function isKnownCurrency(code: string): boolean {
  return Object.hasOwn(EXPONENTS, code);
}

/**
 * The number of decimals of the currency's minor unit: 2 for EUR, 0 for JPY, 3 for BHD.
 *
 * @throws UnknownCurrencyError for a code Kassa does not know.
 */
export function currencyDecimals(code: CurrencyCode): number {
  const exp = EXPONENTS[code];
  if (exp === undefined) throw new UnknownCurrencyError(code);
  return exp;
}

/** Every currency code Kassa knows, sorted. */
export function knownCurrencies(): string[] {
  return Object.keys(EXPONENTS).sort();
}
