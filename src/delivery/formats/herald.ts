/**
 * Herald's own payload, versioned: every key always present (null where the notice has none), so
 * a receiver can switch on `type` and read fields without checking they exist. Each object is
 * rebuilt key by key rather than passed through: a notice read back from storage may come with
 * its keys reordered (jsonb sorts them) or with fields this version does not promise, and either
 * would change the bytes a retry sends.
 */
import { HERALD_PAYLOAD_VERSION, type Notice } from '../notice.ts';

export function heraldPayload(notice: Notice, ctx: { readonly deliveryId: string }) {
  const { page, incident: i, update: u, component: c, mode: m } = notice;
  return {
    version: HERALD_PAYLOAD_VERSION,
    id: ctx.deliveryId,
    type: notice.type,
    occurred_at: notice.occurred_at,
    page: { id: page.id, name: page.name, url: page.url, status: { indicator: page.status.indicator, description: page.status.description } },
    incident: i
      ? {
          id: i.id,
          kind: i.kind,
          title: i.title,
          state: i.state,
          impact: i.impact,
          url: i.url,
          started_at: i.started_at,
          resolved_at: i.resolved_at,
          updated_at: i.updated_at,
          scheduled_for: i.scheduled_for,
          scheduled_until: i.scheduled_until,
          components: i.components.map((x) => ({ slug: x.slug, name: x.name, status: x.status })),
          postmortem_published_at: i.postmortem_published_at,
        }
      : null,
    update: u ? { id: u.id, state: u.state, message: u.message, at: u.at, author: u.author } : null,
    component: c ? { slug: c.slug, name: c.name, old_status: c.old_status, new_status: c.new_status } : null,
    mode: m ? { role: m.role, from: m.from, to: m.to, at: m.at, cause: m.cause } : null,
    test: notice.test === true,
  };
}
