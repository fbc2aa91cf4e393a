import { sampleId, sampleOp } from '@kassa/core/test-fixtures/ops';
import type { OpOf } from '@kassa/core';
import { afterEach, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { backofficeHarness, T0 } from '../../backoffice/backoffice-test-kit.js';
import type { BackofficeHarness } from '../../backoffice/backoffice-test-kit.js';
import { describeDb } from '../../testing/describe-db.js';
import { clockBehindKey } from './op-judge.js';
import { hlcAt } from './push-test-kit.js';

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

const MIN = 60_000;

/**
 * A sale of register R01 of organisation `a` by its cashier, made at `at` (HLC and device time)
 * unless `deviceTime` says otherwise, with `discountPpm` off its one line, approved by `approvedBy`.
 */
function sale(h: BackofficeHarness, seq: number, at: number, options: { discountPpm?: number; approvedBy?: string; deviceTime?: number } = {}): OpOf<'sale.completed'> {
  const base = sampleOp('sale.completed');
  const line = base.payload.lines[0];
  if (line === undefined) throw new Error('the sample sale has no line');
  const ppm = options.discountPpm ?? 0;
  const off = Math.round((line.gross * ppm) / 1_000_000);
  const discounted =
    ppm === 0 ? line : { ...line, discount: { kind: 'percent' as const, ppm, ...(options.approvedBy === undefined ? {} : { approvedBy: options.approvedBy }) }, lineDiscount: off, net: line.gross - off, total: line.gross - off };
  return sampleOp('sale.completed', {
    id: sampleId(8000 + seq),
    deviceId: h.a.registers.r01,
    storeId: h.a.storeId,
    staffId: h.a.staff.cashierId,
    seq,
    hlc: hlcAt(at, h.a.registers.r01),
    deviceTime: options.deviceTime ?? at,
    payload: { ...base.payload, orderId: sampleId(5000 + seq), receiptNo: `${h.a.storeCode}-R01-${String(seq).padStart(6, '0')}`, lines: [{ ...discounted, lineId: sampleId(6000 + seq) }] },
  });
}

async function push(h: BackofficeHarness, ops: readonly unknown[]) {
  const res = await h.call({ bearer: h.deviceToken }, 'POST', '/api/v1/sync/push', { ops });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body['results'] as { status: string; reason?: string; message?: string }[]).map((r) => [r.status, r.reason ?? null, r.message ?? null]);
}

