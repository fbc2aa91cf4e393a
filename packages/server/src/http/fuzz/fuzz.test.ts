/**
 * The "bad input" fuzz of issue 6: generated bodies, headers, query strings and path parameters
 * against every documented route, signed in (session cookie, CSRF token, device token) with rate
 * limits raised so the cases reach the validators. Asserts: no 5xx ever; most answers are 400
 * `invalid_input` with the schema's issues; a refused request changes no row of any table.
 *
 * Seed: `FUZZ_SEED=<n>` replays a run; every failure message names the seed.
 */
import fc from 'fast-check';
import { afterEach, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { signIn } from '../../auth/auth-test-kit.js';
import type { SignedIn } from '../../auth/auth-test-kit.js';
import { backofficeHarness } from '../../backoffice/backoffice-test-kit.js';
import { describeDb } from '../../testing/describe-db.js';
import { diffSnapshots, snapshotDb } from './db-snapshot.js';
import type { AllowedChange, DbSnapshot } from './db-snapshot.js';
import { caseArb } from './fuzz-arbitraries.js';
import type { FuzzCase } from './fuzz-arbitraries.js';
import { fillPath, listRoutes, routeName } from './route-catalog.js';
import type { RouteInfo } from './route-catalog.js';

/** Cases per database, spread evenly over the routes (issue 6 asks ≥2,000); `FUZZ_CASES_PER_ROUTE` soaks. */
const TOTAL_CASES = 2_100;
const SOAK_PER_ROUTE = process.env['FUZZ_CASES_PER_ROUTE'] === undefined ? undefined : Number(process.env['FUZZ_CASES_PER_ROUTE']);
const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31);

/**
 * What a refused request may change, and why. Nothing else: every other table, every other column.
 */
function allowedChanges(route: RouteInfo): AllowedChange[] {
  const allowed: AllowedChange[] = [];
  if (route.path === '/api/v1/auth/login' || route.path === '/api/v1/registers/pair') {
    // A refused sign-in or pairing attempt is itself a security event (DESIGN §4's audit log):
    // the audit row of a failed login/pairing is the point, not a side effect.
    allowed.push({ table: 'audit_log', rowsAdded: true, reason: 'failed logins and pairing attempts are audited' });
  }
  if (route.path === '/api/v1/sync/pull' || route.path === '/api/v1/sync/snapshot') {
    // A register's first pull or snapshot starts its organisation's change log (the head row with
    // the log's epoch), so later cursors can be checked against it. Only ever added, once.
    allowed.push({ table: 'change_log_heads', rowsAdded: true, reason: 'the first read of an org starts its change log' });
  }
  if (route.path.startsWith('/api/v1/keys/')) {
    // The organisation's key for personal data is made on first use (keys/org-keys.ts), once.
    allowed.push({ table: 'org_keys', rowsAdded: true, reason: 'the first use of an org’s key makes it' });
  }
  return allowed;
}

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** The case as text for a failure message, long strings cut to their length. */
function describeCase(route: RouteInfo, url: string, c: FuzzCase): string {
  const cut = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s);
  const body = c.body.kind === 'none' ? '(none)' : c.body.kind === 'json' ? `${c.body.contentType} ${cut(c.body.text)}` : `${c.body.contentType ?? '(no content-type)'} bytes ${cut(c.body.bytes.toString('hex'))}`;
  return `${route.method} ${cut(url)} [${c.shape}] headers ${JSON.stringify(c.headers)} body ${body} (FUZZ_SEED=${SEED})`;
}

