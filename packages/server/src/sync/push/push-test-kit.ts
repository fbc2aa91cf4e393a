/**
 * Test-only: a store whose register, staff and catalog are written straight into the database
 * (before the pairing API is involved), and ops built from core's samples with seqs, ids, HLCs and
 * a correct receipt chain, so push tests say only what they are about.
 */
import type { Kysely } from 'kysely';
import { formatReceiptNo, GENESIS_HASH, receiptHash } from '@kassa/core';
import type { OpOf, OpType } from '@kassa/core';
import { SAMPLE_IDS, SAMPLE_TIME, sampleId, sampleOp } from '@kassa/core/test-fixtures/ops';
import type { SampleOpOverrides } from '@kassa/core/test-fixtures/ops';
import type { Database, StaffRole } from '../../db/schema.js';
import { randomToken, sha256Hex } from '../../security/secrets.js';
import { recordStaffRole } from '../../staff/staff-roles.js';

/** The ids of the world the sample ops live in. */
export interface PushWorld {
  readonly orgId: string;
  readonly storeId: string;
  readonly registerId: string;
  /** The register's device token. */
  readonly token: string;
  readonly cashierId: string;
  readonly managerId: string;
}

/** Store and register codes of the samples' receipt numbers (`S01-R02-000123`). */
export const STORE_CODE = 'S01';
export const REGISTER_CODE = 'R02';

const SETTINGS = { currency: 'EUR', locale: 'de-DE', taxMode: 'inclusive', cashRoundingMinor: null, receiptHeader: ['Test'], variableMeasureLayouts: [] };

/** `Authorization` header of a token. */
export const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });

/** Adds a staff member holding `role` since `since` (ms). */
export async function addStaff(db: Kysely<Database>, world: Pick<PushWorld, 'orgId' | 'storeId'>, id: string, role: StaffRole, since = 0): Promise<void> {
  await db
    .insertInto('staff')
    .values({
      id,
      org_id: world.orgId,
      store_id: world.storeId,
      name: `Staff ${id.slice(-4)}`,
      role,
      // Never checked here: a verifier's shape, not a real one (600,000 rounds would slow every test).
      pin_kdf: 'pbkdf2-sha256',
      pin_iterations: 600_000,
      pin_salt: 'c2FsdA==',
      pin_hash: 'aGFzaA==',
      created_at: since,
      updated_at: since,
    })
    .execute();
  await recordStaffRole(db, { orgId: world.orgId, staffId: id, role, effectiveFrom: since });
}

/** Adds a paired register with the token `sha256Hex` is stored for; returns the token. */
export async function addRegister(
  db: Kysely<Database>,
  world: Pick<PushWorld, 'orgId' | 'storeId'>,
  register: { id: string; code: string; lastReceiptNumber?: number },
): Promise<string> {
  const token = randomToken();
  await db
    .insertInto('registers')
    .values({
      id: register.id,
      org_id: world.orgId,
      store_id: world.storeId,
      code: register.code,
      name: `Till ${register.code}`,
      token_hash: sha256Hex(token),
      last_receipt_number: register.lastReceiptNumber ?? 0,
      paired_at: 0,
      created_at: 0,
      updated_at: 0,
    })
    .execute();
  return token;
}

/**
 * The samples' world: organisation, store `S01` (id `SAMPLE_IDS.store`), register `R02` (id
 * `SAMPLE_IDS.device`) whose chain stands at receipt 122 (the samples print 123 onwards), a cashier
 * (`SAMPLE_IDS.staff`), a manager (`SAMPLE_IDS.manager`), and the sample products in the catalog.
 */
