import { formatDuration } from './duration.ts';
import type { Kind, Mode, State, Status } from './vocabulary.ts';

/** One update as the timeline rules see it. Hidden updates are left out by the caller. */
export interface TimelineEntry {
  readonly id: number;
  readonly at: Date;
  readonly state: State;
  readonly statuses: Readonly<Record<string, Status>>;
  readonly modes: Readonly<Record<string, Mode>>;
}

/** Seconds spent in each non-green status / each restrictive mode. */
export type StatusSeconds = Readonly<Record<Exclude<Status, 'green'>, number>>;
export type ModeSeconds = Readonly<Record<Exclude<Mode, 'full'>, number>>;

export interface Replay {
  readonly state: State;
  readonly open: boolean;
  readonly startedAt: Date;
  /** The `at` of the update that closed it; null while open. */
  readonly resolvedAt: Date | null;
  readonly lastUpdateAt: Date;
  /** What the incident says now, for every environment / role it has named (closed → green/full). */
  readonly statuses: Readonly<Record<string, Status>>;
  readonly modes: Readonly<Record<string, Mode>>;
  readonly environments: Readonly<Record<string, StatusSeconds>>;
  readonly roles: Readonly<Record<string, ModeSeconds>>;
}

/** States in which an event stops counting and its statuses and modes are withdrawn. */
const CLOSING = new Set(['resolved', 'completed', 'cancelled']);

/**
 * States in which an event's statuses and modes are in force: every open incident state, and a
 * maintenance only while it runs (a scheduled maintenance declares ahead what it will do).
 */
export function isActive(kind: Kind, state: State): boolean {
  return kind === 'incident' ? state !== 'resolved' : state === 'in_progress' || state === 'verifying';
}

export function isClosing(state: State): boolean {
  return CLOSING.has(state);
}

/** Timeline order: by `at`, then by insertion (id) for updates given the same time. */
export function byTime(a: TimelineEntry, b: TimelineEntry): number {
  return a.at.getTime() - b.at.getTime() || a.id - b.id;
}

/** The entries in timeline order: as given when they already are (as queries return them), else a sorted copy. */
function inTimelineOrder(entries: readonly TimelineEntry[]): readonly TimelineEntry[] {
  for (let i = 1; i < entries.length; i++) if (byTime(entries[i - 1]!, entries[i]!) > 0) return [...entries].sort(byTime);
  return entries;
}

const MAINTENANCE_NEXT: Record<string, readonly string[]> = {
  scheduled: ['scheduled', 'in_progress', 'cancelled'],
  in_progress: ['in_progress', 'verifying', 'completed', 'cancelled'],
  verifying: ['verifying', 'in_progress', 'completed', 'cancelled'],
  completed: [],
  cancelled: [],
};

/**
 * Problems with the order of states once the timeline is sorted by `at` (a backdated update
 * is checked where it lands, not where it was inserted). Incidents move freely between their
 * states and may reopen; maintenance goes scheduled → in_progress ⇄ verifying → completed, may
 * be cancelled until it completes, and takes no update after completing or being cancelled.
 */
export function stateProblems(kind: Kind, entries: readonly TimelineEntry[]): string[] {
  if (kind === 'incident') return [];
  const sorted = [...entries].sort(byTime);
  const problems: string[] = [];
  const first = sorted[0];
  if (first && first.state !== 'scheduled' && first.state !== 'in_progress') {
    problems.push(`a maintenance starts as scheduled or in_progress, not ${first.state}`);
  }
  for (let i = 1; i < sorted.length; i++) {
    const from = sorted[i - 1]!.state;
    const to = sorted[i]!.state;
    if (!(MAINTENANCE_NEXT[from] ?? []).includes(to)) {
      problems.push(
        MAINTENANCE_NEXT[from]?.length === 0
          ? `a maintenance takes no update after it is ${from} (update at ${sorted[i]!.at.toISOString()})`
          : `a maintenance cannot go from ${from} to ${to} (update at ${sorted[i]!.at.toISOString()})`,
      );
    }
  }
  return problems;
}

