/**
 * Base class of every error `core` throws. Each subclass carries the data that explains it, so
 * callers branch on `code` (or `instanceof`) and the server edge maps codes to HTTP statuses in one
 * table, never by parsing messages.
 *
 * @example
 * ```ts
 * try { money(1.5, 'EUR') } catch (e) { if (e instanceof KassaError) console.log(e.code) }
 * ```
 */
export abstract class KassaError extends Error {
  /** Stable, machine-readable identifier of the error kind, e.g. `non_integer_money`. */
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A value that must be an integer (minor units, thousandths) was not. */
export class NonIntegerError extends KassaError {
  readonly code = 'non_integer';
  constructor(
    readonly what: string,
    readonly value: number,
  ) {
    super(`${what} must be a safe integer, got ${String(value)}`);
  }
}

/** Two amounts in different currencies were combined. */
export class CurrencyMismatchError extends KassaError {
  readonly code = 'currency_mismatch';
  constructor(
    readonly left: string,
    readonly right: string,
  ) {
    super(`cannot combine ${left} with ${right}`);
  }
}

/** A currency code that is not a three-letter ISO 4217 code we know. */
export class UnknownCurrencyError extends KassaError {
  readonly code = 'unknown_currency';
  constructor(readonly currency: string) {
    super(`unknown currency code ${JSON.stringify(currency)}`);
  }
}

/** A decimal string that does not denote an exact amount in the given precision. */
export class InvalidDecimalError extends KassaError {
  readonly code = 'invalid_decimal';
  constructor(
    readonly input: string,
    readonly decimals: number,
  ) {
    super(`${JSON.stringify(input)} is not a decimal with at most ${decimals} places`);
  }
}

/** An argument outside its allowed range (negative weights, zero divisors, …). */
export class InvalidArgumentError extends KassaError {
  readonly code = 'invalid_argument';
  constructor(
    readonly argument: string,
    readonly reason: string,
  ) {
    super(`${argument}: ${reason}`);
  }
}
