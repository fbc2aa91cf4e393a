/**
 * The checks an op passes before it applies, shared by a push (`push-batch.ts`) and a quarantine
 * retry (`backoffice/quarantine-retry.ts`), so a retried op is judged exactly as a pushed one:
 *
 * ```
 *   op ─► stamp: the register's HLC received into the server's (core's rule)
 *   │       ├─ beyond the skew bound ahead ───► re-stamped with the server's stamp + clock_skew alert
 *   │       └─ far behind (see below) ────────► applies as stamped; one clock_skew alert per episode
 *   └─► permissions: core's `authorize` against the roles AND the store limits in force at the
 *       applied HLC's wall time, honouring `approvedBy` (and a back-office approver on retry)
 * ```
 *
 * **Far behind.** Ops queued offline for a week are legitimately a week behind the server, so age
 * alone says nothing. What does: an op stamped more than the skew bound before its register existed
 * (`registers.created_at`, server time — an op cannot be made before its register; a register that
 * believes it is 2000), or an op whose HLC is more than the skew bound ahead of its own `deviceTime`
 * (the register's clock went back after it had stamped later times: its HLC hides that, its
 * physical clock does not). Such a batch raises `clock_skew:<register>:behind` once; a later batch
 * whose newest op is no longer behind resolves it, so the next episode is a new alert.
 */
import type { Transaction } from 'kysely';
import { decodeHlc, DEFAULT_MAX_DRIFT_MS, encodeHlc, receiveHlc } from '@kassa/core';
import type { Hlc, Op, Role, StoreLimits } from '@kassa/core';
import type { Database } from '../../db/schema.js';
import { clearAlerts, raiseAlert } from '../apply/alerts.js';
import { checkOpPermissions } from './op-permissions.js';
import type { PermissionDenial } from './op-permissions.js';
import { loadStoreLimits, storeLimitsAt } from './store-limits.js';
import type { StoreLimitsTimeline } from './store-limits.js';

/** The register an op came from (always the token's, or the quarantine row's). */
export interface JudgedRegister {
  readonly orgId: string;
  readonly storeId: string;
  readonly registerId: string;
  /** `registers.created_at`: no op of the register can have been made before it. */
  readonly createdAt: number;
}

/** A back-office user approving the op now (quarantine retry): counted as the op's `approvedBy`. */
export interface NowApprover {
  readonly userId: string;
  readonly role: Role;
}

/** What {@link OpJudge.stamp} did to an op. */
export interface Stamped<T extends Op> {
  /** The op with the HLC it applies with (the server's stamp where the register's was too far ahead). */
  readonly op: T;
  readonly clamped: boolean;
}

/** Rows per `in (…)` list when preloading role histories. */
const CHUNK = 500;

/** The `clock_skew` alert key of a register whose clock is far behind. */
export const clockBehindKey = (registerId: string): string => `clock_skew:${registerId}:behind`;

/** Judges the ops of one register inside one transaction; one instance per batch or retry. */
export class OpJudge {
  readonly #trx: Transaction<Database>;
  readonly #register: JudgedRegister;
  readonly #now: number;
  readonly #maxDriftMs: number;
  readonly #roleHistory = new Map<string, Promise<{ role: Role; from: number }[]>>();
  #limits: Promise<StoreLimitsTimeline> | undefined;
  readonly #clockAlerts: boolean;
  #hlc: Hlc;
  #hlcMoved = false;
  /** The first far-behind op of this judge, and how many there were. */
  #behind: { opId: string; seq: number; deviceHlc: string; deviceTime: number; reason: string } | undefined;
  #behindCount = 0;
  /** Whether the newest op stamped (highest seq) was far behind. */
  #newest: { seq: number; behind: boolean } | undefined;

  /**
   * `clockAlerts: false` (quarantine retry): the op's clock was judged when it arrived, and an old
   * op says nothing about the register's clock now, so no `clock_skew` alert is raised or resolved.
   */
  constructor(
    trx: Transaction<Database>,
    register: JudgedRegister,
    options: { hlc: Hlc; now: number; maxDriftMs?: number | undefined; clockAlerts?: boolean },
  ) {
    this.#clockAlerts = options.clockAlerts ?? true;
    this.#trx = trx;
    this.#register = register;
    this.#hlc = options.hlc;
    this.#now = options.now;
    this.#maxDriftMs = options.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
  }