function addTo<K extends string>(bucket: Record<string, Record<K, number>>, key: string, value: K, ms: number, zero: () => Record<K, number>) {
  const b = (bucket[key] ??= zero());
  b[value] += ms;
}

const zeroStatuses = () => ({ yellow: 0, orange: 0, red: 0, blue: 0 });
const zeroModes = () => ({ read_only: 0, maintenance: 0 });

/**
 * Replays an event's updates in time order and derives everything the timeline implies: its
 * state now, when it started and closed, what it says of each environment and role now, and how
 * long each environment spent yellow / orange / red / blue and each role read_only / maintenance.
 *
 * Rules: an update changes only the environments and roles it names; the others keep what the
 * previous update said (green / full before any). Time counts from each update to the next while
 * the event is active, and up to `now` while it is still open. Closing (resolved, completed,
 * cancelled) withdraws every status and mode, so a reopened incident starts again from green /
 * full unless its reopening update says otherwise.
 */
export function replay(kind: Kind, entries: readonly TimelineEntry[], now: Date): Replay {
  const sorted = inTimelineOrder(entries);
  const first = sorted[0];
  if (!first) throw new Error('an event has at least one update');
  const statusTime: Record<string, Record<Exclude<Status, 'green'>, number>> = {};
  const modeTime: Record<string, Record<'read_only' | 'maintenance', number>> = {};
  let statuses: Record<string, Status> = {};
  let modes: Record<string, Mode> = {};
  let state = first.state;
  let resolvedAt: Date | null = null;

  for (let i = 0; i < sorted.length; i++) {
    const u = sorted[i]!;
    state = u.state;
    statuses = { ...statuses, ...u.statuses };
    modes = { ...modes, ...u.modes };
    if (isClosing(state)) {
      statuses = Object.fromEntries(Object.keys(statuses).map((k) => [k, 'green' as const]));
      modes = Object.fromEntries(Object.keys(modes).map((k) => [k, 'full' as const]));
      resolvedAt ??= u.at;
    } else {
      resolvedAt = null;
    }
    const next = sorted[i + 1];
    const end = next ? next.at.getTime() : Math.max(now.getTime(), u.at.getTime());
    const ms = end - u.at.getTime();
    if (ms <= 0 || !isActive(kind, state)) continue;
    for (const [env, s] of Object.entries(statuses)) if (s !== 'green') addTo(statusTime, env, s, ms, zeroStatuses);
    for (const [role, m] of Object.entries(modes)) if (m !== 'full') addTo(modeTime, role, m, ms, zeroModes);
  }

  const last = sorted[sorted.length - 1]!;
  const active = isActive(kind, state);
  return {
    state,
    open: !isClosing(state),
    startedAt: first.at,
    resolvedAt: isClosing(state) ? resolvedAt : null,
    lastUpdateAt: last.at,
    statuses: active ? statuses : Object.fromEntries(Object.keys(statuses).map((k) => [k, 'green' as const])),
    modes: active ? modes : Object.fromEntries(Object.keys(modes).map((k) => [k, 'full' as const])),
    environments: statusTime,
    roles: modeTime,
  };
}

export interface ScopeOfImpact {
  readonly environments: readonly {
    readonly environment: string;
    readonly impaired_seconds: number;
    readonly impaired: string;
    readonly yellow_seconds: number;
    readonly orange_seconds: number;
    readonly red_seconds: number;
    readonly blue_seconds: number;
  }[];
  readonly roles: readonly {
    readonly role: string;
    readonly read_only_seconds: number;
    readonly maintenance_seconds: number;
    readonly read_only: string;
    readonly maintenance: string;
  }[];
}

const sec = (ms: number) => Math.floor(ms / 1000);

/**
 * The scope of impact in the configured order: every environment and role, including those the
 * incident never touched (zero), so a reader sees at a glance what was spared.
 */
