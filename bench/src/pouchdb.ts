/**
 * `pouchdb_push_docs_per_s`: the same sale documents Kassa ingests, replicated by PouchDB the way
 * a PouchDB-based register would sync — 20 sources at once, each a PouchDB on disk (leveldb
 * adapter) replicating to one database on an express-pouchdb server process on loopback, itself on
 * disk (leveldb). The sources are filled before the clock starts, as Kassa's batches are built
 * before; the timed part is the replication (changes feed, `_revs_diff`, `_bulk_docs`, checkpoints)
 * of every source until each says it is complete, all documents written.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import PouchDB from 'pouchdb-node';
import type { PouchDatabase } from 'pouchdb-node';
import { freePort, waitFor } from './net.js';

const SERVER_SCRIPT = fileURLToPath(new URL('./pouchdb-server.ts', import.meta.url));
/** The bench package, where `tsx` resolves from; the server writes only under its data folder. */
const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url));

/** What the PouchDB run measured. */
export interface PouchResult {
  readonly docs: number;
  readonly seconds: number;
  readonly docsPerS: number;
}

/**
 * Replicates `docsPerSource[i]` from source `i` to the server, all sources at once, in batches of
 * `batchSize` (Kassa's push batch size).
 */
export async function runPouch(docsPerSource: readonly (readonly object[])[], batchSize: number, progress: (line: string) => void): Promise<PouchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kassa-bench-pouch-'));
  const serverDir = path.join(dir, 'server');
  fs.mkdirSync(serverDir);
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER_SCRIPT, serverDir, String(port)], { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-4096)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const sources: PouchDatabase[] = [];
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`the PouchDB server exited: ${err}`);
      return out.includes('ready') ? true : undefined;
    }, { what: 'the PouchDB server', timeoutMs: 60_000 });
    const remoteUrl = `http://127.0.0.1:${port}/sales`;
    const remote = new PouchDB(remoteUrl);
    await remote.info(); // creates the database before the clock starts

    progress(`  filling ${docsPerSource.length} on-disk sources`);
    for (const [i, docs] of docsPerSource.entries()) {
      const source = new PouchDB(path.join(dir, `source-${i}`));
      sources.push(source);
      for (let j = 0; j < docs.length; j += 500) await source.bulkDocs(docs.slice(j, j + 500));
    }
    const total = docsPerSource.reduce((n, d) => n + d.length, 0);

    progress(`  replicating ${total} docs from ${sources.length} sources at once`);
    const started = process.hrtime.bigint();
    const results = await Promise.all(sources.map((source) => PouchDB.replicate(source, new PouchDB(remoteUrl), { batch_size: batchSize })));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const written = results.reduce((n, r) => n + r.docs_written, 0);
    const failures = results.reduce((n, r) => n + r.doc_write_failures, 0);
    const info = await remote.info();
    if (written !== total || failures > 0 || info.doc_count !== total) {
      throw new Error(`PouchDB replication wrote ${written} of ${total} docs (${failures} failures; the server holds ${info.doc_count})`);
    }
    return { docs: total, seconds, docsPerS: total / seconds };
  } finally {
    for (const s of sources) await s.close().catch(() => undefined);
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
