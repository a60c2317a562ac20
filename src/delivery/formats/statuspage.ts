/**
 * Atlassian Statuspage's webhook payloads, so a receiver written for Statuspage reads Herald's
 * unchanged. Ids, statuses, impacts and states come from the same functions as Herald's
 * Statuspage API v2 (src/domain/statuspage.ts), so a webhook and the API never name one thing
 * two ways. What a notice does not carry (a component's creation time, what an update changed)
 * is null rather than guessed.
 */
import {
  COMPONENT_STATUS,
  componentId,
  incidentId,
  incidentStatus,
  statuspageImpact,
  statuspageState,
  updateId,
  type ComponentObject,
  type MaintenanceObject,
  type UpdateObject,
} from '../../domain/statuspage.ts';
import type { Notice, NoticeIncident, NoticeUpdate } from '../notice.ts';

/** The API's incident object, with `scheduled_for` and `scheduled_until` as webhooks always carry them; components as far as a notice knows them. */
export type WebhookIncident = Omit<MaintenanceObject, 'components'> & { readonly components: readonly Pick<ComponentObject, 'id' | 'name' | 'status' | 'page_id'>[] };

export function statuspagePayload(notice: Notice, ctx: { readonly deliveryId: string; readonly manageUrl: string }) {
  const meta = { unsubscribe: ctx.manageUrl, documentation: null, generated_at: notice.occurred_at };
  const page = { id: notice.page.id, status_indicator: notice.page.status.indicator, status_description: notice.page.status.description };

  if (notice.type === 'component.status_changed') {
    const c = notice.component;
    if (!c) throw new Error('a component.status_changed notice carries its component');
    return {
      meta,
      page,
      // Statuspage gives each component change an id; Herald's nearest is the delivery's, stable across retries.
      component_update: { created_at: notice.occurred_at, new_status: COMPONENT_STATUS[c.new_status], old_status: COMPONENT_STATUS[c.old_status], id: ctx.deliveryId, component_id: componentId(c.slug) },
      component: { created_at: null, id: componentId(c.slug), name: c.name, status: COMPONENT_STATUS[c.new_status] },
    };
  }

  if (notice.type === 'mode.changed') {
    const m = notice.mode;
    if (!m) throw new Error('a mode.changed notice carries its mode');
    // Statuspage has no modes: Herald's own object, under a key no Statuspage receiver reads.
    return { meta, page, herald_mode: { role: m.role, from: m.from, to: m.to, at: m.at, cause: m.cause } };
  }

  if (!notice.incident) throw new Error(`a ${notice.type} notice carries its incident`);
  return { meta, page, incident: webhookIncident(notice, notice.incident, notice.update) };
}

function webhookIncident(notice: Notice, i: NoticeIncident, update: NoticeUpdate | undefined): WebhookIncident {
  const id = incidentId(i.id);
  return {
    id,
    name: i.title,
    status: incidentStatus(i.kind, i.state, i.postmortem_published_at !== null),
    // The API's created_at is when the first update was written, which a notice does not carry.
    created_at: i.started_at,
    updated_at: i.updated_at,
    // The API's is when it last went into monitoring, which takes the whole timeline to know.
    monitoring_at: null,
    resolved_at: i.resolved_at,
    impact: statuspageImpact(i.kind, i.impact),
    shortlink: i.url,
    started_at: i.started_at,
    page_id: notice.page.id,
    incident_updates: update ? [updateObject(notice, id, update)] : [],
    components: i.components.map((c) => ({ id: componentId(c.slug), name: c.name, status: COMPONENT_STATUS[c.status], page_id: notice.page.id })),
    scheduled_for: i.scheduled_for,
    scheduled_until: i.scheduled_until,
  };
}

function updateObject(notice: Notice, incident: string, u: NoticeUpdate): UpdateObject {
  return {
    id: updateId(u.id),
    status: statuspageState(u.state),
    body: u.message,
    incident_id: incident,
    // Written in the notice's own write.
    created_at: notice.occurred_at,
    updated_at: notice.occurred_at,
    display_at: u.at,
    // Each change is its own component.status_changed notice; this one does not say what changed.
    affected_components: null,
    deliver_notifications: true,
    custom_tweet: null,
    tweet_id: null,
    twitter_updated_at: null,
  };
}
