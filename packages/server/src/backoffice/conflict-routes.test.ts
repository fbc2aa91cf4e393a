import { encodeHlc } from '@kassa/core';
import { sampleId, sampleOp } from '@kassa/core/test-fixtures/ops';
import { afterEach, expect, it } from 'vitest';
import type { App } from '../app.js';
import { hlcAt } from '../sync/push/push-test-kit.js';
import { describeDb } from '../testing/describe-db.js';
import { backofficeHarness, changesAfter, expectRefused, logHead, T0, withoutCsrf } from './backoffice-test-kit.js';
import type { BackofficeHarness } from './backoffice-test-kit.js';

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

const serverHlc = (ms: number, counter = 0) => encodeHlc({ wallMs: ms, counter, node: 'server' });

/** A register's `product.edited` of one field, as R01 of organisation `a` pushes it. */
function registerEdit(h: BackofficeHarness, seq: number, productId: string, write: { field: string; value: unknown; at: number; base: string | null }) {
  const hlc = hlcAt(write.at, h.a.registers.r01);
  return sampleOp('product.edited', {
    id: sampleId(7000 + seq),
    deviceId: h.a.registers.r01,
    storeId: h.a.storeId,
    staffId: h.a.staff.managerId,
    seq,
    hlc,
    deviceTime: write.at,
    payload: { productId, writes: [{ field: write.field, value: write.value as never, hlc, base: write.base }] },
  });
}

async function push(h: BackofficeHarness, ops: unknown[]) {
  const res = await h.call({ bearer: h.deviceToken }, 'POST', '/api/v1/sync/push', { ops });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body['results'] as { status: string }[]).map((r) => r.status);
}

const url = (id: string) => `/api/v1/conflicts/${encodeURIComponent(id)}`;

