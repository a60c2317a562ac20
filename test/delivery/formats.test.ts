import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderNotice } from '../../src/delivery/formats.ts';
import { WEBHOOK_FORMATS, type Notice, type NoticeIncident, type NoticeUpdate, type WebhookFormat } from '../../src/delivery/notice.ts';
import type { Component } from '../../src/domain/components.ts';
import { eventMapper, type EventInput, type PageContext } from '../../src/domain/statuspage.ts';

const CTX = { deliveryId: 'dlv_01HQZ8X4T9', manageUrl: 'https://status.acme.test/subscriptions/s_7f3a/manage' };

const PAGE: Notice['page'] = { id: 'pg_4k2m9x', name: 'Acme Status', url: 'https://status.acme.test', status: { indicator: 'minor', description: 'Minor Service Outage' } };

function incident(over: Partial<NoticeIncident> = {}): NoticeIncident {
  return {
    id: 42,
    kind: 'incident',
    title: 'API errors',
    state: 'investigating',
    impact: 'major',
    url: 'https://status.acme.test/incidents/42',
    started_at: '2024-03-05T10:00:00.000Z',
    resolved_at: null,
    updated_at: '2024-03-05T10:00:00.000Z',
    scheduled_for: null,
    scheduled_until: null,
    components: [
      { slug: 'api', name: 'API', status: 'orange' },
      { slug: 'web', name: 'Website', status: 'yellow' },
    ],
    postmortem_published_at: null,
    ...over,
  };
}

function update(over: Partial<NoticeUpdate> = {}): NoticeUpdate {
  return {
    id: 7,
    state: 'investigating',
    message: 'We are **investigating** elevated error rates on the API.\nFollow [the runbook](https://docs.acme.test/runbook?step=1&lang=en).',
    at: '2024-03-05T10:00:00.000Z',
    author: 'alice',
    ...over,
  };
}

function maintenance(state: NoticeIncident['state'], over: Partial<NoticeIncident> = {}): NoticeIncident {
  return incident({
    id: 51,
    kind: 'maintenance',
    title: 'Database upgrade',
    state,
    impact: 'none',
    url: 'https://status.acme.test/maintenance/51',
    started_at: '2024-03-01T09:00:00.000Z',
    updated_at: '2024-03-01T09:00:00.000Z',
    scheduled_for: '2024-03-05T22:00:00.000Z',
    scheduled_until: '2024-03-05T23:30:00.000Z',
    components: [{ slug: 'db', name: 'Database', status: 'blue' }],
    ...over,
  });
}

const OPENED: Notice = { type: 'incident.opened', occurred_at: '2024-03-05T10:00:02.000Z', page: PAGE, incident: incident(), update: update() };

