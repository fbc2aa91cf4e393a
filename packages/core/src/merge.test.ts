import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manualClock } from './clock.js';
import type { FieldWrite, JsonValue } from './field-patch.js';
import { decodeHlc, encodeHlc, type Hlc, HybridLogicalClock, initialHlc, tickHlc } from './hlc.js';
import {
  applyWrites,
  compactDoc,
  type Conflict,
  conflictId,
  diffToWrites,
  docConflicts,
  docHlcs,
  docValues,
  EditBeforeBaseError,
  emptyDoc,
  InvalidFieldWriteError,
  isDeletedDoc,
  mergeDocs,
  type ReferenceDoc,
  ReferenceDocSchema,
} from './merge.js';

const h = (wallMs: number, node: string, counter = 0): string => encodeHlc({ wallMs, counter, node });
const w = (field: string, value: JsonValue, hlc: string, base: string | null): FieldWrite => ({ field, value, hlc, base });
const ids = (conflicts: readonly Conflict[]): string[] => conflicts.map((c) => c.id);

describe('applyWrites', () => {
  const a = w('price', 250, h(1, 'bo'), null);
  const x = w('price', 260, h(2, 'r1'), a.hlc);
  const y = w('price', 270, h(3, 'r2'), a.hlc);

  it('takes the write with the greatest HLC', () => {
    const { doc } = applyWrites(emptyDoc(), [y, a, x]);
    expect(docValues(doc)).toEqual({ price: 270 });
    expect(docHlcs(doc)).toEqual({ price: y.hlc });
  });

  it('never reports sequential edits as conflicts', () => {
    const b = w('price', 255, h(2, 'r1'), a.hlc);
    const c = w('price', 259, h(3, 'r2'), b.hlc);
    const { doc, conflicts } = applyWrites(emptyDoc(), [c, a, b]);
    expect(docValues(doc)).toEqual({ price: 259 });
    expect(conflicts).toEqual([]);
  });

  it('reports two edits from the same base, with both values', () => {
    const { conflicts } = applyWrites(emptyDoc(), [a, x, y]);
    expect(conflicts).toEqual([
      {
        id: `price:${x.hlc}:${y.hlc}`,
        field: 'price',
        winner: { value: 270, hlc: y.hlc, base: a.hlc },
        loser: { value: 260, hlc: x.hlc, base: a.hlc },
      },
    ]);
    expect(conflictId('price', x.hlc, y.hlc)).toBe(`price:${x.hlc}:${y.hlc}`);
  });

  it('reports two creations of one field (neither saw the other)', () => {
    const first = w('name', 'Tea', h(1, 'r1'), null);
    const second = w('name', 'Té', h(1, 'r2'), null);
    expect(ids(applyWrites(emptyDoc(), [first, second]).conflicts)).toEqual([`name:${first.hlc}:${second.hlc}`]);
  });

  it('reports a late write against one already overwritten, keeping the overwritten value', () => {
    // z is based on y, so z saw y but not x; x arrives after z has replaced it
    const z = w('price', 280, h(4, 'r3'), y.hlc);
    const first = applyWrites(emptyDoc(), [a, x, z]);
    expect(first.conflicts).toEqual([]);
    const second = applyWrites(first.doc, [y]);
    expect(docValues(second.doc)).toEqual({ price: 280 });
    expect(second.conflicts).toEqual([
      { id: `price:${x.hlc}:${y.hlc}`, field: 'price', winner: { value: 270, hlc: y.hlc, base: a.hlc }, loser: { value: 260, hlc: x.hlc, base: a.hlc } },
    ]);
  });

  it('reports a conflict once, and changes nothing when writes come again', () => {
    const first = applyWrites(emptyDoc(), [a, x, y]);
    const again = applyWrites(first.doc, [x, y]);
    expect(again.conflicts).toEqual([]);
    expect(again.doc).toEqual(first.doc);
    expect(ids(docConflicts(again.doc))).toEqual([`price:${x.hlc}:${y.hlc}`]);
  });

  it('keeps fields apart, whatever their names', () => {
    const { doc } = applyWrites(emptyDoc(), [w('constructor', 1, h(1, 'r1'), null), w('price', 2, h(2, 'r1'), null)]);
    expect(docValues(emptyDoc())).toEqual({});
    expect(docValues(doc)).toEqual({ constructor: 1, price: 2 });
    expect(docValues(applyWrites(emptyDoc(), [w('toString', 3, h(1, 'r1'), null)]).doc)).toEqual({ toString: 3 });
  });

  it('treats deletion as a field, so an edit of another field survives it', () => {
    const create = [w('name', 'Tea', h(1, 'bo'), null), w('deleted', false, h(1, 'bo'), null)];
    const del = w('deleted', true, h(5, 'bo'), h(1, 'bo'));
    const rename = w('name', 'Green tea', h(4, 'r1'), h(1, 'bo'));
    const { doc, conflicts } = applyWrites(emptyDoc(), [...create, del, rename]);
    expect(isDeletedDoc(doc)).toBe(true);
    expect(docValues(doc)).toEqual({ name: 'Green tea', deleted: true });
    expect(conflicts).toEqual([]);
    expect(isDeletedDoc(applyWrites(doc, [w('deleted', false, h(6, 'bo'), del.hlc)]).doc)).toBe(false);
  });
});