describeDb('back office: conflicts', (dbs) => {
  it('a back-office price edit that did not see a register’s → conflict; resolving writes the pick as a new edit everywhere and closes it', async () => {
    const h = await backofficeHarness(dbs, apps);
    const created = await h.call(h.manager, 'POST', '/api/v1/products', { name: 'Mug', sku: 'MUG', price: 250, currency: 'EUR' });
    const productId = created.body['id'] as string;
    const seen = created.body['fieldHlc'] as Record<string, string>;
    const h1 = serverHlc(T0);
    expect(seen['price']).toBe(h1);

    // The register changes the price at T0+30 s, from the value the manager is also looking at.
    h.clock.set(T0 + 60_000);
    expect(await push(h, [registerEdit(h, 1, productId, { field: 'price', value: 260, at: T0 + 30_000, base: h1 })])).toEqual(['applied']);
    const r = hlcAt(T0 + 30_000, h.a.registers.r01);

    const edit = await h.call(h.manager, 'PATCH', `/api/v1/products/${productId}`, { price: 299, fieldHlc: seen });
    expect(edit.status, JSON.stringify(edit.body)).toBe(200);
    // The push moved the server's clock to T0+60 s (counter 0): the edit's stamp is the next one.
    const s = serverHlc(T0 + 60_000, 1);
    const conflictId = `product:${productId}:price:${r}:${s}`;
    const expected = {
      id: conflictId,
      docType: 'product',
      docId: productId,
      field: 'price',
      winner: { value: 299, hlc: s, base: h1 },
      loser: { value: 260, hlc: r, base: h1 },
      current: { value: 299, hlc: s },
      source: { kind: 'user', userId: h.a.users.manager.id },
      status: 'open',
      detectedAt: T0 + 60_000,
      resolvedAt: null,
      resolvedBy: null,
    };
    expect(edit.body['conflicts']).toEqual([expected]);
    expect(edit.body['product']).toMatchObject({ price: 299 });
    expect(await h.call(h.manager, 'GET', '/api/v1/conflicts')).toEqual({ status: 200, body: { conflicts: [expected], total: 1, limit: 50, offset: 0 } });
    expect((await h.call({ bearer: h.deviceToken }, 'GET', '/api/v1/conflicts')).body).toMatchObject({ conflicts: [{ id: conflictId }], total: 1 });
    expect((await h.call(h.manager, 'GET', url(conflictId))).body).toEqual(expected);

    // Review picks the register's value.
    h.clock.set(T0 + 120_000);
    const head = await logHead(h.db, h.a.orgId);
    const resolved = await h.call(h.manager, 'POST', `${url(conflictId)}/resolve`, { value: 260, note: 'the till price was right' });
    expect(resolved.status, JSON.stringify(resolved.body)).toBe(200);
    const t = serverHlc(T0 + 120_000);
    expect(resolved.body).toEqual({
      conflict: { ...expected, current: { value: 260, hlc: t }, status: 'resolved', resolvedAt: T0 + 120_000, resolvedBy: h.a.users.manager.id },
      resolved: [conflictId],
      written: true,
    });
    // A new, sequential edit: based on the winner, so no new conflict.
    const doc = JSON.parse((await h.db.selectFrom('reference_docs').select('doc_json').where('doc_id', '=', productId).executeTakeFirstOrThrow()).doc_json) as { fields: Record<string, unknown> };
    expect(doc.fields['price']).toEqual([
      { value: 250, hlc: h1, base: null },
      { value: 260, hlc: r, base: h1 },
      { value: 299, hlc: s, base: h1 },
      { value: 260, hlc: t, base: s },
    ]);
    expect(await h.db.selectFrom('conflicts').select(['id', 'status', 'resolved_at', 'resolved_by']).execute()).toEqual([
      { id: conflictId, status: 'resolved', resolved_at: T0 + 120_000, resolved_by: h.a.users.manager.id },
    ]);
    expect(await h.db.selectFrom('products').select(['price_minor']).where('id', '=', productId).execute()).toEqual([{ price_minor: 260 }]);
    const changes = await changesAfter(h.db, h.a.orgId, head);
    expect(changes.map((c) => [c.entity, c.entityId, c.op, c.data['priceMinor'], (c.data['fieldHlc'] as Record<string, string>)['price']])).toEqual([['product', productId, 'upsert', 260, t]]);
    expect((await h.call(h.cashier, 'GET', `/api/v1/products/${productId}`)).body).toMatchObject({ price: 260, fieldHlc: { price: t } });
    const audit = await h.db.selectFrom('audit_log').select(['actor_id', 'target_kind', 'target_id', 'details_json']).where('action', '=', 'conflict.resolved').execute();
    expect(audit).toEqual([
      {
        actor_id: h.a.users.manager.id,
        target_kind: 'conflict',
        target_id: conflictId,
        details_json: JSON.stringify({ docType: 'product', docId: productId, field: 'price', value: 260, written: true, resolved: [conflictId], note: 'the till price was right' }),
      },
    ]);
    expect((await h.call(h.manager, 'GET', '/api/v1/conflicts')).body).toMatchObject({ conflicts: [], total: 0 });
    expect((await h.call(h.manager, 'GET', '/api/v1/conflicts?status=resolved')).body).toMatchObject({ total: 1 });

    await expectRefused(h.db, () => h.call(h.manager, 'POST', `${url(conflictId)}/resolve`, { value: 299 }), 409, 'conflict_resolved');
  });

  it('a register’s edit that did not see the back office’s is recorded by the push; resolving with a third value writes it', async () => {
    const h = await backofficeHarness(dbs, apps);
    const created = await h.call(h.manager, 'POST', '/api/v1/products', { name: 'Tea', sku: 'TEA', price: 400, currency: 'EUR' });
    const productId = created.body['id'] as string;
    const h1 = serverHlc(T0);
    h.clock.set(T0 + 10_000);
    const edit = await h.call(h.manager, 'PATCH', `/api/v1/products/${productId}`, { name: 'Green tea', fieldHlc: created.body['fieldHlc'] });
    expect(edit.body['conflicts']).toEqual([]);
    const s = serverHlc(T0 + 10_000);
    // The register renamed it offline at T0+5 s, from the original name.
    h.clock.set(T0 + 60_000);
    expect(await push(h, [registerEdit(h, 1, productId, { field: 'name', value: 'Black tea', at: T0 + 5_000, base: h1 })])).toEqual(['applied']);
    const r = hlcAt(T0 + 5_000, h.a.registers.r01);
    const list = await h.call(h.manager, 'GET', `/api/v1/conflicts?docType=product&docId=${productId}`);
    const id = `product:${productId}:name:${r}:${s}`;
    expect(list.body).toMatchObject({
      conflicts: [
        {
          id,
          field: 'name',
          winner: { value: 'Green tea', hlc: s },
          loser: { value: 'Black tea', hlc: r },
          current: { value: 'Green tea', hlc: s },
          source: { kind: 'register', registerId: h.a.registers.r01, storeId: h.a.storeId, staffId: h.a.staff.managerId },
          status: 'open',
        },
      ],
      total: 1,
    });

    // Invalid values for the field are refused before anything is written.
    for (const value of ['', 'a\u0000b', 12, null]) {
      await expectRefused(h.db, () => h.call(h.manager, 'POST', `${url(id)}/resolve`, { value }), 400, 'invalid_input');
    }
    await expectRefused(h.db, () => h.call(h.manager, 'POST', `${url(id)}/resolve`, {}), 400, 'invalid_input');

    h.clock.set(T0 + 70_000);
    const res = await h.call(h.manager, 'POST', `${url(id)}/resolve`, { value: 'Green & black tea' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ written: true, resolved: [id], conflict: { status: 'resolved', current: { value: 'Green & black tea', hlc: serverHlc(T0 + 70_000) } } });
    expect(await h.db.selectFrom('products').select('name').where('id', '=', productId).execute()).toEqual([{ name: 'Green & black tea' }]);
    expect(await h.db.selectFrom('conflicts').select('status').execute()).toEqual([{ status: 'resolved' }]);
  });

  it('keeps organisations apart and lets only managers (with CSRF) resolve', async () => {
    const h = await backofficeHarness(dbs, apps);
    const created = await h.call(h.manager, 'POST', '/api/v1/products', { name: 'Cup', sku: 'CUP', price: 100, currency: 'EUR' });
    const productId = created.body['id'] as string;
    h.clock.set(T0 + 60_000);
    await push(h, [registerEdit(h, 1, productId, { field: 'price', value: 110, at: T0 + 30_000, base: serverHlc(T0) })]);
    const edit = await h.call(h.manager, 'PATCH', `/api/v1/products/${productId}`, { price: 120, fieldHlc: created.body['fieldHlc'] });
    const id = (edit.body['conflicts'] as { id: string }[])[0]?.id ?? '';
    expect(id).not.toBe('');

    await expectRefused(h.db, () => h.call(h.otherManager, 'GET', url(id)), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.otherManager, 'POST', `${url(id)}/resolve`, { value: 1 }), 404, 'not_found');
    expect((await h.call(h.otherManager, 'GET', '/api/v1/conflicts')).body).toMatchObject({ conflicts: [], total: 0 });
    expect((await h.call({ bearer: h.otherDeviceToken }, 'GET', '/api/v1/conflicts')).body).toMatchObject({ conflicts: [], total: 0 });
    await expectRefused(h.db, () => h.call(h.cashier, 'GET', '/api/v1/conflicts'), 403, 'forbidden');
    await expectRefused(h.db, () => h.call(h.cashier, 'POST', `${url(id)}/resolve`, { value: 1 }), 403, 'forbidden');
    await expectRefused(h.db, () => h.call(withoutCsrf(h.manager), 'POST', `${url(id)}/resolve`, { value: 1 }), 403, 'csrf_required');
    // A register reads conflicts but cannot resolve them.
    await expectRefused(h.db, () => h.call({ bearer: h.deviceToken }, 'POST', `${url(id)}/resolve`, { value: 1 }), 401, 'unauthenticated');
    await expectRefused(h.db, () => h.call({ bearer: 'x'.repeat(43) }, 'GET', '/api/v1/conflicts'), 401, 'invalid_token');
    await expectRefused(h.db, () => h.call(h.manager, 'GET', '/api/v1/conflicts?status=closed'), 400, 'invalid_input');
  });
});