/** One notice of each type, as the outbox would freeze them. */
const NOTICES = {
  'incident.opened': OPENED,
  'incident.updated': {
    type: 'incident.updated',
    occurred_at: '2024-03-05T10:20:01.000Z',
    page: PAGE,
    incident: incident({ state: 'identified', updated_at: '2024-03-05T10:20:00.000Z' }),
    update: update({ id: 8, state: 'identified', message: 'A bad deploy; rolling back.', at: '2024-03-05T10:20:00.000Z' }),
  },
  'incident.resolved': {
    type: 'incident.resolved',
    occurred_at: '2024-03-05T11:00:01.000Z',
    page: { ...PAGE, status: { indicator: 'none', description: 'All Systems Operational' } },
    incident: incident({ state: 'resolved', resolved_at: '2024-03-05T11:00:00.000Z', updated_at: '2024-03-05T11:00:00.000Z', components: [{ slug: 'api', name: 'API', status: 'green' }, { slug: 'web', name: 'Website', status: 'green' }] }),
    update: update({ id: 9, state: 'resolved', message: 'Error rates are back to normal.', at: '2024-03-05T11:00:00.000Z' }),
  },
  'maintenance.scheduled': {
    type: 'maintenance.scheduled',
    occurred_at: '2024-03-01T09:00:01.000Z',
    page: { ...PAGE, status: { indicator: 'none', description: 'All Systems Operational' } },
    incident: maintenance('scheduled'),
    update: update({ id: 20, state: 'scheduled', message: 'We will upgrade the primary database. Writes pause for up to 10 minutes.', at: '2024-03-01T09:00:00.000Z', author: 'bob' }),
  },
  'maintenance.started': {
    type: 'maintenance.started',
    occurred_at: '2024-03-05T22:00:01.000Z',
    page: { ...PAGE, status: { indicator: 'maintenance', description: 'Service Under Maintenance' } },
    incident: maintenance('in_progress', { updated_at: '2024-03-05T22:00:00.000Z' }),
    update: update({ id: 21, state: 'in_progress', message: 'The upgrade has started.', at: '2024-03-05T22:00:00.000Z', author: 'bob' }),
  },
  'maintenance.completed': {
    type: 'maintenance.completed',
    occurred_at: '2024-03-05T23:10:01.000Z',
    page: { ...PAGE, status: { indicator: 'none', description: 'All Systems Operational' } },
    incident: maintenance('completed', { resolved_at: '2024-03-05T23:10:00.000Z', updated_at: '2024-03-05T23:10:00.000Z', components: [{ slug: 'db', name: 'Database', status: 'green' }] }),
    update: update({ id: 22, state: 'completed', message: 'The upgrade is complete.', at: '2024-03-05T23:10:00.000Z', author: 'bob' }),
  },
  'maintenance.cancelled': {
    type: 'maintenance.cancelled',
    occurred_at: '2024-03-04T12:00:01.000Z',
    page: { ...PAGE, status: { indicator: 'none', description: 'All Systems Operational' } },
    incident: maintenance('cancelled', { resolved_at: '2024-03-04T12:00:00.000Z', updated_at: '2024-03-04T12:00:00.000Z', components: [{ slug: 'db', name: 'Database', status: 'green' }] }),
    update: update({ id: 23, state: 'cancelled', message: 'Postponed to next week.', at: '2024-03-04T12:00:00.000Z', author: 'bob' }),
  },
  'component.status_changed': {
    type: 'component.status_changed',
    occurred_at: '2024-03-05T10:00:02.000Z',
    page: PAGE,
    incident: incident(),
    component: { slug: 'api', name: 'API', old_status: 'red', new_status: 'orange' },
  },
  'mode.changed': {
    type: 'mode.changed',
    occurred_at: '2024-03-05T10:00:02.000Z',
    page: PAGE,
    mode: { role: 'web', from: 'full', to: 'read_only', at: '2024-03-05T10:00:00.000Z', cause: 'incident 42: API errors' },
  },
  'postmortem.published': {
    type: 'postmortem.published',
    occurred_at: '2024-03-07T15:00:01.000Z',
    page: { ...PAGE, status: { indicator: 'none', description: 'All Systems Operational' } },
    incident: incident({ state: 'resolved', resolved_at: '2024-03-05T11:00:00.000Z', updated_at: '2024-03-07T15:00:00.000Z', postmortem_published_at: '2024-03-07T15:00:00.000Z' }),
  },
  test: { ...OPENED, test: true },
} satisfies Record<string, Notice>;

type NoticeName = keyof typeof NOTICES;
const NAMES = Object.keys(NOTICES) as NoticeName[];

/** Payloads are read as a receiver reads them: parsed JSON, unchecked. */
type Json = any;

function render(format: WebhookFormat, notice: Notice): Json {
  const out = renderNotice(format, notice, CTX);
  expect(out.contentType).toBe('application/json');
  return JSON.parse(out.body);
}

/** Every string anywhere in a parsed payload. */
function strings(value: Json): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(strings);
}

/** The same data with every object's keys in reverse order: what a jsonb round trip may hand back. */
function reordered<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reordered) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reordered(v)])) as T;
}

