import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database, ModeChangeRow, OverrideRow } from '../db/schema.ts';
import { recordAudit } from '../db/queries/audit.ts';
import * as q from '../db/queries/incidents.ts';
import * as m from '../db/queries/modes.ts';
import { AppError, conflict } from '../errors.ts';
import { effectiveModes, type ModeDeclaration } from '../domain/modes.ts';
import { isActive } from '../domain/timeline.ts';
import type { Mode } from '../domain/vocabulary.ts';
import { actorLabel, type Actor } from './deps.ts';
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

/** Reads everything `platformModes` needs. */
export async function loadPlatform(db: Db, config: Config, now: Date, open?: readonly IncidentView[]): Promise<RoleMode[]> {
  const [views, overrides, latest] = await Promise.all([
    open ?? q.openIncidents(db).then((rows) => incidentViews(db, config, rows, now)),
    m.activeOverrides(db),
    m.latestModeChanges(db, config.roles),
  ]);
  return platformModes(config, views, overrides, latest);
}

/**
 * Records every change of a role's effective mode that the transaction's write caused, with its
 * cause. Called at the end of every write, inside its transaction; an advisory lock makes
 * concurrent writes take turns here, so no change is recorded twice or missed.
 *
 * `at` is when the change took effect: now, except when the scheduler catches up a start or an
 * end it missed, which it records at the scheduled time (never before a change already recorded).
 */
export async function recordModeChanges(db: Db, config: Config, now: Date, cause: string, at: Date = now): Promise<void> {
  await m.lockModes(db);
  const roles = await loadPlatform(db, config, now);
  const latest = await m.latestModeChanges(db, config.roles);
  const changes = roles
    .map((r) => ({ r, last: latest.find((c) => c.role === r.role) }))
    .filter(({ r, last }) => r.mode !== ((last?.to_mode ?? 'full') as Mode))
    .map(({ r, last }) => ({
      role: r.role,
      from_mode: last?.to_mode ?? 'full',
      to_mode: r.mode,
      at: last && new Date(last.at).getTime() > at.getTime() ? new Date(last.at) : at,
      sources: r.sources.map((s) => s.source),
      cause,
    }));
  await m.insertModeChanges(db, changes);
}

/** What an operator may add to an override: when they expect to be done, how often browsers reload. */
export interface OverridePlan {
  readonly until?: Date | null;
  readonly refreshSeconds?: number | null;
}

/**
 * Sets a role's manual override (replacing one in force, which stays in the history). `until` is
 * an expectation for clients (Retry-After), not a timer: the override holds until cleared.
 */
export async function setOverride(db: Db, config: Config, actor: Actor, now: Date, role: string, mode: 'read_only' | 'maintenance', reason: string, plan: OverridePlan = {}) {
  if (!config.roles.includes(role)) throw new AppError('not_found', `Role "${role}" is not configured (roles: ${config.roles.join(', ')}).`);
  if (plan.until && plan.until.getTime() <= now.getTime()) {
    throw new AppError('invalid_params', 'The request body is not valid.', [{ path: 'until', message: `must be in the future (server time is ${now.toISOString()})` }]);
  }
  const current = (await m.activeOverrides(db)).find((o) => o.role === role);
  if (current) await m.clearOverride(db, current.id, now, actorLabel(actor), `replaced by a ${mode} override`);
  const row = await m.insertOverride(db, { role, mode, reason, set_at: now, set_by: actorLabel(actor), until: plan.until ?? null, refresh_seconds: plan.refreshSeconds ?? null });
  await recordAudit(db, { at: now, actor: actorLabel(actor), action: 'override.set', target: `role:${role}`, before: current ?? null, after: row });
  return row;
}

/** Clears a role's override. What still holds the role (open incidents, maintenance) is reported by the caller. */
export async function clearOverride(db: Db, actor: Actor, now: Date, role: string, reason: string | null) {
  const current = (await m.activeOverrides(db)).find((o) => o.role === role);
  if (!current) throw conflict(`Role "${role}" has no manual override to clear.`);
  const row = await m.clearOverride(db, current.id, now, actorLabel(actor), reason);
  await recordAudit(db, { at: now, actor: actorLabel(actor), action: 'override.clear', target: `role:${role}`, before: current, after: row });
  return row;
}
