/**
 * One simulated register as its own process (`--register-kills K`): the engine on its database
 * file, the client's SyncEngine through the register's chaos proxy, and the seeded cashier. The
 * parent ({@link ChildRegister}) SIGKILLs it at random moments — or asks it to SIGKILL itself at a
 * chosen step inside a command's transaction — and starts it again on the same file.
 *
 * Every command that returned is reported to the parent at once (`recorded`), which records it
 * outside the engine's database; a command whose process died before the report is one the cashier
 * never saw succeed.
 *
 * Parent → child: `{t:'arm', step}` (die at that step of the next command), `{t:'stop'}`.
 * Child → parent: `{t:'recorded', command}`, `{t:'sent', sent, answers}`, `{t:'done'}`.
 */
import { EngineSync } from './engine-sync.js';
import { SeededRandom } from './random.js';
import { SimRegister } from './sim-register.js';
import type { ClockSkew, RecordedCommand, SimCatalog } from './sim-register.js';
import type { Pairing } from './api-client.js';

/** What the parent passes (as JSON in `KASSA_SIM_CHILD`). */
export interface ChildConfig {
  readonly code: string;
  readonly dir: string;
  readonly pairing: Pairing;
  readonly catalog: SimCatalog;
  readonly skew: ClockSkew;
  /** The cashier's seed for this life of the register. */
  readonly seed: number;
  /** True on the first start only: pair, import the catalog. */
  readonly fresh: boolean;
  /** Sales still to make. */
  readonly salesLeft: number;
  readonly proxyUrl: string;
  readonly serverUrl: string;
}

export type ChildMessage =
  | { readonly t: 'recorded'; readonly command: RecordedCommand }
  | { readonly t: 'sent'; readonly sent: number; readonly answers: Record<string, number> }
  | { readonly t: 'done' };

export type ParentMessage = { readonly t: 'arm'; readonly step: string } | { readonly t: 'stop' };

const send = (m: ChildMessage): void => {
  // The parent may be gone (a run that ended or crashed): then there is no one to tell.
  if (process.connected) process.send?.(m, undefined, {}, () => undefined);
};

const raw = process.env['KASSA_SIM_CHILD'];
if (raw === undefined) throw new Error('register-process: KASSA_SIM_CHILD is not set (it is started by the simulator)');
const cfg = JSON.parse(raw) as ChildConfig;

let armed: string | undefined;
let stopping = false;
let stopped: () => void = () => undefined;
const stopRequested = new Promise<void>((resolve) => (stopped = resolve));
process.on('message', (m: ParentMessage) => {
  if (m.t === 'arm') armed = m.step;
  if (m.t === 'stop') {
    stopping = true;
    stopped();
  }
});
process.on('disconnect', () => process.exit(0));

const register = new SimRegister(cfg.code, cfg.dir, cfg.pairing, cfg.catalog, cfg.skew, new SeededRandom(cfg.seed), {
  fresh: cfg.fresh,
  beforeStep: (step) => {
    // Dies inside the command's SQLite transaction: nothing of it may survive, nothing is reported.
    if (armed === step) process.kill(process.pid, 'SIGKILL');
  },
});
if (register.opened !== undefined) send({ t: 'recorded', command: register.opened });
const sync = new EngineSync(register, cfg.proxyUrl, cfg.serverUrl);
const running = sync.run();
const report = (): void => send({ t: 'sent', sent: sync.sent, answers: sync.answers });

const cashier = new SeededRandom(cfg.seed).fork('cashier');
let sales = 0;
let steps = 0;
while (sales < cfg.salesLeft && !stopping) {
  const command = register.step(cashier.chance(0.03));
  if (command !== undefined) {
    sync.notify();
    send({ t: 'recorded', command });
    if (command.type === 'sale.completed') sales += 1;
  }
  if (++steps % 20 === 0) report();
  await new Promise((resolve) => setTimeout(resolve, cashier.int(0, 8)));
}
report();
send({ t: 'done' });
await stopRequested;
sync.stop();
await running;
register.close();
await new Promise<void>((resolve) => process.send?.({ t: 'sent', sent: sync.sent, answers: sync.answers } satisfies ChildMessage, () => resolve()) ?? resolve());
process.disconnect();
