/**
 * One engine syncs one database. In the browser, Web Locks decide which tab owns it (the tab
 * ownership module); in Node (the simulator, tests) this plain in-process lock does: a second
 * engine on the same database waits, and takes over when the first stops.
 */

/** Grants one holder per name at a time. */
export interface OwnerLock {
  /** The release function when the lock was free, else null (nothing queued). */
  tryAcquire(name: string): (() => void) | null;
  /** Resolves with the release function once the lock is ours; rejects if `signal` aborts first. */
  acquire(name: string, signal?: AbortSignal): Promise<() => void>;
}

interface Entry {
  held: boolean;
  readonly queue: (() => void)[];
}

/**
 * An {@link OwnerLock} within one JavaScript realm (a Node process).
 *
 * @example
 * ```ts
 * const lock = createInProcessLock();
 * const release = lock.tryAcquire('/var/lib/kassa/register.sqlite'); // null if another engine holds it
 * ```
 */
export function createInProcessLock(): OwnerLock {
  const entries = new Map<string, Entry>();
  const entry = (name: string): Entry => {
    let e = entries.get(name);
    if (e === undefined) {
      e = { held: false, queue: [] };
      entries.set(name, e);
    }
    return e;
  };
  const releaser = (name: string, e: Entry): (() => void) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = e.queue.shift();
      if (next !== undefined) next();
      else {
        e.held = false;
        entries.delete(name);
      }
    };
  };
  return {
    tryAcquire(name) {
      const e = entry(name);
      if (e.held) return null;
      e.held = true;
      return releaser(name, e);
    },
    acquire(name, signal) {
      const e = entry(name);
      if (!e.held) {
        e.held = true;
        return Promise.resolve(releaser(name, e));
      }
      return new Promise((resolve, reject) => {
        const grant = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve(releaser(name, e));
        };
        const onAbort = (): void => {
          const i = e.queue.indexOf(grant);
          if (i >= 0) e.queue.splice(i, 1);
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        };
        if (signal?.aborted === true) {
          onAbort();
          return;
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        e.queue.push(grant);
      });
    },
  };
}

/** The lock every engine of this process shares unless given another. */
export const processLock: OwnerLock = createInProcessLock();