  /** The server's HLC after every op stamped so far. */
  get hlc(): Hlc {
    return this.#hlc;
  }

  /** Whether {@link hlc} moved (save it before the commit). */
  get hlcMoved(): boolean {
    return this.#hlcMoved;
  }

  /** Reads the role history of these staff members in one query per 500 (later lookups are free). */
  async preloadStaff(staffIds: readonly string[]): Promise<void> {
    const ids = [...new Set(staffIds)].filter((id) => !this.#roleHistory.has(id));
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const rows = await this.#trx
        .selectFrom('staff_role_history')
        .select(['staff_id', 'role', 'effective_from as from'])
        .where('org_id', '=', this.#register.orgId)
        .where('staff_id', 'in', chunk)
        .orderBy('staff_id')
        .orderBy('effective_from')
        .execute();
      const byStaff = new Map<string, { role: Role; from: number }[]>(chunk.map((id) => [id, []]));
      for (const r of rows) byStaff.get(r.staff_id)?.push({ role: r.role, from: r.from });
      for (const [id, history] of byStaff) this.#roleHistory.set(id, Promise.resolve(history));
    }
  }

  /**
   * Takes the op's HLC into the server's (core's receive rule). A stamp more than the skew bound
   * ahead of the server's clock — the envelope's, or a field write's — is replaced by the server's
   * clamped stamp, so one register that believes it is 2037 cannot win every edit until 2037, and
   * raises `clock_skew:<register>` (open until someone resolves it). A stamp far behind is noted for
   * {@link settleClockAlerts}.
   */
  async stamp<T extends Op>(op: T): Promise<Stamped<T>> {
    const remote = decodeHlc(op.hlc);
    const receipt = receiveHlc(this.#hlc, remote, this.#now, this.#maxDriftMs);
    this.#hlc = receipt.hlc;
    this.#hlcMoved = true;
    const serverStamp = encodeHlc(receipt.hlc);
    const limit = this.#now + this.#maxDriftMs;
    let clamped = receipt.clamped;
    let stamped: T = clamped ? { ...op, hlc: serverStamp } : op;
    if (stamped.type === 'customer.upserted' || stamped.type === 'product.edited' || stamped.type === 'reference.edited') {
      const writes = stamped.payload.writes;
      if (writes.some((w) => decodeHlc(w.hlc).wallMs > limit)) {
        clamped = true;
        stamped = { ...stamped, payload: { ...stamped.payload, writes: writes.map((w) => (decodeHlc(w.hlc).wallMs > limit ? { ...w, hlc: serverStamp } : w)) } };
      }
    }
    const { orgId, storeId, registerId } = this.#register;
    if (clamped && this.#clockAlerts) {
      await raiseAlert(
        this.#trx,
        orgId,
        {
          key: `clock_skew:${registerId}`,
          kind: 'clock_skew',
          storeId,
          registerId,
          data: { registerId, direction: 'ahead', skewMs: receipt.skewMs, opId: op.id, seq: op.seq, deviceHlc: op.hlc, appliedHlc: serverStamp, serverTime: this.#now },
        },
        this.#now,
      );
    }
    const reason = this.#behindReason(op, remote.wallMs);
    if (reason !== undefined) {
      this.#behindCount += 1;
      this.#behind ??= { opId: op.id, seq: op.seq, deviceHlc: op.hlc, deviceTime: op.deviceTime, reason };
    }
    if (this.#newest === undefined || op.seq >= this.#newest.seq) this.#newest = { seq: op.seq, behind: reason !== undefined };
    return { op: stamped, clamped };
  }

  #behindReason(op: Op, wallMs: number): string | undefined {
    if (wallMs + this.#maxDriftMs < this.#register.createdAt) return 'stamped_before_register_existed';
    // Only while the HLC itself is sane: after a clock set far AHEAD is corrected, the register's HLC
    // stays in the future (its ahead alert covers that) while its clock is right.
    if (op.deviceTime + this.#maxDriftMs < wallMs && wallMs <= this.#now + this.#maxDriftMs) return 'device_clock_behind_its_own_hlc';
    return undefined;
  }

  /**
   * Raises the far-behind alert once for everything stamped since this judge was made (one batch),
   * then resolves it when the newest op stamped was not behind: the register's clock is right
   * again, and a later episode is a new alert (an episode inside one batch leaves a resolved one).
   */
  async settleClockAlerts(): Promise<void> {
    if (!this.#clockAlerts) return;
    const { orgId, storeId, registerId } = this.#register;
    const key = clockBehindKey(registerId);
    if (this.#behind !== undefined) {
      const b = this.#behind;
      await raiseAlert(
        this.#trx,
        orgId,
        {
          key,
          kind: 'clock_skew',
          storeId,
          registerId,
          data: { registerId, direction: 'behind', reason: b.reason, opId: b.opId, seq: b.seq, deviceHlc: b.deviceHlc, deviceTime: b.deviceTime, opsBehind: this.#behindCount, registerCreatedAt: this.#register.createdAt, serverTime: this.#now },
        },
        this.#now,
      );
    }
    if (this.#newest !== undefined && !this.#newest.behind) {
      await clearAlerts(this.#trx, orgId, [key], this.#now);
    }
  }

  /**
   * The role a staff member held at `atMs`, as `staffRoleAt` (staff/staff-roles.ts) reads it — the
   * history row with the latest `effective_from` ≤ `atMs`. One who had no role yet then (a register
   * clock a little behind, right after the person was added) is given the role they had within the
   * skew bound after it, rather than a refusal. An op stamped before the person existed at all (a
   * register whose clock is far behind, e.g. one that believes it is 2000) happened at the till all
   * the same: it is judged by the role held now — never the first role, which a clock set back on
   * purpose could use to regain a role since taken.
   */
  async roleAt(staffId: string, atMs: number): Promise<Role | undefined> {
    let history = this.#roleHistory.get(staffId);
    if (history === undefined) {
      history = this.#trx
        .selectFrom('staff_role_history')
        .select(['role', 'effective_from as from'])
        .where('org_id', '=', this.#register.orgId)
        .where('staff_id', '=', staffId)
        .orderBy('effective_from')
        .execute();
      this.#roleHistory.set(staffId, history);
    }
    const rows = await history;
    const at = (t: number) => rows.findLast((r) => r.from <= t)?.role;
    const first = rows[0];
    if (first !== undefined && atMs + this.#maxDriftMs < first.from) return at(this.#now);
    return at(atMs) ?? at(atMs + this.#maxDriftMs);
  }

  /** The register's store's limits in force at `atMs` (`store-limits.ts`). */
  async limitsAt(atMs: number): Promise<StoreLimits> {
    this.#limits ??= loadStoreLimits(this.#trx, this.#register.orgId, this.#register.storeId);
    return storeLimitsAt(await this.#limits, atMs);
  }

  /**
   * Checks every permission a stamped op needs against the roles and limits in force at its applied
   * HLC's wall time. `approver` (quarantine retry) is counted as the op's `approvedBy`, with the
   * approving user's role. Returns the first denial, or undefined when the op may apply.
   */
  async permissions(op: Op, approver?: NowApprover): Promise<PermissionDenial | undefined> {
    const at = decodeHlc(op.hlc).wallMs;
    const judged: Op = approver === undefined ? op : ({ ...op, approvedBy: approver.userId } as Op);
    return checkOpPermissions(judged, await this.limitsAt(at), async (staffId) =>
      approver !== undefined && staffId === approver.userId ? approver.role : this.roleAt(staffId, at),
    );
  }
}

/** The quarantine message of a permission denial. */
export function denialMessage(denial: PermissionDenial): string {
  return `${denial.staffId} (${denial.role ?? 'unknown'}) may not ${denial.action} (${denial.what}): ${denial.reason}`;
}
