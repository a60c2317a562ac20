import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database, IncidentRow, ModeChangeRow, OverrideRow, UpdateRow } from '../db/schema.ts';
import * as q from '../db/queries/incidents.ts';
import * as m from '../db/queries/modes.ts';
import { isActive, statusSegments, type StatusSegment, type TimelineEntry } from '../domain/timeline.ts';
import { dailyBars, rangeUptime, type DayBar } from '../domain/uptime.ts';
import { worstStatus, type Kind, type Status } from '../domain/vocabulary.ts';
import { platformModes, type RoleMode } from './modes.ts';
import { groupByIncident, incidentView, toEntry, type IncidentView, type StatusView } from './read-model.ts';

export const BAR_DAYS = 90;
/** Items per feed: enough for a long outage, small enough to poll every few minutes. */
export const FEED_ITEMS = 50;
/** Closed incidents on the front page. */
export const RECENT_ITEMS = 5;
const DAY = 86_400_000;
/** More changed incidents than this since the last build (a bulk import): read everything again. */
const MAX_CHANGED = 500;

export interface EnvironmentBars {
  readonly slug: string;
  readonly name: string;
  /** Percent of the 90 days not red. */
  readonly uptime: number;
  readonly days: readonly DayBar[];
}

/** Everything the public pages show that does not depend on the request: the snapshot's data. */
export interface PublicData {
  readonly status: StatusView;
  /** Each role's effective mode, since when, why, until when. */
  readonly platform: readonly RoleMode[];
  readonly bars: readonly EnvironmentBars[];
  /** The last closed incidents, newest first. */
  readonly recent: readonly IncidentView[];
  /** When data last changed (the newest update or edit), or null on an empty database. */
  readonly lastChange: string | null;
  /** The newest visible updates of every incident and maintenance: the feeds' items. */
  readonly feed: readonly q.FeedRow[];
}

/** The first day of the bars (UTC midnight, 89 days before today's). */
export function windowStart(now: Date): number {
  return Math.floor(now.getTime() / DAY) * DAY - (BAR_DAYS - 1) * DAY;
}

/**
 * An incident of the bars' window as the builder keeps it between builds. An open one keeps its
 * row and timeline: its view and its stretches grow with `now`, so they are derived again at
 * every build (there are few). A closed one keeps only its stretches, which no longer change.
 */
type Held =
  | { readonly open: true; readonly row: IncidentRow; readonly updates: readonly UpdateRow[] }
  | { readonly open: false; readonly kind: Kind; readonly resolvedAt: number; readonly segments: readonly StatusSegment[] };

/** What one build leaves for the next. Never changed once made: a build makes a new one. */
interface Kept {
  /** From `changesSince`, asked before anything here was read: the next build asks with it. */
  readonly xmin: string;
  readonly windowStart: number;
  /** Every open incident, and every closed one whose end is in the window. */
  readonly held: ReadonlyMap<number, Held>;
  /** Views of the recent (closed) incidents: they no longer depend on `now`. */
  readonly recent: ReadonlyMap<number, IncidentView>;
}

/** What a build did: read everything, or only `read` incidents (changed, or new in the recent list). */
export interface BuildStats {
  readonly kind: 'full' | 'incremental';
  readonly read: number;
  /** Incidents kept for the bars afterwards: the open ones, and the closed ones that ended in the window. */
  readonly held: number;
}

/** What the queries that run at every build (cheap, whatever the history) return. */
interface EveryBuild {
  readonly recentRows: readonly IncidentRow[];
  readonly last: Date | null;
  readonly overrides: readonly OverrideRow[];
  readonly latestChanges: readonly ModeChangeRow[];
  readonly feed: readonly q.FeedRow[];
}

interface Built {
  readonly kept: Kept;
  readonly data: PublicData;
  readonly stats: BuildStats;
}

/** Same order as the SQL of openIncidents, so the status lists read the same whichever way they were built. */
const newestFirst = (a: IncidentRow, b: IncidentRow) => b.started_at.getTime() - a.started_at.getTime() || b.id - a.id;