export function scopeOfImpact(r: Replay, environments: readonly string[], roles: readonly string[]): ScopeOfImpact {
  return {
    environments: environments.map((environment) => {
      const t = r.environments[environment] ?? zeroStatuses();
      const impaired = t.yellow + t.orange + t.red + t.blue;
      return {
        environment,
        impaired_seconds: sec(impaired),
        impaired: formatDuration(impaired),
        yellow_seconds: sec(t.yellow),
        orange_seconds: sec(t.orange),
        red_seconds: sec(t.red),
        blue_seconds: sec(t.blue),
      };
    }),
    roles: roles.map((role) => {
      const t = r.roles[role] ?? zeroModes();
      return {
        role,
        read_only_seconds: sec(t.read_only),
        maintenance_seconds: sec(t.maintenance),
        read_only: formatDuration(t.read_only),
        maintenance: formatDuration(t.maintenance),
      };
    }),
  };
}

function hasAny(record: object): boolean {
  for (const _ in record) return true;
  return false;
}

/** A stretch of time during which an event held one environment at one non-green status. */
export interface StatusSegment {
  readonly environment: string;
  readonly status: Exclude<Status, 'green'>;
  readonly from: number;
  readonly to: number;
}

/**
 * The non-green stretches an event's timeline implies, per environment, with the same rules as
 * `replay` (what the 90-day bars and per-day uptime are built from).
 */
export function statusSegments(kind: Kind, entries: readonly TimelineEntry[], now: Date): StatusSegment[] {
  return segmentsOfPoints(kind, inTimelineOrder(entries).map((e): TimelinePoint => [e.at.getTime(), e.id, e.state, e.statuses]), now);
}

/**
 * One update as the 90-day bars need it: [at (ms since the epoch), id, state, statuses]. The
 * window's thousands of closed updates are read in this form (closedTimelinesSince) and never
 * become TimelineEntry objects.
 */
export type TimelinePoint = readonly [at: number, id: number, state: State, statuses: Readonly<Record<string, Status>>];

/**
 * Whether the stretches of these points (in timeline order) are final: only a last update that
 * is still active stretches to `now`. Always true of an incident closed by its timeline.
 */
export function segmentsAreFinal(kind: Kind, points: readonly TimelinePoint[]): boolean {
  const last = points[points.length - 1];
  return last === undefined || !isActive(kind, last[2]);
}

/** `statusSegments` for points already in timeline order (`at`, then id). */
export function segmentsOfPoints(kind: Kind, points: readonly TimelinePoint[], now: Date): StatusSegment[] {
  const out: { environment: string; status: Exclude<Status, 'green'>; from: number; to: number }[] = [];
  const latest = new Map<string, number>(); // environment → index in `out` of its latest stretch
  let statuses: Readonly<Record<string, Status>> = {};
  let impaired: [string, Exclude<Status, 'green'>][] = []; // the non-green ones of `statuses`
  for (let i = 0; i < points.length; i++) {
    const [from, , state, named] = points[i]!;
    // most updates name no environment: they keep what the previous one said
    const after = isClosing(state) ? {} : hasAny(named) ? { ...statuses, ...named } : statuses;
    if (after !== statuses) {
      statuses = after;
      impaired = Object.entries(statuses).filter((e): e is [string, Exclude<Status, 'green'>] => e[1] !== 'green');
    }
    if (impaired.length === 0 || !isActive(kind, state)) continue;
    const next = points[i + 1];
    const to = next ? next[0] : Math.max(now.getTime(), from);
    if (to <= from) continue;
    for (const [environment, status] of impaired) {
      const index = latest.get(environment);
      const prev = index === undefined ? undefined : out[index];
      if (prev && prev.to === from && prev.status === status) {
        prev.to = to; // nothing changed for this environment: extend the stretch
      } else {
        latest.set(environment, out.length);
        out.push({ environment, status, from, to });
      }
    }
  }
  return out;
}
