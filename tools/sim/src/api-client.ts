import { SimSetupError } from './errors.js';
import { SIM_ADMIN } from './server-control.js';

/** An error answer of the server: `{error, message}` and the HTTP status. */
export class ApiAnswerError extends SimSetupError {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

/** What `POST /api/v1/registers/pair` answers (DESIGN §7). */
export interface Pairing {
  readonly deviceId: string;
  readonly storeId: string;
  readonly storeCode: string;
  readonly registerCode: string;
  readonly token: string;
  readonly resume: { readonly lastSeq: number; readonly lastReceiptNumber: number; readonly chainHead: string | null };
  readonly serverTime: number;
}

/**
 * The back office as the simulator uses it over HTTP (never the server's code): a signed-in
 * session (cookie + CSRF token), with JSON in and out. Retries while the server is down, since the
 * simulator kills it on purpose.
 *
 * @example
 * ```ts
 * const office = await BackOffice.signIn('http://127.0.0.1:8080');
 * const { stores } = await office.get<{ stores: { id: string }[] }>('/api/v1/stores');
 * ```
 */
export class BackOffice {
  private constructor(
    readonly baseUrl: string,
    private readonly cookie: string,
    private readonly csrfToken: string,
  ) {}

  /** Signs in as the run's owner. */
  static async signIn(baseUrl: string): Promise<BackOffice> {
    const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: SIM_ADMIN.email, password: SIM_ADMIN.password }),
    });
    const text = await res.text();
    if (res.status !== 200) throw new ApiAnswerError(res.status, text, 'sign-in');
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0] ?? '').join('; ');
    const { csrfToken } = JSON.parse(text) as { csrfToken: string };
    return new BackOffice(baseUrl, cookie, csrfToken);
  }

  /** A GET, parsed; throws {@link ApiAnswerError} on a non-2xx. */
  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  /** A JSON request with the session's CSRF token. */
  async call<T>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { cookie: this.cookie };
    if (method !== 'GET') headers['x-csrf-token'] = this.csrfToken;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    if (res.status < 200 || res.status > 299) throw new ApiAnswerError(res.status, text, `${method} ${path}`);
    return JSON.parse(text) as T;
  }

  /** Pairs a register by manager login (DESIGN §4), creating the register code when it is new. */
  async pair(storeId: string, registerCode: string): Promise<Pairing> {
    let res: Response;
    for (;;) {
      res = await fetch(`${this.baseUrl}/api/v1/registers/pair`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: SIM_ADMIN.email, password: SIM_ADMIN.password, storeId, registerCode, name: `Sim ${registerCode}` }),
      });
      // The pairing route is rate-limited per address (DESIGN §4); many registers wait their turn.
      if (res.status !== 429) break;
      const retryAfter = Number(res.headers.get('retry-after') ?? '60');
      await res.text();
      await new Promise((resolve) => setTimeout(resolve, (Number.isFinite(retryAfter) ? retryAfter : 60) * 1000));
    }
    const text = await res.text();
    if (res.status !== 200) throw new ApiAnswerError(res.status, text, `pairing ${registerCode}`);
    return JSON.parse(text) as Pairing;
  }
}