describe('diffToWrites', () => {
  const h1 = h(1, 'bo');
  const h2 = h(2, 'bo');
  const now = h(5, 'r1');

  it('writes the changed fields only, each based on what the editor saw', () => {
    const before = { name: 'Tea', price: 250, tags: { a: 1, b: 2 }, color: 'red' };
    const after = { name: 'Tea', price: 260, tags: { b: 2, a: 1 }, note: 'x' };
    const bases = { name: h1, price: h2, tags: h1, color: h1 };
    // name and tags are equal (key order aside); color was removed (→ null); note is new (no base)
    expect(diffToWrites(before, after, bases, now)).toEqual([
      { field: 'color', value: null, hlc: now, base: h1 },
      { field: 'note', value: 'x', hlc: now, base: null },
      { field: 'price', value: 260, hlc: now, base: h2 },
    ]);
  });

  it('refuses an edit stamped before the value it replaces', () => {
    expect(() => diffToWrites({ price: 1 }, { price: 2 }, { price: now }, h2)).toThrow(EditBeforeBaseError);
    expect(() => diffToWrites({ price: 1 }, { price: 2 }, { price: now }, now)).toThrow(EditBeforeBaseError);
  });

  it('refuses a write the wire schema would refuse', () => {
    expect(() => diffToWrites({}, { 'bad name': 1 }, {}, now)).toThrow(InvalidFieldWriteError);
    expect(() => diffToWrites({}, { price: 1 }, {}, 'yesterday')).toThrow(InvalidFieldWriteError);
  });

  it('round-trips through applyWrites as sequential edits', () => {
    const { doc } = applyWrites(emptyDoc(), [w('name', 'Tea', h1, null), w('price', 250, h1, null)]);
    const edit = diffToWrites(docValues(doc), { ...docValues(doc), price: 260 }, docHlcs(doc), now);
    const next = applyWrites(doc, edit);
    expect(docValues(next.doc)).toEqual({ name: 'Tea', price: 260 });
    expect(next.conflicts).toEqual([]);
  });
});

describe('registers with wrong clocks against a server in 2026', () => {
  const Y2000 = Date.UTC(2000, 0, 1);
  const Y2026 = Date.UTC(2026, 0, 1);
  const Y2037 = Date.UTC(2037, 0, 1);
  const MINUTE = 60_000;

  it('a register in 2000 cannot make an edit that would silently lose', () => {
    const server = new HybridLogicalClock(manualClock(Y2026), 'server');
    const created = applyWrites(emptyDoc(), [w('price', 250, encodeHlc(server.now()), null)]).doc;
    const register = new HybridLogicalClock(manualClock(Y2000), 'r2000');
    const receipt = register.receive(decodeHlc(docHlcs(created).price ?? ''));
    expect(receipt.clamped).toBe(true);
    const stamp = encodeHlc(register.now());
    expect(() => diffToWrites(docValues(created), { price: 260 }, docHlcs(created), stamp)).toThrow(EditBeforeBaseError);
  });

  it('a register in 2037 wins every later edit unless the server re-stamps its write', () => {
    const clock = manualClock(Y2026);
    const server = new HybridLogicalClock(clock, 'server');
    const created = applyWrites(emptyDoc(), [w('price', 250, encodeHlc(server.now()), null)]).doc;
    const base = docHlcs(created).price ?? null;
    const raw = w('price', 999, encodeHlc({ wallMs: Y2037, counter: 0, node: 'r2037' }), base);
    const receipt = server.receive(decodeHlc(raw.hlc));
    expect(receipt.clamped).toBe(true);
    const restamped = { ...raw, hlc: encodeHlc(receipt.hlc) };

    clock.advance(10 * MINUTE);
    const later = (seen: string): FieldWrite => w('price', 300, encodeHlc(server.now()), seen);

    const trusted = applyWrites(created, [raw]).doc;
    expect(docValues(applyWrites(trusted, [later(raw.hlc)]).doc)).toEqual({ price: 999 });

    const clamped = applyWrites(created, [restamped]).doc;
    const result = applyWrites(clamped, [later(restamped.hlc)]);
    expect(docValues(result.doc)).toEqual({ price: 300 });
    expect(result.conflicts).toEqual([]);
  });
});

