import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNodeStore } from '../node.js';
import { describeStore } from './describe-store.js';
import { counterRandom } from './store-fixtures.js';

describeStore('better-sqlite3 on a temp file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kassa-store-'));
  const file = join(dir, 'register.sqlite');
  let current = openNodeStore(file, { random: counterRandom(7) });
  return Promise.resolve({
    store: current.store,
    async reopen() {
      await current.store.close();
      current = openNodeStore(file, { random: counterRandom(8) });
      return current.store;
    },
    async dispose() {
      await current.store.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  });
});
