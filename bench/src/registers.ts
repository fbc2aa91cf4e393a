/**
 * Simulated registers: provisioned in the server's database the way the server's own tests do it
 * (a register row with the SHA-256 of a fresh 256-bit device token; pairing through the API is
 * rate-limited to a handful per minute and address, as it should be), and sale ops built with core
 * as the register engine builds them — a cart of three lines → `completeSale`, the next receipt
 * number and `prevHash` of the register's chain, a UUIDv7 id, the register's HLC, gapless seqs.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  addLine,
  cartTotals,
  completeSale,
  createCart,
  encodeHlc,
  GENESIS_HEAD,
  headAfter,
  nextChainLink,
  qtyMilli,
  tickHlc,
  initialHlc,
  uuidV7Generator,
} from '@kassa/core';
import type { ChainHead, Clock, Hlc, IdGenerator, ProductSnapshot, StoreSettings } from '@kassa/core';
import { openStorage } from '@kassa/server';
import type { StorageConfig } from '@kassa/server';

/** Native SHA-256 of a string, hex: the same digest as core's portable one, much faster. */
export const sha256Native = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

const systemClock: Clock = { now: () => Date.now() };
const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** The demo store as the bench needs it. */
export interface BenchWorld {
  readonly orgId: string;
  readonly storeId: string;
  readonly storeCode: string;
  readonly cashierIds: readonly string[];
  readonly managerId: string;
  /** Active, piece-priced products with their tax rates. */
  readonly products: readonly ProductSnapshot[];
}

/** A provisioned register: its identity and device token. */
export interface RegisterIdentity {
  readonly deviceId: string;
  readonly code: string;
  readonly token: string;
}

/**
 * Reads the demo store from the server's database and adds `count` registers (codes `prefix` +
 * 01, 02, …) with fresh device tokens, exactly as the push tests register one.
 */
export async function provisionRegisters(config: StorageConfig, count: number, prefix = 'B'): Promise<{ world: BenchWorld; registers: RegisterIdentity[] }> {
  const storage = openStorage(config);
  try {
    const db = storage.db;
    const store = await db.selectFrom('stores').select(['id', 'org_id', 'code']).orderBy('code').executeTakeFirstOrThrow();
    const staff = await db.selectFrom('staff').select(['id', 'role']).where('org_id', '=', store.org_id).orderBy('name').execute();
    const rates = new Map((await db.selectFrom('tax_rates').select(['id', 'name', 'rate_ppm']).where('org_id', '=', store.org_id).execute()).map((r) => [r.id, r]));
    const rows = await db
      .selectFrom('products')
      .select(['id', 'sku', 'name', 'price_minor', 'tax_rate_ids_json'])
      .where('org_id', '=', store.org_id)
      .where('active', '=', 1)
      .where('weighed', '=', 0)
      .orderBy('sku')
      .execute();
    const products: ProductSnapshot[] = rows.map((p) => ({
      productId: p.id,
      sku: p.sku,
      name: p.name,
      unitPrice: { amount: p.price_minor, currency: 'EUR' },
      taxes: (JSON.parse(p.tax_rate_ids_json) as string[]).flatMap((id) => {
        const rate = rates.get(id);
        return rate === undefined ? [] : [{ rateId: rate.id, name: rate.name, ratePpm: rate.rate_ppm }];
      }),
    }));
    const managerId = staff.find((s) => s.role === 'manager')?.id;
    const cashierIds = staff.filter((s) => s.role === 'cashier').map((s) => s.id);
    if (managerId === undefined || cashierIds.length === 0 || products.length < 3) throw new Error('the demo store lacks a manager, cashiers or products');

    const registers: RegisterIdentity[] = [];
    const now = Date.now();
    for (let i = 1; i <= count; i++) {
      const token = randomBytes(32).toString('base64url');
      const deviceId = randomUUID();
      const code = `${prefix}${String(i).padStart(2, '0')}`;
      await db
        .insertInto('registers')
        .values({
          id: deviceId,
          org_id: store.org_id,
          store_id: store.id,
          code,
          name: `Bench ${code}`,
          token_hash: sha256Native(token),
          last_receipt_number: 0,
          paired_at: now,
          created_at: now,
          updated_at: now,
        })
        .execute();
      registers.push({ deviceId, code, token });
    }
    return { world: { orgId: store.org_id, storeId: store.id, storeCode: store.code, cashierIds, managerId, products }, registers };
  } finally {
    await storage.close();
  }
}

const SETTINGS: StoreSettings = { currency: 'EUR', pricesIncludeTax: true, taxRounding: 'line', cashRoundingIncrement: null, discountLimitPpm: null };

/** A small deterministic generator (mulberry32) so every run sells the same baskets. */
function basketPicker(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

/** A register writing ops as the register engine does: gapless seqs, its HLC, its receipt chain. */
export class SimRegister {
  readonly identity: RegisterIdentity;
  readonly #world: BenchWorld;
  readonly #ids: IdGenerator;
  readonly #pick: (n: number) => number;
  #seq = 0;
  #hlc: Hlc;
  #head: ChainHead = GENESIS_HEAD;

  constructor(world: BenchWorld, identity: RegisterIdentity, seed: number) {
    this.#world = world;
    this.identity = identity;
    this.#ids = uuidV7Generator(systemClock, random);
    this.#pick = basketPicker(seed);
    this.#hlc = initialHlc(identity.deviceId);
  }

  #envelope(type: string, staffId: string): Record<string, unknown> {
    const now = Date.now();
    this.#hlc = tickHlc(this.#hlc, now);
    this.#seq += 1;
    return { v: 1, id: this.#ids.next(), deviceId: this.identity.deviceId, seq: this.#seq, hlc: encodeHlc(this.#hlc), deviceTime: now, type, storeId: this.#world.storeId, staffId };
  }

  /** A `sale.completed` of `lines` distinct products, one piece each, paid by card. */
  sale(lines = 3): Record<string, unknown> {
    const { products, cashierIds } = this.#world;
    let cart = createCart(SETTINGS);
    const chosen = new Set<number>();
    while (chosen.size < lines) chosen.add(this.#pick(products.length));
    for (const i of chosen) cart = addLine(cart, products[i] as ProductSnapshot, qtyMilli(1000));
    const link = nextChainLink(this.#head, { storeCode: this.#world.storeCode, registerCode: this.identity.code });
    const envelope = this.#envelope('sale.completed', cashierIds[this.#pick(cashierIds.length)] as string);
    const total = cartTotals(cart).total.amount;
    const sale = completeSale(cart, {
      orderId: this.#ids.next(),
      receiptNo: link.receiptNo,
      lineIds: [...chosen].map(() => this.#ids.next()),
      tenders: [{ tenderId: this.#ids.next(), kind: 'card', amount: total, brand: 'visa', last4: '4242', approvalCode: 'A1B2C3', providerRef: `bench-${envelope['seq'] as number}` }],
    });
    const payload = { ...sale, prevHash: link.prevHash };
    this.#head = headAfter({ type: 'sale.completed', payload }, sha256Native);
    return { ...envelope, payload };
  }

  /** A `stock.received` by the manager of `qty` thousandths of each of `productIds`. */
  stockReceived(productIds: readonly string[], qty: number): Record<string, unknown> {
    return {
      ...this.#envelope('stock.received', this.#world.managerId),
      payload: { movementId: this.#ids.next(), currency: 'EUR', lines: productIds.map((productId) => ({ productId, qty, unitCost: 100 })) },
    };
  }
}
