/**
 * A store whose commands tell the sync engine when they have queued an op, so the push goes at
 * once (unless the engine is backing off) without every caller remembering `notifyLocalOp()`.
 */
import type { AsyncRegisterStore } from '../store/register-engine.js';

/** The store methods that append an op to the outbox. */
export const OP_COMMANDS = [
  'completeSale',
  'refund',
  'voidSale',
  'moveCash',
  'openShift',
  'closeShift',
  'adjustStock',
  'countStock',
  'saveCustomer',
  'saveCustomerSealed',
  'editProduct',
  'importUnsynced',
] as const satisfies readonly (keyof AsyncRegisterStore)[];

/**
 * Wraps `store` so each command, once it resolved (its transaction committed), calls
 * `engine.notifyLocalOp()`. Everything else passes through unchanged.
 *
 * @example
 * ```ts
 * const till = notifyingStore(store, sync);
 * await till.completeSale({ cart, staffId, tenders }); // committed, and the push is on its way
 * ```
 */
export function notifyingStore<S extends Pick<AsyncRegisterStore, (typeof OP_COMMANDS)[number]>>(store: S, engine: { notifyLocalOp(): void }): S {
  const commands = new Set<string | symbol>(OP_COMMANDS);
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (!commands.has(prop) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        engine.notifyLocalOp();
        return result;
      };
    },
  });
}
