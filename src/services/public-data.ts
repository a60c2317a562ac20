import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import * as q from '../db/queries/incidents.ts';
import * as m from '../db/queries/modes.ts';
import { isActive, statusSegments } from '../domain/timeline.ts';
import { dailyBars, rangeUptime, type DayBar } from '../domain/uptime.ts';
import { worstStatus } from '../domain/vocabulary.ts';
import { platformModes, type RoleMode } from './modes.ts';
import { groupByIncident, incidentViews, toEntry, type IncidentView, type StatusView } from './read-model.ts';

export const BAR_DAYS = 90;
/** Items per feed: enough for a long outage, small enough to poll every few minutes. */
export const FEED_ITEMS = 50;
const DAY = 86_400_000;

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

export async function buildPublicData(db: Kysely<Database>, config: Config, now: Date): Promise<PublicData> {
  const windowStart = new Date(Math.floor(now.getTime() / DAY) * DAY - (BAR_DAYS - 1) * DAY);
  const [openRows, closedRows, recentRows, last, overrides, latestChanges, feed] = await Promise.all([
    q.openIncidents(db),
    q.closedSince(db, windowStart),
    q.listIncidents(db, { limit: 5, state: 'closed', kind: 'incident' }),
    q.lastChange(db),
    m.activeOverrides(db),
    m.latestModeChanges(db, config.roles),
    q.latestUpdates(db, FEED_ITEMS),
  ]);
  const rows = [...openRows, ...closedRows];
  const updates = await q.visibleUpdatesOf(db, rows.map((r) => r.id));
  const byIncident = groupByIncident(updates);
  const segments = rows.flatMap((r) => statusSegments(r.kind, (byIncident.get(r.id) ?? []).map(toEntry), now));

  const open = await incidentViews(db, config, openRows, now);
  const active = open.filter((v) => isActive(v.kind, v.state));
  const status: StatusView = {
    environments: config.environments.map((e) => ({ slug: e.slug, name: e.name, status: worstStatus(active.map((v) => v.statuses[e.slug] ?? 'green')) })),
    incidents: active,
    scheduled: open.filter((v) => v.kind === 'maintenance' && v.state === 'scheduled').sort((a, b) => (a.scheduled_for ?? a.started_at).localeCompare(b.scheduled_for ?? b.started_at)),
    updated_at: (last ?? now).toISOString(),
  };
  return {
    status,
    platform: platformModes(config, open, overrides, latestChanges),
    bars: config.environments.map((e) => {
      const days = dailyBars(segments, e.slug, now, BAR_DAYS);
      return { slug: e.slug, name: e.name, uptime: rangeUptime(days, now), days };
    }),
    recent: await incidentViews(db, config, recentRows, now),
    lastChange: last?.toISOString() ?? null,
    feed,
  };
}
