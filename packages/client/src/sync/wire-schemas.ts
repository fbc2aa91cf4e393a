/**
 * The server's sync API as the register reads it (DESIGN §7, docs/adr/0013–0015): the shapes are
 * declared here, from the API contract, and every answer is parsed with them — the register never
 * imports the server's code. Unknown extra fields are tolerated (`z.object`), so a newer server
 * that adds a field does not break an older register.
 */
import { z } from 'zod';

/** The statuses a push answers per op. */
export const PushStatusSchema = z.enum(['applied', 'duplicate', 'quarantined', 'seq_conflict', 'pending_gap', 'deferred']);

/** One op's status. */
export type PushStatus = z.infer<typeof PushStatusSchema>;

/** `POST /api/v1/sync/push` → 200. */
export const PushResponseSchema = z.object({
  ackedSeq: z.int().min(0),
  serverTime: z.int().min(0),
  results: z.array(
    z.object({
      id: z.string().nullable(),
      status: PushStatusSchema,
      reason: z.string().optional(),
      message: z.string().optional(),
    }),
  ),
});

/** A push answer. */
export type PushResponse = z.infer<typeof PushResponseSchema>;

/** One change of the organisation's log, as `GET /api/v1/sync/pull` sends it. */
export const PulledChangeSchema = z.object({
  seq: z.int().min(1),
  id: z.string().min(1),
  entity: z.string().min(1),
  entityId: z.string().min(1),
  storeId: z.string().nullable(),
  op: z.enum(['upsert', 'delete']),
  data: z.unknown(),
  at: z.int().optional(),
});

/** A pulled change. */
export type PulledChange = z.infer<typeof PulledChangeSchema>;

/** `GET /api/v1/sync/pull` → 200. */
export const PullResponseSchema = z.object({
  changes: z.array(PulledChangeSchema),
  cursor: z.string().min(1),
  hasMore: z.boolean(),
  /** The server's clock (ms): the register compares its own with it on every sync. */
  serverTime: z.int().min(0).optional(),
});

/** A pull page. */
export type PullResponse = z.infer<typeof PullResponseSchema>;

/** One item of a snapshot page: a change without a log position. */
export const SnapshotItemSchema = z.object({
  entity: z.string().min(1),
  entityId: z.string().min(1),
  storeId: z.string().nullable(),
  op: z.enum(['upsert', 'delete']),
  data: z.unknown(),
});

/** A snapshot item. */
export type SnapshotItem = z.infer<typeof SnapshotItemSchema>;

/** `GET /api/v1/sync/snapshot` → 200. */
export const SnapshotPageSchema = z.object({
  items: z.array(SnapshotItemSchema),
  nextPage: z.string().min(1).nullable(),
  cursor: z.string().min(1),
  total: z.int().min(0),
  /** The server's clock (ms), as on a pull. */
  serverTime: z.int().min(0).optional(),
});

/** A snapshot page. */
export type SnapshotPage = z.infer<typeof SnapshotPageSchema>;

/** `POST /api/v1/registers/pair` → 200. */
export const PairingResponseSchema = z.object({
  deviceId: z.string().min(1),
  storeId: z.string().min(1),
  storeCode: z.string().min(1),
  registerCode: z.string().min(1),
  token: z.string().min(1),
  resume: z.object({
    lastSeq: z.int().min(0),
    lastReceiptNumber: z.int().min(0),
    chainHead: z.string().nullable(),
  }),
  serverTime: z.int().min(0).optional(),
  /** The organisation's key for personal data (docs/adr/0032); absent from servers before it. */
  serverKey: z.object({ keyId: z.string().min(1), publicKey: z.string().min(1) }).optional(),
});

/** A pairing answer. */
export type PairingResponse = z.infer<typeof PairingResponseSchema>;

/** Every error answer: `{error, message, details?}`. */
export const ErrorBodySchema = z.object({
  error: z.string().min(1),
  message: z.string().optional(),
  details: z.unknown().optional(),
});

/** An error answer. */
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** One alert as `GET /api/v1/alerts` lists it (a register sees its own store's). */
export const AlertViewSchema = z.object({
  id: z.string(),
  key: z.string(),
  kind: z.string(),
  status: z.string(),
  storeId: z.string().nullable().optional(),
  registerId: z.string().nullable(),
  data: z.unknown(),
  occurrences: z.int(),
  firstSeenAt: z.int(),
  lastSeenAt: z.int(),
  acknowledgedAt: z.int().nullable(),
});

/** `GET /api/v1/alerts` → 200 (one page). */
export const AlertListSchema = z.object({ alerts: z.array(AlertViewSchema), total: z.int().min(0), limit: z.int(), offset: z.int() });

/** An alert list page. */
export type AlertList = z.infer<typeof AlertListSchema>;

const ConflictWriteSchema = z.object({ value: z.unknown(), hlc: z.string() });

/** One merge conflict as `GET /api/v1/conflicts` lists it. */
export const ConflictViewSchema = z.object({
  id: z.string(),
  docType: z.string(),
  docId: z.string(),
  field: z.string(),
  winner: ConflictWriteSchema,
  loser: ConflictWriteSchema,
  current: ConflictWriteSchema.nullable(),
  status: z.string(),
  detectedAt: z.int(),
});

/** `GET /api/v1/conflicts` → 200 (one page). */
export const ConflictListSchema = z.object({ conflicts: z.array(ConflictViewSchema), total: z.int().min(0), limit: z.int(), offset: z.int() });

/** A conflict list page. */
export type ConflictList = z.infer<typeof ConflictListSchema>;

/** `POST /api/v1/registers/me/data-loss` → 200: the alert the server raised. */
export const DataLossReportResponseSchema = z.object({
  alertKey: z.string(),
  serverLastSeq: z.int().min(0),
  serverLastReceiptNumber: z.int().min(0),
  serverTime: z.int().min(0).optional(),
});

/** A data-loss report's answer. */
export type DataLossReportResponse = z.infer<typeof DataLossReportResponseSchema>;
