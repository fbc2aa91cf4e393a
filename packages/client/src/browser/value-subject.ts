/**
 * A minimal observable value: the current value plus change notifications. The UI reads `value`
 * for its first render and subscribes for the rest; no stream library is needed for one value.
 */

/** A value that changes over time. */
export interface Observable<T> {
  /** The current value. */
  readonly value: T;
  /**
   * Calls `listener` with the current value now and with every later value; returns the
   * function that stops it.
   *
   * @example
   * ```ts
   * const stop = tab.status$.subscribe((s) => render(s));
   * ```
   */
  subscribe(listener: (value: T) => void): () => void;
}

/** An {@link Observable} its owner can set. */
export class ValueSubject<T> implements Observable<T> {
  #value: T;
  readonly #listeners = new Set<(value: T) => void>();

  constructor(initial: T) {
    this.#value = initial;
  }

  /** The current value. */
  get value(): T {
    return this.#value;
  }

  /** See {@link Observable.subscribe}. */
  subscribe(listener: (value: T) => void): () => void {
    this.#listeners.add(listener);
    listener(this.#value);
    return () => this.#listeners.delete(listener);
  }

  /** Sets the value and tells every listener; a throwing listener does not stop the others. */
  next(value: T): void {
    this.#value = value;
    for (const listener of [...this.#listeners]) {
      try {
        listener(value);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
