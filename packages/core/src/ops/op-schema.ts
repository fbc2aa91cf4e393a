/**
 * The schema of every op of the current version: one discriminated union on `type`. The register
 * validates an op with it before writing it to the outbox, the server on every push, and the
 * OpenAPI document is generated from it.
 */
import { z } from 'zod';
import {
  GiftCardIssuedOpSchema,
  GiftCardRedeemedOpSchema,
  GiftCardReloadedOpSchema,
  LoyaltyAccruedOpSchema,
  LoyaltyRedeemedOpSchema,
  StoreCreditIssuedOpSchema,
  StoreCreditRedeemedOpSchema,
} from './balance-ops.js';
import { CashMovedOpSchema, DrawerOpenedOpSchema, ShiftClosedOpSchema, ShiftOpenedOpSchema } from './cash-ops.js';
import { CustomerUpsertedOpSchema, ProductEditedOpSchema, ReferenceEditedOpSchema } from './reference-ops.js';
import { ExchangeCompletedOpSchema, RefundCompletedOpSchema, SaleCompletedOpSchema, SaleVoidedOpSchema } from './sale-ops.js';
import {
  StockAdjustedOpSchema,
  StockCountedOpSchema,
  StockReceivedOpSchema,
  StockTransferredOpSchema,
} from './stock-ops.js';

/**
 * Any op of the current schema version.
 *
 * @example
 * ```ts
 * const result = OpSchema.safeParse(JSON.parse(body));
 * if (result.success && result.data.type === 'cash.moved') console.log(result.data.payload.amount);
 * ```
 */
export const OpSchema = z.discriminatedUnion('type', [
  SaleCompletedOpSchema,
  SaleVoidedOpSchema,
  RefundCompletedOpSchema,
  ExchangeCompletedOpSchema,
  CashMovedOpSchema,
  ShiftOpenedOpSchema,
  ShiftClosedOpSchema,
  DrawerOpenedOpSchema,
  StockAdjustedOpSchema,
  StockReceivedOpSchema,
  StockCountedOpSchema,
  StockTransferredOpSchema,
  CustomerUpsertedOpSchema,
  ProductEditedOpSchema,
  ReferenceEditedOpSchema,
  GiftCardIssuedOpSchema,
  GiftCardReloadedOpSchema,
  GiftCardRedeemedOpSchema,
  StoreCreditIssuedOpSchema,
  StoreCreditRedeemedOpSchema,
  LoyaltyAccruedOpSchema,
  LoyaltyRedeemedOpSchema,
]);

/** Any op of the current schema version, as TypeScript sees it after parsing. */
export type Op = z.infer<typeof OpSchema>;

/** The name of an op type, e.g. `sale.completed`. */
export type OpType = Op['type'];

/** The op of one type. */
export type OpOf<T extends OpType> = Extract<Op, { type: T }>;

/** The payload of one op type. */
export type OpPayload<T extends OpType> = OpOf<T>['payload'];

/** Every op type, in the order of {@link OpSchema}'s options. */
export const OP_TYPES = OpSchema.options.map((o) => o.shape.type.value) as readonly OpType[];

/**
 * The schema of each op type by name, e.g. to validate only the payload or to document one type.
 *
 * @example
 * ```ts
 * OP_SCHEMAS['stock.adjusted'].shape.payload.safeParse(payload);
 * ```
 */
export const OP_SCHEMAS = Object.fromEntries(OpSchema.options.map((o) => [o.shape.type.value, o])) as {
  readonly [T in OpType]: Extract<(typeof OpSchema.options)[number], { shape: { type: z.ZodLiteral<T> } }>;
};
