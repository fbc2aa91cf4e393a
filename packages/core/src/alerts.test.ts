import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alert, alertKey, resolveSameId, sortAlerts } from './alerts.js';
import { canonicalJson } from './canonical-json.js';
import { qtyMilli } from './quantity.js';

describe('alert keys', () => {
  it('name the subject, not the figures', () => {
    const a = alert({ kind: 'oversell', productId: 'p1', variantId: 'v1', onHand: qtyMilli(-1000) });
    const b = alert({ kind: 'oversell', productId: 'p1', variantId: 'v1', onHand: qtyMilli(-5000) });
    expect(a.key).toBe('oversell:p1:v1');
    expect(b.key).toBe(a.key);
  });

  it('tell apart subjects whose ids contain the separator', () => {
    const a = alertKey({ kind: 'negative_balance', account: 'gift_card', id: 'A:B', unit: 'EUR', balance: -1 });
    const b = alertKey({ kind: 'negative_balance', account: 'gift_card', id: 'A', unit: 'B:EUR', balance: -1 });
    expect(a).toBe('negative_balance:gift_card:A%3AB:EUR');
    expect(a).not.toBe(b);
  });

  it('a product without a variant is not a variant of it', () => {
    expect(alertKey({ kind: 'oversell', productId: 'p', onHand: qtyMilli(-1) })).toBe('oversell:p');
    expect(alertKey({ kind: 'oversell', productId: 'p', variantId: '', onHand: qtyMilli(-1) })).toBe('oversell:p:');
  });
});

describe('sortAlerts', () => {
  it('orders by key and keeps one alert per key', () => {
    const x = alert({ kind: 'conflicting_fact', subject: 'shift_event', id: 'b' });
    const y = alert({ kind: 'conflicting_fact', subject: 'shift_event', id: 'a' });
    expect(sortAlerts([x, y, x]).map((a) => a.key)).toEqual(['conflicting_fact:shift_event:a', 'conflicting_fact:shift_event:b']);
  });
});

describe('resolveSameId', () => {
  it('recognises the same fact whatever its key order', () => {
    expect(resolveSameId({ a: 1, b: 'x' }, { b: 'x', a: 1 }).conflict).toBe(false);
  });

  it('keeps the same fact whichever of two arrived first', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const ab = resolveSameId(a, b);
        const ba = resolveSameId(b, a);
        expect(canonicalJson(ab.fact)).toBe(canonicalJson(ba.fact));
        expect(ab.conflict).toBe(ba.conflict);
        expect(ab.conflict).toBe(canonicalJson(a) !== canonicalJson(b));
      }),
      { numRuns: 500 },
    );
  });
});
