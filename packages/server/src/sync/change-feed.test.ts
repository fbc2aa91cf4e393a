import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { describeDb } from '../testing/describe-db.js';
import { pollUntil } from '../testing/poll.js';
import { CHANGE_CHANNEL, createChangeFeed } from './change-feed.js';
import type { ChangeFeed } from './change-feed.js';

const feeds: ChangeFeed[] = [];
afterEach(async () => {
  for (const f of feeds.splice(0)) await f.close();
});

/** Resolves with the next wake-up of `orgId` on `feed`. */
function nextWake(feed: ChangeFeed, orgId: string): Promise<void> {
  return new Promise((resolve) => {
    const off = feed.subscribe(orgId, () => {
      off();
      resolve();
    });
  });
}

describeDb('change feed', (dbs) => {
  it('wakes subscribers of the organisation that changed, in this process, until they unsubscribe', async () => {
    const { storage, config } = await dbs.create();
    const feed = createChangeFeed({ config, db: storage.db });
    feeds.push(feed);
    await feed.ready;
    const seen: string[] = [];
    const offA = feed.subscribe('a', () => seen.push('a'));
    feed.subscribe('b', () => seen.push('b'));
    await feed.publish('a');
    expect(seen).toEqual(['a']);
    offA();
    await feed.publish('a');
    await feed.publish('b');
    expect(seen).toEqual(['a', 'b']);
  });

  it('wakes a second feed on the same database (another server process on PostgreSQL)', async () => {
    const db = await dbs.create();
    const a = createChangeFeed({ config: db.config, db: db.storage.db });
    feeds.push(a);
    if (dbs.kind === 'sqlite') {
      // One process per SQLite file (ADR 11): the feed is in-process only.
      expect(a.publish('o1')).toBeInstanceOf(Promise);
      return;
    }
    const other = db.reopen();
    const b = createChangeFeed({ config: db.config, db: other.db });
    feeds.push(b);
    await Promise.all([a.ready, b.ready]);
    const woken = nextWake(b, 'o1');
    await a.publish('o1');
    await woken;
  });

  it('reconnects its listener after the connection is killed and wakes everyone once back', async () => {
    const db = await dbs.create();
    if (dbs.kind === 'sqlite') return; // nothing to reconnect
    const errors: string[] = [];
    const b = createChangeFeed({ config: db.config, db: db.storage.db, onError: (_e, what) => errors.push(what), maxBackoffMs: 200 });
    const a = createChangeFeed({ config: db.config, db: db.reopen().db });
    feeds.push(a, b);
    await Promise.all([a.ready, b.ready]);

    const reconnectWake = nextWake(b, 'o1');
    // Kill b's LISTEN connection from outside, as a PostgreSQL restart or a network cut would.
    const admin = new pg.Client({ connectionString: 'url' in db.config ? db.config.url : '' });
    await admin.connect();
    try {
      const killed = await admin.query<{ n: number }>(
        `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = current_database() and query ilike $1`,
        [`listen ${CHANGE_CHANNEL}%`],
      );
      expect(killed.rows[0]?.n).toBe(2);
    } finally {
      await admin.end();
    }
    await reconnectWake;
    expect(errors[0]).toContain('reconnecting');
    // …and notifications flow again once both listeners are back.
    await pollUntil(
      async () => {
        const woken = nextWake(b, 'o2');
        await a.publish('o2');
        return Promise.race([woken.then(() => true), new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]);
      },
      { what: 'a notification after the reconnect' },
    );
  });
});