describe('every format', () => {
  it.each(WEBHOOK_FORMATS.flatMap((f) => NAMES.map((n) => [f, n] as const)))('%s renders %s as JSON, byte for byte the same on every call and whatever the order of the notice keys', (format, name) => {
    const first = renderNotice(format, NOTICES[name], CTX).body;
    expect(() => JSON.parse(first)).not.toThrow();
    expect(renderNotice(format, NOTICES[name], CTX).body).toBe(first);
    expect(renderNotice(format, reordered(NOTICES[name]), CTX).body).toBe(first);
  });

  it('when a notice lacks what its type promises, rendering throws instead of sending a half-empty message', () => {
    const orphan: Notice = { type: 'incident.opened', occurred_at: OPENED.occurred_at, page: PAGE };
    for (const format of ['statuspage', 'slack', 'discord'] as const) expect(() => renderNotice(format, orphan, CTX)).toThrow(/incident/);
  });
});

describe('herald format', () => {
  const KEYS = ['version', 'id', 'type', 'occurred_at', 'page', 'incident', 'update', 'component', 'mode', 'test'];

  it.each(NAMES)('for %s, every key is present, null where the notice has nothing', (name) => {
    const notice: Notice = NOTICES[name];
    const body = render('herald', notice);
    expect(Object.keys(body)).toEqual(KEYS);
    expect(body.version).toBe(1);
    expect(body.id).toBe(CTX.deliveryId);
    expect(body.type).toBe(notice.type);
    expect(body.occurred_at).toBe(notice.occurred_at);
    expect(body.page).toEqual(notice.page);
    expect(body.incident).toEqual(notice.incident ?? null);
    expect(body.update).toEqual(notice.update ?? null);
    expect(body.component).toEqual(notice.component ?? null);
    expect(body.mode).toEqual(notice.mode ?? null);
    expect(body.test).toBe(name === 'test');
  });

  it('keys a notice carries beyond the contract are not passed on', () => {
    const extra = { ...OPENED, secret: 'x', incident: { ...OPENED.incident!, internal_note: 'y' } } as Notice;
    expect(renderNotice('herald', extra, CTX).body).toBe(renderNotice('herald', OPENED, CTX).body);
  });
});