describe('compactDoc', () => {
  const a = w('price', 250, h(1, 'bo'), null);
  const b = w('price', 260, h(2, 'r1'), a.hlc);
  const c = w('price', 270, h(3, 'r2'), b.hlc);
  const n = w('name', 'Tea', h(1, 'bo'), null);

  it('drops writes below the horizon but never a current value', () => {
    const { doc } = applyWrites(emptyDoc(), [a, b, c, n]);
    const small = compactDoc(doc, h(2, 'r1'));
    expect(small).toEqual({
      fields: {
        name: [{ value: 'Tea', hlc: n.hlc, base: null }],
        price: [
          { value: 260, hlc: b.hlc, base: a.hlc },
          { value: 270, hlc: c.hlc, base: b.hlc },
        ],
      },
    });
    expect(docValues(compactDoc(doc, h(99, 'x')))).toEqual(docValues(doc));
  });

  it('still finds conflicts with new writes based on the current value or later', () => {
    const { doc } = applyWrites(emptyDoc(), [a, b, c]);
    const small = compactDoc(doc, h(3, 'r2'));
    const p = w('price', 280, h(4, 'p'), c.hlc);
    const q = w('price', 290, h(4, 'q'), c.hlc);
    expect(ids(applyWrites(small, [p, q]).conflicts)).toEqual([`price:${p.hlc}:${q.hlc}`]);
  });
});

describe('ReferenceDocSchema', () => {
  it('reads back a stored doc', () => {
    const { doc } = applyWrites(emptyDoc(), [w('price', 250, h(1, 'bo'), null), w('tags', { a: [1, 'x'] }, h(2, 'bo'), null)]);
    expect(ReferenceDocSchema.parse(JSON.parse(JSON.stringify(doc)))).toEqual(doc);
    expect(ReferenceDocSchema.safeParse({ fields: {}, extra: 1 }).success).toBe(false);
    expect(ReferenceDocSchema.safeParse({ fields: { price: [{ value: 1, hlc: 'x', base: null }] } }).success).toBe(false);
  });
});

// ---- properties -------------------------------------------------------------------------------

const FIELDS = ['price', 'name', 'deleted'] as const;
// A small HLC space, so that arbitrary writes collide, interleave and reference each other.
const hlcArb = fc
  .record({ wallMs: fc.integer({ min: 0, max: 12 }), counter: fc.integer({ min: 0, max: 1 }), node: fc.constantFrom('a', 'b', 'c') })
  .map(encodeHlc);
const valueArb: fc.Arbitrary<JsonValue> = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('x', 'y', null, true), fc.record({ k: fc.integer({ min: 0, max: 2 }) }));
const writeArb: fc.Arbitrary<FieldWrite> = fc.record({
  field: fc.constantFrom(...FIELDS),
  value: valueArb,
  hlc: hlcArb,
  base: fc.option(hlcArb, { nil: null }),
});
// A node never issues one HLC twice; per field, the same HLC is the same write.
const writesArb = fc.uniqueArray(writeArb, { maxLength: 14, selector: (x) => `${x.field} ${x.hlc}` });
const docArb: fc.Arbitrary<ReferenceDoc> = fc.array(writeArb, { maxLength: 10 }).map((ws) => applyWrites(emptyDoc(), ws).doc);

/** The writes in a shuffled order, cut into chunks of the given sizes (cycled). */
const deliveryArb = <T>(items: T[]): fc.Arbitrary<T[][]> =>
  fc
    .tuple(fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length }), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }))
    .map(([shuffled, sizes]) => {
      const chunks: T[][] = [];
      for (let i = 0, k = 0; i < shuffled.length; k++) {
        const size = sizes[k % sizes.length] ?? 1;
        chunks.push(shuffled.slice(i, i + size));
        i += size;
      }
      return chunks;
    });

/** Applies chunks one after another; returns the doc and every conflict reported on the way. */
function deliver(chunks: readonly FieldWrite[][]): { doc: ReferenceDoc; reported: string[] } {
  let doc = emptyDoc();
  const reported: string[] = [];
  for (const chunk of chunks) {
    const r = applyWrites(doc, chunk);
    doc = r.doc;
    reported.push(...ids(r.conflicts));
  }
  return { doc, reported };
}

