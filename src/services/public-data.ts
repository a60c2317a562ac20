import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database, IncidentRow, ModeChangeRow, OverrideRow, UpdateRow } from '../db/schema.ts';
import * as q from '../db/queries/incidents.ts';
import * as m from '../db/queries/modes.ts';
import { loadCatalog, pageIdOf } from '../db/queries/environments.ts';
import { withCatalog, type Catalog } from '../domain/components.ts';
import { isActive, segmentsAreFinal, segmentsOfPoints, statusSegments, type StatusSegment, type TimelineEntry } from '../domain/timeline.ts';
import { dailyBars, rangeUptime, type DayBar } from '../domain/uptime.ts';
import { worstStatus, type Kind, type Status } from '../domain/vocabulary.ts';
import { platformModes, type RoleMode } from './modes.ts';
import { groupByIncident, incidentView, incidentViewOf, toEntry, updateView, type IncidentView, type StatusView, type UpdateView } from './read-model.ts';
import { byCodePoint } from '../domain/order.ts';

export const BAR_DAYS = 90;
/** Items per feed: enough for a long outage, small enough to poll every few minutes. */
export const FEED_ITEMS = 50;
/** Closed incidents on the front page. */
export const RECENT_ITEMS = 5;
const DAY = 86_400_000;
/** More changed incidents than this since the last build (a bulk import): read everything again. */
const MAX_CHANGED = 200;

export interface EnvironmentBars {
  readonly slug: string;
  readonly name: string;
  /** The first day counted (YYYY-MM-DD), or null. */
  readonly start_date: string | null;
  /** Percent of the 90 days not red. */
  readonly uptime: number;
  readonly days: readonly DayBar[];
}

/** Everything the public pages show that does not depend on the request: the snapshot's data. */
export interface PublicData {
  /** Every component and group, retired ones included, as this build read them. */
  readonly catalog: Catalog;
  /** The Statuspage API's page id (made once, by migration 0010). */
  readonly pageId: string;
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
 * row and timeline (as entries, and as the update views its page shows): its state durations and
 * stretches grow with `now`, so they are derived again at every build (there are few). A closed
 * one keeps only its stretches, which no longer change.
 */
type Held =
  | { readonly open: true; readonly row: IncidentRow; readonly entries: readonly TimelineEntry[]; readonly updates: readonly UpdateView[] }
  | { readonly open: false; readonly kind: Kind; readonly resolvedAt: number; readonly segments: readonly StatusSegment[] };

/** What the public data lists of incidents besides the window: read again only when an incident changed. */
interface Listed {
  /** The newest closed incidents, and their views (closed: they no longer depend on `now`). */
  readonly recent: readonly IncidentView[];
  readonly last: Date | null;
  readonly feed: readonly q.FeedRow[];
}

/** What one build leaves for the next. Never changed once made: a build makes a new one. */
interface Kept {
  /** From `changesSince`, asked before anything here was read: the next build asks with it. */
  readonly xmin: string;
  /** The components the kept views were made with: when they change, the next build is a full one. */
  readonly catalogKey: string;
  readonly windowStart: number;
  /** Every open incident, and every closed one whose end is in the window. */
  readonly held: ReadonlyMap<number, Held>;
  readonly listed: Listed;
}

/** What a build did: read everything, or only `read` incidents (changed, or new in the recent list). */
export interface BuildStats {
  readonly kind: 'full' | 'incremental';
  readonly read: number;
  /** Incidents kept for the bars afterwards: the open ones, and the closed ones that ended in the window. */
  readonly held: number;
}

interface Built {
  readonly kept: Kept;
  readonly data: PublicData;
  readonly stats: BuildStats;
}

/** Same order as the SQL of openIncidents, so the status lists read the same whichever way they were built. */
const newestFirst = (a: Held & { open: true }, b: Held & { open: true }) => b.row.started_at.getTime() - a.row.started_at.getTime() || b.row.id - a.row.id;

function held(row: IncidentRow, updates: readonly UpdateRow[], now: Date): Held {
  const entries = updates.map(toEntry);
  if (row.resolved_at === null) return { open: true, row, entries, updates: updates.map(updateView).reverse() };
  return { open: false, kind: row.kind, resolvedAt: row.resolved_at.getTime(), segments: statusSegments(row.kind, entries, now) };
}

/**
 * Builds the public data, and after the first build only what changed since the one before.
 *
 * The costly part of a build is the 90-day bars: the timelines of every incident whose end falls
 * in the window (a thousand incidents, ten thousand updates, on a busy platform). The builder
 * keeps each closed incident's stretches and each open incident's timeline, and every build first
 * asks the database which incidents changed since the previous one (`changesSince`: a
 * transaction id mark, kept by triggers, so a write on another instance counts the same as one
 * here, and a notification without payload is enough). Only those are read again, with the
 * lists that any incident change may move (recent incidents, last change, feed). Overrides and
 * mode changes, two small reads, are read every time. Incidents whose end left the window as the
 * days went by are let go. The bars are summed again from the kept stretches at every build
 * (well under a millisecond), and open incidents' views and stretches are derived again because
 * they grow with `now`.
 *
 * A build that fails leaves what the previous one kept, so the next one covers both. Builds may
 * overlap (the snapshot gives up on one that hangs and starts another): what a build keeps is
 * taken only if nothing newer was kept meanwhile. A clock that goes back, more changed incidents
 * than `maxChanged` (a bulk import), a transaction id lower than the last mark (another
 * database), or a `reset` makes a full build.
 */
export class PublicDataBuilder {
  readonly #db: Kysely<Database>;
  readonly #config: Config;
  readonly #maxChanged: number;
  #kept: Kept | undefined;
  /** Counts resets: a build keeps what it read only if none happened while it ran. */
  #generation = 0;
  #last: BuildStats | undefined;
  #stored: Promise<void> = Promise.resolve();
  #storing = false;

