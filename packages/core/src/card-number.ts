/**
 * Detects full payment card numbers (PANs) so they are never stored: Kassa sits outside the card
 * data environment and keeps only brand, last four, approval code and provider reference.
 *
 * PLACEHOLDER — the card-number detection is being written; see the brief.
 */

/** True when `text` contains something that is a full card number. */
export function containsCardNumber(text: string): boolean {
  void text;
  return false;
}
