import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { freshDatabase } from '../support/db.ts';
import { testApp } from '../support/app.ts';

/**
 * Alert intake through HTTP (issue 17): rules managed by the API, notifications from
 * Alertmanager (webhook v4) and Grafana opening, updating and recovering incidents, the
 * commander kept in charge, and every notification recorded in the inbox. Each test has its own
 * database and clock; the decisions themselves are covered case by case in test/intake/decide.test.ts.
 */

const handles: DatabaseHandle[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
});

const GROUP = '{}/{severity="page"}:{alertname="DatabaseDown"}';

interface AlertSpec {
  readonly fingerprint: string;
  readonly status?: 'firing' | 'resolved';
  readonly startsAt: string;
  readonly endsAt?: string;
  readonly labels?: Record<string, string>;
  readonly summary?: string;
}

/** An Alertmanager webhook v4 body, as Alertmanager 0.25 sends it. */
function amBody(alerts: readonly AlertSpec[], options: { groupKey?: string; truncatedAlerts?: number } = {}): string {
  const list = alerts.map((a) => ({
    status: a.status ?? 'firing',
    labels: { alertname: 'DatabaseDown', severity: 'page', environment: 'production', ...a.labels },
    annotations: { summary: a.summary ?? `${a.fingerprint} is down` },
    startsAt: a.startsAt,
    endsAt: a.endsAt ?? '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus.example:9090/graph',
    fingerprint: a.fingerprint,
  }));
  return JSON.stringify({
    version: '4',
    groupKey: options.groupKey ?? GROUP,
    truncatedAlerts: options.truncatedAlerts ?? 0,
    status: list.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'herald',
    groupLabels: { alertname: 'DatabaseDown' },
    commonLabels: { alertname: 'DatabaseDown', severity: 'page' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example:9093',
    alerts: list,
  });
}

async function fresh(env: Record<string, string> = {}) {
  const handle = await freshDatabase();
  handles.push(handle);
  const t = await testApp(handle, { HERALD_ENVIRONMENTS: 'production:Production,staging:Staging', ...env });
  t.clock.set('2024-06-10T10:00:00Z');
  const admin = await t.token(['admin'], 'ops');
  const prom = await t.token(['alerts:write'], 'prometheus');
  const commander = await t.token(['incidents:write'], 'alice');
  const rule = async (body: Record<string, unknown>) => {
    const res = await t.call('POST', '/api/v1/alert-rules', { token: admin, body: { name: 'Paging alerts', matchers: 'severity="page"', ...body } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const send = async (alerts: readonly AlertSpec[], options: Parameters<typeof amBody>[1] = {}) => {
    const res = await t.call('POST', '/api/v1/alerts/alertmanager', { token: prom, raw: amBody(alerts, options) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as { outcome: string; incident_id: number | null; reason: string | null; notes: string[]; inbox_id: string };
  };
  const incident = async (id: number) => (await t.call('GET', `/api/v1/incidents/${id}`)).body;
  const incidents = async () => (await t.call('GET', '/api/v1/incidents')).body.incidents as any[];
  const inbox = async () => (await t.call('GET', '/api/v1/alerts/inbox', { token: admin })).body as any[];
  return { ...t, admin, prom, commander, rule, send, incident, incidents, inbox };
}

describe('alert rules', () => {
  it('when a rule is created with only name and matchers, the defaults are filled in and it is version 1 with its history', async () => {
    const t = await fresh();
    const made = await t.rule({ matchers: 'severity=~"critical|page"' });
    expect(made).toMatchObject({
      id: 1,
      name: 'Paging alerts',
      position: 1,
      source: null,
      matchers: '{severity=~"critical|page"}',
      component: { label: 'environment' },
      status: 'red',
      modes: {},
      auto_resolve: false,
      quiet_period_minutes: 30,
      templates: { title: null, opened: null, added: null, recovered: null },
      enabled: true,
      version: 1,
      created_by: 'ops',
    });
    const shown = await t.call('GET', '/api/v1/alert-rules/1', { token: t.admin });
    expect(shown.body.versions).toHaveLength(1);
    expect(shown.body.versions[0]).toMatchObject({ version: 1, changed_by: 'token:ops#1', rule: { matchers: '{severity=~"critical|page"}' } });
  });

  it('when a rule body is wrong in many ways, one 400 lists every problem and nothing is saved', async () => {
    const t = await fresh();
    const res = await t.call('POST', '/api/v1/alert-rules', {
      token: t.admin,
      body: {
        name: '',
        matchers: 'severity=~"(a',
        component: 'nowhere',
        status: 'green',
        modes: { web: 'off', queue: 'read_only' },
        quiet_period_minutes: -1,
        templates: { opened: 'Down: {{ labels.instance ', bogus: 'x' },
        colour: 'blue',
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('rule.invalid_input');
    const paths = (res.body.errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(expect.arrayContaining(['(body)', 'component', 'matchers', 'modes.queue', 'modes.web', 'name', 'quiet_period_minutes', 'status', 'templates', 'templates.opened']));
    expect(JSON.stringify(res.body.errors)).toContain('unknown component \\"nowhere\\"');
    expect((await t.call('GET', '/api/v1/alert-rules', { token: t.admin })).body).toEqual([]);
    const nul = await t.call('POST', '/api/v1/alert-rules', { token: t.admin, body: { name: 'a\u0000b', matchers: '' } });
    expect(nul.status).toBe(400);
    expect(nul.body.errors).toEqual([{ path: '(body)', message: 'must not contain NUL characters' }]);
  });

  it('when a rule is edited it gets a new version, the old one is kept, and moving it renumbers the others', async () => {
    const t = await fresh();
    await t.rule({ name: 'first' });
    await t.rule({ name: 'second', component: 'staging' });
    const edited = await t.call('PATCH', '/api/v1/alert-rules/2', { token: t.admin, body: { status: 'orange', position: 1, templates: { opened: 'Staging trouble: {{ count }} alerts' } } });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ version: 2, status: 'orange', position: 1, component: { fixed: 'staging' }, templates: { opened: 'Staging trouble: {{ count }} alerts' } });
    const list = (await t.call('GET', '/api/v1/alert-rules', { token: t.admin })).body;
    expect(list.map((r: any) => [r.name, r.position])).toEqual([['second', 1], ['first', 2]]);
    const versions = (await t.call('GET', '/api/v1/alert-rules/2', { token: t.admin })).body.versions;
    expect(versions.map((v: any) => [v.version, v.rule.status])).toEqual([[2, 'orange'], [1, 'red']]);
  });

  it('when a rule is removed it is gone from the list and from matching, and its versions stay in the audit', async () => {
    const t = await fresh();
    await t.rule({});
    expect((await t.call('DELETE', '/api/v1/alert-rules/1', { token: t.admin })).status).toBe(200);
    expect((await t.call('GET', '/api/v1/alert-rules', { token: t.admin })).body).toEqual([]);
    expect((await t.call('GET', '/api/v1/alert-rules/1', { token: t.admin })).status).toBe(404);
    expect((await t.send([{ fingerprint: 'a', startsAt: '2024-06-10T09:59:00Z' }])).outcome).toBe('unmatched');
    const audit = await t.db.selectFrom('audit_log').select(['action']).where('target', '=', 'alert_rule:1').orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['alert_rule.create', 'alert_rule.remove']);
  });

  it('when a token without admin asks for rules or the inbox it gets 403; without a token, 401', async () => {
    const t = await fresh();
    expect((await t.call('GET', '/api/v1/alert-rules')).status).toBe(401);
    expect((await t.call('GET', '/api/v1/alert-rules', { token: t.prom })).status).toBe(403);
    expect((await t.call('POST', '/api/v1/alert-rules', { token: t.commander, body: { name: 'x', matchers: '' } })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/alerts/inbox', { token: t.prom })).status).toBe(403);
  });
});

describe('Alertmanager intake', () => {
  it('when a paging alert fires, an incident opens as alertmanager at the alert start, red on its component, on / and in summary.json', async () => {
    const t = await fresh();
    await t.rule({});
    const res = await t.send([{ fingerprint: 'f1', startsAt: '2024-06-10T09:58:30Z', summary: 'primary unreachable' }]);
    expect(res).toMatchObject({ outcome: 'opened', incident_id: 1, rule_id: 1 });
    const inc = await t.incident(1);
    expect(inc).toMatchObject({ title: 'DatabaseDown', state: 'investigating', started_at: '2024-06-10T09:58:30.000Z', statuses: { production: 'red' }, modes: {} });
    expect(inc.updates[0].author).toBe('alertmanager');
    expect(inc.updates[0].message).toBe('Our automated systems have detected potential platform errors. We are investigating.\n\n- DatabaseDown (production): primary unreachable');
    const page = await (await t.app.request('/')).text();
    expect(page).toContain('DatabaseDown');
    const summary = await (await t.app.request('/api/v2/summary.json')).json();
    expect(summary.incidents.map((i: any) => i.name)).toEqual(['DatabaseDown']);
    expect(summary.components.find((c: any) => c.name === 'Production').status).toBe('major_outage');
  });

  it('when the rule sets modes, the incident puts those roles in them, and only then', async () => {
    const t = await fresh();
    await t.rule({ modes: { web: 'read_only' } });
    await t.send([{ fingerprint: 'f1', startsAt: '2024-06-10T09:58:30Z' }]);
    expect((await t.incident(1)).modes).toEqual({ web: 'read_only' });
    const platform = (await t.call('GET', '/api/v1/platform')).body;
    expect(JSON.stringify(platform)).toContain('read_only');
  });

  it('when more alerts of the group fire, one update lists only the new ones; the same notification again changes nothing', async () => {
    const t = await fresh();
    await t.rule({});
    await t.send([{ fingerprint: 'f1', startsAt: '2024-06-10T09:58:00Z' }]);
    t.clock.set('2024-06-10T10:05:00Z');
    const two = [
      { fingerprint: 'f1', startsAt: '2024-06-10T09:58:00Z' },
      { fingerprint: 'f2', startsAt: '2024-06-10T10:03:00Z', labels: { environment: 'staging' }, summary: 'replica lagging' },
      { fingerprint: 'f3', startsAt: '2024-06-10T10:04:00Z', summary: 'second primary' },
    ];
    expect((await t.send(two)).outcome).toBe('updated');
    t.clock.set('2024-06-10T10:10:00Z');
    const again = await t.send(two);
    expect(again).toMatchObject({ outcome: 'ignored', reason: 'no new information' });
    const inc = await t.incident(1);
    expect(inc.updates).toHaveLength(2);
    const update = inc.updates[0];
    expect(update.message).toContain('replica lagging');
    expect(update.message).toContain('second primary');
    expect(update.message).not.toContain('f1 is down');
    expect(update.statuses).toEqual({ staging: 'red', production: 'red' });
    expect(update.at).toBe('2024-06-10T10:04:00.000Z');
  });

  it('when every alert of the group resolves, a recovery update greens its components and the incident stays open for the commander', async () => {
    const t = await fresh();
    await t.rule({ modes: { web: 'read_only' } });
    await t.send([{ fingerprint: 'f1', startsAt: '2024-06-10T09:58:00Z' }]);
    t.clock.set('2024-06-10T10:20:00Z');
    const res = await t.send([{ fingerprint: 'f1', status: 'resolved', startsAt: '2024-06-10T09:58:00Z', endsAt: '2024-06-10T10:15:00Z' }]);
    expect(res.outcome).toBe('recovered');
    const inc = await t.incident(1);
    expect(inc).toMatchObject({ state: 'investigating', statuses: { production: 'green' }, modes: { web: 'full' } });
    expect(inc.updates[0]).toMatchObject({ at: '2024-06-10T10:15:00.000Z', author: 'alertmanager', message: expect.stringContaining('see recovery') });
  });

  it('when the rule auto-resolves and no human posted, recovery resolves the incident; once a commander posted, it only recovers', async () => {
    const t = await fresh();
    await t.rule({ auto_resolve: true });
    await t.send([{ fingerprint: 'f1', startsAt: '2024-06-10T09:58:00Z' }]);
    t.clock.set('2024-06-10T10:20:00Z');
    expect((await t.send([{ fingerprint: 'f1', status: 'resolved', startsAt: '2024-06-10T09:58:00Z', endsAt: '2024-06-10T10:15:00Z' }])).outcome).toBe('resolved');
    expect((await t.incident(1)).state).toBe('resolved');

    const other = '{}/{severity="page"}:{alertname="QueueStuck"}';
    t.clock.set('2024-06-10T11:00:00Z');
    expect((await t.send([{ fingerprint: 'q1', startsAt: '2024-06-10T10:59:00Z', labels: { alertname: 'QueueStuck' } }], { groupKey: other })).outcome).toBe('opened');
    const posted = await t.call('POST', '/api/v1/incidents/2/updates', { token: t.commander, body: { state: 'identified', message: 'A stuck consumer; restarting it.' } });
    expect(posted.status).toBe(201);
    t.clock.set('2024-06-10T11:10:00Z');
    const res = await t.send([{ fingerprint: 'q1', status: 'resolved', startsAt: '2024-06-10T10:59:00Z', endsAt: '2024-06-10T11:08:00Z', labels: { alertname: 'QueueStuck' } }], { groupKey: other });
    expect(res.outcome).toBe('recovered');
    expect((await t.incident(2)).state).toBe('identified');
  });

  it('when a commander resolves mid-storm, firing notifications do not reopen it; after the quiet period a new incident opens', async () => {
    const t = await fresh();
    await t.rule({ quiet_period_minutes: 15 });
    const storm = [{ fingerprint: 'f1', startsAt: '2024-06-10T09:58:00Z' }];
    await t.send(storm);
    t.clock.set('2024-06-10T10:05:00Z');
    expect((await t.call('POST', '/api/v1/incidents/1/updates', { token: t.commander, body: { state: 'resolved', message: 'False alarm: the probe was broken.', statuses: { production: 'green' } } })).status).toBe(201);
    t.clock.set('2024-06-10T10:10:00Z');
    const held = await t.send(storm);
    expect(held.outcome).toBe('ignored');
    expect(held.reason).toContain('quiet period');
    expect((await t.incident(1)).state).toBe('resolved');
    expect((await t.incidents()).length).toBe(1);
    t.clock.set('2024-06-10T10:21:00Z');
    const reopened = await t.send(storm);
    expect(reopened).toMatchObject({ outcome: 'opened', incident_id: 2 });
    // The new incident starts no earlier than the commander's resolution.
    expect((await t.incident(2)).started_at).toBe('2024-06-10T10:05:00.000Z');
  });

  it('when a resolved notification overtakes its firing one, nothing opens, and the late firing one cannot open anything', async () => {
    const t = await fresh();
    await t.rule({});
    const first = await t.send([{ fingerprint: 'f1', status: 'resolved', startsAt: '2024-06-10T09:58:00Z', endsAt: '2024-06-10T09:59:30Z' }]);
    expect(first).toMatchObject({ outcome: 'ignored', reason: 'nothing firing and no open incident' });
    const late = await t.send([{ fingerprint: 'f1', startsAt: '2024-06-10T09:58:00Z' }]);
    expect(late.outcome).toBe('ignored');
    expect(late.reason).toContain('stale');
    expect(await t.incidents()).toEqual([]);
  });

  it('when an alert flaps (fires, recovers, fires again) while the incident is open, the re-fire is one update that sets the rule\'s modes again', async () => {
    const t = await fresh();
    await t.rule({ modes: { web: 'read_only' } });
    await t.send([{ fingerprint: 'f1', startsAt: '2024-06-10T09:58:00Z' }]);
    t.clock.set('2024-06-10T10:10:00Z');
    await t.send([{ fingerprint: 'f1', status: 'resolved', startsAt: '2024-06-10T09:58:00Z', endsAt: '2024-06-10T10:08:00Z' }]);
    t.clock.set('2024-06-10T10:15:00Z');
    const again = await t.send([{ fingerprint: 'f1', startsAt: '2024-06-10T10:12:00Z' }]);
    expect(again.outcome).toBe('updated');
    const inc = await t.incident(1);
    expect(inc.updates).toHaveLength(3);
    expect(inc.updates[0].message).toContain('errors again');
    expect(inc).toMatchObject({ statuses: { production: 'red' }, modes: { web: 'read_only' } });
  });

  it('when no rule matches, or the body is not a v4 notification, the answer says so (200 unmatched, 400 listing problems) and the inbox records both', async () => {
    const t = await fresh();
    await t.rule({ matchers: 'team="db"' });
    expect((await t.send([{ fingerprint: 'f1', startsAt: '2024-06-10T09:58:00Z' }])).outcome).toBe('unmatched');
    const bad = await t.call('POST', '/api/v1/alerts/alertmanager', { token: t.prom, raw: JSON.stringify({ version: '4', status: 'burning', alerts: [{ labels: 1 }] }) });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('alert.invalid_payload');
    expect(bad.body.errors.map((e: any) => e.path)).toEqual(expect.arrayContaining(['groupKey', 'status', 'alerts.0.labels', 'alerts.0.fingerprint']));
    const nul = await t.call('POST', '/api/v1/alerts/alertmanager', { token: t.prom, raw: amBody([{ fingerprint: 'f\u0000', startsAt: '2024-06-10T09:58:00Z' }]) });
    expect(nul.status).toBe(400);
    expect(nul.body.errors).toEqual([{ path: '(body)', message: 'must not contain NUL characters' }]);
    const notJson = await t.call('POST', '/api/v1/alerts/alertmanager', { token: t.prom, raw: '<xml/>' });
    expect(notJson.status).toBe(400);
    expect((await t.call('POST', '/api/v1/alerts/alertmanager', { token: t.prom, raw: JSON.stringify({ version: '3' }) })).body.errors[0].path).toBe('version');
    const inbox = await t.inbox();
    expect(inbox.map((r) => r.outcome)).toEqual(['invalid', 'invalid', 'invalid', 'invalid', 'unmatched']);
    expect(inbox[3].reason).toContain('status');
    const entry = await t.call('GET', `/api/v1/alerts/inbox/${inbox[4].id}`, { token: t.admin });
    expect(JSON.parse(entry.body.payload).alerts[0].fingerprint).toBe('f1');
  });

  it('when a token lacks alerts:write, or there is none, the intake refuses it and records nothing', async () => {
    const t = await fresh();
    await t.rule({});
    const body = amBody([{ fingerprint: 'f1', startsAt: '2024-06-10T09:58:00Z' }]);
    expect((await t.call('POST', '/api/v1/alerts/alertmanager', { raw: body })).status).toBe(401);
    expect((await t.call('POST', '/api/v1/alerts/alertmanager', { token: t.commander, raw: body })).status).toBe(403);
    expect(await t.inbox()).toEqual([]);
  });

  it('when a notification is larger than the API limit of 256 KiB (a thousand alerts), it is still read', async () => {
    const t = await fresh();
    await t.rule({});
    const alerts = Array.from({ length: 1000 }, (_, i) => ({ fingerprint: `fp${i}`, startsAt: '2024-06-10T09:58:00Z', summary: `instance ${i} ${'x'.repeat(200)}` }));
    const raw = amBody(alerts);
    expect(raw.length).toBeGreaterThan(256 * 1024);
    const res = await t.call('POST', '/api/v1/alerts/alertmanager', { token: t.prom, raw });
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('opened');
  });

  it('when notifications of one new group arrive at once, exactly one incident opens and every alert is on it', async () => {
    const t = await fresh();
    await t.rule({});
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => t.call('POST', '/api/v1/alerts/alertmanager', { token: t.prom, raw: amBody([{ fingerprint: `f${i}`, startsAt: `2024-06-10T09:5${i}:00Z` }]) })),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(results.filter((r) => r.body.outcome === 'opened')).toHaveLength(1);
    expect(await t.incidents()).toHaveLength(1);
    const text = (await t.incident(1)).updates.map((u: any) => u.message).join('\n');
    for (let i = 0; i < 6; i++) expect(text).toContain(`f${i} is down`);
  });

  it('when an update is posted by alerts it reaches webhook subscribers as any update does (the outbox holds its notice)', async () => {
    const t = await fresh();
    await t.rule({});
    await t.send([{ fingerprint: 'f1', startsAt: '2024-06-10T09:58:00Z' }]);
    const notices = await t.db.selectFrom('outbox_notices').select(['type']).execute();
    expect(notices.map((n) => n.type)).toContain('incident.opened');
  });
});

describe('Grafana intake', () => {
  const grafanaBody = readFileSync(new URL('../intake/fixtures/grafana-firing.json', import.meta.url), 'utf8');
  const SECRET = 'a-long-shared-secret-for-grafana';
  const sign = (body: string, timestamp?: string) => createHmac('sha256', SECRET).update(timestamp === undefined ? body : `${timestamp}:${body}`).digest('hex');

  it('when HERALD_GRAFANA_SECRET is set, a correctly signed notification opens an incident authored by grafana; a wrong signature is a 401', async () => {
    const t = await fresh({ HERALD_GRAFANA_SECRET: SECRET });
    await t.rule({ matchers: 'team="storage"', component: 'production' });
    const wrong = await t.call('POST', '/api/v1/alerts/grafana', { raw: grafanaBody, headers: { 'x-grafana-alerting-signature': sign(`${grafanaBody} `) } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('alert.bad_signature');
    const res = await t.call('POST', '/api/v1/alerts/grafana', { raw: grafanaBody, headers: { 'x-grafana-alerting-signature': sign(grafanaBody) } });
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('opened');
    expect((await t.incident(res.body.incident_id)).updates[0].author).toBe('grafana');
  });

  it('when a timestamp header is configured, it is required, signed, and must be within 5 minutes', async () => {
    const t = await fresh({ HERALD_GRAFANA_SECRET: SECRET, HERALD_GRAFANA_TIMESTAMP_HEADER: 'X-Grafana-Alerting-Timestamp' });
    await t.rule({ matchers: 'team="storage"', component: 'production' });
    const now = String(Math.floor(t.clock.now().getTime() / 1000));
    const post = (headers: Record<string, string>) => t.call('POST', '/api/v1/alerts/grafana', { raw: grafanaBody, headers });
    expect((await post({ 'x-grafana-alerting-signature': sign(grafanaBody) })).status).toBe(401);
    const old = String(Number(now) - 600);
    expect((await post({ 'x-grafana-alerting-signature': sign(grafanaBody, old), 'x-grafana-alerting-timestamp': old })).status).toBe(401);
    expect((await post({ 'x-grafana-alerting-signature': sign(grafanaBody, now), 'x-grafana-alerting-timestamp': now })).status).toBe(200);
  });

  it('when no secret is set, Grafana needs a token with alerts:write (its Authorization header setting)', async () => {
    const t = await fresh();
    await t.rule({ matchers: 'team="storage"', component: 'production' });
    expect((await t.call('POST', '/api/v1/alerts/grafana', { raw: grafanaBody })).status).toBe(401);
    const res = await t.call('POST', '/api/v1/alerts/grafana', { token: t.prom, raw: grafanaBody });
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('opened');
  });

  it('when a rule is for Alertmanager only, Grafana alerts pass it by', async () => {
    const t = await fresh();
    await t.rule({ matchers: 'team="storage"', component: 'production', source: 'alertmanager' });
    expect((await t.call('POST', '/api/v1/alerts/grafana', { token: t.prom, raw: grafanaBody })).body.outcome).toBe('unmatched');
  });
});

describe("the group's memory", () => {
  it('when a resolved alert is not reported for a week it is forgotten; a firing one is kept however old', async () => {
    const t = await fresh();
    await t.rule({});
    await t.send([
      { fingerprint: 'old', startsAt: '2024-06-10T09:50:00Z' },
      { fingerprint: 'long', startsAt: '2024-06-10T09:51:00Z' },
    ]);
    t.clock.set('2024-06-10T10:30:00Z');
    await t.send([
      { fingerprint: 'old', status: 'resolved', startsAt: '2024-06-10T09:50:00Z', endsAt: '2024-06-10T10:20:00Z' },
      { fingerprint: 'long', startsAt: '2024-06-10T09:51:00Z' },
    ]);
    const known = async () => Object.keys((await t.db.selectFrom('alert_groups').select('known').executeTakeFirstOrThrow()).known).sort();
    expect(await known()).toEqual(['long', 'old']);
    t.clock.set('2024-06-18T10:30:00Z');
    await t.send([{ fingerprint: 'long', startsAt: '2024-06-10T09:51:00Z' }]);
    expect(await known()).toEqual(['long']);
  });
});

describe('the inbox', () => {
  it('when entries are older than HERALD_ALERT_INBOX_DAYS, the next notification prunes them; incidents stay', async () => {
    const t = await fresh({ HERALD_ALERT_INBOX_DAYS: '2' });
    await t.rule({});
    await t.send([{ fingerprint: 'f1', startsAt: '2024-06-10T09:58:00Z' }]);
    t.clock.set('2024-06-13T10:00:00Z');
    // Pruning runs at most hourly per process: a fresh app prunes on its first notification.
    const later = await testApp(handles.at(-1)!, { HERALD_ENVIRONMENTS: 'production:Production,staging:Staging', HERALD_ALERT_INBOX_DAYS: '2' });
    later.clock.set('2024-06-13T10:00:00Z');
    expect((await later.call('POST', '/api/v1/alerts/alertmanager', { token: t.prom, raw: amBody([{ fingerprint: 'z', startsAt: '2024-06-13T09:00:00Z', labels: { severity: 'info' } }]) })).status).toBe(200);
    const inbox = await t.inbox();
    expect(inbox.map((r) => r.outcome)).toEqual(['unmatched']);
    expect(await t.incidents()).toHaveLength(1);
  });
});
