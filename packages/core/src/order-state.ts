/**
 * The life of an order, as a state machine:
 *
 * ```
 *                   park
 *    +--------+ -----------> +--------+
 *    |  open  |              | parked |
 *    +--------+ <----------- +--------+
 *      |    |      resume        |
 *      |    | void               | void
 *      |    | (abandoned)        | (abandoned)
 *      |    v                    v
 *      |  +-------------------------+
 *      |  |         voided          | <------------------+
 *      |  +-------------------------+                    |
 *      | complete                                        | void (post-void)
 *      v                                                 |
 *    +-----------+ --------------------------------------+
 *    | completed |
 *    +-----------+ --- refund_part ---> +--------------------+ ---+
 *          |                            | partially_refunded |    | refund_part
 *          | refund_rest                +--------------------+ <--+
 *          v                                      |
 *    +----------------+                           | refund_rest
 *    | fully_refunded | <-------------------------+
 *    +----------------+
 * ```
 *
 * `voided` and `fully_refunded` are final. A post-void reverses
 * a completed sale as a whole; once any money went back by refund, only refunds remain.
 */
import { KassaError } from './errors.js';

/** Every state an order can be in. */
export const ORDER_STATES = ['open', 'parked', 'completed', 'partially_refunded', 'fully_refunded', 'voided'] as const;

/** The state of an order. */
export type OrderState = (typeof ORDER_STATES)[number];

/** Every event that moves an order. */
export const ORDER_EVENTS = ['park', 'resume', 'complete', 'void', 'refund_part', 'refund_rest'] as const;

/**
 * What happened to an order. `void` abandons an open or parked order, or post-voids a completed
 * one; `refund_part` leaves something refundable, `refund_rest` refunds the last of it.
 */
export type OrderEvent = (typeof ORDER_EVENTS)[number];

/** The event is not allowed in the order's state. */
export class InvalidTransitionError extends KassaError {
  readonly code = 'invalid_transition';
  constructor(
    readonly from: OrderState,
    readonly event: OrderEvent,
  ) {
    super(`an order that is ${from} cannot ${event}`);
  }
}

const TRANSITIONS: Readonly<Record<OrderState, Partial<Record<OrderEvent, OrderState>>>> = {
  open: { park: 'parked', complete: 'completed', void: 'voided' },
  parked: { resume: 'open', void: 'voided' },
  completed: { refund_part: 'partially_refunded', refund_rest: 'fully_refunded', void: 'voided' },
  partially_refunded: { refund_part: 'partially_refunded', refund_rest: 'fully_refunded' },
  fully_refunded: {},
  voided: {},
};

/**
 * The state after `event`.
 *
 * @throws InvalidTransitionError when the event is not allowed in `state`.
 * @example
 * ```ts
 * transition('open', 'park') // 'parked'
 * transition('completed', 'refund_part') // 'partially_refunded'
 * transition('voided', 'resume') // throws InvalidTransitionError { from: 'voided', event: 'resume' }
 * ```
 */
export function transition(state: OrderState, event: OrderEvent): OrderState {
  const next = TRANSITIONS[state][event];
  if (next === undefined) throw new InvalidTransitionError(state, event);
  return next;
}

/** The events allowed in `state`, e.g. to enable buttons. */
export function allowedEvents(state: OrderState): OrderEvent[] {
  return ORDER_EVENTS.filter((e) => TRANSITIONS[state][e] !== undefined);
}

/** True for a state nothing can leave (`voided`, `fully_refunded`). */
export function isFinalState(state: OrderState): boolean {
  return allowedEvents(state).length === 0;
}
