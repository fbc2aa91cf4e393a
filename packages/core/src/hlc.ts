/**
 * Hybrid logical clock (Kulkarni, Demirbas et al., "Logical Physical Clocks", 2014). A timestamp is
 * `{ wallMs, counter, node }`: the largest wall-clock time this node has seen (its own or a peer's),
 * a counter that orders events within one millisecond, and the node id that breaks the last tie.
 * Every reference-doc field write is stamped with one (DESIGN.md §2), so the stamps must be totally
 * ordered, never go backwards on one node, and stay close to real time.
 *
 * Two defences against bad clocks, both documented in {@link receiveHlc}:
 * - a local wall clock that jumps backwards only stops `wallMs` from advancing (the counter moves);
 * - a remote stamp more than `maxDriftMs` ahead of the local wall clock is clamped, so one register
 *   that believes it is 2037 cannot drag every clock (and win every edit) into 2037.
 *
 * The functions here are pure over a state value (the last stamp issued), so the state can be
 * persisted and restored; {@link HybridLogicalClock} wraps them around an injected {@link Clock}.
 */
import type { Clock } from './clock.js';
import { InvalidArgumentError, KassaError } from './errors.js';

/** One HLC timestamp. Compare with {@link compareHlc}; put on the wire with {@link encodeHlc}. */
export interface Hlc {
  /** Wall-clock milliseconds since the Unix epoch (the largest this node had seen). */
  readonly wallMs: number;
  /** Orders events that share `wallMs`; 0 … {@link MAX_HLC_COUNTER}. */
  readonly counter: number;
  /** Id of the node (register, server) that issued the stamp; breaks ties. */
  readonly node: string;
}

/** The largest counter value; the encoding has 4 hex digits for it. */
export const MAX_HLC_COUNTER = 0xffff;

/** The largest wall time the encoding can hold (12 hex digits: the year 10889). */
export const MAX_HLC_WALL_MS = 0xffff_ffff_ffff;

/**
 * How far ahead of the local wall clock a remote stamp is believed: 5 minutes.
 *
 * Registers with working NTP are within a second; a tablet offline for a week drifts well under a
 * minute. Mistakes that matter (dead clock battery, wrong time zone taken as UTC, a manual date) are
 * hours to years off. 5 minutes lets the first kind through untouched and catches the second,
 * and bounds how long a clamped edit can outrank edits made after it. (Kerberos uses the same.)
 */
export const DEFAULT_MAX_DRIFT_MS = 5 * 60 * 1000;

const NODE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
// Same shape as HlcStringSchema in field-patch.ts, with capture groups.
const HLC_PATTERN = /^([0-9a-f]{12})-([0-9a-f]{4})-([A-Za-z0-9_-]{1,64})$/;

