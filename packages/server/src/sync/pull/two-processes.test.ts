/**
 * DESIGN §3: "a change made through one [server process] wakes registers connected to another".
 * Two real server processes (`node scripts/start.mjs`) share one PostgreSQL database; a register
 * long-polls process B; a change is appended and published by another process; B answers the
 * long-poll with it well before the wait ends — whether the change comes from a push through
 * process A or from a writer process of its own. On SQLite (one server process per file, ADR 11) a
 * change written by another process cannot wake the poll, but the poll still delivers it when its
 * wait ends — never loses it.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { sampleOp } from '@kassa/core/test-fixtures/ops';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { randomToken, sha256Hex } from '../../security/secrets.js';
import { describeDb } from '../../testing/describe-db.js';
import { pollUntil } from '../../testing/poll.js';
import { freePort, REPO_ROOT, spawnServer, stopServer, waitUntilServing } from '../../testing/spawn-server.js';
import type { ServerProcess } from '../../testing/spawn-server.js';

const SCRIPT = fileURLToPath(new URL('./append-and-publish.script.ts', import.meta.url));

const running: ServerProcess[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) if (s.exitCode() === undefined) s.child.kill('SIGKILL');
});

async function start(env: Record<string, string>): Promise<ServerProcess> {
  const server = spawnServer({ ...env, KASSA_ADMIN_PASSWORD: 'two-processes-test' }, await freePort());
  running.push(server);
  return server;
}

/** Runs the append-and-publish script in a process of its own; resolves with the new head. */
function appendFromAnotherProcess(env: Record<string, string>, orgId: string, entityId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, orgId, entityId], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('exit', (code) => {
      if (code === 0) resolve((JSON.parse(out) as { head: number }).head);
      else reject(new Error(`append script exited ${String(code)}: ${err}`));
    });
  });
}

const waiters = async (server: ServerProcess): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  return Number(/^kassa_pull_waiters (\d+)$/m.exec(text)?.[1] ?? NaN);
};

describeDb('pull across server processes', (dbs) => {
  it('a change published by another process answers a long-poll waiting on this one', async () => {
    const db = await dbs.create();
    // PostgreSQL: two server processes, A and B. SQLite: one (B), as supported.
    const b = await start(db.env);
    const a = dbs.kind === 'postgres' ? await start(db.env) : undefined;
    await Promise.all([waitUntilServing(b), ...(a ? [waitUntilServing(a)] : [])]);

    // Pair register R01 of the demo store by giving it a token.
    const check = db.reopen();
    const token = randomToken();
    const register = await check.db.selectFrom('registers').select(['id', 'org_id']).where('code', '=', 'R01').executeTakeFirstOrThrow();
    await check.db.updateTable('registers').set({ token_hash: sha256Hex(token) }).where('id', '=', register.id).execute();
    const headers = { authorization: `Bearer ${token}` };
    const base = `http://127.0.0.1:${b.port}`;

    const snap = await fetch(`${base}/api/v1/sync/snapshot?limit=1`, { headers });
    expect(snap.status).toBe(200);
    const { cursor } = (await snap.json()) as { cursor: string };

    // SQLite: long enough for the other process (tsx start-up included) to write before the wait ends.
    const wait = dbs.kind === 'postgres' ? 25 : 10;
    const started = Date.now();
    const polling = fetch(`${base}/api/v1/sync/pull?since=${cursor}&wait=${wait}`, { headers });
    await pollUntil(async () => ((await waiters(b)) === 1 ? true : undefined), { what: 'the long-poll to wait on B', intervalMs: 20 });

    const head = await appendFromAnotherProcess(db.env, register.org_id, 'from-elsewhere');
    const res = await polling;
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { changes: { seq: number; entityId: string; data: unknown }[]; cursor: string; hasMore: boolean };
    expect(body.changes.map((c) => [c.seq, c.entityId])).toEqual([[head, 'from-elsewhere']]);
    expect(body.changes[0]?.data).toEqual({ id: 'from-elsewhere', from: 'another process' });
    if (dbs.kind === 'postgres') {
      expect(elapsed).toBeLessThan(wait * 1000 - 5_000); // woken by NOTIFY, not by the end of the wait
      // A's own long-polls are woken too (every process LISTENs).
      const fromA = fetch(`http://127.0.0.1:${a?.port ?? 0}/api/v1/sync/pull?since=${encodeURIComponent(body.cursor)}&wait=${wait}`, { headers });
      await pollUntil(async () => (a && (await waiters(a)) === 1 ? true : undefined), { what: 'the long-poll to wait on A', intervalMs: 20 });
      const second = await appendFromAnotherProcess(db.env, register.org_id, 'second');
      const resA = await fromA;
      expect(((await resA.json()) as { changes: { seq: number }[] }).changes.map((c) => c.seq)).toEqual([second]);
      expect(Date.now() - started).toBeLessThan(2 * wait * 1000 - 5_000);
    } else {
      // No cross-process wake on SQLite: delivered when the wait ended.
      expect(elapsed).toBeGreaterThanOrEqual(wait * 1000 - 50);
    }

    expect(await stopServer(b)).toBe(0);
    if (a) expect(await stopServer(a)).toBe(0);
  });

  it('a push through process A answers a long-poll waiting on process B (the same process on SQLite)', async () => {
    const db = await dbs.create();
    const b = await start(db.env);
    const a = dbs.kind === 'postgres' ? await start(db.env) : b;
    await Promise.all([waitUntilServing(b), ...(a === b ? [] : [waitUntilServing(a)])]);

    const check = db.reopen();
    const token = randomToken();
    const register = await check.db.selectFrom('registers').select(['id', 'org_id', 'store_id']).where('code', '=', 'R01').executeTakeFirstOrThrow();
    await check.db.updateTable('registers').set({ token_hash: sha256Hex(token) }).where('id', '=', register.id).execute();
    const manager = await check.db.selectFrom('staff').select('id').where('role', '=', 'manager').executeTakeFirstOrThrow();
    const headers = { authorization: `Bearer ${token}` };

    const snap = await fetch(`http://127.0.0.1:${b.port}/api/v1/sync/snapshot?limit=1`, { headers });
    const { cursor } = (await snap.json()) as { cursor: string };
    const started = Date.now();
    const polling = fetch(`http://127.0.0.1:${b.port}/api/v1/sync/pull?since=${cursor}&wait=25`, { headers });
    await pollUntil(async () => ((await waiters(b)) === 1 ? true : undefined), { what: 'the long-poll to wait on B', intervalMs: 20 });

    // A manager takes cash out of the drawer at register R01; the op is pushed through A.
    const now = Date.now();
    const op = sampleOp('cash.moved', {
      id: randomUUID(),
      deviceId: register.id,
      storeId: register.store_id,
      staffId: manager.id,
      seq: 1,
      hlc: `${now.toString(16).padStart(12, '0')}-0000-${register.id}`,
      deviceTime: now,
    });
    const pushed = await fetch(`http://127.0.0.1:${a.port}/api/v1/sync/push`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ ops: [op] }),
    });
    expect(pushed.status).toBe(200);
    expect(await pushed.json()).toMatchObject({ ackedSeq: 1, results: [{ id: op.id, status: 'applied' }] });

    const res = await polling;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { changes: { entity: string; entityId: string; storeId: string | null }[] };
    expect(body.changes.map((c) => [c.entity, c.entityId, c.storeId])).toEqual([['fact', op.id, register.store_id]]);
    expect(Date.now() - started).toBeLessThan(20_000); // woken, not timed out

    if (a !== b) expect(await stopServer(a)).toBe(0);
    expect(await stopServer(b)).toBe(0);
  });
});
