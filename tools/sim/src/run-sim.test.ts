import { describe, expect, it } from 'vitest';
import { runSim } from './run-sim.js';
import type { SimDb } from './server-control.js';

// (Timeouts are generous: on a machine shared with other work a run takes several times its usual
// 15–90 s; they bound a hang, they do not measure speed.)
// A CI-size run against a real server process with the simulator's own push loop: the verdict the
// product promises. Registers whose clock is off (R01 in 2000, R02 a day ahead, R03 a day behind)
// must each have raised their clock_skew alert, every level below zero its oversell alert (`ok`
// requires it); a quarantined op would be reported with its reason.
describe.each<SimDb>(['sqlite', 'pg'])('sim on %s', (db) => {
  it('5 registers × 60 sales, chaos 0.2, 2 server kills: nothing lost, nothing doubled, derived state matches', { timeout: 600_000 }, async () => {
    const report = await runSim({ registers: 5, sales: 60, chaos: 0.2, kills: 2, restore: false, db, seed: 20261125, sync: 'sim' });
    expect(report.details.problems.filter((p) => !p.startsWith('quarantined ('))).toEqual([]);
    expect(report).toMatchObject({ lost: 0, duplicated: 0, server_kills: 2, ok: true, db });
    expect(report.details.derivedMismatches).toEqual([]);
    expect(report.details.receiptProblems).toEqual([]);
    expect(report.details.quarantinedWithoutReason).toBe(0);
    expect(report.ops).toBeGreaterThanOrEqual(5 * 60);
    expect(report.details.alertMatch).toMatchObject({ skewedClocks: 3, missing: [] });
    // The network really was hostile.
    const faults = Object.entries(report.details.proxy).filter(([k]) => k !== 'pass' && k !== 'offline');
    expect(faults.reduce((s, [, n]) => s + n, 0)).toBeGreaterThan(0);
  });
});

// The same run with the client's own SyncEngine (push and pull): every register also converges
// on the server's catalog and stock.
describe.each<SimDb>(['sqlite', 'pg'])('sim with the client sync engine on %s', (db) => {
  it('5 registers × 60 sales, chaos 0.2, 2 server kills: nothing lost or doubled, every register converges', { timeout: 600_000 }, async () => {
    const report = await runSim({ registers: 5, sales: 60, chaos: 0.2, kills: 2, restore: false, db, seed: 20261126, sync: 'engine' });
    expect(report.details.problems.filter((p) => !p.startsWith('quarantined ('))).toEqual([]);
    expect(report).toMatchObject({ lost: 0, duplicated: 0, server_kills: 2, converged: true, ok: true, db });
    // How fast (the goal is ≤ 10 s at 20 × 500) is a figure of `npm run bench` (converge_s), not a test.
  });
});

describe('the checker can fail', () => {
  it('an engine that silently drops a committed op from its outbox is reported as one loss', { timeout: 300_000 }, async () => {
    const report = await runSim({ registers: 2, sales: 5, chaos: 0, kills: 0, restore: false, db: 'sqlite', seed: 5, sync: 'sim', seams: { dropLastOp: true } });
    expect(report.lost).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.details.problems.some((p) => p.startsWith('lost: R01'))).toBe(true);
  });

  it('a server with exactly-once turned off (test-only seam KASSA_TEST_DEDUPE_OFF) is reported as holding duplicates', { timeout: 300_000 }, async () => {
    // Only faults that make a register send a batch again (a lost answer, a duplicated request).
    const report = await runSim({ registers: 2, sales: 10, chaos: 0.5, kills: 0, restore: false, db: 'sqlite', seed: 11, sync: 'sim', faults: ['lost_ack', 'duplicate'], seams: { dedupeOff: true } });
    expect((report.details.proxy['lost_ack'] ?? 0) + (report.details.proxy['duplicate'] ?? 0)).toBeGreaterThan(0);
    expect(report.duplicated).toBeGreaterThan(0);
    expect(report.ok).toBe(false);
    expect(report.lost).toBe(0);
    expect(report.details.problems.some((p) => p.startsWith('duplicated receipt number'))).toBe(true);
  });

  it('a register that applies a pulled change wrongly is reported as diverged (--sync engine)', { timeout: 300_000 }, async () => {
    const report = await runSim({ registers: 2, sales: 5, chaos: 0, kills: 0, restore: false, db: 'sqlite', seed: 9, sync: 'engine', convergeTimeoutMs: 15_000, seams: { corruptPulledProduct: true } });
    expect(report.converged).toBe(false);
    expect(report.ok).toBe(false);
    expect(report.lost).toBe(0);
    expect(report.details.problems.some((p) => p.startsWith('diverged R01: product'))).toBe(true);
    expect(report.details.problems.some((p) => p.startsWith('diverged R02'))).toBe(false);
  });
});
