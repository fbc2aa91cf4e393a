/**
 * fast-check generators of hostile requests for one route: bodies (schema-shaped with wrong types,
 * missing and extra fields; any JSON; arrays where objects go; deep nesting; huge strings; NUL and
 * control characters; edge numbers; malformed JSON; invalid UTF-8; wrong content types), query
 * strings (nasty values, repeated keys, broken percent-encoding) and headers, with path parameters
 * that are not UUIDs or are another organisation's ids. Test-only.
 */
import fc from 'fast-check';
import { percentEncode } from './route-catalog.js';
import type { JsonSchema, RouteInfo } from './route-catalog.js';

/** A request body as sent. */
export type FuzzBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'json'; readonly text: string; readonly contentType: string }
  | { readonly kind: 'raw'; readonly bytes: Buffer; readonly contentType: string | null };

/** One generated request (credentials are added by the test). */
export interface FuzzCase {
  readonly pathValues: Readonly<Record<string, string>>;
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: FuzzBody;
  /** Which generator made the body, for the report. */
  readonly shape: string;
}

/** What the generators may use: ids that belong to another organisation. */
export interface FuzzContext {
  readonly foreignIds: readonly string[];
}

const EDGE_NUMBERS = [1e308, -1e308, 2 ** 53 + 1, -(2 ** 53 + 1), Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 0.1, -1, 0, 1.5, 2 ** 31, -(2 ** 63)];
/** Number texts JSON.stringify cannot make: negative zero, overflow to Infinity, past 2^53, bare NaN. */
const EDGE_NUMBER_TEXTS = ['-0', '1e308', '1e999', '-1e999', '9007199254740993', '1.0', '0.1e-400', '1E+2', '123456789012345678901234567890'];
const NANISH_STRINGS = ['NaN', 'Infinity', '-Infinity', '-0', '1e308', '9007199254740993', '0x10', '', ' ', 'null', 'true', '[]', '{}', '1,5', '١٢٣'];
const TRICKY_STRINGS = ["'; drop table products; --", '../../etc/passwd', '%00', '<script>alert(1)</script>', '\ud800', '\udfff\ud800', '🙂‍↔️', 'ﬀ', 'A\u0301', '\u202e', '__proto__', 'constructor'];

const controlChar = fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c));
const stringWithControl = fc
  .tuple(fc.string({ maxLength: 8 }), fc.array(controlChar, { minLength: 1, maxLength: 4 }), fc.string({ maxLength: 8 }))
  .map(([a, c, b]) => `${a}${c.join('')}${b}`);

/** Strings that break naive code: control characters, NUL, lone surrogates, NaN-ish text, huge. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }), weight: 2 },
  { arbitrary: stringWithControl, weight: 3 },
  { arbitrary: fc.constantFrom(...NANISH_STRINGS), weight: 2 },
  { arbitrary: fc.constantFrom(...TRICKY_STRINGS), weight: 2 },
  { arbitrary: fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
);

/** Any JSON value, with nasty strings and edge numbers, a few levels deep. */
export const nastyJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: nastyString, weight: 4 },
    { arbitrary: fc.constantFrom(...EDGE_NUMBERS), weight: 2 },
    { arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }), weight: 1 },
    { arbitrary: fc.integer(), weight: 1 },
    { arbitrary: fc.boolean(), weight: 1 },
    { arbitrary: fc.constant(null), weight: 1 },
    { arbitrary: fc.array(tie('value'), { maxLength: 4 }), weight: 1 },
    { arbitrary: fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(...TRICKY_STRINGS)), tie('value'), { maxKeys: 4 }), weight: 1 },
  ),
})).value;

/** A value that fits `schema` as far as a quick reading of it goes (may still be invalid). */
function plausible(schema: JsonSchema | undefined, ctx: FuzzContext, depth = 0): fc.Arbitrary<unknown> {
  if (schema === undefined || depth > 4) return nastyJson;
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const union = schema.anyOf ?? schema.oneOf;
  if (union && union.length > 0) return fc.oneof(...union.map((s) => plausible(s, ctx, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      if (schema.format === 'uuid' || /id$/i.test(schema.pattern ?? '')) return fc.oneof(fc.constantFrom(...ctx.foreignIds), fc.uuid());
      return fc.oneof(fc.constantFrom('Fuzz', 'fuzz@example.test', '2026-03-02', 'R09', 'S09', '4006381333931', '1234'), fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 20, 20) }));
    case 'integer':
    case 'number':
      return fc.integer({ min: Math.max(schema.minimum ?? -5, -1_000_000), max: Math.min(schema.maximum ?? 1_000, 1_000_000) });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(plausible(schema.items, ctx, depth + 1), { maxLength: 2 });
    case 'object':
      return schemaMutant(schema, ctx, depth + 1);
    default:
      return nastyJson;
  }
}

