/**
 * Reading the change log as a register does: bootstrap from the snapshot (which yields a cursor),
 * then follow `GET /api/v1/sync/pull` page by page; and the size on the wire of a pull page that
 * carries one product edited in the back office.
 */
import type { RegisterIdentity } from './registers.js';
import type { LoopbackClient } from './net.js';

interface SnapshotPage {
  nextPage: string | null;
  cursor: string;
}

interface PullPage {
  changes: { entity: string; entityId: string; data: unknown }[];
  cursor: string;
  hasMore: boolean;
}

const bearer = (r: RegisterIdentity): Record<string, string> => ({ authorization: `Bearer ${r.token}` });

/** Fetches every snapshot page; returns the cursor to follow the log from. */
export async function bootstrap(client: LoopbackClient, register: RegisterIdentity): Promise<string> {
  let page: string | null = null;
  for (;;) {
    const query: string = page === null ? 'limit=1000' : `limit=1000&page=${encodeURIComponent(page)}`;
    const { body } = await client.json<SnapshotPage>('GET', `/api/v1/sync/snapshot?${query}`, 200, { headers: bearer(register) });
    if (body.nextPage === null) return body.cursor;
    page = body.nextPage;
  }
}

/** What following the log measured. */
export interface PullResult {
  readonly changes: number;
  readonly pages: number;
  readonly seconds: number;
  readonly cursor: string;
}

/** Pulls from `cursor` in pages of `limit` until the log has nothing more; each page is parsed. */
export async function pullAll(client: LoopbackClient, register: RegisterIdentity, cursor: string, limit: number): Promise<PullResult> {
  let changes = 0;
  let pages = 0;
  const started = process.hrtime.bigint();
  for (;;) {
    const { body } = await client.json<PullPage>('GET', `/api/v1/sync/pull?since=${cursor}&limit=${limit}`, 200, { headers: bearer(register) });
    changes += body.changes.length;
    pages += 1;
    cursor = body.cursor;
    if (!body.hasMore) break;
  }
  return { changes, pages, seconds: Number(process.hrtime.bigint() - started) / 1e9, cursor };
}

/**
 * Signs in to the back office, changes one product's price, and pulls from `cursor`: returns the
 * bytes of that pull's answer on the wire (status line, headers and body) and of its body alone.
 */
export async function oneProductDelta(
  owner: LoopbackClient,
  reader: LoopbackClient,
  register: RegisterIdentity,
  login: { email: string; password: string },
  productId: string,
  cursor: string,
): Promise<{ wireBytes: number; bodyBytes: number }> {
  const { body: session, answer } = await owner.json<{ csrfToken: string }>('POST', '/api/v1/auth/login', 200, { body: JSON.stringify(login) });
  const setCookie = answer.headers['set-cookie'] ?? [];
  const cookie = setCookie.map((c) => c.split(';')[0]).join('; ');
  const { body: current } = await owner.json<{ price: number }>('GET', `/api/v1/products/${productId}`, 200, { headers: { cookie } });
  await owner.json('PATCH', `/api/v1/products/${productId}`, 200, {
    body: JSON.stringify({ price: current.price + 10 }),
    headers: { cookie, 'x-csrf-token': session.csrfToken },
  });
  const { body, answer: pulled } = await reader.json<PullPage>('GET', `/api/v1/sync/pull?since=${cursor}&limit=1000`, 200, { headers: bearer(register) });
  const products = body.changes.filter((c) => c.entity === 'product' && c.entityId === productId);
  if (body.changes.length !== 1 || products.length !== 1) {
    throw new Error(`expected one changed product in the pull, got ${body.changes.length} changes: ${body.changes.map((c) => c.entity).join(', ')}`);
  }
  return { wireBytes: pulled.wireBytes, bodyBytes: Buffer.byteLength(pulled.body) };
}
