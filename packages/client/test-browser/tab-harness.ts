/**
 * The page the tab-ownership and crash tests drive (chromium-tabs.test.ts, chromium-crash.test.ts):
 * it opens the register with `openRegisterInTab` on the pool named in `?pool=`, shows the tab's
 * status as a cashier would see it (a status line, a "Take over here" button, an alert when the
 * database is lost), and offers `window.kassaTab` to the test. With `?sw` it registers the
 * harness's service worker, so the page also loads with no server at all.
 */
import { addLine, createCart, units, type Cart } from '@kassa/core';
import type { RegisterTab, TabStatus } from '../src/browser/register-tab.js';
import { openRegisterInTab } from '../src/browser/register-tab.js';
import { FIXTURE, FIXTURE_IDENTITY, FIXTURE_SETTINGS, fixtureCatalog } from '../src/store/store-fixtures.js';

type Answer = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Record<string, unknown> };

/** One sale the page saw committed. */
interface Committed {
  readonly note: string;
  readonly orderId: string;
  readonly seq: number;
  readonly receiptNo: string;
}

const params = new URLSearchParams(location.search);
const pool = params.get('pool') ?? 'tabs';
const location_ = { pool, file: '/register.sqlite' };

function errorData(e: unknown): Record<string, unknown> {
  return e instanceof Error ? { ...e, name: e.name, message: e.message } : { name: 'Error', message: String(e) };
}

async function answer(run: () => Promise<unknown>): Promise<Answer> {
  try {
    return { ok: true, value: await run() };
  } catch (e) {
    return { ok: false, error: errorData(e) };
  }
}

/** The status as plain data (the error's class does not cross `page.evaluate`). */
function plain(status: TabStatus): Record<string, unknown> {
  return { ...status, error: status.error === null ? null : errorData(status.error) };
}

const statusLine = document.getElementById('tab-status');
const takeOverButton = document.getElementById('take-over') as HTMLButtonElement | null;
const alertBox = document.getElementById('tab-alert');

function render(status: TabStatus): void {
  const reg = status.owner?.register;
  const name = reg === null || reg === undefined ? 'the register' : `register ${reg.storeCode}-${reg.registerCode}`;
  const text: Record<TabStatus['phase'], string> = {
    opening: 'Opening the register…',
    ready: `This tab runs ${name}.`,
    'database-lost': `This tab owns ${name}, but its database is lost.`,
    failed: 'The register could not open its database.',
    releasing: 'Handing the register over to another tab…',
    closed: 'This tab has closed the register.',
    following: `The register is open in another tab${reg === null || reg === undefined ? '' : ` (${reg.storeCode}-${reg.registerCode})`}. Only one tab can use it at a time.`,
    'taking-over': 'Asking the other tab to hand the register over…',
  };
  if (statusLine !== null) statusLine.textContent = text[status.phase];
  if (takeOverButton !== null) takeOverButton.hidden = status.phase !== 'following';
  if (alertBox !== null) {
    alertBox.hidden = status.error === null;
    alertBox.textContent = status.error?.message ?? '';
  }
}

const swReady: Promise<boolean> =
  params.has('sw') && 'serviceWorker' in navigator
    ? navigator.serviceWorker.register('./sw.js').then(async () => {
        await navigator.serviceWorker.ready;
        return true;
      })
    : Promise.resolve(false);

const opening: Promise<RegisterTab> = openRegisterInTab({
  createWorker: () => new Worker(new URL('../src/browser/store-worker.ts', import.meta.url), { type: 'module' }),
  location: location_,
  takeOverTimeoutMs: Number(params.get('takeOverTimeoutMs') ?? 10_000),
});

void opening.then((tab) => {
  tab.status$.subscribe(render);
  takeOverButton?.addEventListener('click', () => void tab.takeOver().catch(() => undefined));
  addEventListener('pagehide', () => void tab.close());
});

async function store(): Promise<NonNullable<RegisterTab['store']>> {
  const tab = await opening;
  if (tab.store === undefined) throw new Error(`this tab has no store (phase ${tab.status$.value.phase})`);
  return tab.store;
}

let kept: NonNullable<RegisterTab['store']> | undefined;

let selling: { stop: boolean; error: Record<string, unknown> | null; count: number } = { stop: true, error: null, count: 0 };

