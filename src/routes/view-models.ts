import type { Config } from '../config.ts';
import type { SnapshotState } from '../cache/snapshot.ts';
import { formatDuration } from '../domain/duration.ts';
import { renderMarkdown } from '../render/markdown.ts';
import type { PublicData } from '../services/public-data.ts';
import type { IncidentView } from '../services/read-model.ts';
import { ASSETS } from '../../templates/assets.ts';
import type { EnvironmentItemVM, EnvironmentVM, IncidentVM, PageMeta, StatusPageVM } from '../../templates/view.ts';
import { pageItems, withCatalog, type Component } from '../domain/components.ts';
import { worstStatus } from '../domain/vocabulary.ts';

/** Turns read-model views into what templates take: names resolved, Markdown rendered and sanitized. */
export function incidentVM(config: Config, v: IncidentView): IncidentVM {
  const names = Object.fromEntries([...(config.retired ?? []), ...config.environments].map((e) => [e.slug, e.name]));
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

export function statusPageVM(base: Config, data: PublicData): StatusPageVM {
  const config = withCatalog(base, data.catalog);
  const status = new Map(data.status.environments.map((e) => [e.slug, e.status]));
  const bars = new Map(data.bars.map((b) => [b.slug, b]));
  const shown = (c: Component): EnvironmentVM | undefined => {
    const s = status.get(c.slug) ?? 'green';
    if (c.only_show_if_degraded && s === 'green') return undefined;
    return { slug: c.slug, name: c.name, description: c.description, status: s, bars: bars.get(c.slug) };
  };
  const items = pageItems(data.catalog).flatMap((item): EnvironmentItemVM[] => {
    if ('component' in item) {
      const environment = shown(item.component);
      return environment ? [{ environment }] : [];
    }
    const members = item.members.flatMap((m) => shown(m) ?? []);
    if (members.length === 0) return [];
    const worst = worstStatus(item.members.map((m) => status.get(m.slug) ?? 'green'));
    const { slug, name, description } = item.group;
    return [{ group: { slug, name, description, status: worst, open: worst !== 'green' }, members }];
  });
  return {
    environments: data.status.environments,
    items,
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
    subscribe: config.mail.enabled,
  };
}