describe('statuspage format', () => {
  const INCIDENT_TYPES = NAMES.filter((n) => !['component.status_changed', 'mode.changed'].includes(n));

  /** The API v2's objects for the incident OPENED describes, through the route's own mapper. */
  function apiObjects() {
    const at = new Date('2024-01-01T00:00:00.000Z');
    const component = (slug: string, name: string, position: number): Component => ({
      slug, name, description: null, group: null, position, only_show_if_degraded: false, showcase: false, start_date: null, created_at: at, updated_at: at, retired_at: null,
    });
    const ctx: PageContext = {
      pageId: PAGE.id, name: PAGE.name, url: PAGE.url,
      catalog: { components: [component('api', 'API', 1), component('web', 'Website', 2)], groups: [] },
      colours: new Map([['api', 'orange'], ['web', 'yellow']]),
      updatedAt: OPENED.occurred_at,
    };
    const i = OPENED.incident!;
    const u = OPENED.update!;
    const event: EventInput = {
      id: i.id, kind: i.kind, title: i.title, impact: i.impact, state: i.state, open: true, started_at: i.started_at, resolved_at: i.resolved_at,
      updated_at: i.updated_at, scheduled_for: i.scheduled_for, scheduled_until: i.scheduled_until, url: i.url,
      updates: [{ id: u.id, at: u.at, created_at: OPENED.occurred_at, state: u.state, message: u.message, statuses: { api: 'orange', web: 'yellow' } }],
      postmortem: null,
    };
    const map = eventMapper(ctx);
    return { incident: map.incident(event), maintenance: map.maintenance({ ...event, kind: 'maintenance', state: 'scheduled' }) };
  }

  it.each(INCIDENT_TYPES)('for %s, sends meta, page and incident as Statuspage does', (name) => {
    const notice: Notice = NOTICES[name];
    const body = render('statuspage', notice);
    expect(Object.keys(body)).toEqual(['meta', 'page', 'incident']);
    expect(body.meta).toEqual({ unsubscribe: CTX.manageUrl, documentation: null, generated_at: notice.occurred_at });
    expect(body.page).toEqual({ id: PAGE.id, status_indicator: notice.page.status.indicator, status_description: notice.page.status.description });
    expect(body.incident.id).toBe(String(notice.incident!.id));
    expect(body.incident.name).toBe(notice.incident!.title);
    expect(body.incident.shortlink).toBe(notice.incident!.url);
    expect(body.incident.page_id).toBe(PAGE.id);
    expect(body.incident.scheduled_for).toBe(notice.incident!.scheduled_for);
    expect(body.incident.scheduled_until).toBe(notice.incident!.scheduled_until);
  });

  it("the incident and update objects have the API v2's keys in its order, plus scheduled_for and scheduled_until as its maintenances do", () => {
    const api = apiObjects();
    const body = render('statuspage', OPENED);
    expect(Object.keys(body.incident)).toEqual([...Object.keys(api.incident), 'scheduled_for', 'scheduled_until']);
    expect(Object.keys(body.incident)).toEqual(Object.keys(api.maintenance));
    expect(Object.keys(body.incident.incident_updates[0])).toEqual(Object.keys(api.incident.incident_updates[0]!));
    const apiComponentKeys = Object.keys(api.incident.components[0]!);
    const keys = Object.keys(body.incident.components[0]);
    expect(keys).toEqual(apiComponentKeys.filter((k) => keys.includes(k)));
  });

  it('names the incident, its update and its components with the same ids, statuses and impact as the API v2', () => {
    const api = apiObjects();
    const { incident: webhook } = render('statuspage', OPENED);
    for (const key of ['id', 'name', 'status', 'impact', 'shortlink', 'started_at', 'page_id'] as const) expect(webhook[key]).toEqual(api.incident[key]);
    const [apiUpdate] = api.incident.incident_updates;
    for (const key of ['id', 'status', 'body', 'incident_id', 'display_at'] as const) expect(webhook.incident_updates[0][key]).toEqual(apiUpdate![key]);
    expect(webhook.components.map((c: Json) => c.id)).toEqual(api.incident.components.map((c) => c.id));
    expect(webhook.components.map((c: Json) => c.status)).toEqual(api.incident.components.map((c) => c.status));
  });

  it('when an incident opens, its one update is Statuspage-shaped and its components carry Statuspage statuses', () => {
    const { incident } = render('statuspage', OPENED);
    expect(incident.status).toBe('investigating');
    expect(incident.impact).toBe('major');
    expect(incident.incident_updates).toEqual([
      {
        id: '7', status: 'investigating', body: OPENED.update!.message, incident_id: '42', created_at: OPENED.occurred_at, updated_at: OPENED.occurred_at,
        display_at: OPENED.update!.at, affected_components: null, deliver_notifications: true, custom_tweet: null, tweet_id: null, twitter_updated_at: null,
      },
    ]);
    expect(incident.components).toEqual([
      { id: 'api', name: 'API', status: 'partial_outage', page_id: PAGE.id },
      { id: 'web', name: 'Website', status: 'degraded_performance', page_id: PAGE.id },
    ]);
  });

  it('when an incident is updated or resolved, its status and the update status follow the state', () => {
    const updated = render('statuspage', NOTICES['incident.updated']).incident;
    expect([updated.status, updated.incident_updates[0].status]).toEqual(['identified', 'identified']);
    const resolved = render('statuspage', NOTICES['incident.resolved']).incident;
    expect([resolved.status, resolved.incident_updates[0].status, resolved.resolved_at]).toEqual(['resolved', 'resolved', '2024-03-05T11:00:00.000Z']);
    expect(resolved.components.map((c: Json) => c.status)).toEqual(['operational', 'operational']);
  });

  it('a maintenance has impact maintenance and its window, in each state', () => {
    const statuses = (['maintenance.scheduled', 'maintenance.started', 'maintenance.completed'] as const).map((n) => render('statuspage', NOTICES[n]).incident);
    expect(statuses.map((i) => [i.status, i.impact])).toEqual([['scheduled', 'maintenance'], ['in_progress', 'maintenance'], ['completed', 'maintenance']]);
    expect(statuses[0].scheduled_for).toBe('2024-03-05T22:00:00.000Z');
    expect(statuses[0].scheduled_until).toBe('2024-03-05T23:30:00.000Z');
    expect(statuses[1].components).toEqual([{ id: 'db', name: 'Database', status: 'under_maintenance', page_id: PAGE.id }]);
  });

  it('a cancelled maintenance is sent as completed, as the API lists it', () => {
    const { incident } = render('statuspage', NOTICES['maintenance.cancelled']);
    expect(incident.status).toBe('completed');
    expect(incident.incident_updates[0].status).toBe('completed');
  });

  it('when a postmortem is published, the incident status is postmortem and no update is invented', () => {
    const { incident } = render('statuspage', NOTICES['postmortem.published']);
    expect(incident.status).toBe('postmortem');
    expect(incident.incident_updates).toEqual([]);
  });

  it('when a component changes, sends component_update and component with Statuspage statuses (orange → partial_outage)', () => {
    const body = render('statuspage', NOTICES['component.status_changed']);
    expect(Object.keys(body)).toEqual(['meta', 'page', 'component_update', 'component']);
    expect(body.component_update).toEqual({ created_at: '2024-03-05T10:00:02.000Z', new_status: 'partial_outage', old_status: 'major_outage', id: CTX.deliveryId, component_id: 'api' });
    expect(body.component).toEqual({ created_at: null, id: 'api', name: 'API', status: 'partial_outage' });
  });

  it("when a role's mode changes, sends Herald's mode under herald_mode beside Statuspage's meta and page", () => {
    const body = render('statuspage', NOTICES['mode.changed']);
    expect(Object.keys(body)).toEqual(['meta', 'page', 'herald_mode']);
    expect(body.meta.unsubscribe).toBe(CTX.manageUrl);
    expect(body.herald_mode).toEqual({ role: 'web', from: 'full', to: 'read_only', at: '2024-03-05T10:00:00.000Z', cause: 'incident 42: API errors' });
  });
});

