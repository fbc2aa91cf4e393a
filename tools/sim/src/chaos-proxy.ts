import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SeededRandom } from './random.js';

/**
 * What the proxy may do to one request. Each is a way a real shop's network fails:
 *
 * | fault        | the register sees        | the server sees                       |
 * |--------------|--------------------------|---------------------------------------|
 * | `refuse`     | connection reset         | nothing                               |
 * | `delay`      | a slow answer            | the request, late                     |
 * | `cut_before` | connection reset         | nothing (the body was read, then cut) |
 * | `lost_ack`   | connection reset         | the request, committed (lost answer)  |
 * | `duplicate`  | one answer (the second)  | the request twice                     |
 * | `late`       | connection reset at once | the request, long after (reordered)   |
 */
export type Fault = 'refuse' | 'delay' | 'cut_before' | 'lost_ack' | 'duplicate' | 'late';

/** Every fault, in a fixed order (the seeded choice picks by index, so the order is part of replay). */
export const ALL_FAULTS: readonly Fault[] = ['refuse', 'delay', 'cut_before', 'lost_ack', 'duplicate', 'late'];

/** How a {@link ChaosProxy} behaves. */
export interface ChaosProxyOptions {
  /** The real server behind the proxy (loopback). */
  readonly targetPort: number;
  readonly targetHost?: string;
  /**
   * Loopback address the proxy connects to the server from (e.g. `127.0.0.12`), so each register is
   * its own client to the server (its own per-address rate-limit bucket), as separate machines are.
   */
  readonly localAddress?: string;
  /** Probability in [0, 1] that a request meets one fault. */
  readonly chaos: number;
  /** Seed of the proxy's own random stream. */
  readonly seed: number;
  /** Faults to choose from (default: all). */
  readonly faults?: readonly Fault[];
  /** Range of a `delay` in ms (default 20–300). */
  readonly delayMs?: readonly [number, number];
  /** Range of how long a `late` request is held in ms (default 200–2000). */
  readonly holdMs?: readonly [number, number];
  /** Called for every request with what was done to it (for the run's log and tests). */
  readonly onEvent?: (event: ProxyEvent) => void;
}

/** One request through the proxy and its fate. */
export interface ProxyEvent {
  readonly method: string;
  readonly path: string;
  /** `offline` when the register was in an offline span; `pass` when no fault was chosen. */
  readonly fate: Fault | 'pass' | 'offline';
}

/** Counters per fate, for the run's summary. */
export type ProxyStats = Record<Fault | 'pass' | 'offline', number>;

/**
 * A loopback HTTP proxy between one register and the server that, with probability `chaos` per
 * request, applies one seeded {@link Fault}; and that can be switched fully offline for a span.
 * One proxy per register, so offline spans and fault streams are per register.
 *
 * @example
 * ```ts
 * const proxy = new ChaosProxy({ targetPort: 8080, chaos: 0.2, seed: 42 });
 * const port = await proxy.listen();
 * // point the register at http://127.0.0.1:${port}
 * proxy.setOffline(true); // ...later
 * await proxy.close();
 * ```
 */
export class ChaosProxy {
  private readonly random: SeededRandom;
  private readonly faults: readonly Fault[];
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  /** Timers of held (`late`) and delayed requests, cleared on close so nothing fires after it. */
  private readonly timers = new Set<NodeJS.Timeout>();
  private offline = false;
  private chaos: number;
  private closed = false;
  readonly stats: ProxyStats = { refuse: 0, delay: 0, cut_before: 0, lost_ack: 0, duplicate: 0, late: 0, pass: 0, offline: 0 };

