import { afterEach, describe, expect, it } from 'vitest';
import { BackOffice } from './api-client.js';
import { ServerControl } from './server-control.js';
import type { SimDb } from './server-control.js';

const made: ServerControl[] = [];
afterEach(async () => {
  for (const s of made.splice(0)) await s.dispose();
});

interface RegisterRow {
  readonly code: string;
  readonly paired: boolean;
}

async function registers(server: ServerControl): Promise<string[]> {
  const office = await BackOffice.signIn(server.url);
  const { registers: rows } = await office.get<{ registers: RegisterRow[] }>('/api/v1/registers');
  return rows.filter((r) => r.paired).map((r) => r.code).sort();
}

describe.each<SimDb>(['sqlite', 'pg'])('ServerControl on %s', (db) => {
  it('survives SIGKILL with its data; a snapshot taken stopped is put back by restore()', { timeout: 300_000 }, async () => {
    const server = await ServerControl.create(db);
    made.push(server);
    await server.start();
    const office = await BackOffice.signIn(server.url);
    const { stores } = await office.get<{ stores: { id: string }[] }>('/api/v1/stores');
    const storeId = stores[0]?.id ?? '';
    await office.pair(storeId, 'S1');

    await server.kill();
    expect(server.running).toBe(false);
    expect(server.kills).toBe(1);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    await server.snapshot();

    await server.start();
    expect(await registers(server)).toEqual(['S1']);
    await (await BackOffice.signIn(server.url)).pair(storeId, 'S2');
    expect(await registers(server)).toEqual(['S1', 'S2']);

    await server.stop();
    await server.restore();
    await server.start();
    expect(await registers(server)).toEqual(['S1']);
  });
});
