import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database, IncidentRow, UpdateRow } from '../db/schema.ts';
import * as q from '../db/queries/incidents.ts';
import { loadCatalog } from '../db/queries/environments.ts';
import { withCatalog } from '../domain/components.ts';
import { replay, scopeOfImpact, type ScopeOfImpact } from '../domain/timeline.ts';
import type { Impact, Mode, State, Status } from '../domain/vocabulary.ts';
import type { TimelineEntry } from '../domain/timeline.ts';

type Db = Kysely<Database>;

export interface UpdateView {
  readonly id: number;
  readonly at: string;
  readonly created_at: string;
  readonly state: State;
  readonly message: string;
  readonly statuses: Readonly<Record<string, Status>>;
  readonly modes: Readonly<Record<string, Mode>>;
  readonly author: string;
}

export interface IncidentView {
  readonly id: number;
  readonly kind: 'incident' | 'maintenance';
  readonly title: string;
  /** The impact its commander set; null: derived from the worst status it declared. */
  readonly impact: Impact | null;
  readonly state: State;
  readonly open: boolean;
  readonly started_at: string;
  readonly resolved_at: string | null;
  readonly updated_at: string;
  /** Planned window of a maintenance (null for incidents). */
  readonly scheduled_for: string | null;
  readonly scheduled_until: string | null;
  readonly url: string;
  readonly href: string;
  /** What the incident says now of each environment and role (green / full once closed). */
  readonly statuses: Readonly<Record<string, Status>>;
  readonly modes: Readonly<Record<string, Mode>>;
  readonly scope_of_impact: ScopeOfImpact;
  /** Newest first. */
  readonly updates: readonly UpdateView[];
  readonly postmortem: { readonly markdown: string; readonly published_at: string } | null;
}

export interface EnvironmentStatus {
  readonly slug: string;
  readonly name: string;
  readonly status: Status;
}

export interface StatusView {
  readonly environments: readonly EnvironmentStatus[];
  /** Open incidents and running maintenance, newest first. */
  readonly incidents: readonly IncidentView[];
  /** Maintenance announced but not started, soonest first. */
  readonly scheduled: readonly IncidentView[];
  readonly updated_at: string;
}

export function toEntry(u: UpdateRow): TimelineEntry {
  return { id: u.id, at: u.at, state: u.state, statuses: u.statuses as Record<string, Status>, modes: u.modes as Record<string, Mode> };
}

export function updateView(u: UpdateRow): UpdateView {
  return {
    id: u.id,
    at: u.at.toISOString(),
    created_at: u.created_at.toISOString(),
    state: u.state,
    message: u.message,
    statuses: u.statuses as Record<string, Status>,
    modes: u.modes as Record<string, Mode>,
    author: u.author,
  };
}

/** Updates by incident id, each list in the order given. */
export function groupByIncident(updates: readonly UpdateRow[]): Map<number, UpdateRow[]> {
  const map = new Map<number, UpdateRow[]>();
  for (const u of updates) {
    const list = map.get(u.incident_id);
    if (list) list.push(u);
    else map.set(u.incident_id, [u]);
  }
  return map;
}

/** Joins incidents with their visible updates and derives what the timeline implies, as of `now`. */
export async function incidentViews(db: Db, config: Config, rows: readonly IncidentRow[], now: Date): Promise<IncidentView[]> {
  if (rows.length === 0) return [];
  const [updates, catalog] = await Promise.all([q.visibleUpdatesOf(db, rows.map((r) => r.id)), loadCatalog(db)]);
  const byIncident = groupByIncident(updates);
  const live = withCatalog(config, catalog);
  return rows.map((row) => incidentView(live, row, byIncident.get(row.id) ?? [], now));
}

export function incidentView(config: Config, row: IncidentRow, updates: readonly UpdateRow[], now: Date): IncidentView {
  return incidentViewOf(config, row, updates.map(toEntry), updates.map(updateView).reverse(), now);
}

/**
 * The view from a timeline already turned into entries and update views (newest first): what
 * changes with `now` (state durations) is derived again, the rest is taken as given.
 */
export function incidentViewOf(config: Config, row: IncidentRow, entries: readonly TimelineEntry[], updates: readonly UpdateView[], now: Date): IncidentView {
  const r = replay(row.kind, entries, now);
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    impact: row.impact,
    state: r.state,
    open: r.open,
    started_at: r.startedAt.toISOString(),
    resolved_at: r.resolvedAt?.toISOString() ?? null,
    updated_at: row.updated_at.toISOString(),
    scheduled_for: row.scheduled_for?.toISOString() ?? null,
    scheduled_until: row.scheduled_until?.toISOString() ?? null,
    url: `${config.publicUrl}/incidents/${row.id}`,
    href: `${config.publicUrl}/api/v1/incidents/${row.id}`,
    statuses: r.statuses,
    modes: r.modes,
    scope_of_impact: scopeOfImpact(r, scopeEnvironments(config, r.environments), config.roles),
    updates,
    postmortem:
      row.postmortem !== null && row.postmortem_published_at !== null
        ? { markdown: row.postmortem, published_at: row.postmortem_published_at.toISOString() }
        : null,
  };
}

/**
 * The environments a scope of impact lists: every live one in page order, then any other the
 * incident named (retired since, or renamed away): its history keeps naming them.
 */
function scopeEnvironments(config: Config, named: Readonly<Record<string, unknown>>): string[] {
  const live = config.environments.map((e) => e.slug);
  const known = new Set(live);
  return [...live, ...Object.keys(named).filter((slug) => !known.has(slug)).sort()];
}

export async function incidentById(db: Db, config: Config, id: number, now: Date): Promise<IncidentView | undefined> {
  const row = await q.findIncident(db, id);
  if (!row) return undefined;
  const [view] = await incidentViews(db, config, [row], now);
  return view;
}
