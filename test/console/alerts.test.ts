import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { freshDatabase } from '../support/db.ts';
import { testApp } from '../support/app.ts';
import { consoleClient, inputValue, words } from '../support/console.ts';

/**
 * The console's alerts pages (/console/alerts, admin only): the rules in the order they are
 * tried, adding, editing (a new version each time, with its history), moving and removing one;
 * the inbox of received notifications with what each did, and a page per entry with its body.
 * Every test starts on a fresh database whose components are production and staging (roles web
 * and worker), with the commander "ops" (admin) signed in.
 */

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let admin: string;
let b: ReturnType<typeof consoleClient>;

beforeEach(async () => {
  handle = await freshDatabase();
  t = await testApp(handle, { HERALD_ENVIRONMENTS: 'production:Production,staging:Staging' });
  admin = await t.token(['admin'], 'ops');
  b = consoleClient(t);
  await b.signIn(admin);
});
afterEach(async () => handle.close());

/** Each row of a table (by its class) as its words, by row id. */
const rows = (html: string, table: string): Record<string, string> => {
  const start = html.indexOf(`<table class="${table}">`);
  if (start === -1) return {};
  const body = html.slice(start, html.indexOf('</table>', start));
  return Object.fromEntries([...body.matchAll(/<tr id="([^"]+)"[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => [m[1], words(m[2]!).trim()]));
};
/** The raw HTML of one table row, by its id. */
const rowHtml = (html: string, id: string) => {
  const start = html.indexOf(`<tr id="${id}"`);
  return start === -1 ? '' : html.slice(start, html.indexOf('</tr>', start));
};
/** The text of a field's error, shown right beside it. */
const fieldError = (html: string, id: string) => {
  const m = new RegExp(`<p class="field-error" id="f-${id}-error"><span class="sr-only">Error: </span>([^<]*)</p>`).exec(html);
  return m ? words(m[1]!) : undefined;
};
const textareaValue = (html: string, name: string) => {
  const m = new RegExp(`<textarea[^>]*name="${name.replace(/[.]/g, '\\.')}"[^>]*>([^<]*)</textarea>`).exec(html);
  return m?.[1];
};
const selected = (html: string, name: string) => {
  const start = html.indexOf(`name="${name}"`);
  const select = html.slice(start, html.indexOf('</select>', start));
  return /<option value="([^"]*)" selected="">/.exec(select)?.[1];
};

const rule = async (body: Record<string, unknown>) => {
  const res = await t.call('POST', '/api/v1/alert-rules', { token: admin, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: number; name: string; version: number };
};
const ruleCount = async () => (await t.call('GET', '/api/v1/alert-rules', { token: admin })).body.length as number;

/** An Alertmanager (webhook version 4) notification of firing alerts, built by hand as Alertmanager sends it. */
function alertmanager(options: { groupKey?: string; labels?: Record<string, string>; annotations?: Record<string, string>; status?: 'firing' | 'resolved' } = {}) {
  const labels = { alertname: 'HighLatency', environment: 'production', severity: 'page', ...options.labels };
  const annotations = { summary: 'p99 latency is 2.4s', ...options.annotations };
  const status = options.status ?? 'firing';
  return {
    version: '4',
    groupKey: options.groupKey ?? '{}:{alertname="HighLatency"}',
    truncatedAlerts: 0,
    status,
    receiver: 'herald',
    groupLabels: { alertname: labels.alertname },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: 'http://alertmanager.example.com:9093',
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: '2026-03-01T09:55:00Z',
        endsAt: status === 'resolved' ? '2026-03-01T09:58:00Z' : '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example.com:9090/graph',
        fingerprint: '5c0b8a9e3f1d2a47',
      },
    ],
  };
}

let sender: string | undefined;
const post = async (payload: unknown) => {
  sender ??= await t.token(['alerts:write'], 'alertmanager');
  return t.call('POST', '/api/v1/alerts/alertmanager', { token: sender, ...(typeof payload === 'string' ? { raw: payload } : { body: payload }) });
};
beforeEach(() => {
  sender = undefined;
});

