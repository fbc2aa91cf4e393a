/**
 * EAN-13 check digits (GS1 mod-10: weights 1,3,1,3… from the left over the first 12 digits).
 * The server's own copy for the demo catalog, so the seed does not depend on core modules still
 * being written.
 */

/** The check digit for 12 leading digits. */
export function ean13CheckDigit(first12: string): number {
  if (!/^\d{12}$/.test(first12)) throw new RangeError(`EAN-13 needs 12 digits before the check digit, got "${first12}"`);
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(first12[i]) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10;
}

/** Appends the check digit to 12 digits. */
export function withEan13CheckDigit(first12: string): string {
  return `${first12}${ean13CheckDigit(first12)}`;
}

/** True for 13 digits whose last one is the right check digit. */
export function isValidEan13(code: string): boolean {
  return /^\d{13}$/.test(code) && ean13CheckDigit(code.slice(0, 12)) === Number(code[12]);
}

/**
 * True for a GS1 in-store variable-measure code (prefix 20–29): the shop's own PLU with a weight
 * or price embedded, never a manufacturer's product.
 */
export function isInStoreCode(code: string): boolean {
  return /^2\d{12}$/.test(code);
}