export async function createPushWorld(db: Kysely<Database>): Promise<PushWorld> {
  const orgId = sampleId(900);
  const storeId = SAMPLE_IDS.store;
  await db.insertInto('organisations').values({ id: orgId, name: 'Push Test', created_at: 0 }).execute();
  for (const [id, code] of [
    [storeId, STORE_CODE],
    [SAMPLE_IDS.otherStore, 'S02'],
  ] as const) {
    await db
      .insertInto('stores')
      .values({ id, org_id: orgId, code, name: `Store ${code}`, currency: 'EUR', locale: 'de-DE', settings_json: JSON.stringify(SETTINGS), created_at: 0, updated_at: 0 })
      .execute();
  }
  const world = { orgId, storeId };
  const token = await addRegister(db, world, { id: SAMPLE_IDS.device, code: REGISTER_CODE, lastReceiptNumber: 122 });
  await addStaff(db, world, SAMPLE_IDS.staff, 'cashier');
  await addStaff(db, world, SAMPLE_IDS.manager, 'manager');
  for (const [id, sku, name, price] of [
    [SAMPLE_IDS.product, 'MUG-01', 'Coffee mug', 250],
    [SAMPLE_IDS.otherProduct, 'MUG-02', 'Coffee mug, blue', 300],
  ] as const) {
    await db.insertInto('products').values({ id, org_id: orgId, sku, name, price_minor: price, currency: 'EUR', unit: 'piece', created_at: 0, updated_at: 0 }).execute();
  }
  return { orgId, storeId, registerId: SAMPLE_IDS.device, token, cashierId: SAMPLE_IDS.staff, managerId: SAMPLE_IDS.manager };
}

/** An HLC string at `ms` on `node`. */
export function hlcAt(ms: number, node: string = SAMPLE_IDS.device, counter = 0): string {
  return `${ms.toString(16).padStart(12, '0')}-${counter.toString(16).padStart(4, '0')}-${node}`;
}

const RECEIPT_TYPES: ReadonlySet<OpType> = new Set(['sale.completed', 'sale.voided', 'refund.completed', 'exchange.completed', 'shift.closed']);

/**
 * Ops of one register as it would write them: seq 1, 2, 3…, a fresh op id per seq, an HLC a
 * second apart from `SAMPLE_TIME`, and receipts chained (number and `prevHash`) from the register's
 * head at receipt 122.
 *
 * @example
 * ```ts
 * const ops = new OpSequence();
 * const sale = ops.next('sale.completed');
 * const refund = ops.next('refund.completed');
 * ```
 */
export class OpSequence {
  #seq = 0;
  #receipt: number;
  #prevHash = GENESIS_HASH;

  constructor(
    readonly deviceId: string = SAMPLE_IDS.device,
    readonly registerCode: string = REGISTER_CODE,
    lastReceipt = 122,
    /** Op ids are `sampleId(idBase + seq)`. */
    readonly idBase = 1000,
  ) {
    this.#receipt = lastReceipt;
  }

  /** The next op of `type`; `overrides` as in core's `sampleOp` (payload fields merged shallowly). */
  next<T extends OpType>(type: T, overrides: SampleOpOverrides<T> = {}): OpOf<T> {
    this.#seq += 1;
    const seq = this.#seq;
    const base: Record<string, unknown> = { seq, id: sampleId(this.idBase + seq), deviceId: this.deviceId, hlc: hlcAt(SAMPLE_TIME + seq * 1000, this.deviceId) };
    let payload: Record<string, unknown> | undefined = overrides.payload as Record<string, unknown> | undefined;
    if (RECEIPT_TYPES.has(type)) {
      this.#receipt += 1;
      payload = { receiptNo: formatReceiptNo({ storeCode: STORE_CODE, registerCode: this.registerCode, seq: this.#receipt }), prevHash: this.#prevHash, ...payload };
    }
    const op = sampleOp(type, { ...base, ...overrides, ...(payload === undefined ? {} : { payload }) } as SampleOpOverrides<T>);
    if (RECEIPT_TYPES.has(type)) this.#prevHash = receiptHash({ type, payload: op.payload as never });
    return op;
  }

  /** The seq the next op will get. */
  get nextSeq(): number {
    return this.#seq + 1;
  }
}
