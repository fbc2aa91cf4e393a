/**
 * The worker thread of `prepare-pool.ts`: prepares batches of pushed ops (prepare-op.ts) and posts
 * them back. What it sends back omits each op's `raw` when it is the op that was sent (the caller
 * still has it), so a batch crosses the thread boundary about once each way.
 */
import { parentPort } from 'node:worker_threads';
import { prepareOp } from './prepare-op.js';
import type { Prepared } from './prepare-op.js';

/** A prepared op as it crosses back: `raw` only when prepare replaced it (a too-deep op's stub). */
export type PreparedMessage = Omit<Prepared, 'raw'> & { readonly raw?: unknown; readonly rawIsInput: boolean };

/** A request: the batch's ops, under an id the answer repeats. */
export interface PrepareRequest {
  readonly id: number;
  readonly ops: readonly unknown[];
}

/** The answer: every op prepared, or why preparing threw. */
export type PrepareAnswer = { readonly id: number; readonly out: PreparedMessage[] } | { readonly id: number; readonly error: string };

const port = parentPort;
if (port !== null) {
  port.on('message', (request: PrepareRequest) => {
    let answer: PrepareAnswer;
    try {
      const out = request.ops.map((raw, i): PreparedMessage => {
        const p = prepareOp(raw, i);
        if (p.raw !== raw) return { ...p, rawIsInput: false };
        const { raw: _sent, ...rest } = p;
        return { ...rest, rawIsInput: true };
      });
      answer = { id: request.id, out };
    } catch (err) {
      answer = { id: request.id, error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(answer);
  });
  port.postMessage('ready');
}