  constructor(private readonly options: ChaosProxyOptions) {
    this.random = new SeededRandom(options.seed);
    this.faults = options.faults ?? ALL_FAULTS;
    this.chaos = options.chaos;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    // Long-polls must not be cut by Node's own timeouts; the register's client decides.
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 0;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      // A socket destroyed by a fault may still emit an error; it is the point, not a failure.
      socket.on('error', () => undefined);
    });
  }

  /** Starts listening on a free loopback port and returns it. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** The port the proxy listens on (after {@link listen}). */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /**
   * Starts or ends an offline span: while offline every request, and every connection already
   * open (a waiting long-poll), is cut.
   */
  setOffline(offline: boolean): void {
    this.offline = offline;
    if (offline) for (const socket of this.sockets) socket.destroy();
  }

  /** Changes the fault probability (the run heals the network by setting 0). */
  setChaos(chaos: number): void {
    this.chaos = chaos;
  }

  /** The fate of the next request: consumes the seeded stream exactly once per decision. */
  decide(): Fault | 'pass' {
    // Two draws always, so the stream's position does not depend on the probability.
    const hit = this.random.next() < this.chaos;
    const fault = this.random.pick(this.faults);
    return hit ? fault : 'pass';
  }

  /** Stops listening, cuts every open connection, and drops held requests. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private record(req: http.IncomingMessage, fate: ProxyEvent['fate']): void {
    this.stats[fate] += 1;
    this.options.onEvent?.({ method: req.method ?? 'GET', path: req.url ?? '/', fate });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.offline) {
      this.record(req, 'offline');
      req.socket.destroy();
      return;
    }
    const fate = this.decide();
    this.record(req, fate);
    if (fate === 'refuse') {
      req.socket.destroy();
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch {
      return; // the register went away mid-request
    }
    try {
      switch (fate) {
        case 'cut_before':
          req.socket.destroy();
          return;
        case 'delay': {
          const [min, max] = this.options.delayMs ?? [20, 300];
          await this.sleep(this.random.int(min, max));
          break;
        }
        case 'lost_ack':
          // The server gets the whole request and answers; the answer never reaches the register.
          await this.forward(req, body);
          req.socket.destroy();
          return;
        case 'duplicate':
          // Both copies reach the server; the register hears the second answer.
          await this.forward(req, body).catch(() => undefined);
          break;
        case 'late': {
          // The register gives up at once; the request reaches the server much later, behind
          // whatever the register sent meanwhile.
          req.socket.destroy();
          const [min, max] = this.options.holdMs ?? [200, 2000];
          await this.sleep(this.random.int(min, max));
          if (!this.closed) await this.forward(req, body).catch(() => undefined);
          return;
        }
        case 'pass':
          break;
      }
      if (this.closed || this.offline) {
        req.socket.destroy();
        return;
      }
      // A register that hangs up (a long-poll it gave up) drops the upstream request too.
      const hangUp = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) hangUp.abort();
      });
      const answer = await this.forward(req, body, hangUp.signal);
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    } catch {
      // The server is down (killed) or cut the connection: the register sees a reset, as it would.
      req.socket.destroy();
    }
  }

  /**
   * Sends one copy of the request to the server and reads the whole answer.
   */
  private forward(req: http.IncomingMessage, body: Buffer, signal?: AbortSignal): Promise<UpstreamAnswer> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: `${this.options.targetHost ?? '127.0.0.1'}:${this.options.targetPort}` };
      delete headers['connection'];
      const upstream = http.request(
        {
          host: this.options.targetHost ?? '127.0.0.1',
          port: this.options.targetPort,
          method: req.method,
          path: req.url,
          headers: { ...headers, 'content-length': String(body.length) },
          agent: false,
          ...(this.options.localAddress === undefined ? {} : { localAddress: this.options.localAddress }),
          ...(signal === undefined ? {} : { signal }),
        },
        (answer) => {
          readBody(answer).then(
            (data) => {
              const out: http.OutgoingHttpHeaders = { ...answer.headers, 'content-length': String(data.length) };
              delete out['connection'];
              delete out['transfer-encoding'];
              resolve({ status: answer.statusCode ?? 502, headers: out, body: data });
            },
            reject,
          );
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }
}

interface UpstreamAnswer {
  readonly status: number;
  readonly headers: http.OutgoingHttpHeaders;
  readonly body: Buffer;
}

function readBody(stream: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
    stream.once('aborted', () => reject(new Error('aborted')));
  });
}
