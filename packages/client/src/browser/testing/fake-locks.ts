/**
 * An in-memory Web Locks `LockManager` for Node tests of the tab state machine: exclusive locks
 * only, with `ifAvailable`, `steal` and `signal` as the spec defines them (a steal rejects the
 * holder's request with an AbortError and pre-empts the queue; an aborted queued request rejects
 * with an AbortError and leaves the queue). Tests only.
 */

interface Request {
  readonly name: string;
  readonly callback: (lock: Lock | null) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  stolen: boolean;
}

function abortError(message: string): Error {
  const e = new Error(message);
  e.name = 'AbortError';
  return e;
}

/** The fake; `held(name)` and `queued(name)` let a test look inside. */
export class FakeLockManager {
  readonly #holders = new Map<string, Request>();
  readonly #queues = new Map<string, Request[]>();

  /** Whether the lock `name` is held now. */
  held(name: string): boolean {
    return this.#holders.has(name);
  }

  /** How many requests wait for `name`. */
  queued(name: string): number {
    return this.#queues.get(name)?.length ?? 0;
  }

  /** The `LockManager.request` overloads: `(name, callback)` and `(name, options, callback)`. */
  request(name: string, a: LockOptions | ((lock: Lock | null) => unknown), b?: (lock: Lock | null) => unknown): Promise<unknown> {
    const options: LockOptions = typeof a === 'function' ? {} : a;
    const callback = typeof a === 'function' ? a : b;
    if (callback === undefined) return Promise.reject(new TypeError('no callback'));
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(abortError('aborted before the request'));
    return new Promise((resolve, reject) => {
      const request: Request = { name, callback, resolve, reject, stolen: false };
      const holder = this.#holders.get(name);
      if (options.steal === true) {
        if (holder !== undefined) {
          holder.stolen = true;
          holder.reject(abortError('the lock was stolen'));
        }
        this.#grant(request);
        return;
      }
      const queue = this.#queues.get(name) ?? [];
      if (holder === undefined && queue.length === 0) {
        this.#grant(request);
        return;
      }
      if (options.ifAvailable === true) {
        Promise.resolve()
          .then(() => callback(null))
          .then(resolve, reject);
        return;
      }
      queue.push(request);
      this.#queues.set(name, queue);
      signal?.addEventListener('abort', () => {
        const q = this.#queues.get(name) ?? [];
        const at = q.indexOf(request);
        if (at < 0) return;
        q.splice(at, 1);
        reject(abortError('aborted while queued'));
      });
    });
  }

  #grant(request: Request): void {
    this.#holders.set(request.name, request);
    const lock = { name: request.name, mode: 'exclusive' } as Lock;
    Promise.resolve()
      .then(() => request.callback(lock))
      .then(
        (value) => {
          if (!request.stolen) request.resolve(value);
        },
        (e: unknown) => {
          if (!request.stolen) request.reject(e);
        },
      )
      .finally(() => {
        if (this.#holders.get(request.name) !== request) return;
        this.#holders.delete(request.name);
        const next = this.#queues.get(request.name)?.shift();
        if (next !== undefined) this.#grant(next);
      });
  }

  /** This fake as the DOM's type. */
  asLockManager(): LockManager {
    return this as unknown as LockManager;
  }
}