/**
 * An object shaped like `schema` with each field kept plausible, dropped, or given a wrong-typed or
 * nasty value, plus sometimes an unknown field: the bodies that must come back as `invalid_input`.
 */
export function schemaMutant(schema: JsonSchema, ctx: FuzzContext, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  // A body that is one of several objects (pairing by code or by login, a stock adjustment or
  // receipt): mutate one of them.
  const branches = (schema.anyOf ?? schema.oneOf ?? []).filter((b) => b.properties !== undefined);
  if (schema.properties === undefined && branches.length > 0) return fc.oneof(...branches.map((b) => schemaMutant(b, ctx, depth + 1)));
  const props = Object.entries(schema.properties ?? {});
  const fields = props.map(([name, s]) =>
    fc
      .oneof(
        { arbitrary: plausible(s, ctx, depth).map((v) => ({ v })), weight: 5 },
        { arbitrary: fc.constant(undefined), weight: 2 },
        { arbitrary: nastyJson.map((v) => ({ v })), weight: 3 },
      )
      .map((x) => [name, x] as const),
  );
  const extra = fc.dictionary(fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'orgId', 'org_id', 'id')), nastyJson, { maxKeys: 2 });
  return fc.tuple(fc.tuple(...fields), fc.oneof({ arbitrary: fc.constant({}), weight: 3 }, { arbitrary: extra, weight: 1 })).map(([kept, more]) => {
    const out: Record<string, unknown> = {};
    for (const [name, x] of kept) if (x !== undefined) out[name] = x.v;
    // JSON.parse keeps `__proto__` as an own key; copy the same way so the text says it too.
    for (const [k, v] of Object.entries(more)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  });
}

const jsonBody = (value: unknown, contentType = 'application/json'): FuzzBody => ({ kind: 'json', text: JSON.stringify(value) ?? 'null', contentType });

/** JSON text nested `depth` levels: arrays or objects. */
const deepText = fc.tuple(fc.integer({ min: 50, max: 20_000 }), fc.boolean()).map(([depth, arrays]) =>
  arrays ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
);

const MALFORMED = ['', '{', '{"a":}', '{"a":1,}', "{'a':1}", '[1,2', 'NaN', 'undefined', '{"a":1}{"b":2}', '\u0000', '{"a":"\u0000"}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', 'null', '"text"', '123', 'true', '{"a":1e999}', '\ufeff{}'];

const CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/octet-stream', 'application/jsonx', 'application/vnd.api+json', 'invalid'];

/** Bodies for a route (its schema shapes the most common kind). */
export function bodyArb(route: RouteInfo, ctx: FuzzContext): fc.Arbitrary<{ body: FuzzBody; shape: string }> {
  const schema = route.body;
  const shaped = schema ? schemaMutant(schema, ctx) : fc.dictionary(fc.string({ maxLength: 10 }), nastyJson, { maxKeys: 3 });
  const tag = (shape: string) => (body: FuzzBody) => ({ body, shape });
  return fc.oneof(
    { arbitrary: shaped.map((v) => jsonBody(v)).map(tag('schema-mutant')), weight: 40 },
    {
      arbitrary: fc.tuple(shaped, fc.constantFrom(...EDGE_NUMBER_TEXTS)).map(([v, num]) => {
        const keys = Object.keys(v);
        const target = keys[0] ?? 'amount';
        return { kind: 'json', text: JSON.stringify({ ...v, [target]: '__EDGE__' }).replace('"__EDGE__"', num), contentType: 'application/json' } satisfies FuzzBody;
      }).map(tag('edge-number')),
      weight: 6,
    },
    { arbitrary: nastyJson.map((v) => jsonBody(v)).map(tag('any-json')), weight: 8 },
    { arbitrary: fc.array(shaped, { maxLength: 3 }).map((v) => jsonBody(v)).map(tag('array-for-object')), weight: 4 },
    { arbitrary: deepText.map((text): FuzzBody => ({ kind: 'json', text, contentType: 'application/json' })).map(tag('deep-nesting')), weight: 4 },
    { arbitrary: fc.constantFrom(...MALFORMED).map((text): FuzzBody => ({ kind: 'json', text, contentType: 'application/json' })).map(tag('malformed-json')), weight: 6 },
    {
      arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes): FuzzBody => ({
        kind: 'raw',
        // A JSON frame around bytes that are not UTF-8 (0xff never is).
        bytes: Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from(bytes), Buffer.from('"}')]),
        contentType: 'application/json',
      })).map(tag('invalid-utf8')),
      weight: 4,
    },
    {
      arbitrary: fc.tuple(shaped, fc.constantFrom(...CONTENT_TYPES, null)).map(([v, ct]): FuzzBody => ({ kind: 'raw', bytes: Buffer.from(JSON.stringify(v)), contentType: ct })).map(tag('wrong-content-type')),
      weight: 6,
    },
    { arbitrary: fc.integer({ min: 1024 * 1024 - 64, max: 1024 * 1024 + 4096 }).map((n) => jsonBody({ name: 'x'.repeat(n) })).map(tag('huge')), weight: 1 },
    { arbitrary: fc.constant<FuzzBody>({ kind: 'none' }).map(tag('no-body')), weight: 4 },
  );
}