  constructor(db: Kysely<Database>, config: Config, options: { readonly maxChanged?: number } = {}) {
    this.#db = db;
    this.#config = config;
    this.#maxChanged = options.maxChanged ?? MAX_CHANGED;
  }

  /** What the last build that finished did (for tests and the benchmark). */
  get lastBuild(): BuildStats | undefined {
    return this.#last;
  }

  /**
   * Forgets what earlier builds kept, and what builds running now will keep: the next build
   * reads everything. For when changes may have happened out of sight of the marks (the
   * notification connection was lost: a failover, a restore may lie behind it).
   */
  reset(): void {
    this.#kept = undefined;
    this.#generation++;
  }

  async build(now: Date): Promise<PublicData> {
    const before = this.#kept;
    const generation = this.#generation;
    const start = windowStart(now);
    const { kept, data, stats } = before && start >= before.windowStart ? await this.#incremental(before, now, start) : await this.#full(now, start);
    if (this.#kept === before && this.#generation === generation) this.#kept = kept;
    this.#last = stats;
    return data;
  }

  #modes() {
    return Promise.all([m.activeOverrides(this.#db), m.latestModeChanges(this.#db, this.#config.roles)]);
  }

  /** The last write of stretches a full build computed (for tests and the benchmark); it never fails. */
  get stored(): Promise<void> {
    return this.#stored;
  }

  /**
   * Keeps the stretches a full build computed, so the next full build (a restart, another
   * instance, a reset) reads them instead of the updates. Not awaited by the build: the page does
   * not wait for a cache write, and a failed one (the database went away meanwhile) costs only
   * the next full build's time. While one write is still running, another is not started (a
   * database that hangs on writes would queue them): a later full build computes them again.
   */
  #store(computed: readonly [number, string, q.StoredStretch[]][]): void {
    if (computed.length === 0 || this.#storing) return;
    this.#storing = true;
    this.#stored = q.storeStretches(this.#db, computed).then(
      () => void (this.#storing = false),
      () => void (this.#storing = false),
    );
  }

  /** The components and the page id: small reads, made at every build. */
  async #components(): Promise<{ catalog: Catalog; pageId: string; key: string }> {
    const [catalog, pageId] = await Promise.all([loadCatalog(this.#db), pageIdOf(this.#db)]);
    return { catalog, pageId, key: catalogKey(catalog) };
  }

  async #full(now: Date, start: number): Promise<Built> {
    const db = this.#db;
    // The mark first: whatever is read after it is at least as new.
    const { xmin } = await q.changesSince(db, null);
    // The window's timelines are the one large read: on a connection of their own, and turned
    // into stretches as soon as they arrive, while the small reads follow one another on a
    // second connection (a cold pool opens two connections, not eight).
    const window = q.closedTimelinesSince(db, new Date(start)).then((closed) => {
      const computed: [number, string, q.StoredStretch[]][] = [];
      const entries = closed.map((c): [number, Held] => {
        let segments: StatusSegment[];
        if (c.stretches) {
          segments = c.stretches.map(([environment, status, from, to]) => ({ environment, status, from, to }));
        } else {
          const points = c.timeline ?? [];
          segments = segmentsOfPoints(c.kind, points, now);
          if (c.mark !== null && segmentsAreFinal(c.kind, points)) computed.push([c.id, c.mark, segments.map((s) => [s.environment, s.status, s.from, s.to])]);
        }
        return [c.id, { open: false, kind: c.kind, resolvedAt: c.resolved_at.getTime(), segments }];
      });
      this.#store(computed);
      return entries;
    });
    const small = (async () => {
      const components = await this.#components();
      const openRows = await q.openIncidents(db);
      const recentRows = await q.listIncidents(db, { limit: RECENT_ITEMS, state: 'closed', kind: 'incident' });
      const updates = groupByIncident(await q.visibleUpdatesOf(db, [...new Set([...openRows, ...recentRows].map((r) => r.id))]));
      const last = await q.lastChange(db);
      const feed = await q.latestUpdates(db, FEED_ITEMS);
      const [overrides, latestChanges] = [await m.activeOverrides(db), await m.latestModeChanges(db, this.#config.roles)];
      return { components, openRows, recentRows, updates, last, feed, overrides, latestChanges };
    })();
    // A failure of either fails the build (Promise.all observes both, so neither goes unhandled).
    const [closed, { components, openRows, recentRows, updates, last, feed, overrides, latestChanges }] = await Promise.all([window, small]);
    const config = withCatalog(this.#config, components.catalog);
    const heldNow = new Map<number, Held>(closed);
    for (const row of openRows) heldNow.set(row.id, held(row, updates.get(row.id) ?? [], now));
    const listed: Listed = { recent: recentRows.map((row) => incidentView(config, row, updates.get(row.id) ?? [], now)), last, feed };
    const kept: Kept = { xmin, catalogKey: components.key, windowStart: start, held: heldNow, listed };
    return { kept, data: this.#assemble(kept, components, overrides, latestChanges, now), stats: { kind: 'full', read: heldNow.size + recentRows.length, held: heldNow.size } };
  }

  async #incremental(before: Kept, now: Date, start: number): Promise<Built> {
    const db = this.#db;
    const [changes, [overrides, latestChanges], components] = await Promise.all([q.changesSince(db, before.xmin), this.#modes(), this.#components()]);
    // A mark lower than the last one: another database (restored from a dump) answers now.
    // Components that changed (added, renamed, retired, reordered) change every incident's view.
    if (changes.ids.length > this.#maxChanged || BigInt(changes.xmin) < BigInt(before.xmin) || components.key !== before.catalogKey) return this.#full(now, start);
    const config = withCatalog(this.#config, components.catalog);
    const heldNow = new Map(before.held);
    // The window moved on (midnight): incidents that ended before its first day leave the bars.
    if (start > before.windowStart) for (const [id, h] of heldNow) if (!h.open && h.resolvedAt < start) heldNow.delete(id);
    let listed = before.listed;
    let read = 0;
    if (changes.ids.length > 0) {
      // Read after the mark, like everything this build keeps.
      const changed = new Set(changes.ids);
      const [rows, updateRows, recentRows, last, feed] = await Promise.all([
        q.incidentsByIds(db, changes.ids),
        q.visibleUpdatesOf(db, changes.ids),
        q.listIncidents(db, { limit: RECENT_ITEMS, state: 'closed', kind: 'incident' }),
        q.lastChange(db),
        q.latestUpdates(db, FEED_ITEMS),
      ]);
      const updates = groupByIncident(updateRows);
      for (const id of changed) heldNow.delete(id);
      for (const row of rows) if (row.resolved_at === null || row.resolved_at.getTime() >= start) heldNow.set(row.id, held(row, updates.get(row.id) ?? [], now));
      // An unchanged incident new to the recent list (one before it reopened) is read too.
      const known = new Map(before.listed.recent.map((v) => [v.id, v]));
      const entering = recentRows.filter((r) => !changed.has(r.id) && !known.has(r.id)).map((r) => r.id);
      if (entering.length) for (const [id, list] of groupByIncident(await q.visibleUpdatesOf(db, entering))) updates.set(id, list);
      const recent = recentRows.map((row) => (changed.has(row.id) || !known.has(row.id) ? incidentView(config, row, updates.get(row.id) ?? [], now) : known.get(row.id)!));
      listed = { recent, last, feed };
      read = changed.size + entering.length;
    }
    const kept: Kept = { xmin: changes.xmin, catalogKey: components.key, windowStart: start, held: heldNow, listed };
    return { kept, data: this.#assemble(kept, components, overrides, latestChanges, now), stats: { kind: 'incremental', read, held: heldNow.size } };
  }

  /** The public data from what is kept, as of `now`. */
  #assemble(kept: Kept, components: { catalog: Catalog; pageId: string }, overrides: readonly OverrideRow[], latestChanges: readonly ModeChangeRow[], now: Date): PublicData {
    const config = withCatalog(this.#config, components.catalog);
    const starts = new Map(components.catalog.components.map((c) => [c.slug, c.start_date]));
    const opened: (Held & { open: true })[] = [];
    const segments: StatusSegment[] = [];
    for (const h of kept.held.values()) {
      if (h.open) {
        opened.push(h);
        for (const s of statusSegments(h.row.kind, h.entries, now)) segments.push(s);
      } else {
        for (const s of h.segments) segments.push(s);
      }
    }
    const open = opened.sort(newestFirst).map((h) => incidentViewOf(config, h.row, h.entries, h.updates, now));
    const active = open.filter((v) => isActive(v.kind, v.state));
    const { recent, last, feed } = kept.listed;
    const status: StatusView = {
      environments: config.environments.map((e) => ({ slug: e.slug, name: e.name, status: worstStatus(active.map((v) => v.statuses[e.slug] ?? 'green')) })),
      incidents: active,
      scheduled: open.filter((v) => v.kind === 'maintenance' && v.state === 'scheduled').sort((a, b) => byCodePoint(a.scheduled_for ?? a.started_at, b.scheduled_for ?? b.started_at)),
      updated_at: (last ?? now).toISOString(),
    };
    return {
      catalog: components.catalog,
      pageId: components.pageId,
      status,
      platform: platformModes(config, open, overrides, latestChanges),
      bars: config.environments.map((e) => {
        const startDate = starts.get(e.slug) ?? null;
        const days = dailyBars(segments, e.slug, now, BAR_DAYS, startDate);
        return { slug: e.slug, name: e.name, start_date: startDate, uptime: rangeUptime(days, now), days };
      }),
      recent,
      lastChange: last?.toISOString() ?? null,
      feed,
    };
  }
}

/** What of the components the views depend on: a change of any of it makes the next build a full one. */
function catalogKey(catalog: Catalog): string {
  return JSON.stringify([catalog.components.map((c) => [c.slug, c.name, c.group, c.position, c.retired_at?.getTime() ?? null]), catalog.groups.map((g) => [g.slug, g.position, g.retired_at?.getTime() ?? null])]);
}


/** A full build: every query, nothing kept. */
export function buildPublicData(db: Kysely<Database>, config: Config, now: Date): Promise<PublicData> {
  return new PublicDataBuilder(db, config).build(now);
}