/** A full add or edit form, as a browser sends it (unchecked boxes absent). */
const form = (fields: Record<string, string> = {}) => ({
  name: 'Pages',
  matchers: 'severity="page"',
  source: '',
  component_from: 'label',
  component_label: 'environment',
  component: '',
  status: 'red',
  'modes.web': '',
  'modes.worker': '',
  quiet_period_minutes: '30',
  'templates.title': '',
  'templates.opened': '',
  'templates.added': '',
  'templates.recovered': '',
  position: '',
  enabled: 'on',
  ...fields,
});

describe('console: alert rules', () => {
  it('lists the rules in the order they are tried, each with its matchers, component, status, modes, auto-resolve, quiet period, state and version; linked from the navigation', async () => {
    const pages = await rule({ name: 'Pages', matchers: 'severity=~"critical|page"', modes: { web: 'read_only' }, auto_resolve: true });
    const db = await rule({ name: 'Database', source: 'grafana', matchers: 'team="db"', component: 'staging', status: 'orange', quiet_period_minutes: 0, enabled: false, position: 1 });

    const page = await b.get('/console/alerts');
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.html).toContain('<a href="/console/alerts" aria-current="page">Alerts</a>');
    expect(rows(page.html, 'alert-rules')).toEqual({
      [`rule-${db.id}`]: '1 Database grafana {team="db"} fixed: staging orange none no 0 min no v1 Edit Move down',
      [`rule-${pages.id}`]: '2 Pages both {severity=~"critical|page"} label: environment red web read_only yes 30 min yes v1 Edit Move up',
    });
    expect(Object.keys(rows(page.html, 'alert-rules'))).toEqual([`rule-${db.id}`, `rule-${pages.id}`]);
    expect(page.html).toContain(`<a href="/console/alerts/rules/${pages.id}">Pages</a>`);
  });

  it('"how to connect" gives the two intake URLs under PUBLIC_URL and names the docs', async () => {
    const text = words((await b.get('/console/alerts')).html);
    expect(text).toContain('How to connect');
    expect(text).toContain('https://status.example.com/api/v1/alerts/alertmanager');
    expect(text).toContain('https://status.example.com/api/v1/alerts/grafana');
    expect(text).toContain('docs/alerts.md');
  });

  it('the add form saves a rule with every field, including the four templates, as version 1', async () => {
    const page = await b.get('/console/alerts');
    expect(inputValue(page.html, 'component_label')).toBe('environment');
    const res = await b.post(
      '/console/alerts/rules',
      form({
        _key: inputValue(page.html, '_key')!,
        name: 'Checkout pages',
        matchers: 'severity=~"critical|page", team="checkout"',
        source: 'alertmanager',
        component_from: 'fixed',
        component: 'production',
        status: 'orange',
        'modes.web': 'read_only',
        auto_resolve: 'on',
        quiet_period_minutes: '15',
        'templates.title': 'Checkout: {{ labels.alertname }}',
        'templates.opened': '{{ count }} alerts firing:\r\n{{ alerts }}',
        'templates.added': 'More: {{ alerts }}',
        'templates.recovered': 'Recovered: {{ annotations.summary | default: "all clear" }}',
      }),
    );
    expect(res.status).toBe(303);
    const [made] = (await t.call('GET', '/api/v1/alert-rules', { token: admin })).body;
    expect(res.location).toBe(`/console/alerts?done=rule-added#rule-${made.id}`);
    expect(made).toMatchObject({
      name: 'Checkout pages',
      position: 1,
      source: 'alertmanager',
      matchers: '{severity=~"critical|page", team="checkout"}',
      component: { fixed: 'production' },
      status: 'orange',
      modes: { web: 'read_only' },
      auto_resolve: true,
      quiet_period_minutes: 15,
      templates: { title: 'Checkout: {{ labels.alertname }}', opened: '{{ count }} alerts firing:\n{{ alerts }}', added: 'More: {{ alerts }}', recovered: 'Recovered: {{ annotations.summary | default: "all clear" }}' },
      enabled: true,
      version: 1,
      created_by: 'ops',
    });
    const list = await b.get(res.location!);
    expect(words(list.html)).toContain('Rule added.');
    expect(rows(list.html, 'alert-rules')[`rule-${made.id}`]).toBe(`1 Checkout pages alertmanager {severity=~"critical|page", team="checkout"} fixed: production orange web read_only yes 15 min yes v1 Edit`);
    // the same form posted again (a double click) adds nothing more
    const again = await b.post('/console/alerts/rules', form({ _key: inputValue(page.html, '_key')!, name: 'Checkout pages', matchers: 'severity=~"critical|page", team="checkout"', source: 'alertmanager', component_from: 'fixed', component: 'production', status: 'orange', 'modes.web': 'read_only', auto_resolve: 'on', quiet_period_minutes: '15', 'templates.title': 'Checkout: {{ labels.alertname }}', 'templates.opened': '{{ count }} alerts firing:\r\n{{ alerts }}', 'templates.added': 'More: {{ alerts }}', 'templates.recovered': 'Recovered: {{ annotations.summary | default: "all clear" }}' }));
    expect(again.location).toBe(res.location);
    expect(await ruleCount()).toBe(1);
  });

  it('when the add form is wrong in many ways, it is 400 with every problem beside its field and what was typed kept; nothing is saved', async () => {
    await b.get('/console/alerts');
    const res = await b.post(
      '/console/alerts/rules',
      form({
        name: ' ',
        matchers: 'severity="page',
        component_from: 'fixed',
        component: 'nowhere',
        status: 'green',
        'modes.web': 'sideways',
        quiet_period_minutes: 'soon',
        'templates.title': 'Typed title',
        'templates.opened': 'Broken {{ labels.',
        'templates.recovered': '{{ nope | shout }}',
        position: '0',
      }),
    );
    expect(res.status).toBe(400);
    expect(res.html).toContain('Nothing was saved: please fix these');
    expect(fieldError(res.html, 'name')).toBe('must not be empty');
    expect(fieldError(res.html, 'matchers')).toBe('at 14: expected a closing " for the value opened at 9');
    expect(fieldError(res.html, 'component')).toMatch(/unknown component "nowhere" \(known: production, staging\)/);
    expect(fieldError(res.html, 'status')).toBe('must be one of yellow, orange, red, blue');
    expect(fieldError(res.html, 'modes-web')).toBe('must be one of full, read_only, maintenance');
    expect(fieldError(res.html, 'quiet_period_minutes')).toMatch(/must be a whole number of minutes/);
    expect(fieldError(res.html, 'templates-opened')).toMatch(/^line 1, column \d+: /);
    expect(fieldError(res.html, 'templates-recovered')).toMatch(/^line 1, column \d+: /);
    expect(fieldError(res.html, 'position')).toBe('must be a whole number from 1');
    expect(fieldError(res.html, 'templates-title')).toBeUndefined();
    // each problem in the summary links to its field
    expect(res.html).toContain('<a href="#f-templates-opened">Opened template: line 1');
    expect(res.html).toContain('<a href="#f-modes-web">Mode of web: must be one of full, read_only, maintenance</a>');
    // what was typed is kept
    expect(inputValue(res.html, 'matchers')).toBe('severity="page');
    expect(inputValue(res.html, 'quiet_period_minutes')).toBe('soon');
    expect(textareaValue(res.html, 'templates.title')).toBe('Typed title');
    expect(textareaValue(res.html, 'templates.opened')).toBe('Broken {{ labels.');
    expect(selected(res.html, 'status')).toBeUndefined(); // green is not offered
    expect(selected(res.html, 'component')).toBeUndefined();
    expect(res.html).toMatch(/<input type="radio" name="component_from" value="fixed" checked=""/);
    expect(await ruleCount()).toBe(0);
  });

  it('a form without this session\'s CSRF token is refused with 403 and adds nothing', async () => {
    await b.get('/console/alerts');
    const res = await b.post('/console/alerts/rules', form({ _csrf: 'not-the-token' }));
    expect(res.status).toBe(403);
    expect(words(res.html)).toContain("This form did not carry this session's security token");
    expect(await ruleCount()).toBe(0);
  });

  it('the edit page shows the rule in its form; saving makes version 2, and the history lists both with when and who', async () => {
    const made = await rule({ name: 'Pages', matchers: 'severity="page"', modes: { worker: 'maintenance' }, templates: { opened: 'Opened: {{ alerts }}' } });
    const page = await b.get(`/console/alerts/rules/${made.id}`);
    expect(page.status).toBe(200);
    expect(inputValue(page.html, 'name')).toBe('Pages');
    expect(inputValue(page.html, 'matchers')).toBe('{severity="page"}');
    expect(selected(page.html, 'modes.worker')).toBe('maintenance');
    expect(textareaValue(page.html, 'templates.opened')).toBe('Opened: {{ alerts }}');
    expect(Object.keys(rows(page.html, 'rule-versions'))).toEqual(['version-1']);
    expect(rows(page.html, 'rule-versions')['version-1']).toMatch(/^v1 2026-03-01 10:00 UTC token:ops#\d+ Version 1 /);

    const bad = await b.post(`/console/alerts/rules/${made.id}`, form({ _key: inputValue(page.html, '_key')!, name: 'Renamed', matchers: 'severity=~"("' }));
    expect(bad.status).toBe(400);
    expect(fieldError(bad.html, 'edit-matchers')).toBe('at 10: expected a regular expression that compiles: Unterminated group');
    expect(inputValue(bad.html, 'name')).toBe('Renamed');
    expect((await t.call('GET', `/api/v1/alert-rules/${made.id}`, { token: admin })).body.version).toBe(1);

    t.clock.set('2026-03-01T11:30:00Z');
    const again = await b.get(`/console/alerts/rules/${made.id}`);
    const saved = await b.post(`/console/alerts/rules/${made.id}`, form({ _key: inputValue(again.html, '_key')!, name: 'All pages', matchers: 'severity=~"page|critical"', status: 'yellow', 'templates.opened': '', enabled: '' }));
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`/console/alerts/rules/${made.id}?done=rule-saved`);
    const after = (await t.call('GET', `/api/v1/alert-rules/${made.id}`, { token: admin })).body;
    expect(after).toMatchObject({ name: 'All pages', matchers: '{severity=~"page|critical"}', status: 'yellow', modes: {}, templates: { opened: null }, enabled: false, version: 2 });
    const shown = await b.get(saved.location!);
    expect(words(shown.html)).toContain('Rule saved as a new version.');
    const history = rows(shown.html, 'rule-versions');
    expect(Object.keys(history)).toEqual(['version-2', 'version-1']);
    expect(history['version-2']).toMatch(/^v2 2026-03-01 11:30 UTC token:ops#\d+ Version 2 /);
    expect(history['version-1']).toMatch(/^v1 2026-03-01 10:00 UTC token:ops#\d+ Version 1 /);
    expect(rows((await b.get('/console/alerts')).html, 'alert-rules')[`rule-${made.id}`]).toMatch(/ no v2 Edit$/);
  });

  it('move up and down change the order the rules are tried in', async () => {
    const a = await rule({ name: 'A', matchers: 'a="1"' });
    const bRule = await rule({ name: 'B', matchers: 'b="1"' });
    const c = await rule({ name: 'C', matchers: 'c="1"' });
    const order = async () => Object.keys(rows((await b.get('/console/alerts')).html, 'alert-rules'));
    expect(await order()).toEqual([`rule-${a.id}`, `rule-${bRule.id}`, `rule-${c.id}`]);

    const list = await b.get('/console/alerts');
    const upC = inputValue(rowHtml(list.html, `rule-${c.id}`).slice(rowHtml(list.html, `rule-${c.id}`).indexOf('value="up"') - 300), '_key')!;
    const up = await b.post(`/console/alerts/rules/${c.id}/move`, { _key: upC, direction: 'up' });
    expect(up.status).toBe(303);
    expect(up.location).toBe(`/console/alerts?done=rule-moved#rule-${c.id}`);
    expect(await order()).toEqual([`rule-${a.id}`, `rule-${c.id}`, `rule-${bRule.id}`]);

    await b.get('/console/alerts');
    const down = await b.post(`/console/alerts/rules/${a.id}/move`, { direction: 'down' });
    expect(down.status).toBe(303);
    expect(await order()).toEqual([`rule-${c.id}`, `rule-${a.id}`, `rule-${bRule.id}`]);
    const page = await b.get(down.location!);
    expect(words(page.html)).toContain('Rule moved.');
    expect(rows(page.html, 'alert-rules')[`rule-${c.id}`]).toMatch(/^1 C .* Edit Move down$/);
    expect(rows(page.html, 'alert-rules')[`rule-${bRule.id}`]).toMatch(/^3 B .* Edit Move up$/);
  });

  it('remove asks first; confirmed, the rule is gone from the list and its page, and confirming twice is no error', async () => {
    const made = await rule({ name: 'Old', matchers: 'x="y"' });
    await b.get(`/console/alerts/rules/${made.id}`);
    const ask = await b.post(`/console/alerts/rules/${made.id}/remove`);
    expect(ask.status).toBe(200);
    expect(words(ask.html)).toContain(`Remove rule #${made.id}?`);
    expect(await ruleCount()).toBe(1);

    const done = await b.post(`/console/alerts/rules/${made.id}/remove`, { intent: 'confirm' });
    expect(done.location).toBe('/console/alerts?done=rule-removed');
    expect(await ruleCount()).toBe(0);
    const list = await b.get(done.location!);
    expect(words(list.html)).toContain('Rule removed.');
    expect(rows(list.html, 'alert-rules')).toEqual({});
    expect((await b.get(`/console/alerts/rules/${made.id}`)).status).toBe(404);
    expect((await b.post(`/console/alerts/rules/${made.id}/remove`, { intent: 'confirm' })).location).toBe('/console/alerts?done=rule-removed');
  });

  it('a session without the admin scope is refused the pages and the forms, and sees no Alerts link', async () => {
    const made = await rule({ name: 'Pages', matchers: 'severity="page"' });
    expect((await post('not json')).status).toBe(400);
    const [entry] = (await t.call('GET', '/api/v1/alerts/inbox', { token: admin })).body;
    const r = consoleClient(t, '203.0.113.9');
    await r.signIn(await t.token(['incidents:write', 'maintenance:write', 'components:write'], 'alice'));
    expect(r.lastHtml).not.toContain('href="/console/alerts"');
    expect((await r.get('/console/alerts')).status).toBe(403);
    expect((await r.get(`/console/alerts/rules/${made.id}`)).status).toBe(403);
    expect((await r.get(`/console/alerts/inbox/${entry.id}`)).status).toBe(403);
    await r.get('/console/incidents');
    expect((await r.post('/console/alerts/rules', form({ name: 'Sneaky' }))).status).toBe(403);
    expect((await r.post(`/console/alerts/rules/${made.id}`, form({ name: 'Sneaky' }))).status).toBe(403);
    expect((await r.post(`/console/alerts/rules/${made.id}/move`, { direction: 'down' })).status).toBe(403);
    expect((await r.post(`/console/alerts/rules/${made.id}/remove`, { intent: 'confirm' })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/alert-rules', { token: admin })).body).toMatchObject([{ id: made.id, name: 'Pages', version: 1 }]);
  });
});

describe('console: alert inbox', () => {
  it('shows what an Alertmanager notification did, newest first: "opened #N" linking to the incident, "updated", "no rule matched", "invalid: …"', async () => {
    const made = await rule({ name: 'Pages', matchers: 'severity="page"' });
    const opened = await post(alertmanager());
    expect(opened.status).toBe(200);
    expect(opened.body.outcome).toBe('opened');
    const incident = opened.body.incident_id as number;
    t.clock.set('2026-03-01T10:05:00Z');
    const again = await post(alertmanager());
    expect(again.body).toMatchObject({ outcome: 'ignored', reason: 'no new information' });
    const unmatched = await post(alertmanager({ groupKey: '{}:{alertname="DiskFull"}', labels: { alertname: 'DiskFull', severity: 'ticket' } }));
    expect(unmatched.body.outcome).toBe('unmatched');
    const invalid = await post({ version: '3' });
    expect(invalid.status).toBe(400);

    const page = await b.get('/console/alerts');
    const inbox = rows(page.html, 'alert-inbox');
    const ids = [opened.body.inbox_id, again.body.inbox_id, unmatched.body.inbox_id].map(String);
    const invalidId = Object.keys(inbox).find((k) => !ids.map((i) => `inbox-${i}`).includes(k))!.slice('inbox-'.length);
    expect(Object.keys(inbox)).toEqual([`inbox-${invalidId}`, `inbox-${ids[2]}`, `inbox-${ids[1]}`, `inbox-${ids[0]}`]);
    expect(inbox[`inbox-${ids[0]}`]).toBe(`2026-03-01 10:00 UTC alertmanager {}:{alertname="HighLatency"} firing 1 Pages (#${made.id} v1) opened #${incident} #${ids[0]}`);
    expect(inbox[`inbox-${ids[1]}`]).toBe(`2026-03-01 10:05 UTC alertmanager {}:{alertname="HighLatency"} firing 1 Pages (#${made.id} v1) ignored: no new information #${ids[1]}`);
    expect(inbox[`inbox-${ids[2]}`]).toBe(`2026-03-01 10:05 UTC alertmanager {}:{alertname="DiskFull"} firing 1 — no rule matched #${ids[2]}`);
    expect(inbox[`inbox-${invalidId}`]).toMatch(/^2026-03-01 10:05 UTC alertmanager — — 0 — invalid: .+ #\d+$/);
    expect(rowHtml(page.html, `inbox-${ids[0]}`)).toContain(`opened <a href="/console/incidents/${incident}">#${incident}</a>`);
    expect(rowHtml(page.html, `inbox-${ids[0]}`)).toContain(`<a href="/console/alerts/inbox/${ids[0]}"`);

    // the incident it links to is the one the alert opened
    const shown = await b.get(`/console/incidents/${incident}`);
    expect(shown.status).toBe(200);
    expect(words(shown.html)).toContain('HighLatency');
  });

  it('an entry\'s page shows what it did, its notes, and the body as received, indented', async () => {
    const made = await rule({ name: 'Pages', matchers: 'severity="page"' });
    const payload = alertmanager({ labels: { environment: 'moon' } });
    const res = await post(payload);
    expect(res.body).toMatchObject({ outcome: 'ignored' });
    const page = await b.get(`/console/alerts/inbox/${res.body.inbox_id}`);
    expect(page.status).toBe(200);
    const text = words(page.html);
    expect(text).toContain(`Rule Pages (#${made.id} v1)`);
    expect(text).toContain(`Outcome ignored: ${res.body.reason}`);
    expect(res.body.notes).toEqual(['alert 5c0b8a9e3f1d2a47 (HighLatency) names component "moon", which is not on the page']);
    expect(text).toContain('Notes alert 5c0b8a9e3f1d2a47 (HighLatency) names component "moon", which is not on the page');
    const pre = /<pre class="excerpt payload">([\s\S]*?)<\/pre>/.exec(page.html)?.[1];
    expect(pre?.replace(/&quot;/g, '"')).toBe(JSON.stringify(payload, null, 2));
    expect((await b.get('/console/alerts/inbox/999999')).status).toBe(404);
  });

  it('alert labels, annotations and a group key holding markup are shown as text on the list and the entry page, never as markup', async () => {
    await rule({ name: 'Everything', matchers: 'severity="page"' });
    const hostile = alertmanager({
      groupKey: '{}:{alertname="<script>alert(1)</script>"}',
      labels: { alertname: '<script>alert(1)</script>', team: '"><img src=x onerror=alert(2)>' },
      annotations: { summary: '</pre><script>alert(3)</script>' },
    });
    const res = await post(hostile);
    expect(res.status).toBe(200);
    for (const path of ['/console/alerts', `/console/alerts/inbox/${res.body.inbox_id}`]) {
      const { html } = await b.get(path);
      expect(html, path).not.toMatch(/<script>alert|<img src=x|<\/pre><script>/);
    }
    const { html } = await b.get(`/console/alerts/inbox/${res.body.inbox_id}`);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(html).toContain('&lt;/pre&gt;&lt;script&gt;alert(3)&lt;/script&gt;');
    expect((await b.get('/console/alerts')).html).toContain('{}:{alertname=&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;}');
  });

  it('pages by 50, newest first, with links to older and newer entries', async () => {
    for (let i = 0; i < 52; i++) await post(alertmanager({ groupKey: `group-${i}` }));
    const first = await b.get('/console/alerts');
    const shown = Object.values(rows(first.html, 'alert-inbox'));
    expect(shown).toHaveLength(50);
    expect(shown[0]).toContain('group-51 ');
    expect(shown[49]).toContain('group-2 ');
    const older = /<a href="(\/console\/alerts\?before=\d+#inbox)">Older →<\/a>/.exec(first.html)?.[1];
    expect(older).toBeDefined();
    expect(first.html).not.toContain('← Newer');
    const second = await b.get(older!);
    expect(Object.values(rows(second.html, 'alert-inbox')).map((r) => /group-\d+/.exec(r)?.[0])).toEqual(['group-1', 'group-0']);
    expect(second.html).toContain('<a href="/console/alerts#inbox">← Newer</a>');
    expect(second.html).not.toContain('Older →');
  });
});