/** Path parameter values: other organisations' ids, unknown UUIDs, and things that are no UUID. */
export function pathValueArb(ctx: FuzzContext): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...ctx.foreignIds), weight: 4 },
    { arbitrary: fc.uuid(), weight: 2 },
    { arbitrary: fc.uuid().map((u) => u.toUpperCase()), weight: 1 },
    { arbitrary: fc.uuid().map((u) => u.replaceAll('-', '')), weight: 1 },
    { arbitrary: fc.constantFrom('x', 'null', '-1', '0', '1e308', 'NaN', '..', ' ', '\u0000', '🙂', 'a'.repeat(1_100), 'product:x:price:1:2'), weight: 3 },
    { arbitrary: nastyString.filter((s) => s.length > 0 && s.length < 3_000), weight: 2 },
  );
}

/** Percent-encoded text, or raw text that breaks percent-decoding. */
const queryText = fc.oneof(
  { arbitrary: nastyString.filter((s) => s.length < 5_000).map(percentEncode), weight: 5 },
  { arbitrary: fc.constantFrom('%zz', '%ff', '%', '%E0%A4%A', '%00', '+', '1;2', '-1', '0', '1e308', '9007199254740993', 'NaN'), weight: 3 },
  { arbitrary: fc.integer({ min: -1_000, max: 1_000_000 }).map(String), weight: 2 },
);

/** A query string over the route's own parameters (repeated, odd, missing) and unknown ones. */
export function queryArb(route: RouteInfo, ctx: FuzzContext): fc.Arbitrary<string> {
  const names = route.queryParams.map((p) => p.name);
  const known = names.length === 0 ? fc.constant<string[]>([]) : fc.array(fc.constantFrom(...names), { maxLength: 4 });
  const value = fc.oneof({ arbitrary: queryText, weight: 3 }, { arbitrary: fc.constantFrom(...ctx.foreignIds), weight: 1 });
  const pair = (name: fc.Arbitrary<string>) => fc.tuple(name, value, fc.boolean()).map(([n, v, bare]) => (bare && v === '' ? n : `${n}=${v}`));
  return fc
    .tuple(
      fc.array(pair(known.chain((ks) => (ks.length === 0 ? fc.constant('q') : fc.constantFrom(...ks)))), { maxLength: 5 }),
      fc.array(pair(fc.constantFrom('x', 'a[b]', 'a[]', '__proto__', '', '%zz', 'since', 'limit', 'orgId')), { maxLength: 2 }),
    )
    .map(([a, b]) => [...a, ...b].join('&'));
}

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });

/** Extra headers that must not confuse a route (credentials are set by the test, after these). */
export const headersArb: fc.Arbitrary<Record<string, string>> = fc
  .array(
    fc.oneof(
      fc.tuple(fc.constant('x-request-id'), printable),
      fc.tuple(fc.constant('accept'), fc.oneof(fc.constantFrom('text/html', 'application/xml', '*/*', 'application/json;q=0'), printable)),
      fc.tuple(fc.constant('accept-encoding'), fc.constantFrom('gzip, br', 'identity;q=0', 'x')),
      fc.tuple(fc.constant('origin'), fc.constantFrom('https://evil.example', 'null')),
      fc.tuple(fc.constant('x-forwarded-for'), printable),
      fc.tuple(fc.constant('if-none-match'), printable),
      fc.tuple(fc.constant('content-encoding'), fc.constantFrom('gzip', 'br', 'identity', 'x')),
      fc.tuple(fc.constant('x-http-method-override'), fc.constantFrom('DELETE', 'PUT')),
      fc.tuple(fc.constantFrom('x-fuzz', 'x-a', 'range'), printable),
    ),
    { maxLength: 3 },
  )
  .map((pairs) => Object.fromEntries(pairs.map(([k, v]) => [k, String(v)])));

/** Whole requests for `route`. */
export function caseArb(route: RouteInfo, ctx: FuzzContext): fc.Arbitrary<FuzzCase> {
  const params = fc.tuple(...route.pathParams.map((p) => pathValueArb(ctx).map((v) => [p, v] as const)));
  return fc.record({ params, query: queryArb(route, ctx), headers: headersArb, body: bodyArb(route, ctx) }).map(({ params, query, headers, body }) => ({
    pathValues: Object.fromEntries(params),
    query,
    headers,
    body: body.body,
    shape: body.shape,
  }));
}
