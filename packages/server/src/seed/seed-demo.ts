import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { DbKind } from '../db/database.js';
import type { Database, StaffRole } from '../db/schema.js';
import { hashPassword } from '../security/password.js';
import { makePinVerifier } from '../security/pin-verifier.js';
import { generatePassword, generatePin } from '../security/secrets.js';
import type { StoreSettings } from '../store-settings.js';
import { demoCatalog, demoCategories } from './demo-catalog.js';

/** What {@link seedDemoIfEmpty} needs to know. */
export interface SeedOptions {
  readonly clock: Clock;
  readonly dbKind: DbKind;
  readonly adminEmail: string;
  /** The owner's password; generated when undefined. */
  readonly adminPassword: string | undefined;
}

/** A demo staff member and the PIN they unlock a register with (only known right after seeding). */
export interface SeededStaff {
  readonly name: string;
  readonly role: StaffRole;
  readonly pin: string;
}

/** What the seed did: nothing (the database already held an organisation), or the demo store. */
export type SeedResult =
  | { readonly seeded: false }
  | {
      readonly seeded: true;
      readonly orgId: string;
      readonly storeId: string;
      readonly storeCode: string;
      readonly ownerEmail: string;
      /** The owner's password when it was generated; undefined when it came from the environment. */
      readonly generatedPassword: string | undefined;
      readonly staff: readonly SeededStaff[];
      readonly productCount: number;
    };

/** The demo store's settings: a German shop. */
export const DEMO_STORE_SETTINGS: StoreSettings = {
  currency: 'EUR',
  locale: 'de-DE',
  taxMode: 'inclusive',
  cashRoundingMinor: null,
  receiptHeader: ['Demo Shop', 'Musterstraße 1, 10115 Berlin'],
  // Matches the weighed items' codes in demo-catalog.ts: prefix 21, 5-digit PLU, grams.
  variableMeasureLayouts: [{ kind: 'weight', prefixes: ['21'], itemDigits: 5, valueDigits: 5, valueDecimals: 3, hasPriceCheckDigit: false }],
};

const DEMO_STAFF: readonly { name: string; role: StaffRole; pinDigits: number }[] = [
  { name: 'Anna Becker', role: 'manager', pinDigits: 6 },
  { name: 'Jonas Weber', role: 'cashier', pinDigits: 4 },
  { name: 'Lea Hoffmann', role: 'cashier', pinDigits: 4 },
];

const INSERT_CHUNK = 100;

async function insertChunked<T>(rows: readonly T[], insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await insert(rows.slice(i, i + INSERT_CHUNK));
}

function distinctPins(): string[] {
  const pins: string[] = [];
  while (pins.length < DEMO_STAFF.length) {
    const spec = DEMO_STAFF[pins.length];
    if (spec === undefined) break;
    const pin = generatePin(spec.pinDigits);
    if (!pins.includes(pin)) pins.push(pin);
  }
  return pins;
}

/**
 * Creates the demo store on first run: only when the database holds no organisation at all, so it
 * never writes over real data, and a second start changes nothing. Everything is inserted in one
 * transaction; on PostgreSQL the organisations table is locked first so two processes starting
 * together cannot both seed.
 *
 * @example
 * ```ts
 * const result = await seedDemoIfEmpty(db, { clock, dbKind: 'sqlite', adminEmail: 'owner@demo.kassa', adminPassword: undefined });
 * if (result.seeded) console.log(result.generatedPassword);
 * ```
 */
