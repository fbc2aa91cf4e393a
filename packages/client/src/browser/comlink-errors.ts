/**
 * Comlink sends a thrown error across the worker boundary as `{ name, message, stack }` only, so
 * the UI would lose `code` and the data a `KassaError` carries (`due`, `given`, `step`…). This
 * wraps Comlink's `throw` handler to send every own enumerable field that can be cloned too; the
 * receiving side's default handler assigns them onto the rebuilt `Error`, so `e.name`, `e.code`
 * and the data are there (the class itself cannot cross).
 */
import * as Comlink from 'comlink';

type ThrowHandler = Comlink.TransferHandler<unknown, unknown>;

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** Installs the richer error serialisation; call once in the worker before `Comlink.expose`. */
export function installErrorFields(): void {
  const original = Comlink.transferHandlers.get('throw') as ThrowHandler | undefined;
  if (original === undefined) return;
  const handler: ThrowHandler = {
    canHandle: (value): value is unknown => original.canHandle(value),
    serialize(thrown) {
      const [wire, transfer] = original.serialize(thrown);
      const error = (thrown as { value?: unknown }).value;
      const serialized = wire as { isError?: boolean; value?: Record<string, unknown> };
      if (error instanceof Error && serialized.isError === true && serialized.value !== undefined) {
        for (const [key, value] of Object.entries(error)) if (cloneable(value)) serialized.value[key] = value;
        const code = (error as { code?: unknown }).code;
        if (code !== undefined && cloneable(code)) serialized.value.code = code;
      }
      return [wire, transfer];
    },
    deserialize: (wire) => original.deserialize(wire),
  };
  Comlink.transferHandlers.set('throw', handler);
}
