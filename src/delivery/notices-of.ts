import type { Config } from '../config.ts';
import type { DomainEvent } from '../services/events.ts';
import type { IncidentView } from '../services/read-model.ts';
import { impactOf } from '../domain/statuspage.ts';
import type { Notice, NoticeIncident, NoticeUpdate, WebhookEvent } from './notice.ts';

/** A notice as its write leaves it: the page (id and status after the write) is added at fan-out. */
export type NoticeDraft = Omit<Notice, 'page'>;

/** What a draft concerns, for a subscription's components filter (empty: no component in particular). */
export interface Drafted {
  readonly draft: NoticeDraft;
  readonly environments: readonly string[];
}

/**
 * The notices one write sends, from its events and the incidents as it left them. A commander's
 * post is one notice of its incident (the strongest thing it did: opened > resolved / started /
 * completed / cancelled > updated), then one per component whose status it changed and one per
 * role whose mode it changed. Edits of a title or impact alone notify nobody.
 */
export function noticesOf(events: readonly DomainEvent[], views: ReadonlyMap<number, IncidentView>, config: Config, at: Date, cause: string): Drafted[] {
  const names = new Map([...(config.retired ?? []), ...config.environments].map((e) => [e.slug, e.name]));
  const occurred_at = at.toISOString();
  const out: Drafted[] = [];
  const incidentOf = (id: number) => {
    const view = views.get(id);
    return view ? noticeIncident(view, names, config) : undefined;
  };
  for (const id of new Set(events.flatMap((e) => ('incident' in e && e.name !== 'environment.status_changed' ? [e.incident] : [])))) {
    const view = views.get(id);
    if (!view) continue;
    const mine = events.filter((e) => 'incident' in e && e.incident === id);
    const type = typeOf(view, new Set(mine.map((e) => e.name)));
    const incident = noticeIncident(view, names, config);
    const posted = mine.find((e) => e.name === 'incident.updated');
    const update = posted && posted.name === 'incident.updated' ? view.updates.find((u) => u.id === posted.update) : mine.some((e) => e.name === 'incident.opened') ? view.updates.at(-1) : undefined;
    const environments = incident.components.map((c) => c.slug);
    if (type) out.push({ draft: { type, occurred_at, incident, update: update && noticeUpdate(update) }, environments });
    if (mine.some((e) => e.name === 'postmortem.published')) out.push({ draft: { type: 'postmortem.published', occurred_at, incident }, environments });
  }
  for (const e of events) {
    if (e.name === 'environment.status_changed') {
      const component = { slug: e.environment, name: names.get(e.environment) ?? e.environment, old_status: e.from, new_status: e.to };
      out.push({ draft: { type: 'component.status_changed', occurred_at, incident: incidentOf(e.incident), component }, environments: [e.environment] });
    } else if (e.name === 'mode.changed') {
      out.push({ draft: { type: 'mode.changed', occurred_at, mode: { role: e.role, from: e.from, to: e.to, at: e.at, cause } }, environments: [] });
    }
  }
  return out;
}

function typeOf(view: IncidentView, names: ReadonlySet<DomainEvent['name']>): WebhookEvent | undefined {
  if (view.kind === 'maintenance') {
    if (names.has('incident.opened')) return view.state === 'in_progress' ? 'maintenance.started' : 'maintenance.scheduled';
    if (names.has('maintenance.started')) return 'maintenance.started';
    if (names.has('maintenance.completed')) return 'maintenance.completed';
    if (names.has('maintenance.cancelled')) return 'maintenance.cancelled';
  } else {
    if (names.has('incident.opened')) return 'incident.opened';
    if (names.has('incident.resolved')) return 'incident.resolved';
  }
  return names.has('incident.updated') ? 'incident.updated' : undefined;
}

function noticeIncident(view: IncidentView, names: ReadonlyMap<string, string>, config: Config): NoticeIncident {
  const declared = new Set(view.updates.flatMap((u) => Object.keys(u.statuses)));
  const order = [...config.environments, ...(config.retired ?? [])].map((e) => e.slug);
  const components = order
    .filter((slug) => declared.has(slug))
    .map((slug) => ({ slug, name: names.get(slug) ?? slug, status: view.statuses[slug] ?? 'green' }));
  return {
    id: view.id,
    kind: view.kind,
    title: view.title,
    state: view.state,
    impact: impactOf(view),
    url: view.url,
    started_at: view.started_at,
    resolved_at: view.resolved_at,
    updated_at: view.updated_at,
    scheduled_for: view.scheduled_for,
    scheduled_until: view.scheduled_until,
    components,
    postmortem_published_at: view.postmortem?.published_at ?? null,
  };
}

const noticeUpdate = (u: IncidentView['updates'][number]): NoticeUpdate => ({ id: u.id, state: u.state, message: u.message, at: u.at, author: u.author });
