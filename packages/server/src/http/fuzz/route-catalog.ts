/**
 * The app's routes as its own OpenAPI document lists them, so the fuzz and tenancy tests cover a
 * route the day it is added, without anyone remembering to list it. Test-only.
 */
import type { App } from '../../app.js';

/** A JSON Schema as `/docs/json` prints it (only what the tests read). */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly format?: string;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly $ref?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
}

/** One route: method, OpenAPI path template (`/api/v1/products/{id}`) and its inputs. */
export interface RouteInfo {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly pathParams: readonly string[];
  readonly queryParams: readonly { readonly name: string; readonly schema: JsonSchema }[];
  /** The JSON body's schema, `$ref`s resolved one level; absent when the route takes no body. */
  readonly body?: JsonSchema;
}

interface OpenApiDoc {
  readonly paths: Record<string, Record<string, {
    parameters?: { in: string; name: string; schema?: JsonSchema }[];
    requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  }>>;
  readonly components?: { schemas?: Record<string, JsonSchema> };
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** Resolves `#/components/schemas/X` references (recursively on properties, items and unions). */
function resolve(schema: JsonSchema | undefined, doc: OpenApiDoc, depth = 0): JsonSchema | undefined {
  if (schema === undefined || depth > 8) return schema;
  if (schema.$ref !== undefined) {
    const name = schema.$ref.split('/').pop() ?? '';
    return resolve(doc.components?.schemas?.[name], doc, depth + 1);
  }
  const out: Record<string, unknown> = { ...schema };
  if (schema.properties) {
    out['properties'] = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, resolve(v, doc, depth + 1) ?? {}]));
  }
  if (schema.items) out['items'] = resolve(schema.items, doc, depth + 1);
  if (schema.anyOf) out['anyOf'] = schema.anyOf.map((s) => resolve(s, doc, depth + 1) ?? {});
  if (schema.oneOf) out['oneOf'] = schema.oneOf.map((s) => resolve(s, doc, depth + 1) ?? {});
  return out as JsonSchema;
}

/**
 * Every documented route of `app` (from `GET /docs/json`).
 *
 * @example
 * ```ts
 * const routes = await listRoutes(app);
 * for (const r of routes) await app.inject({ method: r.method, url: fillPath(r.path, () => 'x') });
 * ```
 */
export async function listRoutes(app: App): Promise<RouteInfo[]> {
  const res = await app.inject({ method: 'GET', url: '/docs/json' });
  if (res.statusCode !== 200) throw new Error(`/docs/json answered ${res.statusCode}`);
  const doc = res.json<OpenApiDoc>();
  const routes: RouteInfo[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(ops)) {
      const method = m.toUpperCase();
      if (!METHODS.has(method)) continue;
      const params = op.parameters ?? [];
      const body = op.requestBody?.content?.['application/json']?.schema;
      const resolved = resolve(body, doc);
      routes.push({
        method: method as RouteInfo['method'],
        path,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((x) => x[1] ?? ''),
        queryParams: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: resolve(p.schema, doc) ?? {} })),
        ...(resolved === undefined ? {} : { body: resolved }),
      });
    }
  }
  return routes;
}

/**
 * Percent-encodes the UTF-8 bytes of `text` (unreserved characters kept). Unlike
 * `encodeURIComponent` it takes any string: a lone surrogate becomes U+FFFD instead of throwing.
 */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `path` with each `{param}` replaced by `value(param)`, percent-encoded. */
export function fillPath(path: string, value: (param: string) => string): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => percentEncode(value(name)));
}

/** `METHOD /path` of a route, for messages. */
export const routeName = (r: Pick<RouteInfo, 'method' | 'path'>): string => `${r.method} ${r.path}`;
