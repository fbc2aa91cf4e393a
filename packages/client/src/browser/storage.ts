/**
 * The origin's storage as the register sees it: whether the browser promised not to evict it
 * (`navigator.storage.persist()`), and how much is used of how much (`estimate()`). A register's
 * database holds sales that may not be synced yet, so eviction under storage pressure would be
 * data loss: persistence is asked for at pairing and its answer kept in the pairing marker.
 */

/** What the browser says about the origin's storage; null where it has no answer or no API. */
export interface StorageInfo {
  /** Bytes used by the origin (all storage kinds together), as the browser estimates it. */
  readonly usage: number | null;
  /** Bytes the origin may use before writes fail with `QuotaExceededError`. */
  readonly quota: number | null;
  /** Whether the browser currently promises not to evict the origin's storage. */
  readonly persisted: boolean | null;
}

function storageManager(): StorageManager | undefined {
  return typeof navigator === 'undefined' ? undefined : navigator.storage;
}

/**
 * Asks the browser to keep the origin's storage under pressure. Chromium decides without a prompt
 * (engagement, installed app, notifications); Firefox may ask the user. Never throws: a browser
 * without the API or one that refuses answers false, and null means no API at all.
 *
 * @example
 * ```ts
 * const persisted = await requestPersistence(); // true, false, or null
 * ```
 */
export async function requestPersistence(storage: StorageManager | undefined = storageManager()): Promise<boolean | null> {
  if (storage === undefined || typeof storage.persist !== 'function') return null;
  try {
    return await storage.persist();
  } catch {
    return false;
  }
}

/**
 * The origin's usage, quota and persistence now.
 *
 * @example
 * ```ts
 * const { usage, quota } = await storageEstimate();
 * if (usage !== null && quota !== null && usage > 0.9 * quota) warn('storage almost full');
 * ```
 */
export async function storageEstimate(storage: StorageManager | undefined = storageManager()): Promise<StorageInfo> {
  if (storage === undefined) return { usage: null, quota: null, persisted: null };
  const [estimate, persisted] = await Promise.all([
    typeof storage.estimate === 'function' ? storage.estimate().catch(() => ({}) as StorageEstimate) : Promise.resolve({} as StorageEstimate),
    typeof storage.persisted === 'function' ? storage.persisted().catch(() => null) : Promise.resolve(null),
  ]);
  return { usage: estimate.usage ?? null, quota: estimate.quota ?? null, persisted };
}