describe('slack format', () => {
  const section = (body: Json) => body.blocks.find((b: Json) => b.type === 'section' && !b.text.text.includes('Test message')).text.text as string;
  const header = (body: Json) => body.blocks.find((b: Json) => b.type === 'header').text.text as string;

  it('when an incident opens, sends fallback text, a header, the state and message with a link, and the components', () => {
    const body = render('slack', OPENED);
    expect(body.text).toBe(':large_orange_circle: Investigating — API errors');
    expect(body.blocks.map((b: Json) => b.type)).toEqual(['header', 'section', 'context']);
    expect(body.blocks[0].text).toEqual({ type: 'plain_text', text: 'API errors', emoji: true });
    expect(body.blocks[1].text.type).toBe('mrkdwn');
    expect(section(body).split('\n')).toEqual([
      ':large_orange_circle: *Investigating* · <https://status.acme.test/incidents/42|View incident>',
      'We are *investigating* elevated error rates on the API.',
      'Follow <https://docs.acme.test/runbook?step=1&amp;lang=en|the runbook>.',
    ]);
    expect(body.blocks[2].elements).toEqual([{ type: 'mrkdwn', text: ':large_orange_circle: API — Partial outage\n:large_yellow_circle: Website — Degraded performance' }]);
  });

  it('when an incident is updated, the state line says the new state', () => {
    const body = render('slack', NOTICES['incident.updated']);
    expect(body.text).toBe(':large_orange_circle: Identified — API errors');
    expect(section(body)).toBe(':large_orange_circle: *Identified* · <https://status.acme.test/incidents/42|View incident>\nA bad deploy; rolling back.');
  });

  it('when an incident is resolved, the message turns green', () => {
    const body = render('slack', NOTICES['incident.resolved']);
    expect(body.text).toBe(':large_green_circle: Resolved — API errors');
    expect(body.blocks[2].elements[0].text).toBe(':large_green_circle: API — Operational\n:large_green_circle: Website — Operational');
  });

  it('when a maintenance is scheduled, the state line gives its window in UTC and links to the maintenance', () => {
    const body = render('slack', NOTICES['maintenance.scheduled']);
    expect(body.text).toBe(':large_blue_circle: Scheduled — Database upgrade');
    expect(section(body).split('\n')[0]).toBe(':large_blue_circle: *Scheduled* · 2024-03-05 22:00–23:30 UTC · <https://status.acme.test/maintenance/51|View maintenance>');
  });

  it('when a maintenance starts, it is blue and in progress; when it completes or is cancelled, green', () => {
    expect(render('slack', NOTICES['maintenance.started']).text).toBe(':large_blue_circle: In progress — Database upgrade');
    expect(render('slack', NOTICES['maintenance.completed']).text).toBe(':large_green_circle: Completed — Database upgrade');
    expect(render('slack', NOTICES['maintenance.cancelled']).text).toBe(':large_green_circle: Cancelled — Database upgrade');
  });

  it('when a component changes, says its new status first and what it was', () => {
    const body = render('slack', NOTICES['component.status_changed']);
    expect(body.text).toBe(':large_orange_circle: Partial outage — API');
    expect(section(body)).toBe(':large_orange_circle: *Partial outage* · was major outage · <https://status.acme.test/incidents/42|View incident>');
  });

  it("when a role's mode changes, says the new mode, the old, the cause and links to the page", () => {
    const body = render('slack', NOTICES['mode.changed']);
    expect(body.text).toBe(':large_yellow_circle: Read-only — Mode change: web');
    expect(section(body)).toBe(':large_yellow_circle: *Read-only* · was full service · <https://status.acme.test|View status page>\nincident 42: API errors');
  });

  it('when a postmortem is published, links to it', () => {
    const body = render('slack', NOTICES['postmortem.published']);
    expect(body.text).toBe(':large_green_circle: Postmortem published — API errors');
    expect(section(body)).toBe(':large_green_circle: *Postmortem published* · <https://status.acme.test/incidents/42|Read the postmortem>');
  });

  it('a test notice says so in the notification text and before the header', () => {
    const body = render('slack', NOTICES.test);
    expect(body.text).toBe('Test message from Herald — :large_orange_circle: Investigating — API errors');
    expect(body.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: ':test_tube: *Test message from Herald*: nothing has happened; you can ignore it.' } });
    expect(body.blocks[1].type).toBe('header');
    expect(render('slack', OPENED).text).not.toContain('Test message');
  });

  it('hostile titles, messages and component names stay inert text: no mention, no disguised link', () => {
    const hostile = '<!channel> R&D <@U123> <https://evil.test|click>';
    const notice: Notice = {
      ...OPENED,
      incident: incident({ title: hostile, components: [{ slug: 'x', name: '<!here> & co', status: 'red' }] }),
      update: update({ message: `Hi <!everyone> & <@U123>, see <https://evil.test|click> or [docs](https://docs.acme.test/a?b=1&c=2) but not [bad](javascript:alert(1)) nor [sneaky](https://ok.test/x|y>)` }),
    };
    const body = render('slack', notice);
    const escapedTitle = '&lt;!channel&gt; R&amp;D &lt;@U123&gt; &lt;https://evil.test|click&gt;';
    expect(header(body)).toBe(escapedTitle);
    expect(body.text).toBe(`:large_orange_circle: Investigating — ${escapedTitle}`);
    expect(section(body).split('\n')[1]).toBe(
      'Hi &lt;!everyone&gt; &amp; &lt;@U123&gt;, see &lt;https://evil.test|click&gt; or <https://docs.acme.test/a?b=1&amp;c=2|docs> but not [bad](javascript:alert(1)) nor <https://ok.test/x%7Cy&gt;|sneaky>',
    );
    expect(body.blocks[2].elements[0].text).toBe(':red_circle: &lt;!here&gt; &amp; co — Major outage');
    const links = strings(body).flatMap((s) => [...s.matchAll(/<([^>]*)>/g)].map((m) => m[1]));
    expect(links).toEqual(['https://status.acme.test/incidents/42|View incident', 'https://docs.acme.test/a?b=1&amp;c=2|docs', 'https://ok.test/x%7Cy&gt;|sneaky']);
  });

  it('a link address holding "|" cannot end early and relabel the link', () => {
    const body = render('slack', { ...OPENED, update: update({ message: '[status](https://ok.test/a|b)' }) });
    expect(section(body).split('\n')[1]).toBe('<https://ok.test/a%7Cb|status>');
  });

  it('with a 10,000-character message and a 400-character title, the blocks stay within Slack limits and end in "…"', () => {
    const body = render('slack', { ...OPENED, incident: incident({ title: 'T'.repeat(400) }), update: update({ message: 'word '.repeat(2000) }) });
    expect(header(body)).toHaveLength(150);
    expect(header(body).endsWith('…')).toBe(true);
    const text = section(body);
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text.length).toBeGreaterThan(2900);
    expect(text.endsWith('…')).toBe(true);
  });

  it('when a long message is cut, no half link or half escape is left behind', () => {
    for (let pad = 0; pad < 40; pad++) {
      const message = 'x'.repeat(pad) + ' [a](https://docs.acme.test/?q=1&r=2) & <b>'.repeat(200);
      const text = section(render('slack', { ...OPENED, update: update({ message }) }));
      expect(text.length).toBeLessThanOrEqual(3000);
      const body = text.split('\n').slice(1).join('\n').replace(/…$/, '');
      expect(body.replace(/<https:\/\/docs\.acme\.test\/\?q=1&amp;r=2\|a>/g, '').replace(/&(amp|lt|gt);/g, '')).not.toMatch(/[<>&]/);
    }
  });

  it('titles of escapes cut to 150 never end in half an escape', () => {
    const title = header(render('slack', { ...OPENED, incident: incident({ title: '&'.repeat(200) }) }));
    expect(title).toMatch(/^(&amp;)+…$/);
    expect(title.length).toBeLessThanOrEqual(150);
  });
});

