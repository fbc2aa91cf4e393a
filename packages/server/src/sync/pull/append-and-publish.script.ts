/**
 * Test-only entry point: appends one change to an organisation's log and publishes it, from a
 * process of its own, against the database the environment names (DATABASE_URL or DATA_DIR) — a
 * writer that is not the server process a register long-polls on.
 *
 * Usage: `node --import tsx append-and-publish.script.ts <orgId> <entityId>`; prints `{"head":n}`.
 */
import { loadConfig } from '../../config.js';
import { openStorage } from '../../db/database.js';
import { createChangeFeed } from '../change-feed.js';
import { appendChanges } from '../change-log.js';

const [orgId, entityId] = process.argv.slice(2);
if (orgId === undefined || entityId === undefined) {
  process.stderr.write('usage: append-and-publish.script.ts <orgId> <entityId>\n');
  process.exit(2);
}
const config = loadConfig(process.env);
const storage = openStorage(config.storage);
const feed = createChangeFeed({ config: config.storage, db: storage.db, onError: (err) => process.stderr.write(`${err.message}\n`) });
try {
  const head = await appendChanges(storage.db, orgId, [{ entity: 'product', entityId, storeId: null, op: 'upsert', data: { id: entityId, from: 'another process' } }]);
  await feed.publish(orgId);
  process.stdout.write(`${JSON.stringify({ head })}\n`);
} finally {
  await feed.close();
  await storage.close();
}
