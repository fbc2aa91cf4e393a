/**
 * Tenancy across every documented route (issue 6): two organisations with two stores each; every
 * route is called by organisation B (B's owner session, CSRF token and device token) naming
 * organisation A's ids — in the path, the query and the body. A request naming A's ids answers
 * 403/404 and changes nothing; a request naming none may act only inside B (no row of A changes).
 * Pull and snapshot with B's token return B's data only. The routes come from `/docs/json`, so a
 * route added later is covered, and an `{id}` route whose A id cannot be found fails loudly.
 */
import { randomUUID } from 'node:crypto';
import { sampleId, sampleOp } from '@kassa/core/test-fixtures/ops';
import { afterEach, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { TEST_PASSWORD, signIn } from '../../auth/auth-test-kit.js';
import type { SignedIn, TestOrg } from '../../auth/auth-test-kit.js';
import { backofficeHarness, T0 } from '../../backoffice/backoffice-test-kit.js';
import type { BackofficeHarness } from '../../backoffice/backoffice-test-kit.js';
import { hlcAt } from '../../sync/push/push-test-kit.js';
import { encodeCursor } from '../../sync/pull/cursor.js';
import { describeDb } from '../../testing/describe-db.js';
import { diffSnapshots, snapshotDb } from './db-snapshot.js';
import type { AllowedChange } from './db-snapshot.js';
import { fillPath, listRoutes, routeName } from './route-catalog.js';
import type { JsonSchema, RouteInfo } from './route-catalog.js';

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** Organisation A's product, category, tax rate, alert, conflict and quarantined op, made through the API. */
async function seedA(h: BackofficeHarness) {
  const ok = (res: { status: number; body: unknown }, what: string) => {
    expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    return res.body as Record<string, unknown>;
  };
  const category = ok(await h.call(h.manager, 'POST', '/api/v1/categories', { name: 'Drinks' }), 'category');
  const taxRate = ok(await h.call(h.manager, 'POST', '/api/v1/tax-rates', { name: 'Standard', ratePpm: 190_000 }), 'tax rate');
  const product = ok(await h.call(h.manager, 'POST', '/api/v1/products', { name: 'Mug', sku: 'MUG', price: 250, currency: 'EUR' }), 'product');
  const productId = product['id'] as string;
  const seen = product['fieldHlc'] as Record<string, string>;
  const base = seen['price'] ?? null;
  const op = (seq: number, staffId: string, field: string, value: unknown, at: number) => {
    const hlc = hlcAt(at, h.a.registers.r01);
    return sampleOp('product.edited', {
      id: sampleId(7000 + seq),
      deviceId: h.a.registers.r01,
      storeId: h.a.storeId,
      staffId,
      seq,
      hlc,
      deviceTime: at,
      payload: { productId, writes: [{ field, value: value as never, hlc, base }] },
    });
  };
  h.clock.set(T0 + 60_000);
  // A manager's price edit (applied, later conflicting with the back office's) and a cashier's
  // rename (quarantined: cashiers may not edit products; raises an alert).
  const push = ok(await h.call({ bearer: h.deviceToken }, 'POST', '/api/v1/sync/push', { ops: [op(1, h.a.staff.managerId, 'price', 260, T0 + 30_000), op(2, h.a.staff.cashierId, 'name', 'Big mug', T0 + 31_000)] }), 'push');
  expect((push['results'] as { status: string }[]).map((r) => r.status)).toEqual(['applied', 'quarantined']);
  ok(await h.call(h.manager, 'PATCH', `/api/v1/products/${productId}`, { price: 299, fieldHlc: seen }), 'conflicting edit');
  return { categoryId: category['id'] as string, taxRateId: taxRate['id'] as string, productId };
}

/** The first `id` of the first list in a JSON body. */
function firstId(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  for (const v of Object.values(body)) {
    if (Array.isArray(v) && v.length > 0 && typeof (v[0] as { id?: unknown }).id === 'string') return (v[0] as { id: string }).id;
  }
  return undefined;
}

/** A body valid by `schema` as far as the hints reach: required fields, plus every hinted id field. */
function bodyFor(schema: JsonSchema, hints: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const required = new Set(schema.required ?? []);
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const isId = /Ids?$/.test(name);
    if (!required.has(name) && !(isId && name in hints)) continue;
    if (name in hints) out[name] = hints[name];
    else if (prop.enum && prop.enum.length > 0) out[name] = prop.enum[0];
    else if (prop.type === 'boolean') out[name] = false;
    else if (prop.type === 'integer' || prop.type === 'number') out[name] = prop.minimum ?? 1;
    else if (prop.type === 'array') out[name] = [];
    else out[name] = 'x'.repeat(Math.max(prop.minLength ?? 1, 1));
  }
  // A patch with nothing required still needs a field to be a change.
  if (Object.keys(out).length === 0) {
    const first = Object.keys(schema.properties ?? {}).find((n) => n in hints);
    if (first !== undefined) out[first] = hints[first];
  }
  return out;
}

