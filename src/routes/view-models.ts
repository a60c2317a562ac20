import type { Config } from '../config.ts';
import type { SnapshotState } from '../cache/snapshot.ts';
import { formatDuration } from '../domain/duration.ts';
import { renderMarkdown } from '../render/markdown.ts';
import type { PublicData } from '../services/public-data.ts';
import type { IncidentView } from '../services/read-model.ts';
import { ASSETS } from '../../templates/assets.ts';
import type { IncidentVM, PageMeta, StatusPageVM } from '../../templates/view.ts';

/** Turns read-model views into what templates take: names resolved, Markdown rendered and sanitized. */
export function incidentVM(config: Config, v: IncidentView): IncidentVM {
  const names = Object.fromEntries(config.environments.map((e) => [e.slug, e.name]));
  return {
    id: v.id,
    kind: v.kind,
    title: v.title,
    state: v.state,
    open: v.open,
    // A maintenance "begins" when it goes in progress (its first update only announces it).
    startedAt: v.kind === 'maintenance' ? ([...v.updates].reverse().find((u) => u.state === 'in_progress')?.at ?? v.scheduled_for ?? v.started_at) : v.started_at,
    resolvedAt: v.resolved_at,
    scheduledFor: v.scheduled_for,
    scheduledUntil: v.scheduled_until,
    updates: v.updates.map((u) => ({
      id: u.id,
      at: u.at,
      state: u.state,
      html: renderMarkdown(u.message),
      statuses: Object.entries(u.statuses).map(([slug, status]) => ({ name: names[slug] ?? slug, status })),
      modes: Object.entries(u.modes).map(([role, mode]) => ({ role, mode })),
    })),
    scope: {
      ...v.scope_of_impact,
      roles: v.scope_of_impact.roles.map((r) => ({ ...r, restricted: formatDuration((r.read_only_seconds + r.maintenance_seconds) * 1000) })),
    },
    environmentNames: names,
    postmortemHtml: v.postmortem ? renderMarkdown(v.postmortem.markdown) : null,
    postmortemPublishedAt: v.postmortem?.published_at ?? null,
  };
}

export function statusPageVM(config: Config, data: PublicData): StatusPageVM {
  return {
    environments: data.status.environments,
    modes: data.platform.map((r) => ({ role: r.role, mode: r.mode, sources: r.sources.map((s) => s.title) })),
    open: data.status.incidents.map((v) => incidentVM(config, v)),
    scheduled: data.status.scheduled.map((v) => incidentVM(config, v)),
    bars: data.bars,
    recent: data.recent.map((v) => incidentVM(config, v)),
  };
}

export function pageMeta(config: Config, state: SnapshotState<PublicData> | undefined, now: Date): PageMeta {
  return {
    siteName: config.name,
    builtAt: (state?.builtAt ?? now).toISOString(),
    staleSince: state?.staleSince?.toISOString() ?? null,
    lastChange: state?.data.lastChange ?? null,
    now: now.toISOString(),
    cssHref: ASSETS.css.path,
    jsHref: ASSETS.js.path,
  };
}
