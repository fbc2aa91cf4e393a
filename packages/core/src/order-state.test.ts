import { describe, expect, it } from 'vitest';
import { allowedEvents, InvalidTransitionError, isFinalState, ORDER_EVENTS, ORDER_STATES, transition, type OrderEvent, type OrderState } from './order-state.js';

// The whole machine, written out by hand from the drawing in order-state.ts.
const ALLOWED: [OrderState, OrderEvent, OrderState][] = [
  ['open', 'park', 'parked'],
  ['parked', 'resume', 'open'],
  ['open', 'complete', 'completed'],
  ['open', 'void', 'voided'],
  ['parked', 'void', 'voided'],
  ['completed', 'void', 'voided'],
  ['completed', 'refund_part', 'partially_refunded'],
  ['completed', 'refund_rest', 'fully_refunded'],
  ['partially_refunded', 'refund_part', 'partially_refunded'],
  ['partially_refunded', 'refund_rest', 'fully_refunded'],
];

describe('order state machine', () => {
  it.each(ALLOWED)('%s --%s--> %s', (from, event, to) => {
    expect(transition(from, event)).toBe(to);
  });

  it('refuses every other pair with InvalidTransitionError naming the state and the event', () => {
    let refused = 0;
    for (const from of ORDER_STATES) {
      for (const event of ORDER_EVENTS) {
        if (ALLOWED.some(([f, e]) => f === from && e === event)) continue;
        expect(() => transition(from, event)).toThrow(InvalidTransitionError);
        try {
          transition(from, event);
        } catch (e) {
          expect(e).toMatchObject({ code: 'invalid_transition', from, event });
        }
        refused++;
      }
    }
    expect(refused).toBe(6 * 6 - ALLOWED.length);
  });

  it('cannot complete a parked order without resuming it first', () => {
    expect(() => transition('parked', 'complete')).toThrow(InvalidTransitionError);
    expect(transition(transition('parked', 'resume'), 'complete')).toBe('completed');
  });

  it('cannot post-void once money went back by refund', () => {
    expect(() => transition('partially_refunded', 'void')).toThrow(InvalidTransitionError);
  });

  it('lists the allowed events and knows the final states', () => {
    expect(allowedEvents('open')).toEqual(['park', 'complete', 'void']);
    expect(allowedEvents('completed')).toEqual(['void', 'refund_part', 'refund_rest']);
    expect(ORDER_STATES.filter(isFinalState)).toEqual(['fully_refunded', 'voided']);
  });
});
