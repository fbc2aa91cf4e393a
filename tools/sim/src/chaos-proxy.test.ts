import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_FAULTS, ChaosProxy } from './chaos-proxy.js';
import type { Fault, ProxyEvent } from './chaos-proxy.js';
import { waitFor } from './wait-for.js';

/** A stand-in server that records every request it received (its body) and answers with a count. */
async function upstream(): Promise<{ port: number; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json', 'x-kassa': 'yes' });
      res.end(JSON.stringify({ received: seen.length }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(faults: readonly Fault[], chaos = 1, extra: { delayMs?: [number, number]; holdMs?: [number, number] } = {}) {
  const up = await upstream();
  cleanups.push(up.close);
  const events: ProxyEvent[] = [];
  const proxy = new ChaosProxy({ targetPort: up.port, chaos, seed: 7, faults, onEvent: (e) => events.push(e), ...extra });
  const port = await proxy.listen();
  cleanups.push(() => proxy.close());
  const send = (body: string) => fetch(`http://127.0.0.1:${port}/api/v1/sync/push`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { up, proxy, events, send };
}

describe('ChaosProxy', () => {
  it('passes requests through untouched at chaos 0 (status, headers, body)', async () => {
    const { up, send, proxy } = await setup(ALL_FAULTS, 0);
    const res = await send('{"ops":[1]}');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-kassa')).toBe('yes');
    expect(await res.json()).toEqual({ received: 1 });
    expect(up.seen).toEqual(['{"ops":[1]}']);
    expect(proxy.stats.pass).toBe(1);
  });

  it('refuse: the register sees a reset and the server sees nothing', async () => {
    const { up, send, events } = await setup(['refuse']);
    await expect(send('a')).rejects.toThrow();
    expect(up.seen).toEqual([]);
    expect(events.map((e) => e.fate)).toEqual(['refuse']);
  });

  it('cut_before: the body is read, then the connection is cut before the server sees it', async () => {
    const { up, send, proxy } = await setup(['cut_before']);
    await expect(send('a')).rejects.toThrow();
    expect(up.seen).toEqual([]);
    expect(proxy.stats.cut_before).toBe(1);
  });

  it('lost_ack: the server receives and answers, the register sees a reset', async () => {
    const { up, send } = await setup(['lost_ack']);
    await expect(send('committed')).rejects.toThrow();
    await waitFor(() => up.seen.length === 1, 'the server to receive the request');
    expect(up.seen).toEqual(['committed']);
  });

  it('duplicate: the server receives the request twice, the register gets one answer', async () => {
    const { up, send } = await setup(['duplicate']);
    const res = await send('twice');
    expect(await res.json()).toEqual({ received: 2 });
    expect(up.seen).toEqual(['twice', 'twice']);
  });

  it('delay: the answer arrives, late', async () => {
    const { up, send } = await setup(['delay'], 1, { delayMs: [150, 150] });
    const started = performance.now();
    const res = await send('slow');
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(up.seen).toEqual(['slow']);
  });

  it('late: the register sees a reset at once; the server gets the request after later ones', async () => {
    const { up, send, proxy } = await setup(['late'], 1, { holdMs: [300, 300] });
    await expect(send('first')).rejects.toThrow();
    proxy.setChaos(0);
    expect((await send('second')).status).toBe(200);
    await waitFor(() => up.seen.length === 2, 'the held request to arrive');
    expect(up.seen).toEqual(['second', 'first']);
  });

  it('offline spans cut every request until the register is back online', async () => {
    const { up, send, proxy } = await setup(ALL_FAULTS, 0);
    proxy.setOffline(true);
    await expect(send('x')).rejects.toThrow();
    await expect(send('y')).rejects.toThrow();
    proxy.setOffline(false);
    expect((await send('z')).status).toBe(200);
    expect(up.seen).toEqual(['z']);
    expect(proxy.stats.offline).toBe(2);
  });

  it('offline cuts a long-poll already waiting', async () => {
    const up = http.createServer(() => undefined); // never answers: a long-poll
    await new Promise<void>((resolve) => up.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => (up.closeAllConnections(), up.close(() => resolve()))));
    const proxy = new ChaosProxy({ targetPort: (up.address() as AddressInfo).port, chaos: 0, seed: 1 });
    const port = await proxy.listen();
    cleanups.push(() => proxy.close());
    const waiting = fetch(`http://127.0.0.1:${port}/api/v1/sync/pull?wait=30`);
    await waitFor(() => proxy.stats.pass === 1, 'the long-poll to reach the proxy');
    proxy.setOffline(true);
    await expect(waiting).rejects.toThrow();
  });

  it('a server that is down looks like a reset to the register', async () => {
    const { up, send } = await setup(ALL_FAULTS, 0);
    await up.close();
    await expect(send('x')).rejects.toThrow();
  });

  it('the same seed gives the same fates; the chaos level is honoured', () => {
    const fates = (seed: number) => {
      const proxy = new ChaosProxy({ targetPort: 1, chaos: 0.3, seed });
      return Array.from({ length: 2000 }, () => proxy.decide());
    };
    const a = fates(11);
    expect(fates(11)).toEqual(a);
    expect(fates(12)).not.toEqual(a);
    const hit = a.filter((f) => f !== 'pass').length / a.length;
    expect(hit).toBeGreaterThan(0.25);
    expect(hit).toBeLessThan(0.35);
    for (const fault of ALL_FAULTS) expect(a).toContain(fault);
  });
});