describeDb('fuzz: bad input on every route', (dbs) => {
  it('never answers 5xx, mostly answers 400 with schema issues, and a refused request changes nothing', { timeout: 240_000 * Math.max(1, (SOAK_PER_ROUTE ?? 0) / 45) }, async () => {
    const h = await backofficeHarness(dbs, apps);
    const { app, db, b } = h;
    const routes = await listRoutes(app);
    expect(routes.length).toBeGreaterThan(40);
    const perRoute = SOAK_PER_ROUTE ?? Math.ceil(TOTAL_CASES / routes.length);
    const foreignIds = [b.orgId, b.storeId, b.otherStoreId, b.registers.r01, b.registers.r02, ...Object.values(b.staff), ...Object.values(b.users).map((u) => u.id)];
    const ctx = { foreignIds };
    let session: SignedIn = h.owner;

    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let schemaIssues = 0;
    let accepted = 0;
    let total = 0;

    const send = async (route: RouteInfo, c: FuzzCase) => {
      const path = fillPath(route.path, (p) => c.pathValues[p] ?? '');
      const url = c.query === '' ? path : `${path}?${c.query}`;
      const headers: Record<string, string> = { ...c.headers, ...session.headers, authorization: `Bearer ${h.deviceToken}` };
      let payload: string | Buffer | undefined;
      if (c.body.kind === 'json') {
        headers['content-type'] = c.body.contentType;
        payload = c.body.text;
      } else if (c.body.kind === 'raw') {
        if (c.body.contentType !== null) headers['content-type'] = c.body.contentType;
        payload = c.body.bytes;
      }
      const res = await app.inject({ method: route.method, url, headers, ...(payload === undefined ? {} : { payload }) });
      total += 1;
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const what = describeCase(route, url, c);
      if (res.statusCode >= 500) failures.push(`${res.statusCode} ${res.body.slice(0, 300)} ← ${what}`);
      else if (res.statusCode >= 400) {
        let body: { error?: unknown; details?: { issues?: unknown } } = {};
        try {
          body = res.json();
        } catch {
          failures.push(`${res.statusCode} answered without a JSON body (${res.body.slice(0, 100)}) ← ${what}`);
        }
        if (typeof body.error !== 'string') failures.push(`${res.statusCode} without an error code ← ${what}`);
        if (res.statusCode === 400 && body.error === 'invalid_input' && Array.isArray(body.details?.issues) && body.details.issues.length > 0) schemaIssues += 1;
      } else accepted += 1;
      return { status: res.statusCode, what };
    };

    for (const [i, route] of routes.entries()) {
      const cases = fc.sample(caseArb(route, ctx), { numRuns: perRoute, seed: SEED + i });
      const allowed = allowedChanges(route);
      let before: DbSnapshot = await snapshotDb(db);
      for (const c of cases) {
        const { status, what } = await send(route, c);
        if (route.method === 'GET' && status < 500) continue; // a read: checked once after the route's cases
        const after = await snapshotDb(db);
        // Even an accepted request of A's may not touch a row of organisation B.
        for (const [table, d] of Object.entries(diffSnapshots(before, after))) {
          if ([...d.removed, ...d.added].some((row) => row.includes(b.orgId))) failures.push(`${status} changed a row of another organisation in ${table} ← ${what}`);
        }
        if (status >= 400 && status < 500) {
          const diff = diffSnapshots(before, after, allowed);
          if (Object.keys(diff).length > 0) failures.push(`${status} but changed ${JSON.stringify(diff).slice(0, 1_500)} ← ${what}`);
        }
        before = after;
        // An accepted mutation may have ended the session the fuzz runs under (logout): sign in again.
        if (status < 400 && (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: session.cookie } })).statusCode === 401) {
          session = await signIn(app, h.a.users.owner.email);
          before = await snapshotDb(db);
        }
      }
      if (route.method === 'GET') {
        const diff = diffSnapshots(before, await snapshotDb(db), allowed);
        if (Object.keys(diff).length > 0) failures.push(`${routeName(route)}: reads changed ${JSON.stringify(diff).slice(0, 1_500)} (FUZZ_SEED=${SEED})`);
      }
    }

    const summary = `${total} cases, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((x, y) => x[0] - y[0])))}, ${schemaIssues} invalid_input with issues, ${accepted} accepted (FUZZ_SEED=${SEED})`;
    expect(failures, summary).toEqual([]);
    expect(total, summary).toBeGreaterThanOrEqual(2_000);
    expect(schemaIssues / total, summary).toBeGreaterThan(0.5);
  });
});