const harness = {
  ready: opening.then((tab) => plain(tab.status$.value)),
  swReady,
  async status(): Promise<Record<string, unknown>> {
    return plain((await opening).status$.value);
  },
  async call(method: string, args: unknown[]): Promise<Answer> {
    return answer(async () => {
      const s = (await store()) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      const fn = s[method];
      if (fn === undefined) throw new Error(`no method ${method}`);
      return fn(...args);
    });
  },
  /** Keeps the store this tab has now, to call it later (after it handed the register off). */
  async keepStore(): Promise<void> {
    kept = await store();
  },
  async callKept(method: string, args: unknown[]): Promise<Answer> {
    return answer(async () => {
      const fn = (kept as unknown as Record<string, ((...a: unknown[]) => Promise<unknown>) | undefined> | undefined)?.[method];
      if (fn === undefined) throw new Error(`no kept store or no method ${method}`);
      return fn(...args);
    });
  },
  publish: async (detail: unknown): Promise<void> => (await opening).publish(detail),
  /** The pairing marker as localStorage holds it. */
  marker: (forPool: string = pool): unknown => JSON.parse(localStorage.getItem(`kassa.register.${forPool}`) ?? 'null'),
  takeOver: (): Promise<Answer> => answer(async () => (await (await opening).takeOver(), plain((await opening).status$.value))),
  recover: (): Promise<Answer> => answer(async () => (await (await opening).recoverStore(), plain((await opening).status$.value))),
  storage: async (): Promise<unknown> => (await opening).storage(),
  close: async (): Promise<void> => (await opening).close(),
  /** Pairs the register as S01-R02 with the fixture's settings and catalog, and opens a shift. */
  seed: (): Promise<Answer> =>
    answer(async () => {
      const s = await store();
      await s.pair(FIXTURE_IDENTITY);
      await s.writeSettings(FIXTURE_SETTINGS);
      await s.importCatalog(fixtureCatalog());
      await s.openShift({ staffId: FIXTURE.cashier, float: { denominations: [], total: 10_000 } });
      return s.meta();
    }),
  /** One sale of a mug and a tea, cash. */
  async sellOne(note: string): Promise<Answer> {
    return answer(async () => sellOne(await store(), note));
  },
  /**
   * Sells back to back until told to stop or an error, reporting each sale after its COMMIT
   * through `window.kassaCommitted` and each attempt before it starts through `window.kassaAttempt`
   * (bindings the crash test installs), never awaiting them.
   */
  startSelling(prefix: string): void {
    const run = { stop: false, error: null as Record<string, unknown> | null, count: 0 };
    selling = run;
    void (async () => {
      try {
        const s = await store();
        const hooks = globalThis as unknown as { kassaCommitted?: (c: Committed) => unknown; kassaAttempt?: (note: string) => unknown };
        // One cart for the whole loop, so nearly all of the loop's time is inside completeSale.
        const cart = await mugAndTea(s);
        for (let i = 0; !run.stop; i++) {
          const note = `${prefix}-${String(i)}`;
          void hooks.kassaAttempt?.(note);
          const committed = await sellOne(s, note, cart);
          void hooks.kassaCommitted?.(committed);
          run.count += 1;
        }
      } catch (e) {
        run.error = errorData(e);
      }
    })();
  },
  stopSelling(): { count: number; error: Record<string, unknown> | null } {
    selling.stop = true;
    return { count: selling.count, error: selling.error };
  },
  /** Deletes the pool's OPFS directory: the database and its journal (no worker may hold them). */
  async deleteDatabaseFiles(forPool: string): Promise<Answer> {
    return answer(async () => (await navigator.storage.getDirectory()).removeEntry(`.kassa-${forPool}`, { recursive: true }));
  },
  /**
   * Overwrites the start of every file in the pool past opfs-sahpool's 4 KiB header, i.e. the
   * SQLite header of the database image: the file stays, SQLite can no longer read it.
   */
  corruptDatabaseFiles: (forPool: string): Promise<Answer> => answer(() => corrupt(forPool)),
};

/** See `corruptDatabaseFiles`. */
async function corrupt(forPool: string): Promise<number> {
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(`.kassa-${forPool}`);
  let corrupted = 0;
  const visit = async (d: FileSystemDirectoryHandle): Promise<void> => {
    for await (const [, handle] of (d as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
      if (handle.kind === 'directory') {
        await visit(handle as FileSystemDirectoryHandle);
        continue;
      }
      const file = handle as FileSystemFileHandle;
      if ((await file.getFile()).size <= 4096 + 100) continue;
      const w = await file.createWritable({ keepExistingData: true });
      await w.write({ type: 'write', position: 4096, data: new Uint8Array(100).fill(0xee) });
      await w.close();
      corrupted += 1;
    }
  };
  await visit(dir);
  return corrupted;
}

/** A cart of one mug and one tea. */
async function mugAndTea(s: NonNullable<RegisterTab['store']>): Promise<Cart> {
  return addLine(addLine(createCart(await s.cartSettings()), await s.getItem(FIXTURE.mug), units(1)), await s.getItem(FIXTURE.tea), units(1));
}

async function sellOne(s: NonNullable<RegisterTab['store']>, note: string, cart?: Cart): Promise<Committed> {
  cart ??= await mugAndTea(s);
  const sale = await s.completeSale({ cart, staffId: FIXTURE.cashier, note, tenders: [{ tenderId: crypto.randomUUID(), kind: 'cash', given: 10_000 }] });
  return { note, orderId: sale.orderId, seq: sale.op.seq, receiptNo: sale.receiptNo };
}

(globalThis as unknown as { kassaTab: typeof harness }).kassaTab = harness;
