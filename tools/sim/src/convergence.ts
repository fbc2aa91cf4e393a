import Database from 'better-sqlite3';
import type { ServerControl } from './server-control.js';

/**
 * Where one register's pulled state differs from the server's: every product (sku, name, price,
 * active) and every stock level of its store, compared field by field. Empty when equal. (Customers
 * are sealed at rest on the register, so they are not compared here yet.)
 */
export async function divergence(
  server: ServerControl,
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
    for (const s of serverStock) {
      const l = shownOnHand(s.product_id, s.variant_id === '' ? undefined : s.variant_id);
      if (l !== Number(s.on_hand)) out.push(`stock ${s.product_id}/${s.variant_id}: register ${l}, server ${s.on_hand}`);
    }
    return out;
  } finally {
    db.close();
  }
}