async function setLimits(h: BackofficeHarness, at: number, cashierDiscountLimitPpm: number) {
  h.clock.set(at);
  const res = await h.call(h.manager, 'PATCH', `/api/v1/stores/${h.a.storeId}`, { limits: { cashierDiscountLimitPpm } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

const clockAlerts = async (h: BackofficeHarness) =>
  h.db.selectFrom('alerts').select(['key', 'status', 'occurrences', 'data_json']).where('org_id', '=', h.a.orgId).where('kind', '=', 'clock_skew').orderBy('key').execute();

describeDb('push: store limits in force at the op’s time', (dbs) => {
  it('an op made before the limit was lowered applies; one after it needs a manager’s approval', async () => {
    const h = await backofficeHarness(dbs, apps);
    const raisedAt = T0 + 1 * MIN;
    const loweredAt = T0 + 10 * MIN;
    await setLimits(h, raisedAt, 300_000); // cashiers may give 30 %
    await setLimits(h, loweredAt, 100_000); // … and from T0+10 min only 10 %
    const history = await h.db.selectFrom('store_limits_history').select(['effective_from', 'limits_json']).where('store_id', '=', h.a.storeId).orderBy('effective_from').execute();
    expect(history).toEqual([
      { effective_from: T0, limits_json: null },
      { effective_from: raisedAt, limits_json: JSON.stringify({ cashierDiscountLimitPpm: 300_000 }) },
      { effective_from: loweredAt, limits_json: JSON.stringify({ cashierDiscountLimitPpm: 100_000 }) },
    ]);

    h.clock.set(T0 + 30 * MIN);
    const results = await push(h, [
      sale(h, 1, T0 + 5 * MIN, { discountPpm: 200_000 }), // 20 % under the 30 % limit then
      sale(h, 2, T0 + 15 * MIN, { discountPpm: 200_000 }), // 20 % above the 10 % limit now
      sale(h, 3, T0 + 16 * MIN, { discountPpm: 200_000, approvedBy: h.a.staff.managerId }),
      sale(h, 4, T0 + 17 * MIN, { discountPpm: 50_000 }),
    ]);
    expect(results).toEqual([
      ['applied', null, null],
      ['quarantined', 'forbidden', `${h.a.staff.cashierId} (cashier) may not discount_above_limit (lines[0].discount): not_permitted`],
      ['applied', null, null],
      ['applied', null, null],
    ]);
    const q = await h.db.selectFrom('quarantine').select(['seq', 'details_json']).execute();
    expect(q.map((r) => [r.seq, JSON.parse(r.details_json)])).toEqual([
      [2, expect.objectContaining({ denial: expect.objectContaining({ action: 'discount_above_limit', needsApproval: true }) })],
    ]);
  });

  it('an op stamped before the store existed is judged by the limits it was created with (core’s defaults), not today’s', async () => {
    const h = await backofficeHarness(dbs, apps);
    await setLimits(h, T0 + MIN, 300_000);
    h.clock.set(T0 + 30 * MIN);
    // A register whose clock believes it is an hour before its store existed.
    expect(await push(h, [sale(h, 1, T0 - 60 * MIN, { discountPpm: 200_000 })])).toEqual([
      ['quarantined', 'forbidden', `${h.a.staff.cashierId} (cashier) may not discount_above_limit (lines[0].discount): not_permitted`],
    ]);
  });

  it('a quarantine retry judges the op with the same limits at its time as the push did', async () => {
    const h = await backofficeHarness(dbs, apps);
    await setLimits(h, T0 + 10 * MIN, 100_000);
    h.clock.set(T0 + 30 * MIN);
    expect((await push(h, [sale(h, 1, T0 + 15 * MIN, { discountPpm: 200_000 })]))[0]?.[0]).toBe('quarantined');
    const { id } = await h.db.selectFrom('quarantine').select('id').executeTakeFirstOrThrow();
    // Raising the limit now does not change what was allowed when the sale was made.
    await setLimits(h, T0 + 40 * MIN, 300_000);
    const again = await h.call(h.manager, 'POST', `/api/v1/quarantine/${id}/retry`, {});
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body['outcome']).toMatchObject({ status: 'still_quarantined', reason: 'forbidden' });
    expect(JSON.stringify(again.body['outcome'])).toContain('discount_above_limit');
    const approved = await h.call(h.manager, 'POST', `/api/v1/quarantine/${id}/retry`, { approve: true });
    expect(approved.body['outcome'], JSON.stringify(approved.body)).toMatchObject({ status: 'applied' });
    expect(await h.db.selectFrom('facts').select('id').execute()).toEqual([{ id: sampleId(8001) }]);
  });
});

describeDb('push: a register clock far behind', (dbs) => {
  it('an op stamped before its register existed (a register that believes it is 2000) applies and raises one clock_skew alert per episode', async () => {
    const h = await backofficeHarness(dbs, apps);
    h.clock.set(T0 + 30 * MIN);
    const in2000 = Date.UTC(2000, 0, 1);
    expect(await push(h, [sale(h, 1, in2000), sale(h, 2, in2000 + 1000), sale(h, 3, in2000 + 2000)])).toEqual([
      ['applied', null, null],
      ['applied', null, null],
      ['applied', null, null],
    ]);
    expect(await push(h, [sale(h, 4, in2000 + 3000)])).toEqual([['applied', null, null]]);
    const [alert, ...others] = await clockAlerts(h);
    expect(others).toEqual([]);
    // One alert, raised once per batch (two batches), not once per op.
    expect(alert).toMatchObject({ key: clockBehindKey(h.a.registers.r01), status: 'open', occurrences: 2 });
    expect(JSON.parse(alert?.data_json ?? '{}')).toMatchObject({ direction: 'behind', reason: 'stamped_before_register_existed', opId: sampleId(8004), opsBehind: 1 });

    // The clock is put right: the episode ends; a later one is a new alert.
    expect(await push(h, [sale(h, 5, T0 + 30 * MIN)])).toEqual([['applied', null, null]]);
    expect((await clockAlerts(h)).map((a) => [a.key, a.status])).toEqual([[clockBehindKey(h.a.registers.r01), 'resolved']]);
    expect(await push(h, [sale(h, 6, in2000 + 9000)])).toEqual([['applied', null, null]]);
    expect((await clockAlerts(h)).map((a) => [a.key, a.status])).toEqual([[clockBehindKey(h.a.registers.r01), 'open']]);
  });

  it('a register clock set back after it stamped later times (its HLC hides it, its device time does not) is alerted; ops queued offline for days are not', async () => {
    const h = await backofficeHarness(dbs, apps);
    const now = T0 + 3 * 24 * 60 * MIN;
    h.clock.set(now);
    // Made two days ago and queued offline: old, but the register's clock was right.
    expect(await push(h, [sale(h, 1, T0 + 60 * MIN), sale(h, 2, T0 + 61 * MIN)])).toEqual([
      ['applied', null, null],
      ['applied', null, null],
    ]);
    expect(await clockAlerts(h)).toEqual([]);
    // Its clock then jumps back a year: the HLC keeps counting from its last stamp.
    expect(await push(h, [sale(h, 3, T0 + 62 * MIN, { deviceTime: T0 - 365 * 24 * 60 * MIN })])).toEqual([['applied', null, null]]);
    expect((await clockAlerts(h)).map((a) => [a.key, a.status, JSON.parse(a.data_json).reason])).toEqual([
      [clockBehindKey(h.a.registers.r01), 'open', 'device_clock_behind_its_own_hlc'],
    ]);
  });

  it('a clock far ahead still raises its own alert, and is not taken for one behind once corrected', async () => {
    const h = await backofficeHarness(dbs, apps);
    const now = T0 + 30 * MIN;
    h.clock.set(now);
    const in2037 = Date.UTC(2037, 0, 1);
    expect(await push(h, [sale(h, 1, in2037)])).toEqual([['applied', null, null]]);
    // Corrected: the device time is right again, the register's HLC stays in 2037.
    expect(await push(h, [sale(h, 2, in2037 + 1000, { deviceTime: now })])).toEqual([['applied', null, null]]);
    expect((await clockAlerts(h)).map((a) => [a.key, a.status, JSON.parse(a.data_json).direction])).toEqual([[`clock_skew:${h.a.registers.r01}`, 'open', 'ahead']]);
  });
});