export async function seedDemoIfEmpty(db: Kysely<Database>, options: SeedOptions): Promise<SeedResult> {
  if (await hasOrganisation(db)) return { seeded: false };

  // The slow hashes happen before the transaction, which then stays short.
  const generatedPassword = options.adminPassword === undefined ? generatePassword() : undefined;
  const password = options.adminPassword ?? generatedPassword ?? '';
  const pins = distinctPins();
  const [passwordHash, ...verifiers] = await Promise.all([
    hashPassword(password),
    ...pins.map((pin) => makePinVerifier(pin)),
  ]);

  const now = options.clock.now();
  const orgId = randomUUID();
  const storeId = randomUUID();
  const catalog = demoCatalog();

  const seeded = await db.transaction().execute(async (trx) => {
    if (options.dbKind === 'postgres') await sql`lock table organisations in share row exclusive mode`.execute(trx);
    if (await hasOrganisation(trx)) return false;

    await trx.insertInto('organisations').values({ id: orgId, name: 'Demo Shop', created_at: now }).execute();
    await trx
      .insertInto('stores')
      .values({
        id: storeId,
        org_id: orgId,
        code: 'S01',
        name: 'Demo Shop Berlin-Mitte',
        currency: DEMO_STORE_SETTINGS.currency,
        locale: DEMO_STORE_SETTINGS.locale,
        settings_json: JSON.stringify(DEMO_STORE_SETTINGS),
        created_at: now,
        updated_at: now,
      })
      .execute();
    const ownerId = randomUUID();
    await trx
      .insertInto('users')
      .values({
        id: ownerId,
        org_id: orgId,
        email: options.adminEmail,
        display_name: 'Demo Owner',
        password_hash: passwordHash ?? '',
        role: 'owner',
        created_at: now,
        updated_at: now,
      })
      .execute();
    const staffIds = DEMO_STAFF.map(() => randomUUID());
    await trx
      .insertInto('staff')
      .values(
        DEMO_STAFF.map((s, i) => {
          const v = verifiers[i];
          if (v === undefined) throw new Error('missing PIN verifier');
          return {
            id: staffIds[i] ?? randomUUID(),
            org_id: orgId,
            store_id: storeId,
            name: s.name,
            role: s.role,
            pin_kdf: v.kdf,
            pin_iterations: v.iterations,
            pin_salt: v.salt,
            pin_hash: v.hash,
            active: 1 as const,
            field_hlc_json: '{}',
            created_at: now,
            updated_at: now,
          };
        }),
      )
      .execute();
    // Each role is in force from the moment the person exists (staff/staff-roles.ts).
    await trx
      .insertInto('staff_role_history')
      .values(DEMO_STAFF.map((s, i) => ({ org_id: orgId, staff_id: staffIds[i] ?? '', role: s.role, effective_from: now })))
      .execute();
    // Two registers' codes, free to pair.
    await trx
      .insertInto('registers')
      .values(
        ['R01', 'R02'].map((code, i) => ({
          id: randomUUID(),
          org_id: orgId,
          store_id: storeId,
          code,
          name: `Kasse ${i + 1}`,
          token_hash: null,
          revoked: 0 as const,
          last_seq: 0,
          last_receipt_number: 0,
          chain_head: null,
          last_seen_at: null,
          paired_at: null,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();

    const standardId = randomUUID();
    const reducedId = randomUUID();
    await trx
      .insertInto('tax_rates')
      .values([
        { id: standardId, org_id: orgId, name: 'MwSt. 19 %', rate_ppm: 190_000, field_hlc_json: '{}', created_at: now, updated_at: now },
        { id: reducedId, org_id: orgId, name: 'MwSt. 7 %', rate_ppm: 70_000, field_hlc_json: '{}', created_at: now, updated_at: now },
      ])
      .execute();

    const categoryIds = new Map<string, string>();
    await trx
      .insertInto('categories')
      .values(
        demoCategories.map((c, i) => {
          const id = randomUUID();
          categoryIds.set(c.name, id);
          return { id, org_id: orgId, name: c.name, parent_id: null, sort_order: i, field_hlc_json: '{}', created_at: now, updated_at: now };
        }),
      )
      .execute();

    const products = catalog.map((p) => ({ ...p, id: randomUUID() }));
    await insertChunked(products, (chunk) =>
      trx
        .insertInto('products')
        .values(
          chunk.map((p) => ({
            id: p.id,
            org_id: orgId,
            sku: p.sku,
            name: p.name,
            price_minor: p.priceMinor,
            currency: DEMO_STORE_SETTINGS.currency,
            category_id: categoryIds.get(p.categoryName) ?? null,
            tax_rate_ids_json: JSON.stringify([p.taxClass === 'standard' ? standardId : reducedId]),
            weighed: p.weighed ? (1 as const) : (0 as const),
            unit: p.weighed ? ('kg' as const) : ('piece' as const),
            active: 1 as const,
            field_hlc_json: '{}',
            created_at: now,
            updated_at: now,
          })),
        )
        .execute(),
    );
    await insertChunked(products, (chunk) =>
      trx
        .insertInto('barcodes')
        .values(chunk.map((p) => ({ org_id: orgId, code: p.barcode, product_id: p.id, created_at: now })))
        .execute(),
    );
    await trx
      .insertInto('audit_log')
      .values({
        id: randomUUID(),
        org_id: orgId,
        store_id: storeId,
        actor_kind: 'system',
        actor_id: null,
        action: 'demo.seeded',
        target_kind: 'organisation',
        target_id: orgId,
        details_json: JSON.stringify({ products: products.length, staff: DEMO_STAFF.length, ownerEmail: options.adminEmail }),
        at: now,
      })
      .execute();
    return true;
  });

  if (!seeded) return { seeded: false };
  return {
    seeded: true,
    orgId,
    storeId,
    storeCode: 'S01',
    ownerEmail: options.adminEmail,
    generatedPassword,
    staff: DEMO_STAFF.map((s, i) => ({ name: s.name, role: s.role, pin: pins[i] ?? '' })),
    productCount: catalog.length,
  };
}

async function hasOrganisation(db: Kysely<Database>): Promise<boolean> {
  const row = await db.selectFrom('organisations').select('id').limit(1).executeTakeFirst();
  return row !== undefined;
}
