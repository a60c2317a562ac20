import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';
import { consoleClient, inputValue } from '../support/console.ts';

const MIN = 60_000;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let admin: string;

beforeAll(async () => {
  handle = await freshDatabase();
  t = await testApp(handle);
  admin = await t.token(['incidents:write'], 'alice');
});
afterAll(async () => handle.close());

/** The selected option of a <select name=…> in a page. */
function selected(html: string, name: string): string | undefined {
  const select = new RegExp(`<select[^>]*name="${name.replace('.', '\\.')}"[^>]*>([\\s\\S]*?)</select>`).exec(html)?.[1] ?? '';
  return /<option value="([^"]*)" selected=""/.exec(select)?.[1];
}
const incident = async (id: number) => (await t.call('GET', `/api/v1/incidents/${id}`)).body;

async function openIncident(b: ReturnType<typeof consoleClient>, fields: Record<string, string>) {
  await b.get('/console/incidents/new');
  const res = await b.post('/console/incidents', { _key: inputValue(b.lastHtml, '_key')!, intent: 'post', ...fields });
  expect(res.status).toBe(303);
  return Number(/\/console\/incidents\/(\d+)/.exec(res.location!)![1]);
}

describe('console: incidents', () => {
  it('when a commander opens an incident through the form, it is public with the statuses and modes chosen', async () => {
    t.clock.set(at(0));
    const b = consoleClient(t);
    await b.signIn(admin);
    const id = await openIncident(b, { title: 'API errors', state: 'investigating', message: 'We are **looking** into it.', 'statuses.production': 'red', 'statuses.development': 'green', 'modes.web': 'full', 'modes.worker': 'full' });
    const view = await incident(id);
    expect(view).toMatchObject({ title: 'API errors', state: 'investigating', statuses: { production: 'red' }, started_at: at(0) });
    // only what differs from "all green, all full" is declared
    expect(view.updates[0]).toMatchObject({ statuses: { production: 'red' }, modes: {}, author: 'alice' });
    const page = await b.get(`/console/incidents/${id}?done=opened`);
    expect(page.html).toContain('Incident opened.');
    expect(page.html).toContain('<strong>looking</strong>');
  });

  it('when the update form is shown, state, statuses and modes are preselected from the incident', async () => {
    t.clock.set(at(1 * MIN));
    const b = consoleClient(t);
    await b.signIn(admin);
    const id = await openIncident(b, { title: 'Slow builds', state: 'identified', message: 'Builds are slow.', 'statuses.development': 'yellow', 'modes.worker': 'read_only' });
    const { html } = await b.get(`/console/incidents/${id}`);
    expect(selected(html, 'state')).toBe('identified');
    expect(selected(html, 'statuses.production')).toBe('green');
    expect(selected(html, 'statuses.development')).toBe('yellow');
    expect(selected(html, 'modes.web')).toBe('full');
    expect(selected(html, 'modes.worker')).toBe('read_only');
  });

  it('when an update changes only web to read-only, the update declares just that, and the platform follows', async () => {
    t.clock.set(at(2 * MIN));
    const b = consoleClient(t);
    await b.signIn(admin);
    const id = await openIncident(b, { title: 'DB failover', message: 'Failing over.', 'statuses.production': 'yellow' });
    t.clock.set(at(5 * MIN));
    await b.get(`/console/incidents/${id}`);
    const res = await b.post(`/console/incidents/${id}/updates`, {
      _key: inputValue(b.lastHtml, '_key')!,
      intent: 'post',
      state: 'identified',
      message: 'Writes paused during failover.',
      'statuses.production': 'yellow',
      'statuses.development': 'green',
      'modes.web': 'read_only',
      'modes.worker': 'full',
    });
    expect(res.status).toBe(303);
    expect(res.location).toMatch(new RegExp(`^/console/incidents/${id}\\?done=posted#update-\\d+$`));
    const view = await incident(id);
    expect(view.updates[0]).toMatchObject({ state: 'identified', at: at(5 * MIN), statuses: {}, modes: { web: 'read_only' } });
    const web = (await t.call('GET', '/api/v1/platform?role=web')).body.roles[0];
    expect(web).toMatchObject({ mode: 'read_only', since: at(5 * MIN) });
  });

  it('when "Preview" is pressed, the Markdown is shown rendered and sanitized, nothing is posted, and the form keeps what was typed', async () => {
    t.clock.set(at(10 * MIN));
    const b = consoleClient(t);
    await b.signIn(admin);
    const id = await openIncident(b, { title: 'Preview me', message: 'First.' });
    await b.get(`/console/incidents/${id}`);
    const key = inputValue(b.lastHtml, '_key')!;
    const message = 'Fixed in *v2*.\n\n<script>alert(1)</script>';
    const res = await b.post(`/console/incidents/${id}/updates`, { _key: key, intent: 'preview', state: 'monitoring', message, 'statuses.production': 'yellow' });
    expect(res.status).toBe(200);
    expect(res.html).toContain('<em>v2</em>');
    expect(res.html).not.toContain('<script>alert(1)</script>');
    expect(res.html).toContain('Fixed in *v2*.'); // the textarea still holds the Markdown
    expect(selected(res.html, 'state')).toBe('monitoring');
    expect(selected(res.html, 'statuses.production')).toBe('yellow');
    expect(inputValue(res.html, '_key')).toBe(key);
    expect((await incident(id)).updates).toHaveLength(1);
  });

  it('when the message is empty or the time is in the future, the form comes back with each error beside its field and nothing typed lost', async () => {
    t.clock.set(at(20 * MIN));
    const b = consoleClient(t);
    await b.signIn(admin);
    const id = await openIncident(b, { title: 'Errors beside fields', message: 'First.' });
    await b.get(`/console/incidents/${id}`);
    const res = await b.post(`/console/incidents/${id}/updates`, {
      _key: inputValue(b.lastHtml, '_key')!,
      intent: 'post',
      state: 'monitoring',
      message: '   ',
      'statuses.production': 'red',
      at: '2099-01-01T00:00',
    });
    expect(res.status).toBe(400);
    expect(res.html).toMatch(/<p class="field-error" id="f-message-error">.*message must not be empty/);
    expect(res.html).toMatch(/<p class="field-error" id="f-at-error">.*must not be in the future/);
    expect(res.html).toMatch(/<textarea id="f-message"[^>]*aria-invalid="true"/);
    expect(selected(res.html, 'statuses.production')).toBe('red');
    expect(inputValue(res.html, 'at')).toBe('2099-01-01T00:00');
    expect((await incident(id)).updates).toHaveLength(1);
  });

  it('when the same form is submitted twice (a double tap, a resent page), one update is recorded', async () => {
    t.clock.set(at(30 * MIN));
    const b = consoleClient(t);
    await b.signIn(admin);
    const id = await openIncident(b, { title: 'Double tap', message: 'First.' });
    await b.get(`/console/incidents/${id}`);
    const fields = { _key: inputValue(b.lastHtml, '_key')!, intent: 'post', state: 'monitoring', message: 'Once only.' };
    const first = await b.post(`/console/incidents/${id}/updates`, fields);
    await b.get(`/console/incidents/${id}`); // a fresh CSRF from the page, same form key
    const second = await b.post(`/console/incidents/${id}/updates`, fields);
    expect(first.status).toBe(303);
    expect(second.status).toBe(303);
    expect(second.location).toBe(first.location);
    expect((await incident(id)).updates.map((u: { message: string }) => u.message)).toEqual(['Once only.', 'First.']);
  });

  it('when an update is backdated, it lands at that time', async () => {
    t.clock.set(at(40 * MIN));
    const b = consoleClient(t);
    await b.signIn(admin);
    const id = await openIncident(b, { title: 'Backdated', message: 'First.', at: at(35 * MIN).slice(0, 16) });
    expect((await incident(id)).started_at).toBe(at(35 * MIN));
    await b.get(`/console/incidents/${id}`);
    await b.post(`/console/incidents/${id}/updates`, { _key: inputValue(b.lastHtml, '_key')!, intent: 'post', state: 'identified', message: 'Found it.', at: at(38 * MIN).slice(0, 16) });
    expect((await incident(id)).updates[0]).toMatchObject({ state: 'identified', at: at(38 * MIN) });
  });

  it('when resolved from the console, the incident closes with the scope of impact computed from its timeline', async () => {
    t.clock.set(at(60 * MIN));
    const b = consoleClient(t);
    await b.signIn(admin);
    const id = await openIncident(b, { title: 'Outage to resolve', message: 'Down.', 'statuses.production': 'red', 'modes.web': 'maintenance' });
    t.clock.set(at(60 * MIN + 3 * 3_600_000 + 41 * MIN));
    await b.get(`/console/incidents/${id}`);
    const res = await b.post(`/console/incidents/${id}/resolve`, { _key: inputValue(b.lastHtml, '_key')!, message: 'All good.' });
    expect(res.status).toBe(303);
    const view = await incident(id);
    expect(view).toMatchObject({ state: 'resolved', open: false, resolved_at: at(60 * MIN + 3 * 3_600_000 + 41 * MIN) });
    const page = await b.get(`/console/incidents/${id}`);
    expect(page.html).toContain('3 hours 41 minutes');
    expect(page.html).not.toContain('Resolve incident');
  });

  it('when the title is edited, the public incident shows the new title; an empty title is refused beside the field', async () => {
    const b = consoleClient(t);
    await b.signIn(admin);
    const id = await openIncident(b, { title: 'Old title', message: 'First.' });
    await b.get(`/console/incidents/${id}`);
    const bad = await b.post(`/console/incidents/${id}/title`, { title: '' });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/id="f-edit-title-error">.*title must not be empty/);
    const ok = await b.post(`/console/incidents/${id}/title`, { title: 'New title' });
    expect(ok.status).toBe(303);
    expect((await incident(id)).title).toBe('New title');
  });

  it('when an update is hidden with a reason, the timeline drops it; without a reason it is refused', async () => {
    t.clock.set(at(100 * MIN));
    const b = consoleClient(t);
    await b.signIn(admin);
    const id = await openIncident(b, { title: 'Wrong update', message: 'First.' });
    await b.get(`/console/incidents/${id}`);
    await b.post(`/console/incidents/${id}/updates`, { _key: inputValue(b.lastHtml, '_key')!, intent: 'post', message: 'Posted to the wrong incident.' });
    const wrong = (await incident(id)).updates[0].id;
    await b.get(`/console/incidents/${id}`);
    const bad = await b.post(`/console/incidents/${id}/updates/${wrong}/hide`, { reason: '' });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(new RegExp(`id="f-hide-${wrong}-reason-error">.*reason must not be empty`));
    const ok = await b.post(`/console/incidents/${id}/updates/${wrong}/hide`, { reason: 'wrong incident' });
    expect(ok.status).toBe(303);
    expect((await incident(id)).updates.map((u: { message: string }) => u.message)).toEqual(['First.']);
  });

  it('when a postmortem is written: preview and draft stay private, publishing waits for resolution, then it is public', async () => {
    t.clock.set(at(200 * MIN));
    const b = consoleClient(t);
    await b.signIn(admin);
    const id = await openIncident(b, { title: 'Needs a postmortem', message: 'Down.', 'statuses.production': 'red' });
    await b.get(`/console/incidents/${id}/postmortem`);
    const text = '## What happened\n\nA bad deploy.';
    const preview = await b.post(`/console/incidents/${id}/postmortem`, { intent: 'preview', markdown: text });
    expect(preview.html).toMatch(/<h4[^>]*>What happened<\/h4>/);
    expect(preview.html).toContain('A bad deploy.');
    const early = await b.post(`/console/incidents/${id}/postmortem`, { intent: 'publish', markdown: text });
    expect(early.status).toBe(409);
    expect(early.html).toMatch(/id="f-markdown-error">.*still investigating/);
    expect(early.html).toContain('## What happened'); // kept
    const draft = await b.post(`/console/incidents/${id}/postmortem`, { intent: 'save', markdown: text });
    expect(draft.location).toBe(`/console/incidents/${id}/postmortem?done=draft`);
    expect((await incident(id)).postmortem).toBeNull();
    t.clock.set(at(230 * MIN));
    await b.get(`/console/incidents/${id}`);
    await b.post(`/console/incidents/${id}/resolve`, { _key: inputValue(b.lastHtml, '_key')!, message: 'Fixed.' });
    const editor = await b.get(`/console/incidents/${id}/postmortem`);
    expect(editor.html).toContain('30 minutes'); // production red 200→230 min, beside the editor
    const published = await b.post(`/console/incidents/${id}/postmortem`, { intent: 'publish', markdown: text });
    expect(published.location).toBe(`/console/incidents/${id}/postmortem?done=published`);
    expect((await incident(id)).postmortem).toEqual({ markdown: text, published_at: at(230 * MIN) });
  });

  it('when the list is shown, open incidents come before closed ones', async () => {
    t.clock.set(at(250 * MIN));
    // the closed one is the newer, so only the grouping puts the open one first
    const stillOpen = await t.call('POST', '/api/v1/incidents', { token: admin, body: { title: 'Still burning', message: 'Down.' } });
    expect(stillOpen.status).toBe(201);
    t.clock.set(at(251 * MIN));
    const putOut = await t.call('POST', '/api/v1/incidents', { token: admin, body: { title: 'Put out', message: 'Down.' } });
    expect((await t.call('POST', `/api/v1/incidents/${putOut.body.id}/updates`, { token: admin, body: { state: 'resolved', message: 'Up.' } })).status).toBe(201);
    const b = consoleClient(t);
    await b.signIn(admin);
    const { html } = await b.get('/console/incidents');
    const open = html.indexOf('<h2>Open</h2>');
    const closed = html.indexOf('<h2>Closed</h2>');
    expect(open).toBeGreaterThan(-1);
    expect(html.indexOf('Still burning')).toBeGreaterThan(open);
    expect(html.indexOf('Still burning')).toBeLessThan(closed);
    expect(html.indexOf('Put out')).toBeGreaterThan(closed);
  });

  it('when a running maintenance is opened from the maintenance page, its form offers maintenance states and a "verifying" update lands', async () => {
    t.clock.set(at(300 * MIN));
    const ops = await t.token(['admin'], 'ops');
    const m = (await t.call('POST', '/api/v1/maintenances', { token: ops, body: { title: 'Disk swap', message: 'Swapping disks.', scheduled_for: at(400 * MIN) } })).body;
    expect((await t.call('POST', `/api/v1/maintenances/${m.id}/run`, { token: ops, body: {} })).status).toBe(200);
    const b = consoleClient(t);
    await b.signIn(admin);
    expect((await b.get('/console/maintenance')).html).toContain(`<a href="/console/incidents/${m.id}">Disk swap</a>`);
    const { html } = await b.get(`/console/incidents/${m.id}`);
    expect(selected(html, 'state')).toBe('in_progress');
    expect(html).toContain('<option value="verifying">Verifying</option>');
    expect(html).not.toContain('Resolve incident');
    t.clock.set(at(320 * MIN));
    const res = await b.post(`/console/incidents/${m.id}/updates`, { _key: inputValue(html, '_key')!, intent: 'post', state: 'verifying', message: 'Checking the new disks.' });
    expect(res.status).toBe(303);
    expect((await incident(m.id)).updates[0]).toMatchObject({ state: 'verifying', at: at(320 * MIN), author: 'alice' });
  });

  it('when the token lacks incidents:write, the forms are not offered and a posted form is refused', async () => {
    const b = consoleClient(t);
    await b.signIn(await t.token(['maintenance:write'], 'ops-only'));
    const opened = await t.call('POST', '/api/v1/incidents', { token: admin, body: { title: 'Not yours to update', message: 'Down.' } });
    expect(opened.status).toBe(201);
    const id = opened.body.id;
    const page = await b.get(`/console/incidents/${id}`);
    expect(page.html).not.toContain('Post update');
    const before = (await incident(id)).updates.length;
    const res = await b.post(`/console/incidents/${id}/updates`, { intent: 'post', message: 'sneaky' });
    expect(res.status).toBe(403);
    expect((await incident(id)).updates).toHaveLength(before);
  });
});
