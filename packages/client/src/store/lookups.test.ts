import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ftsQuery } from './lookups.js';

describe('ftsQuery', () => {
  it('makes every word a quoted prefix, all required', () => {
    expect(ftsQuery('cof mu')).toBe('"cof"* AND "mu"*');
    expect(ftsQuery('  TSH-M ')).toBe('"TSH-M"*');
  });

  it('has nothing to search for in blanks and punctuation', () => {
    expect(ftsQuery('')).toBeUndefined();
    expect(ftsQuery(' - " * ')).toBeUndefined();
  });

  it('never lets FTS5 syntax through: quotes are dropped, so every term is a plain quoted string', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const q = ftsQuery(text);
        if (q === undefined) return;
        for (const term of q.split(' AND ')) expect(term).toMatch(/^"[^"]+"\*$/);
      }),
      { numRuns: 500 },
    );
  });
});
