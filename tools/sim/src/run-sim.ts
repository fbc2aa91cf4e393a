import fs from 'node:fs';
import Database from 'better-sqlite3';
import os from 'node:os';
import path from 'node:path';
import type { CurrencyCode } from '@kassa/core';
import { BackOffice } from './api-client.js';
import { ChaosProxy } from './chaos-proxy.js';
import type { Fault } from './chaos-proxy.js';
import { check } from './checker.js';
import type { CheckResult } from './checker.js';
import { SeededRandom } from './random.js';
import { ServerControl } from './server-control.js';
import type { SimDb } from './server-control.js';
import { fetchCatalog, SimRegister } from './sim-register.js';
import type { ClockSkew, RecordedCommand } from './sim-register.js';
import { SimPusher } from './sync-pusher.js';
import { cursorSeq, divergence, logHead, readOnce } from './convergence.js';
import { EngineSync } from './engine-sync.js';
import { ChildRegister, MID_COMMAND_STEPS } from './child-register.js';
import type { SimNode } from './child-register.js';
import type { SimSync } from './engine-sync.js';
import { waitFor } from './wait-for.js';

/** What a run does (the CLI's flags). */
export interface SimOptions {
  readonly registers: number;
  /** Sales per register (other commands come in between). */
  readonly sales: number;
  readonly chaos: number;
  readonly kills: number;
  readonly restore: boolean;
  readonly db: SimDb;
  readonly seed: number;
  /**
   * Who syncs: `engine` (default) is the client's own SyncEngine, push and pull, with the
   * convergence check; `sim` is the simulator's minimal push loop (no pull, so `converged: null`).
   */
  readonly sync?: 'engine' | 'sim';
  /** How long registers may take to converge after the heal before the run says they did not (default 60 s). */
  readonly convergeTimeoutMs?: number;
  /** Called as the workload advances: done and total sales over all registers. */
  readonly onProgress?: (done: number, total: number, phase: string) => void;
  /** Test-only seams that break one part on purpose, so the checker is seen to fail. */
  readonly seams?: {
    /** Register 0's engine "loses" the op of its last recorded command before pushing it. */
    readonly dropLastOp?: boolean;
    /** `--sync engine`: register 0 applies every pulled change of one product with a wrong price; the back office edits it once at the end. */
    readonly corruptPulledProduct?: boolean;
    /** The server runs with exactly-once turned off (`KASSA_TEST_DEDUPE_OFF=1`, `NODE_ENV=test`): re-deliveries are counted again. */
    readonly dedupeOff?: boolean;
  };
  /** Which network faults the proxies choose from (default: all). */
  readonly faults?: readonly Fault[];
  /**
   * Registers run as child processes, SIGKILLed this many times in all (about half of them inside a
   * command's transaction, the rest at random moments) and restarted on the same database file.
   * 0 (default): registers run in process, the engine's fault hook standing in for a crash.
   */
  readonly registerKills?: number;
}

/** The verdict (`--json` prints it). */
export interface SimReport {
  readonly registers: number;
  readonly sales: number;
  readonly ops: number;
  readonly sent: number;
  readonly applied: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly quarantined: number;
  readonly conflicts: number;
  readonly server_kills: number;
  /** Times a register's process was SIGKILLed and restarted (`registerKills`; 0 when registers run in process). */
  readonly register_kills: number;
  /**
   * Every register's catalog and stock equal the server's after the heal (`--sync engine`);
   * `null` with `--sync sim`, which does not pull — never a claimed `true`.
   */
  readonly converged: boolean | null;
  /** Seconds from heal until every register converged (`--sync engine`), or until its ops were all held by the server (`--sync sim`). */
  readonly converge_s: number;
  readonly seconds: number;
  readonly seed: number;
  readonly db: SimDb;
  readonly ok: boolean;
  readonly details: CheckResult & {
    readonly restored: boolean;
    readonly proxy: Record<string, number>;
    readonly pushRewinds: number;
    /** Register kills that landed inside a command's transaction (the rest hit whatever the process was doing). */
    readonly midCommandKills: number;
    /** The engines' requests by route and status (`sync/pull 429`), and those that failed outright. */
    readonly requests: Record<string, number>;
  };
}

