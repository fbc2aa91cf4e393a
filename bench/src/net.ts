/**
 * Loopback HTTP for the bench: a small keep-alive client per simulated register (each from its own
 * loopback source address, as registers in a shop each have their own address), free ports, and
 * waiting for a condition without fixed sleeps.
 */
import http from 'node:http';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** A free TCP port on loopback (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Polls `check` until it returns a value other than undefined: every 20 ms at first, backing off to
 * 200 ms; throws after `timeoutMs` naming `what`.
 */
export async function waitFor<T>(check: () => Promise<T | undefined>, options: { what: string; timeoutMs?: number }): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let pause = 20;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what}`);
    await delay(pause);
    pause = Math.min(200, pause * 2);
  }
}

/** Bytes a kept-alive socket had read when its previous answer ended. */
const readBefore = new WeakMap<net.Socket, number>();

/** An HTTP answer, its time and the bytes that came over the socket for it. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** Milliseconds from sending the request to the last byte of the answer. */
  readonly ms: number;
  /** Bytes read from the socket for this answer: status line, headers and body. */
  readonly wireBytes: number;
}

/** Options of one request. */
export interface RequestOptions {
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A keep-alive HTTP/1.1 client bound to one loopback source address (`127.0.0.x`), so the server
 * sees each simulated register as its own client, as in a shop.
 */
export class LoopbackClient {
  readonly #agent: http.Agent;
  readonly #host: string;
  readonly #port: number;
  readonly #localAddress: string;

  constructor(baseUrl: string, localAddress = '127.0.0.1') {
    const url = new URL(baseUrl);
    this.#host = url.hostname;
    this.#port = Number(url.port);
    this.#localAddress = localAddress;
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  /** Sends one request and reads the whole answer. */
  request(method: string, path: string, options: RequestOptions = {}): Promise<HttpAnswer> {
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...options.headers };
      if (options.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        headers['content-length'] = String(Buffer.byteLength(options.body));
      }
      const req = http.request(
        { host: this.#host, port: this.#port, method, path, headers, agent: this.#agent, localAddress: this.#localAddress },
        (res) => {
          const socket = res.socket;
          const before = readBefore.get(socket) ?? 0;
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const read = socket.bytesRead;
            readBefore.set(socket, read);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
              ms: Number(process.hrtime.bigint() - started) / 1e6,
              wireBytes: read - before,
            });
          });
        },
      );
      req.on('error', reject);
      if (options.body !== undefined) req.write(options.body);
      req.end();
    });
  }

  /** Sends a request and parses a JSON answer with the expected status, else throws. */
  async json<T>(method: string, path: string, expect: number, options: RequestOptions = {}): Promise<{ body: T; answer: HttpAnswer }> {
    const answer = await this.request(method, path, options);
    if (answer.status !== expect) throw new Error(`${method} ${path} answered ${answer.status} (expected ${expect}): ${answer.body.slice(0, 500)}`);
    return { body: JSON.parse(answer.body) as T, answer };
  }

  /** Closes the kept-alive socket. */
  close(): void {
    this.#agent.destroy();
  }
}