/** A history of edits each made on the current value: every editor saw every earlier edit. */
const sequentialArb = fc
  .array(fc.record({ field: fc.constantFrom(...FIELDS), node: fc.constantFrom('a', 'b', 'c'), value: valueArb, wall: fc.integer({ min: 0, max: 40 }) }), {
    minLength: 1,
    maxLength: 12,
  })
  .map((steps) => {
    let doc = emptyDoc();
    let last: Hlc = initialHlc('a');
    const writes: FieldWrite[] = [];
    for (const s of steps) {
      last = tickHlc({ ...last, node: s.node }, s.wall);
      const write = w(s.field, s.value, encodeHlc(last), docHlcs(doc)[s.field] ?? null);
      writes.push(write);
      doc = applyWrites(doc, [write]).doc;
    }
    return { writes, doc, last };
  });

describe('merge properties', () => {
  it('is commutative, on values and conflicts', () => {
    fc.assert(
      fc.property(docArb, docArb, (a, b) => {
        const ab = mergeDocs(a, b);
        expect(mergeDocs(b, a)).toEqual(ab);
        expect(docConflicts(mergeDocs(b, a))).toEqual(docConflicts(ab));
      }),
      { numRuns: 500 },
    );
  });

  it('is associative, on values and conflicts', () => {
    fc.assert(
      fc.property(docArb, docArb, docArb, (a, b, c) => {
        const left = mergeDocs(mergeDocs(a, b), c);
        const right = mergeDocs(a, mergeDocs(b, c));
        expect(right).toEqual(left);
        expect(docValues(right)).toEqual(docValues(left));
        expect(docConflicts(right)).toEqual(docConflicts(left));
      }),
      { numRuns: 500 },
    );
  });

  it('is idempotent, on values and conflicts', () => {
    fc.assert(
      fc.property(docArb, docArb, (a, b) => {
        expect(mergeDocs(a, a)).toEqual(a);
        const ab = mergeDocs(a, b);
        expect(mergeDocs(ab, b)).toEqual(ab);
        expect(docConflicts(mergeDocs(ab, a))).toEqual(docConflicts(ab));
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same doc and reports every conflict exactly once, in any delivery order', () => {
    fc.assert(
      fc.property(
        writesArb.chain((ws) => fc.tuple(fc.constant(ws), deliveryArb(ws))),
        ([writes, chunks]) => {
          const all = applyWrites(emptyDoc(), writes);
          const { doc, reported } = deliver(chunks);
          expect(doc).toEqual(all.doc);
          expect(reported.slice().sort()).toEqual(ids(all.conflicts));
          expect(ids(docConflicts(doc))).toEqual(ids(all.conflicts));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never reports sequential edits, in any delivery order', () => {
    fc.assert(
      fc.property(
        sequentialArb.chain((s) => fc.tuple(fc.constant(s), deliveryArb(s.writes))),
        ([s, chunks]) => {
          const { doc, reported } = deliver(chunks);
          expect(reported).toEqual([]);
          expect(docConflicts(doc)).toEqual([]);
          expect(docValues(doc)).toEqual(docValues(s.doc));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('always reports two concurrent edits of one field from the same base', () => {
    const concurrentArb = sequentialArb.chain((s) =>
      fc
        .record({ field: fc.constantFrom(...FIELDS), p: valueArb, q: valueArb, wallP: fc.integer({ min: 0, max: 60 }), wallQ: fc.integer({ min: 0, max: 60 }) })
        .map((e) => {
          const base = docHlcs(s.doc)[e.field] ?? null;
          // two nodes that both saw everything so far, and not each other
          const p = w(e.field, e.p, encodeHlc(tickHlc({ ...s.last, node: 'p' }, e.wallP)), base);
          const q = w(e.field, e.q, encodeHlc(tickHlc({ ...s.last, node: 'q' }, e.wallQ)), base);
          return { s, p, q };
        })
        .chain((c) => fc.tuple(fc.constant(c), deliveryArb([...c.s.writes, c.p, c.q]))),
    );
    fc.assert(
      fc.property(concurrentArb, ([{ p, q }, chunks]) => {
        const [first, second] = p.hlc < q.hlc ? [p, q] : [q, p];
        const expected = conflictId(p.field, first.hlc, second.hlc);
        const { doc, reported } = deliver(chunks);
        expect(reported).toEqual([expected]);
        expect(ids(docConflicts(doc))).toEqual([expected]);
        expect(docValues(doc)[p.field]).toEqual(second.value);
      }),
      { numRuns: 500 },
    );
  });
});