/** A string that is not an encoded HLC, or a stamp that cannot be encoded. */
export class InvalidHlcError extends KassaError {
  readonly code = 'invalid_hlc';
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid HLC ${JSON.stringify(input)}: ${reason}`);
  }
}

/** What {@link receiveHlc} returns: the new local stamp and what it found out about the sender. */
export interface HlcReceipt {
  /** The stamp of the receive event; later than every stamp this node issued before. */
  readonly hlc: Hlc;
  /**
   * Remote `wallMs` minus the local wall clock: positive when the sender is ahead. An upper bound
   * of the sender's clock error, since its HLC may itself carry time it received from others.
   */
  readonly skewMs: number;
  /**
   * The remote stamp was more than `maxDriftMs` ahead and was not trusted: the local clock moved
   * at most to `local wall + maxDriftMs`, so `hlc` may be *earlier* than the remote stamp. A server
   * applying that sender's writes re-stamps them (e.g. with `hlc`) and raises a clock-skew alert.
   */
  readonly clamped: boolean;
  /** `|skewMs| > maxDriftMs`, in either direction: the sender's clock is far off; warn about it. */
  readonly skewExceeded: boolean;
}

/**
 * The first state of a node: before every stamp it will issue.
 *
 * @example
 * ```ts
 * let last = initialHlc('register-1');
 * last = tickHlc(last, clock.now());
 * ```
 */
export function initialHlc(node: string): Hlc {
  assertNode(node);
  return { wallMs: 0, counter: 0, node };
}

/**
 * Orders two stamps: by wall time, then counter, then node id (by UTF-16 code units, the same order
 * as the encoded strings). 0 only for the same stamp.
 *
 * @example
 * ```ts
 * compareHlc({ wallMs: 5, counter: 0, node: 'a' }, { wallMs: 5, counter: 1, node: 'a' }) // -1
 * ```
 */
export function compareHlc(a: Hlc, b: Hlc): -1 | 0 | 1 {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  return 0;
}

/**
 * Encodes a stamp as `wwwwwwwwwwww-cccc-node` (lower-case hex, fixed width), the format of
 * `HlcStringSchema`: plain string order of encoded stamps is {@link compareHlc} order.
 *
 * @throws InvalidHlcError when a part is out of range or the node id is not `[A-Za-z0-9_-]{1,64}`.
 * @example
 * ```ts
 * encodeHlc({ wallMs: 0x19a3b4c5d6e, counter: 2, node: 'r1' }) // '019a3b4c5d6e-0002-r1'
 * ```
 */
export function encodeHlc(hlc: Hlc): string {
  const { wallMs, counter, node } = hlc;
  const shown = `${String(wallMs)}/${String(counter)}/${node}`;
  if (!Number.isSafeInteger(wallMs) || wallMs < 0 || wallMs > MAX_HLC_WALL_MS) {
    throw new InvalidHlcError(shown, 'wallMs must be an integer in 0 … 2^48-1');
  }
  if (!Number.isSafeInteger(counter) || counter < 0 || counter > MAX_HLC_COUNTER) {
    throw new InvalidHlcError(shown, 'counter must be an integer in 0 … 65535');
  }
  if (!NODE_PATTERN.test(node)) throw new InvalidHlcError(shown, 'node id must match [A-Za-z0-9_-]{1,64}');
  return `${wallMs.toString(16).padStart(12, '0')}-${counter.toString(16).padStart(4, '0')}-${node}`;
}

/**
 * Decodes a string made by {@link encodeHlc}.
 *
 * @throws InvalidHlcError when the string is not in that format (upper-case hex included).
 * @example
 * ```ts
 * decodeHlc('019a3b4c5d6e-0002-r1') // { wallMs: 0x19a3b4c5d6e, counter: 2, node: 'r1' }
 * ```
 */
export function decodeHlc(encoded: string): Hlc {
  const match = HLC_PATTERN.exec(encoded);
  const [, wall, counter, node] = match ?? [];
  if (wall === undefined || counter === undefined || node === undefined) {
    throw new InvalidHlcError(encoded, 'expected 12 hex digits, "-", 4 hex digits, "-", node id');
  }
  return { wallMs: parseInt(wall, 16), counter: parseInt(counter, 16), node };
}

/**
 * The stamp of a local event (a write, an op): later than `last`, and at least the wall clock.
 * A wall clock behind `last` (it was set back, or `last` came from a peer) keeps `last.wallMs` and
 * increments the counter.
 *
 * @param last the last stamp this node issued (or {@link initialHlc}).
 * @param wallMs the local wall clock now (fractions are dropped).
 * @throws InvalidArgumentError when `wallMs` is not a finite number.
 * @example
 * ```ts
 * tickHlc({ wallMs: 1000, counter: 4, node: 'r1' }, 900) // { wallMs: 1000, counter: 5, node: 'r1' }
 * ```
 */
export function tickHlc(last: Hlc, wallMs: number): Hlc {
  const physical = checkWall(wallMs);
  const wall = Math.max(last.wallMs, physical);
  return carry(wall, wall === last.wallMs ? last.counter + 1 : 0, last.node);
}

/**
 * The stamp of receiving `remote` (Kulkarni's receive rule): later than `last` and, unless the
 * remote was clamped, later than `remote`, so whatever this node does next is ordered after what
 * it has seen.
 *
 * A remote `wallMs` more than `maxDriftMs` ahead of the local wall clock is clamped to
 * `wallMs + maxDriftMs` (counter 0) before the rule applies: the local clock is never pulled
 * further ahead of its own wall clock than the bound, and the result says so (`clamped`). A remote
 * that is behind is harmless to the clock (the max ignores it) but reported (`skewExceeded`).
 *
 * @param last the last stamp this node issued.
 * @param remote the stamp that arrived.
 * @param wallMs the local wall clock now.
 * @param maxDriftMs see {@link DEFAULT_MAX_DRIFT_MS}.
 * @throws InvalidArgumentError when `wallMs` is not finite or `maxDriftMs` not a non-negative integer.
 * @example
 * ```ts
 * const now = Date.UTC(2026, 0, 1);
 * const { hlc, clamped } = receiveHlc(initialHlc('server'), { wallMs: Date.UTC(2037, 0, 1), counter: 0, node: 'r1' }, now);
 * // clamped === true; hlc.wallMs === now + 5 * 60_000
 * ```
 */
export function receiveHlc(last: Hlc, remote: Hlc, wallMs: number, maxDriftMs: number = DEFAULT_MAX_DRIFT_MS): HlcReceipt {
  const physical = checkWall(wallMs);
  if (!Number.isSafeInteger(maxDriftMs) || maxDriftMs < 0) {
    throw new InvalidArgumentError('maxDriftMs', 'must be a non-negative integer');
  }
  const skewMs = remote.wallMs - physical;
  const clamped = skewMs > maxDriftMs;
  const rWall = clamped ? Math.min(physical + maxDriftMs, MAX_HLC_WALL_MS) : remote.wallMs;
  const rCounter = clamped ? 0 : remote.counter;
  const wall = Math.max(last.wallMs, rWall, physical);
  let counter: number;
  if (wall === last.wallMs && wall === rWall) counter = Math.max(last.counter, rCounter) + 1;
  else if (wall === last.wallMs) counter = last.counter + 1;
  else if (wall === rWall) counter = rCounter + 1;
  else counter = 0;
  return { hlc: carry(wall, counter, last.node), skewMs, clamped, skewExceeded: Math.abs(skewMs) > maxDriftMs };
}

/** Options of {@link HybridLogicalClock}. */
export interface HybridLogicalClockOptions {
  /** See {@link DEFAULT_MAX_DRIFT_MS}. */
  readonly maxDriftMs?: number;
  /** The last stamp issued before a restart (persisted), so the clock resumes after it. */
  readonly last?: Hlc;
}

/**
 * A node's HLC: {@link tickHlc} and {@link receiveHlc} over its own state and an injected clock.
 * Persist {@link HybridLogicalClock.last} with what was stamped, and pass it back after a restart,
 * or a restarted node whose wall clock went back could issue an earlier stamp.
 *
 * @example
 * ```ts
 * const hlc = new HybridLogicalClock(manualClock(Date.UTC(2026, 0, 1)), deviceId);
 * const stamp = encodeHlc(hlc.now());
 * const { skewExceeded } = hlc.receive(decodeHlc(serverStamp));
 * ```
 */
export class HybridLogicalClock {
  readonly #clock: Clock;
  readonly #maxDriftMs: number;
  #last: Hlc;

  /**
   * @throws InvalidHlcError when `node` is not `[A-Za-z0-9_-]{1,64}`.
   * @throws InvalidArgumentError when `maxDriftMs` is not a non-negative integer.
   */
  constructor(clock: Clock, node: string, options: HybridLogicalClockOptions = {}) {
    const maxDriftMs = options.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
    if (!Number.isSafeInteger(maxDriftMs) || maxDriftMs < 0) {
      throw new InvalidArgumentError('maxDriftMs', 'must be a non-negative integer');
    }
    const start = initialHlc(node);
    this.#clock = clock;
    this.#maxDriftMs = maxDriftMs;
    this.#last = options.last === undefined ? start : { wallMs: options.last.wallMs, counter: options.last.counter, node };
  }

  /** The last stamp issued (for persisting). */
  get last(): Hlc {
    return this.#last;
  }

  /** Stamps a local event; see {@link tickHlc}. */
  now(): Hlc {
    this.#last = tickHlc(this.#last, this.#clock.now());
    return this.#last;
  }

  /** Takes in a remote stamp and stamps the receive event; see {@link receiveHlc}. */
  receive(remote: Hlc): HlcReceipt {
    const receipt = receiveHlc(this.#last, remote, this.#clock.now(), this.#maxDriftMs);
    this.#last = receipt.hlc;
    return receipt;
  }
}

function assertNode(node: string): void {
  if (!NODE_PATTERN.test(node)) throw new InvalidHlcError(node, 'node id must match [A-Za-z0-9_-]{1,64}');
}

function checkWall(wallMs: number): number {
  if (!Number.isFinite(wallMs)) throw new InvalidArgumentError('wall clock', `not a finite number: ${String(wallMs)}`);
  // A clock before 1970 (or past the encoding) is broken; pinning it keeps the HLC encodable and
  // monotonic, and the skew reports tell someone to fix it.
  return Math.min(Math.max(Math.floor(wallMs), 0), MAX_HLC_WALL_MS);
}

/**
 * Counter overflow (more than 65 536 stamps in one logical millisecond) carries into the wall time:
 * pure code cannot wait for the clock, and throwing would refuse a write at the till. The HLC then
 * runs at most 1 ms per 65 536 stamps ahead of the wall clock, which the next tick absorbs.
 */
function carry(wallMs: number, counter: number, node: string): Hlc {
  if (counter <= MAX_HLC_COUNTER) return { wallMs, counter, node };
  if (wallMs >= MAX_HLC_WALL_MS) throw new InvalidHlcError(`${String(wallMs)}/${String(counter)}/${node}`, 'HLC exhausted');
  return { wallMs: wallMs + 1, counter: 0, node };
}
