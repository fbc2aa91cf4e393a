import { afterEach, expect, it } from 'vitest';
import type { App } from '../app.js';
import { describeDb } from '../testing/describe-db.js';
import { backofficeHarness } from './backoffice-test-kit.js';

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** Every back-office route, by path and method, as the OpenAPI document must list it. */
const ROUTES: Record<string, string[]> = {
  '/api/v1/products': ['get', 'post'],
  '/api/v1/products/{id}': ['get', 'patch', 'delete'],
  '/api/v1/products/{id}/variants': ['get', 'post'],
  '/api/v1/variants/{id}': ['get', 'patch', 'delete'],
  '/api/v1/categories': ['get', 'post'],
  '/api/v1/categories/{id}': ['get', 'patch', 'delete'],
  '/api/v1/tax-rates': ['get', 'post'],
  '/api/v1/tax-rates/{id}': ['get', 'patch', 'delete'],
  '/api/v1/stores': ['get'],
  '/api/v1/stores/{id}': ['get', 'patch'],
  '/api/v1/alerts': ['get'],
  '/api/v1/alerts/{id}/acknowledge': ['post'],
  '/api/v1/alerts/{id}/resolve': ['post'],
  '/api/v1/conflicts': ['get'],
  '/api/v1/conflicts/{id}': ['get'],
  '/api/v1/conflicts/{id}/resolve': ['post'],
  '/api/v1/quarantine': ['get'],
  '/api/v1/quarantine/{id}': ['get'],
  '/api/v1/quarantine/{id}/dismiss': ['post'],
  '/api/v1/quarantine/{id}/retry': ['post'],
  '/api/v1/stock': ['get'],
  '/api/v1/stock/adjustments': ['post'],
};

interface OpenApi {
  paths: Record<string, Record<string, { responses?: Record<string, unknown>; requestBody?: unknown; parameters?: unknown[] }>>;
  components: { schemas: Record<string, unknown> };
}

describeDb('back office: OpenAPI', (dbs) => {
  it('documents every back-office route with its request and response schemas', async () => {
    const h = await backofficeHarness(dbs, apps);
    const res = await h.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<OpenApi>();
    for (const [path, methods] of Object.entries(ROUTES)) {
      for (const method of methods) {
        const op = doc.paths[path]?.[method];
        expect(op, `${method.toUpperCase()} ${path}`).toBeDefined();
        const ok = Object.keys(op?.responses ?? {}).filter((s) => s.startsWith('2'));
        expect(ok.length, `${method} ${path} documents its answer`).toBeGreaterThan(0);
        expect(Object.keys(op?.responses ?? {}), `${method} ${path} documents 400`).toContain('400');
        if (method === 'post' || method === 'patch') {
          if (!path.endsWith('/acknowledge')) expect(op?.requestBody, `${method} ${path} body`).toBeDefined();
        }
      }
    }
    for (const name of ['Product', 'Variant', 'Category', 'TaxRate', 'Store', 'Alert', 'Conflict', 'QuarantinedOp', 'RetryOutcome', 'StockLevel', 'StockFact']) {
      expect(doc.components.schemas, name).toHaveProperty(name);
    }
  });
});