const timelineEntry = ([at, id, state, statuses]: q.TimelinePoint): TimelineEntry => ({ id, at: new Date(at), state, statuses: statuses as Record<string, Status>, modes: {} });

function held(row: IncidentRow, updates: readonly UpdateRow[], now: Date): Held {
  if (row.resolved_at === null) return { open: true, row, updates };
  return { open: false, kind: row.kind, resolvedAt: row.resolved_at.getTime(), segments: statusSegments(row.kind, updates.map(toEntry), now) };
}

/**
 * Builds the public data, and after the first build only what changed since the one before.
 *
 * The costly part of a build is the 90-day bars: the timelines of every incident whose end falls
 * in the window (a thousand incidents, ten thousand updates, on a busy platform). The builder
 * keeps each closed incident's stretches and each open incident's timeline, and every build asks
 * the database which incidents changed since the previous one (`changesSince`: a transaction id
 * mark, kept by triggers, so a write on another instance counts the same as one here, and a
 * notification without payload is enough). Only those are read again. Incidents whose end left
 * the window as the days went by are dropped. The bars themselves are summed again from the kept
 * stretches at every build (well under a millisecond), and today's bar and open incidents' views
 * are derived again because they grow with `now`. The cheap queries (recent incidents, last
 * change, overrides, mode changes, feed) run every time.
 *
 * A build that fails leaves what the previous one kept, so the next one covers both. Builds may
 * overlap (the snapshot gives up on one that hangs and starts another): what a build keeps is
 * taken only if nothing newer was kept meanwhile. A clock that goes back makes a full build.
 */
export class PublicDataBuilder {
  readonly #db: Kysely<Database>;
  readonly #config: Config;
  #kept: Kept | undefined;
  #last: BuildStats | undefined;

  constructor(db: Kysely<Database>, config: Config) {
    this.#db = db;
    this.#config = config;
  }

  /** What the last build that finished did (for tests and the benchmark). */
  get lastBuild(): BuildStats | undefined {
    return this.#last;
  }

  /** Forgets what earlier builds kept: the next build reads everything. */
  reset(): void {
    this.#kept = undefined;
  }

