/**
 * Runs the pure part of a push — `parseOp` and hashing, about 150 µs an op (prepare-op.ts) — on a
 * worker thread, so a 100-op batch does not hold the event loop for 15 ms while other pushes wait
 * to run their SQL (or, on PostgreSQL, to send the next statement of a transaction that holds the
 * organisation's lock). The result is the same `Prepared[]` as preparing on the main thread.
 *
 * ```
 *   small batch (< MIN_OPS_FOR_WORKER), an op nested too deep to clone safely,
 *   worker not started yet / failed ─────────────────────────────► prepare here, at once
 *   otherwise ─► post ops to the worker ─► Prepared (raw re-attached) ─► push-batch
 *                         └─ the worker fails or throws ──────────► prepare here (same answer or same throw)
 * ```
 *
 * One worker per process, started at the first large batch and shared by every app in the
 * process; it does not keep the process alive.
 */
import { Worker } from 'node:worker_threads';
import { MAX_OP_DEPTH, nestsDeeperThan, prepareOp } from './prepare-op.js';
import type { Prepared } from './prepare-op.js';
import type { PrepareAnswer, PreparedMessage } from './prepare-worker.js';

/** Batches smaller than this are prepared on the main thread: the round trip would cost more. */
export const MIN_OPS_FOR_WORKER = 32;

class PrepareWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (out: PreparedMessage[]) => void; reject: (err: Error) => void }>();
  #next = 0;
  #dead = false;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (answer: PrepareAnswer) => {
      const waiting = this.#pending.get(answer.id);
      if (waiting === undefined) return;
      this.#pending.delete(answer.id);
      if (this.#pending.size === 0) worker.unref();
      if ('error' in answer) waiting.reject(new Error(answer.error));
      else waiting.resolve(answer.out);
    });
    const fail = (err: Error): void => {
      this.#dead = true;
      for (const w of this.#pending.values()) w.reject(err);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the prepare worker exited (${code})`)));
    worker.unref();
  }

  get alive(): boolean {
    return !this.#dead;
  }

  run(ops: readonly unknown[]): Promise<PreparedMessage[]> {
    return new Promise((resolve, reject) => {
      const id = this.#next++;
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, ops });
    });
  }
}

let shared: PrepareWorker | undefined;
let starting = false;

function startWorker(): void {
  if (starting) return;
  starting = true;
  try {
    // Under tsx (the server runs from its TypeScript sources) the worker registers tsx's loader
    // before it imports its TypeScript entry; `--import tsx` in execArgv would come too late for it.
    const fromSources = import.meta.url.endsWith('.ts');
    const entry = new URL(fromSources ? './prepare-worker.ts' : './prepare-worker.js', import.meta.url).href;
    const tsxApi = typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx/esm/api') : 'tsx/esm/api';
    const source = fromSources
      ? `(async () => { const { register } = await import(${JSON.stringify(tsxApi)}); register(); await import(${JSON.stringify(entry)}); })();`
      : `import(${JSON.stringify(entry)});`;
    const worker = new Worker(source, { eval: true });
    worker.unref();
    worker.once('message', (first: unknown) => {
      if (first === 'ready') shared = new PrepareWorker(worker);
    });
    worker.once('error', () => undefined);
  } catch {
    // No worker: every batch is prepared on the main thread, as before.
  }
}

/** Whether batches can go to the worker yet (for tests and diagnostics). */
export function prepareWorkerState(): 'not_started' | 'starting' | 'ready' | 'failed' {
  if (shared !== undefined) return shared.alive ? 'ready' : 'failed';
  return starting ? 'starting' : 'not_started';
}

/**
 * Prepares a push batch's ops (prepare-op.ts): on the worker thread when the batch is large and
 * the worker is up, else here. Either way the same result, in the order given.
 *
 * @example
 * ```ts
 * const prepared = await preparePushedOps(request.body.ops);
 * ```
 */
export async function preparePushedOps(ops: readonly unknown[]): Promise<Prepared[]> {
  if (ops.length < MIN_OPS_FOR_WORKER) return ops.map(prepareOp);
  // Structured cloning recurses: a hostile, deeply nested op never goes to the worker.
  if (ops.some((op) => nestsDeeperThan(op, MAX_OP_DEPTH))) return ops.map(prepareOp);
  const worker = shared;
  if (worker === undefined || !worker.alive) {
    if (worker === undefined) startWorker();
    return ops.map(prepareOp);
  }
  let out: PreparedMessage[];
  try {
    out = await worker.run(ops);
  } catch {
    return ops.map(prepareOp);
  }
  return out.map(({ rawIsInput, raw, ...p }, i) => ({ ...p, raw: rawIsInput ? ops[i] : raw }));
}
