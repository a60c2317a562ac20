import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database, ModeChangeRow, OverrideRow } from '../db/schema.ts';
import * as q from '../db/queries/incidents.ts';
import * as m from '../db/queries/modes.ts';
import { effectiveModes, type ModeDeclaration } from '../domain/modes.ts';
import { isActive } from '../domain/timeline.ts';
import type { Mode } from '../domain/vocabulary.ts';
import type { DomainEvent } from './events.ts';
import { incidentViews, type IncidentView } from './read-model.ts';

type Db = Kysely<Database>;

/** One thing holding a role in a mode, described for people and for gates. */
export interface ModeSource {
  readonly source: string;
  readonly kind: 'override' | 'incident' | 'maintenance';
  readonly mode: Mode;
  readonly title: string;
  /** When it is expected to end, if known (a maintenance's scheduled_until, an override's until). */
  readonly until: string | null;
  readonly url: string | null;
  /** Seconds after which a browser on the maintenance page should reload it (an override's ask). */
  readonly refresh?: number;
}

export interface RoleMode {
  readonly role: string;
  readonly mode: Mode;
  /** When the role entered this mode (the newest recorded change), null if it never changed. */
  readonly since: string | null;
  /** What holds the role in this mode (all sources declaring it, most restrictive ones). */
  readonly sources: readonly ModeSource[];
  /** When the restriction is expected to end: known only if every source holding it has an end. */
  readonly retry_after: string | null;
  /** Seconds for the maintenance page's Refresh header, when a source holding the role asks for it. */
  readonly refresh: number | null;
}

/** Every declaration in force: active overrides, the latest modes of active incidents and running maintenance. */
export function declarationsOf(config: Config, open: readonly IncidentView[], overrides: readonly OverrideRow[]): { declarations: ModeDeclaration[]; sources: Map<string, ModeSource> } {
  const sources = new Map<string, ModeSource>();
  const declarations: ModeDeclaration[] = [];
  for (const o of overrides) {
    const source = `override:${o.id}`;
    declarations.push({ role: o.role, mode: o.mode, source });
    sources.set(source, { source, kind: 'override', mode: o.mode, title: o.reason, until: o.until?.toISOString() ?? null, url: null, ...(o.refresh_seconds !== null ? { refresh: o.refresh_seconds } : {}) });
  }
  for (const v of open) {
    if (!isActive(v.kind, v.state)) continue;
    for (const [role, mode] of Object.entries(v.modes)) {
      if (mode === 'full') continue;
      const source = `${v.kind}:${v.id}`;
      declarations.push({ role, mode, source });
      sources.set(source, { source, kind: v.kind, mode, title: v.title, until: v.kind === 'maintenance' ? v.scheduled_until : null, url: v.url });
    }
  }
  return { declarations: declarations.filter((d) => config.roles.includes(d.role)), sources };
}

/** The platform as gates see it: each role's effective mode, since when, why, and until when if known. */
export function platformModes(config: Config, open: readonly IncidentView[], overrides: readonly OverrideRow[], latest: readonly ModeChangeRow[]): RoleMode[] {
  const { declarations, sources } = declarationsOf(config, open, overrides);
  return effectiveModes(config.roles, declarations).map((e) => {
    const held = e.sources.map((s) => sources.get(s)!).filter(Boolean);
    const ends = held.map((s) => s.until);
    const change = latest.find((c) => c.role === e.role);
    const refreshes = held.flatMap((s) => (s.refresh !== undefined ? [s.refresh] : []));
    return {
      role: e.role,
      mode: e.mode,
      since: change && change.to_mode === e.mode ? change.at.toISOString() : null,
      sources: held,
      retry_after: e.mode !== 'full' && ends.length > 0 && ends.every((u) => u !== null) ? ends.sort().at(-1)! : null,
      refresh: e.mode !== 'full' && refreshes.length > 0 ? Math.min(...refreshes) : null,
    };
  });
}

/**
 * Reads everything `platformModes` needs. `known` are views the caller already holds (a write's
 * own incident): their timelines are not read again.
 */
export async function loadPlatform(db: Db, config: Config, now: Date, known: readonly IncidentView[] = [], latest?: readonly ModeChangeRow[]): Promise<RoleMode[]> {
  const [views, overrides, changes] = await Promise.all([
    q.openIncidents(db).then((rows) => {
      const held = new Map(known.map((v) => [v.id, v]));
      return incidentViews(db, config, rows.filter((r) => !held.has(r.id)), now).then((read) => [...read, ...rows.flatMap((r) => (held.has(r.id) ? [held.get(r.id)!] : []))]);
    }),
    m.activeOverrides(db),
    latest ?? m.latestModeChanges(db, config.roles),
  ]);
  return platformModes(config, views, overrides, changes);
}

/**
 * Records every change of a role's effective mode that the transaction's write caused, with its
 * cause, and returns them as events. Run by the unit of work at the end of every public write,
 * inside its transaction; an advisory lock makes concurrent writes take turns here, so no change
 * is recorded twice or missed.
 *
 * `at` is when the change took effect: now, except when the scheduler catches up a start or an
 * end it missed, which it records at the scheduled time (never before a change already recorded).
 */
export async function recordModeChanges(db: Db, config: Config, now: Date, cause: string, at: Date = now, known: readonly IncidentView[] = []): Promise<DomainEvent[]> {
  await m.lockModes(db);
  const latest = await m.latestModeChanges(db, config.roles);
  const roles = await loadPlatform(db, config, now, known, latest);
  const changes = roles
    .map((r) => ({ r, last: latest.find((c) => c.role === r.role) }))
    .filter(({ r, last }) => r.mode !== ((last?.to_mode ?? 'full') as Mode))
    .map(({ r, last }) => ({
      role: r.role,
      from_mode: (last?.to_mode ?? 'full') as Mode,
      to_mode: r.mode,
      at: last && new Date(last.at).getTime() > at.getTime() ? new Date(last.at) : at,
      sources: r.sources.map((s) => s.source),
      cause,
    }));
  await m.insertModeChanges(db, changes);
  return changes.map((c) => ({ name: 'mode.changed', role: c.role, from: c.from_mode, to: c.to_mode, at: c.at.toISOString() }));
}