  async build(now: Date): Promise<PublicData> {
    const before = this.#kept;
    const start = windowStart(now);
    const { kept, data, stats } = before && start >= before.windowStart ? await this.#incremental(before, now, start) : await this.#full(now, start);
    if (this.#kept === before) this.#kept = kept;
    this.#last = stats;
    return data;
  }

  #everyBuild(): Promise<EveryBuild> {
    const db = this.#db;
    return Promise.all([
      q.listIncidents(db, { limit: RECENT_ITEMS, state: 'closed', kind: 'incident' }),
      q.lastChange(db),
      m.activeOverrides(db),
      m.latestModeChanges(db, this.#config.roles),
      q.latestUpdates(db, FEED_ITEMS),
    ]).then(([recentRows, last, overrides, latestChanges, feed]) => ({ recentRows, last, overrides, latestChanges, feed }));
  }

  async #full(now: Date, start: number): Promise<Built> {
    const db = this.#db;
    // The mark first: whatever is read after it is at least as new.
    const { xmin } = await q.changesSince(db, null);
    const [openRows, closed, every] = await Promise.all([q.openIncidents(db), q.closedTimelinesSince(db, new Date(start)), this.#everyBuild()]);
    const updates = groupByIncident(await q.visibleUpdatesOf(db, [...new Set([...openRows, ...every.recentRows].map((r) => r.id))]));
    const heldNow = new Map<number, Held>();
    for (const row of openRows) heldNow.set(row.id, held(row, updates.get(row.id) ?? [], now));
    for (const c of closed) {
      heldNow.set(c.id, { open: false, kind: c.kind, resolvedAt: c.resolved_at.getTime(), segments: statusSegments(c.kind, c.timeline.map(timelineEntry), now) });
    }
    const recent = new Map(every.recentRows.map((row) => [row.id, incidentView(this.#config, row, updates.get(row.id) ?? [], now)]));
    const kept: Kept = { xmin, windowStart: start, held: heldNow, recent };
    return { kept, data: this.#assemble(kept, every, now), stats: { kind: 'full', read: heldNow.size + recent.size, held: heldNow.size } };
  }

  async #incremental(before: Kept, now: Date, start: number): Promise<Built> {
    const db = this.#db;
    const [changes, every] = await Promise.all([q.changesSince(db, before.xmin), this.#everyBuild()]);
    if (changes.ids.length > MAX_CHANGED) return this.#full(now, start);
    const changed = new Set(changes.ids);
    const recentToRead = every.recentRows.filter((r) => changed.has(r.id) || !before.recent.has(r.id)).map((r) => r.id);
    const toRead = [...new Set([...changed, ...recentToRead])];
    const [rows, updateRows] = toRead.length ? await Promise.all([q.incidentsByIds(db, [...changed]), q.visibleUpdatesOf(db, toRead)]) : [[], []];
    const updates = groupByIncident(updateRows);
    const fresh = new Map(rows.map((r) => [r.id, r]));

    const heldNow = new Map(before.held);
    for (const id of changed) {
      const row = fresh.get(id);
      heldNow.delete(id);
      if (row && (row.resolved_at === null || row.resolved_at.getTime() >= start)) heldNow.set(id, held(row, updates.get(id) ?? [], now));
    }
    // The window moved on (midnight): incidents that ended before its first day leave the bars.
    if (start > before.windowStart) for (const [id, h] of heldNow) if (!h.open && h.resolvedAt < start) heldNow.delete(id);

    const recent = new Map<number, IncidentView>();
    for (const listed of every.recentRows) {
      const view = changed.has(listed.id) || !before.recent.has(listed.id) ? incidentView(this.#config, fresh.get(listed.id) ?? listed, updates.get(listed.id) ?? [], now) : before.recent.get(listed.id)!;
      recent.set(listed.id, view);
    }
    const kept: Kept = { xmin: changes.xmin, windowStart: start, held: heldNow, recent };
    return { kept, data: this.#assemble(kept, every, now), stats: { kind: 'incremental', read: toRead.length, held: heldNow.size } };
  }

  /** The public data from what is kept and what every build reads. */
  #assemble(kept: Kept, every: EveryBuild, now: Date): PublicData {
    const config = this.#config;
    const openRows: { row: IncidentRow; updates: readonly UpdateRow[] }[] = [];
    const segments: StatusSegment[] = [];
    for (const h of kept.held.values()) {
      if (h.open) {
        openRows.push(h);
        for (const s of statusSegments(h.row.kind, h.updates.map(toEntry), now)) segments.push(s);
      } else {
        for (const s of h.segments) segments.push(s);
      }
    }
    openRows.sort((a, b) => newestFirst(a.row, b.row));
    const open = openRows.map((o) => incidentView(config, o.row, o.updates, now));
    const active = open.filter((v) => isActive(v.kind, v.state));
    const status: StatusView = {
      environments: config.environments.map((e) => ({ slug: e.slug, name: e.name, status: worstStatus(active.map((v) => v.statuses[e.slug] ?? 'green')) })),
      incidents: active,
      scheduled: open.filter((v) => v.kind === 'maintenance' && v.state === 'scheduled').sort((a, b) => (a.scheduled_for ?? a.started_at).localeCompare(b.scheduled_for ?? b.started_at)),
      updated_at: (every.last ?? now).toISOString(),
    };
    return {
      status,
      platform: platformModes(config, open, every.overrides, every.latestChanges),
      bars: config.environments.map((e) => {
        const days = dailyBars(segments, e.slug, now, BAR_DAYS);
        return { slug: e.slug, name: e.name, uptime: rangeUptime(days, now), days };
      }),
      recent: every.recentRows.map((r) => kept.recent.get(r.id)!),
      lastChange: every.last?.toISOString() ?? null,
      feed: every.feed,
    };
  }
}

/** A full build: every query, nothing kept. */
export function buildPublicData(db: Kysely<Database>, config: Config, now: Date): Promise<PublicData> {
  return new PublicDataBuilder(db, config).build(now);
}
