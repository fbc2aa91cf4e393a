/**
 * The messages the register's tabs exchange over a `BroadcastChannel` (one per pool). Another tab
 * may run another version of the app (one tab reloaded after an upgrade, one not), so every
 * message is checked with zod and anything unknown is ignored rather than trusted.
 *
 * ```
 *   hello             a tab started: the owner answers with its status
 *   status            the owner's status (on every change, and to each hello)
 *   takeover-request  a follower asks the owner to let go
 *   handoff           the owner has closed its database: the named tab may take the lock now
 * ```
 */
import { z } from 'zod';

/** The phases an owning tab goes through (see the state machine in register-tab.ts). */
export const OwnerPhaseSchema = z.enum(['opening', 'ready', 'database-lost', 'failed', 'releasing', 'closed']);

/** See {@link OwnerPhaseSchema}. */
export type OwnerPhase = z.infer<typeof OwnerPhaseSchema>;

/** What the owning tab tells the others about itself and the register. */
export const OwnerStatusSchema = z.strictObject({
  tabId: z.string().min(1),
  phase: OwnerPhaseSchema,
  /** When this tab became the owner (ms since the epoch). */
  since: z.number(),
  /** The register it runs, once known. */
  register: z.strictObject({ storeCode: z.string(), registerCode: z.string() }).nullable(),
  /** The highest op seq committed that the owner knows of. */
  lastSeq: z.number().nullable(),
  /** Why the database is not usable, in `database-lost` and `failed`. */
  error: z.strictObject({ name: z.string(), code: z.string(), message: z.string() }).nullable(),
  /** What the owner publishes besides (the sync status, for one): structured-cloneable data. */
  detail: z.unknown(),
});

/** See {@link OwnerStatusSchema}. */
export type OwnerStatus = z.infer<typeof OwnerStatusSchema>;

/** One message between tabs. */
export const TabMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ v: z.literal(1), type: z.literal('hello'), from: z.string().min(1) }),
  z.strictObject({ v: z.literal(1), type: z.literal('status'), from: z.string().min(1), owner: OwnerStatusSchema }),
  z.strictObject({ v: z.literal(1), type: z.literal('takeover-request'), from: z.string().min(1) }),
  z.strictObject({ v: z.literal(1), type: z.literal('handoff'), from: z.string().min(1), to: z.string().min(1) }),
]);

/** See {@link TabMessageSchema}. */
export type TabMessage = z.infer<typeof TabMessageSchema>;

/** Distributes a message type over a union so `Omit` keeps each member's own fields. */
type WithoutEnvelope<M> = M extends unknown ? Omit<M, 'v' | 'from'> : never;

/** A typed view of one `BroadcastChannel`. */
export interface TabChannel {
  /** Sends to every other tab on the channel (never to this one). */
  post(message: WithoutEnvelope<TabMessage>): void;
  /** Calls `listener` with each valid message from another tab. */
  onMessage(listener: (message: TabMessage) => void): void;
  close(): void;
}

/**
 * Opens the channel `name` for the tab `tabId`.
 *
 * @example
 * ```ts
 * const channel = openTabChannel('kassa-tabs:register', tabId);
 * channel.post({ type: 'hello' });
 * ```
 */
export function openTabChannel(name: string, tabId: string, open: (name: string) => BroadcastChannel = (n) => new BroadcastChannel(n)): TabChannel {
  const channel = open(name);
  let closed = false;
  return {
    post(message) {
      if (!closed) channel.postMessage({ ...message, v: 1, from: tabId });
    },
    onMessage(listener) {
      channel.addEventListener('message', (event: MessageEvent) => {
        const parsed = TabMessageSchema.safeParse(event.data);
        if (parsed.success && parsed.data.from !== tabId) listener(parsed.data);
      });
    },
    close() {
      closed = true;
      channel.close();
    },
  };
}