/** Field values that name A's things (ids) or are valid plain values, by field name. */
function hintsOf(a: TestOrg, own: { productId: string; categoryId: string; taxRateId: string }, email = 'nobody@example.test'): Record<string, unknown> {
  return {
    storeId: a.storeId,
    registerId: a.registers.r01,
    staffId: a.staff.cashierId,
    productId: own.productId,
    categoryId: own.categoryId,
    parentId: own.categoryId,
    taxRateIds: [own.taxRateId],
    name: 'Intruder',
    role: 'cashier',
    pin: '1357',
    sku: 'INTRUDER',
    price: 100,
    currency: 'EUR',
    ratePpm: 70_000,
    note: 'intruder',
    value: 1,
    email,
    password: TEST_PASSWORD,
  };
}

/** The first string `id` found in a JSON value, breadth first. */
function deepId(value: unknown): string | undefined {
  const queue: unknown[] = [value];
  while (queue.length > 0) {
    const v = queue.shift();
    if (v === null || typeof v !== 'object') continue;
    const id = (v as { id?: unknown }).id;
    if (typeof id === 'string') return id;
    queue.push(...Object.values(v));
  }
  return undefined;
}

describeDb('tenancy: every route with another organisation’s ids and tokens', (dbs) => {
  it('answers 403/404 and changes nothing when naming A’s ids; B’s own requests touch no row of A; pull and snapshot show only B', { timeout: 120_000 }, async () => {
    const h = await backofficeHarness(dbs, apps);
    const { app, db, a, b } = h;
    const own = await seedA(h);
    const routes = await listRoutes(app);

    // A's ids, found through A's own lists, so new `{id}` routes are covered without edits here.
    const aIds = new Map<string, string>();
    for (const r of routes) {
      const m = /^(.*)\/\{id\}/.exec(r.path);
      if (!m?.[1] || aIds.has(m[1])) continue;
      const list = await app.inject({ method: 'GET', url: `${m[1]}?status=all`, headers: h.owner.headers });
      const plain = list.statusCode === 200 ? list : await app.inject({ method: 'GET', url: m[1], headers: h.owner.headers });
      const id = firstId(plain.json());
      if (id !== undefined) aIds.set(m[1], id);
    }
    // A kind with no list of its own (e.g. variants, listed under their product) is made through
    // the route that creates it (`POST …/{id}/variants`), as A's manager.
    for (const r of routes) {
      const prefix = /^(.*)\/\{id\}/.exec(r.path)?.[1];
      if (prefix === undefined || aIds.has(prefix)) continue;
      const kind = prefix.split('/').pop() ?? '';
      const creator = routes.find((c) => c.method === 'POST' && c.path.endsWith(`/${kind}`) && c.path !== prefix);
      if (!creator) continue;
      const parent = /^(.*)\/\{id\}/.exec(creator.path)?.[1] ?? '';
      const url = fillPath(creator.path, () => aIds.get(parent) ?? '');
      const made = await app.inject({ method: 'POST', url, headers: h.manager.headers, payload: creator.body ? bodyFor(creator.body, { ...hintsOf(a, own), name: 'Large', sku: 'MUG-L' }) : {} });
      const id = made.statusCode < 300 ? deepId(made.json()) : undefined;
      if (id !== undefined) aIds.set(prefix, id);
    }
    const unresolved = routes.filter((r) => r.pathParams.length > 0 && !aIds.has(/^(.*)\/\{id\}/.exec(r.path)?.[1] ?? ''));
    expect(unresolved.map(routeName), 'routes with an {id} whose A id this test cannot find: seed one in seedA').toEqual([]);

    const hints = hintsOf(a, own, b.users.owner.email);
    /** Bodies of routes whose schema is a union (the generic filler reads plain objects only). */
    const unionBodies: Record<string, Record<string, unknown>> = {
      'POST /api/v1/registers/pair': { email: b.users.owner.email, password: TEST_PASSWORD, storeId: a.storeId, registerCode: 'R01' },
      'POST /api/v1/stock/adjustments': { id: randomUUID(), storeId: a.storeId, type: 'stock.adjusted', payload: { movementId: randomUUID(), productId: own.productId, qtyDelta: 1000, reason: 'found' } },
    };
    const aQuery: Record<string, string> = { storeId: a.storeId, registerId: a.registers.r01, productId: own.productId, categoryId: own.categoryId, parentId: own.categoryId, docId: own.productId };
    const allowed = (r: RouteInfo): AllowedChange[] =>
      r.path === '/api/v1/auth/login' || r.path === '/api/v1/registers/pair' ? [{ table: 'audit_log', rowsAdded: true, reason: 'refused sign-ins and pairings are audited' }] : [];

    const aMarkers = [a.orgId, a.storeId, a.otherStoreId, a.registers.r01, a.registers.r02, ...Object.values(a.staff), own.productId, own.categoryId, own.taxRateId, ...aIds.values()];
    let bOwner: SignedIn = await signIn(app, b.users.owner.email);
    const failures: string[] = [];
    let namedA = 0;
    for (const r of routes) {
      if (r.path.startsWith('/docs') || r.path === '/healthz' || r.path === '/metrics') continue; // no tenant data
      const prefix = /^(.*)\/\{id\}/.exec(r.path)?.[1] ?? '';
      const path = fillPath(r.path, () => aIds.get(prefix) ?? '');
      const query = r.queryParams.filter((p) => p.name in aQuery).map((p) => `${p.name}=${aQuery[p.name] ?? ''}`).join('&');
      const body = unionBodies[routeName(r)] ?? (r.body ? bodyFor(r.body, hints) : undefined);
      const bodyText = JSON.stringify(body ?? {});
      const naming = r.pathParams.length > 0 || query !== '' || [a.storeId, a.registers.r01, a.staff.cashierId, own.productId, own.categoryId, own.taxRateId].some((id) => bodyText.includes(id));
      const url = query === '' ? path : `${path}?${query}`;
      const before = await snapshotDb(db);
      const res = await app.inject({
        method: r.method,
        url,
        headers: { ...bOwner.headers, authorization: `Bearer ${h.otherDeviceToken}` },
        ...(body === undefined ? {} : { payload: body }),
      });
      const after = await snapshotDb(db);
      const what = `${r.method} ${url} ${bodyText.slice(0, 300)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
      if (naming) {
        namedA += 1;
        if (r.path === '/api/v1/sync/push') {
          // Ops are judged one by one (DESIGN §3): ops naming A's store/register are quarantined under B.
          const results = res.json<{ results?: { status: string }[] }>().results ?? [];
          if (res.statusCode !== 200 || results.some((x) => x.status !== 'quarantined')) failures.push(`push of A's ids not quarantined: ${what}`);
        } else {
          // A list filtered by A's id may also answer an empty 200 (alerts, conflicts, quarantine
          // filter without first asking whether the store exists): what matters is that nothing of A shows.
          const emptyRead = r.method === 'GET' && res.statusCode === 200 && !aMarkers.some((id) => res.body.includes(id));
          if (res.statusCode !== 403 && res.statusCode !== 404 && !emptyRead) failures.push(`expected 403/404: ${what}`);
          const diff = diffSnapshots(before, after, allowed(r));
          if (Object.keys(diff).length > 0) failures.push(`changed ${JSON.stringify(diff).slice(0, 800)}: ${what}`);
        }
      }
      if (res.statusCode >= 500) failures.push(`5xx: ${what}`);
      // Whatever B did, no row of A changed (and none was added under A's organisation).
      const diff = diffSnapshots(before, after);
      for (const [table, d] of Object.entries(diff)) {
        if ([...d.removed, ...d.added].some((row) => row.includes(a.orgId))) failures.push(`${table}: a row of A changed: ${what}`);
      }
      if (res.statusCode < 300 && (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: bOwner.cookie } })).statusCode === 401) {
        bOwner = await signIn(app, b.users.owner.email); // B signed itself out (logout)
      }
    }
    expect(failures).toEqual([]);
    expect(namedA).toBeGreaterThan(25);

    // Pull and snapshot with B's token: B's own data only, nothing of A — while both logs hold changes.
    const bCategory = await h.call(h.otherManager, 'POST', '/api/v1/categories', { name: 'B only' });
    expect(bCategory.status).toBe(201);
    const bearerOf = (token: string) => ({ authorization: `Bearer ${token}` });
    const snapshot = await app.inject({ method: 'GET', url: '/api/v1/sync/snapshot?limit=1000', headers: bearerOf(h.otherDeviceToken) });
    expect(snapshot.statusCode, snapshot.body).toBe(200);
    const fromStart = async (orgId: string) => {
      const head = await db.selectFrom('change_log_heads').select('epoch').where('org_id', '=', orgId).executeTakeFirstOrThrow();
      return encodeCursor({ epoch: head.epoch, seq: 0, changeId: null });
    };
    const pull = await app.inject({ method: 'GET', url: `/api/v1/sync/pull?since=${await fromStart(b.orgId)}&limit=1000`, headers: bearerOf(h.otherDeviceToken) });
    expect(pull.statusCode, pull.body).toBe(200);
    for (const res of [pull, snapshot]) {
      expect(res.body.includes(bCategory.body['id'] as string), `B's own category in ${res.body.slice(0, 200)}`).toBe(true);
      for (const id of aMarkers) expect(res.body.includes(id), `${id} of A in ${res.body.slice(0, 200)}`).toBe(false);
    }
    // A's log position under B's token is another log: resync, never A's changes.
    const aCursor = await fromStart(a.orgId);
    const crossed = await app.inject({ method: 'GET', url: `/api/v1/sync/pull?since=${aCursor}`, headers: bearerOf(h.otherDeviceToken) });
    expect(crossed.statusCode, crossed.body).toBe(410);
    expect(crossed.json()).toMatchObject({ error: 'resync_required' });
    // …and A's register does see A's product, so the filter is not "nothing at all".
    const aPull = await app.inject({ method: 'GET', url: `/api/v1/sync/pull?since=${aCursor}&limit=1000`, headers: bearerOf(h.deviceToken) });
    expect(aPull.statusCode, aPull.body).toBe(200);
    expect(aPull.body.includes(own.productId)).toBe(true);
  });
});