describe('discord format', () => {
  const embedLength = (e: Json) => e.title.length + e.description.length + e.footer.text.length + e.fields.reduce((n: number, f: Json) => n + f.name.length + f.value.length, 0);

  it('when an incident opens, sends one embed with the state first, a field per component, and no mentions', () => {
    const body = render('discord', OPENED);
    expect(Object.keys(body)).toEqual(['content', 'embeds', 'allowed_mentions']);
    expect(body.content).toBeNull();
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body.embeds).toEqual([
      {
        title: 'API errors',
        url: 'https://status.acme.test/incidents/42',
        description: `🟠 **Investigating**\n${OPENED.update!.message}`,
        color: 0xe67e22,
        fields: [
          { name: 'API', value: '🟠 Partial outage', inline: true },
          { name: 'Website', value: '🟡 Degraded performance', inline: true },
        ],
        timestamp: '2024-03-05T10:00:00.000Z',
        footer: { text: 'Acme Status' },
      },
    ]);
  });

  it('the colour follows impact while open, blue for maintenance, green once resolved, completed or cancelled', () => {
    const colour = (n: Notice) => render('discord', n).embeds[0].color;
    expect(colour({ ...OPENED, incident: incident({ impact: 'critical' }) })).toBe(0xe74c3c);
    expect(colour(OPENED)).toBe(0xe67e22);
    expect(colour({ ...OPENED, incident: incident({ impact: 'minor' }) })).toBe(0xf1c40f);
    expect(colour(NOTICES['incident.updated'])).toBe(0xe67e22);
    expect(colour(NOTICES['maintenance.scheduled'])).toBe(0x3498db);
    expect(colour(NOTICES['maintenance.started'])).toBe(0x3498db);
    expect(colour(NOTICES['incident.resolved'])).toBe(0x2ecc71);
    expect(colour(NOTICES['maintenance.completed'])).toBe(0x2ecc71);
    expect(colour(NOTICES['maintenance.cancelled'])).toBe(0x2ecc71);
  });

  it('a maintenance shows its window after the state', () => {
    const [embed] = render('discord', NOTICES['maintenance.scheduled']).embeds;
    expect(embed.description.split('\n')[0]).toBe('🔵 **Scheduled** · 2024-03-05 22:00–23:30 UTC');
    expect(embed.url).toBe('https://status.acme.test/maintenance/51');
  });

  it('a component change, a mode change and a postmortem each lead with what is true now', () => {
    const component = render('discord', NOTICES['component.status_changed']).embeds[0];
    expect([component.title, component.description, component.color, component.fields]).toEqual(['API', '🟠 **Partial outage** · was major outage', 0xe67e22, []]);
    const mode = render('discord', NOTICES['mode.changed']).embeds[0];
    expect([mode.title, mode.description, mode.url, mode.timestamp]).toEqual(['Mode change: web', '🟡 **Read-only** · was full service\nincident 42: API errors', 'https://status.acme.test', '2024-03-05T10:00:00.000Z']);
    const postmortem = render('discord', NOTICES['postmortem.published']).embeds[0];
    expect([postmortem.description, postmortem.timestamp]).toEqual(['🟢 **Postmortem published**', '2024-03-07T15:00:00.000Z']);
  });

  it('a test notice says so on the first line', () => {
    const [embed] = render('discord', NOTICES.test).embeds;
    expect(embed.description.split('\n')[0]).toBe('**Test message from Herald**: nothing has happened; you can ignore it.');
    expect(render('discord', OPENED).embeds[0].description).not.toContain('Test message');
  });

  it('@everyone in a title or message is sent as written, with mentions switched off', () => {
    const body = render('discord', { ...OPENED, incident: incident({ title: '@everyone API down' }), update: update({ message: '@here <@123> <@&456>' }) });
    expect(body.embeds[0].title).toBe('@everyone API down');
    expect(body.embeds[0].description).toContain('@here <@123> <@&456>');
    expect(body.allowed_mentions).toEqual({ parse: [] });
  });

  it('with a 10,000-character message, the description is cut to 4,096 ending in "…" and the embed stays within 6,000', () => {
    const [embed] = render('discord', { ...OPENED, update: update({ message: 'm'.repeat(10_000) }) }).embeds;
    expect(embed.description).toHaveLength(4096);
    expect(embed.description.endsWith('…')).toBe(true);
    expect(embedLength(embed)).toBeLessThanOrEqual(6000);
  });

  it('with every part at its longest, each stays within its limit and the embed within 6,000', () => {
    const components = Array.from({ length: 40 }, (_, i) => ({ slug: `c${i}`, name: `${i} ${'n'.repeat(300)}`, status: 'red' as const }));
    const notice: Notice = { ...OPENED, page: { ...PAGE, name: 'P'.repeat(3000) }, incident: incident({ title: 't'.repeat(400), components }), update: update({ message: 'm'.repeat(10_000) }) };
    const [embed] = render('discord', notice).embeds;
    expect(embed.title.length).toBeLessThanOrEqual(256);
    expect(embed.footer.text.length).toBeLessThanOrEqual(2048);
    expect(embed.fields.length).toBeLessThanOrEqual(25);
    for (const f of embed.fields) {
      expect(f.name.length).toBeLessThanOrEqual(256);
      expect(f.value.length).toBeLessThanOrEqual(1024);
    }
    expect(embedLength(embed)).toBeLessThanOrEqual(6000);
    expect(embed.fields.at(-1).value).toMatch(/^and \d+ more$/);
  });

  it('with more than 25 short components, lists 24 and counts the rest', () => {
    const components = Array.from({ length: 30 }, (_, i) => ({ slug: `c${i}`, name: `Region ${i}`, status: 'green' as const }));
    const [embed] = render('discord', { ...OPENED, incident: incident({ components }) }).embeds;
    expect(embed.fields).toHaveLength(25);
    expect(embed.fields[23].name).toBe('Region 23');
    expect(embed.fields[24]).toEqual({ name: '…', value: 'and 6 more', inline: true });
  });
});

describe('docs/webhook-formats.md', () => {
  it('every example payload is what renderNotice produces today', () => {
    const doc = readFileSync(new URL('../../docs/webhook-formats.md', import.meta.url), 'utf8');
    const examples = [...doc.matchAll(/<!-- example: (\w+) ([\w.]+) -->\n```json\n([\s\S]*?)\n```/g)];
    expect(examples.map((m) => m[1])).toEqual(expect.arrayContaining([...WEBHOOK_FORMATS]));
    for (const [, format, name, json] of examples) {
      const body = renderNotice(format as WebhookFormat, NOTICES[name as NoticeName], CTX).body;
      expect(json, `${format} ${name}`).toBe(JSON.stringify(JSON.parse(body), null, 2));
    }
  });
});