const SKEWS: readonly ClockSkew[] = ['year_2000', 'plus_day', 'minus_day'];

/**
 * One simulated run: a real server, `registers` engines each behind its own chaos proxy, a seeded
 * workload, SIGKILLs of the server (and a restore), then heal, quiescence and the checker.
 *
 * @example
 * ```ts
 * const report = await runSim({ registers: 5, sales: 60, chaos: 0.2, kills: 2, restore: false, db: 'sqlite', seed: 1 });
 * if (!report.ok) console.error(report.details.problems);
 * ```
 */
export async function runSim(options: SimOptions): Promise<SimReport> {
  const started = performance.now();
  const random = new SeededRandom(options.seed);
  const server = await ServerControl.create(options.db, options.seams?.dedupeOff === true ? { KASSA_TEST_DEDUPE_OFF: '1', NODE_ENV: 'test' } : {});
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kassa-sim-registers-'));
  const proxies: ChaosProxy[] = [];
  const mode = options.sync ?? 'engine';
  const registers: SimRegister[] = [];
  const children: ChildRegister[] = [];
  /** Every register, in process or child: what the convergence check and the checker read. */
  const nodes: SimNode[] = [];
  const skews: ClockSkew[] = [];
  const pushers: SimSync[] = [];
  const childMode = (options.registerKills ?? 0) > 0;
  if (childMode && mode !== 'engine') throw new Error('registers as child processes run the client sync engine (--sync engine)');
  let stopBackground = () => undefined as void;
  try {
    options.onProgress?.(0, 1, 'starting the server');
    await server.start();
    const office = await BackOffice.signIn(server.url);
    const { stores } = await office.get<{ stores: { id: string; currency: string }[] }>('/api/v1/stores');
    const store = stores[0];
    if (store === undefined) throw new Error('the demo organisation has no store');

    options.onProgress?.(0, 1, 'pairing registers');
    const recorded: RecordedCommand[] = [];
    const journal = path.join(dir, 'recorded.jsonl');
    const total = options.sales * options.registers;
    let done = 0;
    const record = (command: RecordedCommand): void => {
      recorded.push(command);
      fs.appendFileSync(journal, `${JSON.stringify(command)}\n`);
      if (command.type === 'sale.completed') {
        done += 1;
        options.onProgress?.(done, total, 'selling');
      }
    };
    let catalog: Awaited<ReturnType<typeof fetchCatalog>> | undefined;
    for (let i = 0; i < options.registers; i++) {
      const code = `R${String(i + 1).padStart(2, '0')}`;
      const pairing = await office.pair(store.id, code);
      catalog ??= await fetchCatalog(server.url, pairing.token);
      const proxy = new ChaosProxy({ targetPort: server.port, chaos: options.chaos, seed: random.fork(`proxy-${code}`).int(0, 2 ** 31), localAddress: `127.0.0.${11 + i}`, ...(options.faults === undefined ? {} : { faults: options.faults }) });
      const port = await proxy.listen();
      proxies.push(proxy);
      const skew = i < SKEWS.length && options.registers > 3 ? (SKEWS[i] ?? 'none') : 'none';
      skews.push(skew);
      if (childMode) {
        const child = new ChildRegister(code, dir, pairing, catalog, skew, random.fork(`register-${code}`).int(0, 2 ** 31), options.sales, `http://127.0.0.1:${port}`, server.url, record);
        children.push(child);
        nodes.push(child);
        pushers.push(child);
        continue;
      }
      const register = new SimRegister(code, dir, pairing, catalog, skew, random.fork(`register-${code}`));
      registers.push(register);
      nodes.push(register);
      if (register.opened !== undefined) recorded.push(register.opened);
      const jitter = random.fork(`pusher-${code}`);
      const victim = options.seams?.corruptPulledProduct === true && i === 0 ? catalog.products[0]?.id : undefined;
      pushers.push(mode === 'engine' ? new EngineSync(register, `http://127.0.0.1:${port}`, server.url, victim) : new SimPusher(register, `http://127.0.0.1:${port}`, () => jitter.next()));
    }
    if (catalog === undefined) throw new Error('no registers');

    // Child registers start a few at a time (each is a Node process with its own start-up cost).
    for (let i = 0; i < children.length; i += 4) await Promise.all(children.slice(i, i + 4).map((c) => c.start(true)));
    const pushing = pushers.map((p) => p.run());

    // The server's misfortunes, serialised: SIGKILL and restart K times at random moments, and
    // (with --restore) a snapshot taken early and put back later.
    const killer = random.fork('killer');
    const workloadDone = { value: false };
    const cancelled = { value: false };
    stopBackground = () => {
      workloadDone.value = true;
      cancelled.value = true;
    };
    const misfortunes = (async () => {
      const plan: ('kill' | 'snapshot' | 'restore')[] = Array.from({ length: options.kills }, () => 'kill' as const);
      if (options.restore) {
        plan.splice(Math.floor(plan.length / 3), 0, 'snapshot');
        plan.splice(Math.floor((2 * plan.length) / 3) + 1, 0, 'restore');
      }
      for (const event of plan) {
        if (cancelled.value) return;
        await sleep(killer.int(100, 1500));
        await server.kill();
        if (event === 'snapshot') await server.snapshot();
        if (event === 'restore') await server.restore();
        await server.start();
      }
    })();
    // Awaited after the workload; until then a failure must not go unhandled.
    misfortunes.catch(() => undefined);

    // Back-office price edits on the same products the registers edit, so per-field conflicts happen.
    const officeRandom = random.fork('office');
    const officeEdits = (async () => {
      let edits = 0;
      while (!workloadDone.value) {
        await sleep(officeRandom.int(20, 200));
        const product = officeRandom.pick(catalog.products.slice(0, 10));
        try {
          await (await BackOffice.signIn(server.url)).call('PATCH', `/api/v1/products/${product.id}`, { price: officeRandom.int(50, 5000) });
          edits += 1;
        } catch {
          // The server may be down (killed on purpose); the edit is simply not made.
        }
      }
      return edits;
    })();

    // Registers as child processes: they sell on their own; meanwhile some go offline for spans,
    // and K times one is SIGKILLed (inside a command's transaction, or at any moment) and restarted.
    if (childMode) {
      const chaos = random.fork('register-killer');
      const kills = (async () => {
        for (let k = 0; k < (options.registerKills ?? 0); k++) {
          await sleep(chaos.int(300, 4000));
          const victim = chaos.pick(children);
          if (!victim.finished && chaos.chance(0.5)) await victim.killMidCommand(chaos.pick(MID_COMMAND_STEPS));
          else await victim.kill();
          await victim.start(false);
        }
      })();
      kills.catch(() => undefined);
      const spans = (async () => {
        while (!children.every((c) => c.finished)) {
          await sleep(chaos.int(50, 400));
          const proxy = chaos.pick(proxies);
          if (chaos.chance(0.2)) {
            proxy.setOffline(true);
            setTimeout(() => proxy.setOffline(false), chaos.int(50, 1500));
          }
        }
      })();
      await kills;
      await spans;
      await waitFor(() => children.every((c) => c.finished), 'every register to make its sales', { timeoutMs: 3_600_000, intervalMs: 100 });
    }
    await Promise.all(
      registers.map(async (register, i) => {
        const r = random.fork(`cashier-${register.code}`);
        const proxy = proxies[i];
        let sales = 0;
        while (sales < options.sales) {
          if (proxy !== undefined && r.chance(0.02)) {
            proxy.setOffline(true);
            const span = r.int(50, 1500);
            setTimeout(() => proxy.setOffline(false), span);
          }
          const command = register.step(r.chance(0.03));
          if (command !== undefined) {
            const sync = pushers[i];
            if (sync instanceof EngineSync) sync.notify();
            record(command);
            if (command.type === 'sale.completed') sales += 1;
            // The seam drops register 0's last op right after its COMMIT, before any await, so its
            // pusher cannot have sent it; being the last, it leaves no seq gap behind.
            if (options.seams?.dropLastOp === true && i === 0 && sales === options.sales) register.dropOp(command.opId);
          }
          await sleep(r.int(0, 8));
        }
      }),
    );
    workloadDone.value = true;
    await officeEdits;
    await misfortunes;
    if (options.seams?.corruptPulledProduct === true && catalog.products[0] !== undefined) {
      await (await BackOffice.signIn(server.url)).call('PATCH', `/api/v1/products/${catalog.products[0].id}`, { price: 4321 });
    }

    // Heal: no more faults, everyone online; wait until every register's ops are acknowledged.
    options.onProgress?.(total, total, 'healing');
    for (const proxy of proxies) {
      proxy.setChaos(0);
      proxy.setOffline(false);
    }
    const healed = performance.now();
    let drainTrace = healed;
    await waitFor(
      () => {
        if (process.env['KASSA_SIM_DEBUG'] === '1' && performance.now() - drainTrace > 10_000) {
          drainTrace = performance.now();
          const waiting = pushers.flatMap((p, i) => (p.confirmedSince(healed) ? [] : [`${nodes[i]?.code ?? i}${p instanceof ChildRegister ? ` (${p.describe()})` : ''}`]));
          process.stderr.write(`${((drainTrace - healed) / 1000).toFixed(1)} s after heal, not yet held by the server: ${waiting.join(', ')}\n`);
        }
        return pushers.every((p) => p.confirmedSince(healed));
      },
      'the server to hold every register’s ops',
      { timeoutMs: Number(process.env['KASSA_SIM_DRAIN_MS'] ?? 180_000), intervalMs: 50 },
    ).catch((error: unknown) => {
      if (process.env['KASSA_SIM_DEBUG'] === '1') {
        for (const p of pushers) if (p instanceof EngineSync) process.stderr.write(`${JSON.stringify(p.status())}\n`);
        const answers: Record<string, number> = {};
        for (const p of pushers) if (p instanceof EngineSync || p instanceof ChildRegister) for (const [k, n] of Object.entries(p.answers)) answers[k] = (answers[k] ?? 0) + n;
        process.stderr.write(`engine requests: ${JSON.stringify(answers)}\n`);
      }
      throw error;
    });
    let convergeS = (performance.now() - healed) / 1000;
    let converged: boolean | null = null;
    const divergences: string[] = [];
    if (mode === 'engine') {
      // Every register's pulled catalog and stock equal the server's, field by field.
      options.onProgress?.(total, total, 'converging');
      const debug = process.env['KASSA_SIM_DEBUG'] === '1';
      let lastTrace = 0;
      try {
        await waitFor(
          async () => {
            if (debug && performance.now() - lastTrace > 5000) {
              lastTrace = performance.now();
              const head = await logHead(server);
              process.stderr.write(`${((lastTrace - healed) / 1000).toFixed(1)} s after heal, log head ${head}, registers behind: ${nodes.map((r) => `${r.code} ${head - (cursorSeq(r.file) ?? 0)}`).join(', ')}\n`);
            }
            const view = readOnce(server);
            for (const r of nodes) if ((await divergence(view, r.file, store.id, (p, v) => r.onHand(p, v))).length > 0) return false;
            return true;
          },
          'every register to converge',
          { timeoutMs: options.convergeTimeoutMs ?? 60_000, intervalMs: 200 },
        );
        converged = true;
      } catch {
        converged = false;
        if (process.env['KASSA_SIM_DEBUG'] === '1') for (const p of pushers) if (p instanceof EngineSync) process.stderr.write(`${JSON.stringify(p.status())}\n`);
        const head = await logHead(server);
        for (const r of nodes) {
          const found = await divergence(server, r.file, store.id, (p, v) => r.onHand(p, v));
          const behind = head - (cursorSeq(r.file) ?? 0);
          if (debug && behind > 0) {
            const db = new Database(r.file, { readonly: true, fileMustExist: true });
            const cursor = db.prepare<[], { pull_cursor: string }>('SELECT pull_cursor FROM meta WHERE id = 1').get()?.pull_cursor ?? '';
            db.close();
            const res = await fetch(`${server.url}/api/v1/sync/pull?since=${cursor}&limit=1000&wait=0`, { headers: { authorization: `Bearer ${r.pairing.token}` } });
            const text = await res.text();
            process.stderr.write(`${r.code} behind ${behind}: a direct pull with its cursor answers ${res.status} ${text.slice(0, 300)}…\n`);
          }
          for (const d of found.slice(0, 3)) divergences.push(`diverged ${r.code}: ${d}${behind > 0 ? ` (its pull cursor ${behind} changes behind the log head)` : ''}`);
        }
      }
      convergeS = (performance.now() - healed) / 1000;
    }
    for (const p of pushers) p.stop();
    await Promise.all(pushing);
    for (const c of children) await c.exit();
    const answers: Record<string, number> = {};
    for (const p of pushers) if (p instanceof EngineSync || p instanceof ChildRegister) for (const [k, n] of Object.entries(p.answers)) answers[k] = (answers[k] ?? 0) + n;
    if (process.env['KASSA_SIM_DEBUG'] === '1') process.stderr.write(`engine requests: ${JSON.stringify(answers)}\n`);

    options.onProgress?.(total, total, 'checking');
    const result = await check(
      server,
      recorded,
      nodes.map((r, i) => ({ code: r.code, deviceId: r.pairing.deviceId, ops: () => r.ops(), skew: skews[i] ?? 'none' })),
      store.currency as CurrencyCode,
    );
    const proxyStats: Record<string, number> = {};
    for (const p of proxies) for (const [k, v] of Object.entries(p.stats)) proxyStats[k] = (proxyStats[k] ?? 0) + v;
    const applied = (await server.query<{ register_id: string; status: string }>('SELECT register_id, status FROM sync_ops')).filter(
      (r) => r.status === 'applied' && nodes.some((g) => g.pairing.deviceId === r.register_id),
    ).length;
    const ok = converged !== false && result.lost === 0 && result.duplicated === 0 && result.derivedMismatches.length === 0 && result.receiptProblems.length === 0 && result.unexplained === 0 && result.quarantinedWithoutReason === 0 && result.alertMatch.missing.length === 0;
    return {
      registers: options.registers,
      sales: options.sales,
      ops: recorded.length,
      sent: pushers.reduce((s, p) => s + p.sent, 0),
      applied,
      lost: result.lost,
      duplicated: result.duplicated,
      quarantined: result.quarantined,
      conflicts: result.conflicts,
      server_kills: server.kills,
      register_kills: children.reduce((s, c) => s + c.kills, 0),
      converged,
      converge_s: Math.round(convergeS * 100) / 100,
      seconds: Math.round((performance.now() - started) / 10) / 100,
      seed: options.seed,
      db: options.db,
      ok,
      details: { ...result, problems: [...divergences, ...result.problems], restored: options.restore, proxy: proxyStats, pushRewinds: pushers.reduce((s, p) => s + p.rewinds, 0), midCommandKills: children.reduce((s, c) => s + c.midCommandKills, 0), requests: answers },
    };
  } finally {
    stopBackground();
    for (const p of pushers) p.stop();
    for (const proxy of proxies) await proxy.close();
    for (const r of registers) r.close();
    for (const c of children) await c.exit();
    await server.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
