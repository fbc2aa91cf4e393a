import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manualClock } from './clock.js';
import { InvalidArgumentError } from './errors.js';
import { HlcStringSchema } from './field-patch.js';
import {
  compareHlc,
  decodeHlc,
  DEFAULT_MAX_DRIFT_MS,
  encodeHlc,
  type Hlc,
  HybridLogicalClock,
  initialHlc,
  InvalidHlcError,
  MAX_HLC_COUNTER,
  MAX_HLC_WALL_MS,
  receiveHlc,
  tickHlc,
} from './hlc.js';

const Y2000 = Date.UTC(2000, 0, 1);
const Y2026 = Date.UTC(2026, 0, 1);
const Y2037 = Date.UTC(2037, 0, 1);
const MINUTE = 60_000;

const hlcArb = fc.record({
  wallMs: fc.oneof(fc.integer({ min: 0, max: MAX_HLC_WALL_MS }), fc.integer({ min: 0, max: 3 })),
  counter: fc.oneof(fc.integer({ min: 0, max: MAX_HLC_COUNTER }), fc.integer({ min: 0, max: 2 })),
  node: fc.oneof(fc.constantFrom('a', 'a-', 'b', 'B', '_'), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/)),
});

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

describe('encodeHlc / decodeHlc', () => {
  it('writes 12 hex digits of wall time, 4 of counter, then the node', () => {
    // 0x19a3b4c5d6e has 11 hex digits, so one leading zero; counter 2 → 0002
    expect(encodeHlc({ wallMs: 0x19a3b4c5d6e, counter: 2, node: 'r1' })).toBe('019a3b4c5d6e-0002-r1');
    expect(encodeHlc({ wallMs: 0, counter: 0xffff, node: 'x' })).toBe('000000000000-ffff-x');
  });

  it('reads what it wrote, including a UUID node id with dashes', () => {
    expect(decodeHlc('019a3b4c5d6e-0002-7f0e2c1a-0000-7000-8000-000000000001')).toEqual({
      wallMs: 0x19a3b4c5d6e,
      counter: 2,
      node: '7f0e2c1a-0000-7000-8000-000000000001',
    });
  });

  it('refuses malformed strings', () => {
    for (const bad of ['019A3B4C5D6E-0002-r1', '19a3b4c5d6e-0002-r1', '019a3b4c5d6e-002-r1', '019a3b4c5d6e-0002-', '019a3b4c5d6e-0002-r:1', '']) {
      expect(() => decodeHlc(bad), bad).toThrow(InvalidHlcError);
    }
  });

  it('refuses stamps the format cannot hold', () => {
    expect(() => encodeHlc({ wallMs: MAX_HLC_WALL_MS + 1, counter: 0, node: 'a' })).toThrow(InvalidHlcError);
    expect(() => encodeHlc({ wallMs: -1, counter: 0, node: 'a' })).toThrow(InvalidHlcError);
    expect(() => encodeHlc({ wallMs: 1.5, counter: 0, node: 'a' })).toThrow(InvalidHlcError);
    expect(() => encodeHlc({ wallMs: 1, counter: 0x10000, node: 'a' })).toThrow(InvalidHlcError);
    expect(() => encodeHlc({ wallMs: 1, counter: 0, node: 'a b' })).toThrow(InvalidHlcError);
    expect(() => encodeHlc({ wallMs: 1, counter: 0, node: 'n'.repeat(65) })).toThrow(InvalidHlcError);
  });

  it('round-trips, matches HlcStringSchema, and sorts as compareHlc does', () => {
    fc.assert(
      fc.property(hlcArb, hlcArb, (a, b) => {
        const ea = encodeHlc(a);
        const eb = encodeHlc(b);
        expect(decodeHlc(ea)).toEqual(a);
        expect(HlcStringSchema.safeParse(ea).success).toBe(true);
        expect(sign(compareHlc(a, b))).toBe(ea < eb ? -1 : ea > eb ? 1 : 0);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('compareHlc', () => {
  it('orders by wall time, then counter, then node', () => {
    expect(compareHlc({ wallMs: 1, counter: 9, node: 'z' }, { wallMs: 2, counter: 0, node: 'a' })).toBe(-1);
    expect(compareHlc({ wallMs: 2, counter: 1, node: 'a' }, { wallMs: 2, counter: 0, node: 'z' })).toBe(1);
    expect(compareHlc({ wallMs: 2, counter: 1, node: 'a' }, { wallMs: 2, counter: 1, node: 'b' })).toBe(-1);
    expect(compareHlc({ wallMs: 2, counter: 1, node: 'a' }, { wallMs: 2, counter: 1, node: 'a' })).toBe(0);
  });
});

describe('tickHlc', () => {
  it('follows the wall clock when it is ahead', () => {
    expect(tickHlc({ wallMs: 1000, counter: 7, node: 'r1' }, 1500)).toEqual({ wallMs: 1500, counter: 0, node: 'r1' });
  });

  it('counts instead of going back when the wall clock is behind or equal', () => {
    expect(tickHlc({ wallMs: 1000, counter: 7, node: 'r1' }, 400)).toEqual({ wallMs: 1000, counter: 8, node: 'r1' });
    expect(tickHlc({ wallMs: 1000, counter: 7, node: 'r1' }, 1000)).toEqual({ wallMs: 1000, counter: 8, node: 'r1' });
  });

  it('carries a counter overflow into the wall time', () => {
    expect(tickHlc({ wallMs: 1000, counter: 0xffff, node: 'r1' }, 1000)).toEqual({ wallMs: 1001, counter: 0, node: 'r1' });
  });

  it('drops fractions of a millisecond and refuses a clock that is not a number', () => {
    expect(tickHlc(initialHlc('r1'), 12.9)).toEqual({ wallMs: 12, counter: 0, node: 'r1' });
    expect(() => tickHlc(initialHlc('r1'), Number.NaN)).toThrow(InvalidArgumentError);
  });
});

describe('receiveHlc', () => {
  const server = 'server';

  it('moves to a remote stamp within the drift bound and counts past it', () => {
    const r = receiveHlc({ wallMs: 1000, counter: 3, node: server }, { wallMs: 2000, counter: 5, node: 'r1' }, 1500);
    // max(1000, 2000, 1500) = 2000, from the remote: counter 5 + 1
    expect(r).toEqual({ hlc: { wallMs: 2000, counter: 6, node: server }, skewMs: 500, clamped: false, skewExceeded: false });
  });

  it('takes the larger counter when local and remote share the wall time', () => {
    const r = receiveHlc({ wallMs: 2000, counter: 9, node: server }, { wallMs: 2000, counter: 5, node: 'r1' }, 1500);
    expect(r.hlc).toEqual({ wallMs: 2000, counter: 10, node: server });
  });

  it('follows its own wall clock past both stamps', () => {
    const r = receiveHlc({ wallMs: 1000, counter: 9, node: server }, { wallMs: 1200, counter: 5, node: 'r1' }, 3000);
    expect(r).toEqual({ hlc: { wallMs: 3000, counter: 0, node: server }, skewMs: -1800, clamped: false, skewExceeded: false });
  });

  it('clamps a register that believes it is 2037 instead of jumping to it', () => {
    const last = { wallMs: Y2026 - 10, counter: 0, node: server };
    const r = receiveHlc(last, { wallMs: Y2037, counter: 0, node: 'r2037' }, Y2026);
    expect(r.clamped).toBe(true);
    expect(r.skewExceeded).toBe(true);
    expect(r.skewMs).toBe(Y2037 - Y2026);
    // the remote is taken as at most 5 minutes ahead: (2026 + 5 min, counter 0 + 1)
    expect(r.hlc).toEqual({ wallMs: Y2026 + 5 * MINUTE, counter: 1, node: server });
  });

  it('lets the 2037 register win nothing that happens after the bound has passed', () => {
    const clock = manualClock(Y2026);
    const hlc = new HybridLogicalClock(clock, server);
    const restamp = hlc.receive({ wallMs: Y2037, counter: 0, node: 'r2037' }).hlc;
    clock.advance(6 * MINUTE);
    expect(compareHlc(hlc.now(), restamp)).toBe(1);
  });

  it('reports a register that believes it is 2000 and is not moved by it', () => {
    const r = receiveHlc({ wallMs: Y2026 - 10, counter: 4, node: server }, { wallMs: Y2000, counter: 0, node: 'r2000' }, Y2026);
    expect(r).toEqual({ hlc: { wallMs: Y2026, counter: 0, node: server }, skewMs: Y2000 - Y2026, clamped: false, skewExceeded: true });
  });

  it('keeps the register in 2000 near its own clock when it hears from the 2026 server', () => {
    const register = new HybridLogicalClock(manualClock(Y2000), 'r2000');
    const r = register.receive({ wallMs: Y2026, counter: 0, node: server });
    expect(r.clamped).toBe(true);
    expect(r.hlc.wallMs).toBe(Y2000 + 5 * MINUTE);
  });

  it('accepts a custom bound, and refuses a negative one', () => {
    const r = receiveHlc(initialHlc(server), { wallMs: 1000 + 2 * MINUTE, counter: 0, node: 'r1' }, 1000, MINUTE);
    expect(r.clamped).toBe(true);
    expect(r.hlc.wallMs).toBe(1000 + MINUTE);
    expect(() => receiveHlc(initialHlc(server), initialHlc('r1'), 0, -1)).toThrow(InvalidArgumentError);
  });

  it('carries when the remote counter is at its maximum', () => {
    const r = receiveHlc(initialHlc(server), { wallMs: 50, counter: 0xffff, node: 'r1' }, 10);
    expect(r.hlc).toEqual({ wallMs: 51, counter: 0, node: server });
  });
});

describe('HybridLogicalClock', () => {
  it('never goes back when the wall clock does', () => {
    const clock = manualClock(Y2026);
    const hlc = new HybridLogicalClock(clock, 'r1');
    const first = hlc.now();
    clock.set(Y2000);
    const second = hlc.now();
    expect(second).toEqual({ wallMs: Y2026, counter: 1, node: 'r1' });
    expect(compareHlc(second, first)).toBe(1);
  });

  it('resumes after a restart from its persisted last stamp', () => {
    const clock = manualClock(Y2000);
    const hlc = new HybridLogicalClock(clock, 'r1', { last: { wallMs: Y2026, counter: 3, node: 'r1' } });
    expect(hlc.now()).toEqual({ wallMs: Y2026, counter: 4, node: 'r1' });
    expect(hlc.last).toEqual({ wallMs: Y2026, counter: 4, node: 'r1' });
  });

  it('refuses a bad node id or drift bound', () => {
    expect(() => new HybridLogicalClock(manualClock(0), 'has space')).toThrow(InvalidHlcError);
    expect(() => new HybridLogicalClock(manualClock(0), 'r1', { maxDriftMs: 1.5 })).toThrow(InvalidArgumentError);
  });

  it('is strictly monotonic under any local and remote events and any wall clock', () => {
    type Event = { kind: 'tick'; wall: number } | { kind: 'receive'; wall: number; remote: Hlc };
    const wall = fc.oneof(fc.integer({ min: 0, max: MAX_HLC_WALL_MS - 1 }), fc.integer({ min: Y2026 - 10 * MINUTE, max: Y2026 + 10 * MINUTE }));
    const event: fc.Arbitrary<Event> = fc.oneof(
      fc.record({ kind: fc.constant('tick' as const), wall }),
      fc.record({
        kind: fc.constant('receive' as const),
        wall,
        remote: fc.record({
          wallMs: fc.oneof(fc.integer({ min: 0, max: MAX_HLC_WALL_MS - 1 }), fc.integer({ min: Y2026 - 10 * MINUTE, max: Y2026 + 10 * MINUTE })),
          counter: fc.oneof(fc.integer({ min: 0, max: MAX_HLC_COUNTER }), fc.constant(MAX_HLC_COUNTER)),
          node: fc.constantFrom('a', 'b', 'me'),
        }),
      }),
    );
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 60 }), (events) => {
        let last = initialHlc('me');
        for (const e of events) {
          let next: Hlc;
          if (e.kind === 'tick') {
            next = tickHlc(last, e.wall);
          } else {
            const r = receiveHlc(last, e.remote, e.wall);
            next = r.hlc;
            // unless clamped, whatever follows a receive is ordered after what was received
            if (!r.clamped) expect(compareHlc(next, e.remote)).toBe(1);
            // the clock is never pulled more than the bound ahead of its own wall (+1 ms carry)
            expect(next.wallMs).toBeLessThanOrEqual(Math.max(last.wallMs, e.wall + DEFAULT_MAX_DRIFT_MS) + 1);
          }
          expect(compareHlc(next, last)).toBe(1);
          expect(encodeHlc(next) > encodeHlc(last)).toBe(true);
          last = next;
        }
      }),
      { numRuns: 500 },
    );
  });
});
