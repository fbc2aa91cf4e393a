import Database from 'better-sqlite3';
import { docValues } from '@kassa/core';
import type { ReferenceDoc } from '@kassa/core';
import type { ServerControl } from './server-control.js';

/**
 * Where one register's pulled state differs from the server's: every product (sku, name, price,
 * active), every customer (every field of the server's document; a customer sealed at rest on the
 * register is not readable here and is only checked to exist) and every stock level of its store,
 * compared field by field. Empty when equal.
 */
/**
 * The change-log seq a register's pull cursor covers (the server's opaque cursor, v2 bytes
 * `0x02 | epoch(16) | change id(16, absent at 0) | seq(1–7, big-endian)` or v1 JSON), or null
 * before its bootstrap finished. For diagnostics only: how far behind the server's log head it is.
 */
export function cursorSeq(registerFile: string): number | null {
  const db = new Database(registerFile, { readonly: true, fileMustExist: true });
  try {
    const cursor = db.prepare<[], { pull_cursor: string | null }>('SELECT pull_cursor FROM meta WHERE id = 1').get()?.pull_cursor ?? null;
    if (cursor === null) return null;
    const bytes = Buffer.from(cursor, 'base64url');
    if (bytes[0] !== 0x02) return Number((JSON.parse(bytes.toString('utf8')) as { s: number }).s);
    let seq = 0;
    for (const b of bytes.subarray(bytes.length >= 34 ? 33 : 17)) seq = seq * 256 + b;
    return seq;
  } finally {
    db.close();
  }
}

/** The server's change-log head (highest seq written). */
export async function logHead(server: ServerControl): Promise<number> {
  return Number((await server.query<{ head: number }>('SELECT MAX(head) AS head FROM change_log_heads'))[0]?.head ?? 0);
}

/** The server's answers to each query read once (one poll over every register reads the server once). */
export function readOnce(server: Pick<ServerControl, 'query'>): Pick<ServerControl, 'query'> {
  const seen = new Map<string, Promise<unknown[]>>();
  return {
    query: <T>(sql: string): Promise<T[]> => {
      let rows = seen.get(sql);
      if (rows === undefined) {
        rows = server.query<unknown>(sql);
        seen.set(sql, rows);
      }
      return rows as Promise<T[]>;
    },
  };
}

export async function divergence(
  server: Pick<ServerControl, 'query'>,
  registerFile: string,
  storeId: string,
  /** What the till shows on hand (the engine's `onHand`: server state at the cursor + own pending ops). */
  shownOnHand: (productId: string, variantId: string | undefined) => number,
): Promise<string[]> {
  const serverProducts = await server.query<{ id: string; sku: string; name: string; price_minor: number; active: number | boolean }>(
    'SELECT id, sku, name, price_minor, active FROM products',
  );
  const serverStock = (await server.query<{ store_id: string; product_id: string; variant_id: string; on_hand: number }>('SELECT store_id, product_id, variant_id, on_hand FROM stock_levels')).filter(
    (s) => s.store_id === storeId,
  );
  const db = new Database(registerFile, { readonly: true, fileMustExist: true });
  try {
    const local = new Map(
      db
        .prepare<[], { id: string; sku: string; name: string; unit_price: number; active: number }>('SELECT id, sku, name, unit_price, active FROM products')
        .all()
        .map((p) => [p.id, p]),
    );
    const out: string[] = [];
    for (const p of serverProducts) {
      const l = local.get(p.id);
      if (l === undefined) out.push(`product ${p.id} missing`);
      else if (l.sku !== p.sku || l.name !== p.name || l.unit_price !== Number(p.price_minor) || Boolean(l.active) !== Boolean(p.active)) {
        out.push(`product ${p.id}: register ${l.sku}/${l.unit_price}/${l.active}, server ${p.sku}/${p.price_minor}/${String(p.active)}`);
      }
    }
    // Customers, every field the server holds (values_json), against the register's document
    // (clear on a register without encryption at rest; a sealed one is not readable here).
    const serverCustomers = await server.query<{ id: string; values_json: string; deleted: number | boolean }>('SELECT id, values_json, deleted FROM customers');
    const localCustomers = new Map(
      db
        .prepare<[], { id: string; deleted: number; doc_json: string }>('SELECT id, deleted, doc_json FROM customers')
        .all()
        .map((c) => [c.id, c]),
    );
    for (const c of serverCustomers) {
      const l = localCustomers.get(c.id);
      if (c.deleted === true || c.deleted === 1) {
        if (l !== undefined && !l.deleted) out.push(`customer ${c.id}: deleted on the server, not on the register`);
        continue;
      }
      if (l === undefined) {
        out.push(`customer ${c.id} missing`);
        continue;
      }
      const doc = JSON.parse(l.doc_json) as unknown;
      if (doc === null || typeof doc !== 'object' || !('fields' in doc)) continue; // sealed at rest
      const local = docValues(doc as ReferenceDoc);
      const held = JSON.parse(c.values_json) as Record<string, unknown>;
      for (const field of new Set([...Object.keys(held), ...Object.keys(local)])) {
        if (JSON.stringify(local[field] ?? null) !== JSON.stringify(held[field] ?? null)) {
          out.push(`customer ${c.id} ${field}: register ${JSON.stringify(local[field] ?? null)}, server ${JSON.stringify(held[field] ?? null)}`);
        }
      }
    }
    for (const id of localCustomers.keys()) if (!serverCustomers.some((c) => c.id === id)) out.push(`customer ${id} on the register, not on the server`);
    for (const s of serverStock) {
      const l = shownOnHand(s.product_id, s.variant_id === '' ? undefined : s.variant_id);
      if (l !== Number(s.on_hand)) out.push(`stock ${s.product_id}/${s.variant_id}: register ${l}, server ${s.on_hand}`);
    }
    return out;
  } finally {
    db.close();
  }
}
