import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { parseAllowList } from '../../src/delivery/address-policy.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { send } from '../../src/delivery/send.ts';
import { freshDatabase } from '../support/db.ts';
import { testApp } from '../support/app.ts';
import { consoleClient, inputValue, words } from '../support/console.ts';

/**
 * The console's webhooks pages (/console/webhooks, admin only): the subscriptions, adding one
 * (its secret shown once), and per subscription editing, a test event, rotating the secret,
 * disabling, enabling, removing and the attempt log; and the "Notify subscribers" box of the
 * incident and maintenance forms. Every test starts on a fresh database whose components are
 * production and staging, with the commander "ops" (admin) signed in; 127.0.0.1 may receive
 * webhooks (HERALD_WEBHOOK_ALLOW).
 */

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let admin: string;
let b: ReturnType<typeof consoleClient>;

beforeEach(async () => {
  handle = await freshDatabase();
  t = await testApp(handle, { HERALD_ENVIRONMENTS: 'production:Production,staging:Staging', HERALD_WEBHOOK_ALLOW: '127.0.0.1' });
  admin = await t.token(['admin'], 'ops');
  b = consoleClient(t);
  await b.signIn(admin);
});
afterEach(async () => handle.close());

const ALL_EVENTS = ['incident.opened', 'incident.updated', 'incident.resolved', 'component.status_changed', 'mode.changed', 'maintenance.scheduled', 'maintenance.started', 'maintenance.completed', 'maintenance.cancelled', 'postmortem.published'];

/** Each row of the webhooks table as its words, by row id. */
const rows = (html: string) =>
  Object.fromEntries([...html.slice(html.indexOf('<table class="webhooks">'), html.indexOf('</table>')).matchAll(/<tr id="([^"]+)"[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => [m[1], words(m[2]!).trim()]));
/** The text of a field's error, shown right beside it. */
const fieldError = (html: string, id: string) => {
  const m = new RegExp(`<p class="field-error" id="f-${id}-error"><span class="sr-only">Error: </span>([^<]*)</p>`).exec(html);
  return m ? words(m[1]!) : undefined;
};
/** The values of the checked checkboxes named `name`. */
const checkedValues = (html: string, name: string) => [...html.matchAll(new RegExp(`<input type="checkbox" name="${name}" value="([^"]*)" checked=""`, 'g'))].map((m) => m[1]);
const subscribe = async (body: Record<string, unknown>) => {
  const res = await t.call('POST', '/api/v1/webhooks', { token: admin, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: number; secret: string };
};
const stored = async (id: number) => t.db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const count = async () => (await t.db.selectFrom('webhook_subscriptions').select('id').execute()).length;

describe('console: webhooks', () => {
  it('lists each subscription with its format, events, components, state and pending count, linked from the navigation', async () => {
    const all = await subscribe({ url: 'https://hooks.example.com/all', description: 'Ops bot' });
    const some = await subscribe({ url: 'https://hooks.example.com/some', format: 'slack', events: ['incident.opened', 'incident.resolved'], environments: ['production'] });
    await t.call('POST', `/api/v1/webhooks/${some.id}/disable`, { token: admin, body: { reason: 'Receiver retired' } });
    await t.call('POST', '/api/v1/incidents', { token: admin, body: { title: 'API errors', message: 'Investigating.', statuses: { production: 'red' } } });
    // One pass fans the notices out (the active one's receiver refusing them); the disabled one keeps its own queued.
    await new Dispatcher({ db: t.db, clock: t.clock, config: t.config, send: async () => ({ ok: false, status: 500, latencyMs: 1, error: 'HTTP 500', excerpt: '' }), sender: 'test' }).pass();
    await t.db.updateTable('webhook_subscriptions').set({ failures: 3, failing_since: new Date('2026-03-01T09:00:00Z') }).where('id', '=', all.id).execute();

    const page = await b.get('/console/webhooks');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<a href="/console/webhooks" aria-current="page">Webhooks</a>');
    expect(rows(page.html)).toEqual({
      [`webhook-${all.id}`]: `#${all.id} https://hooks.example.com/all Ops bot herald all all failing: 3 in a row since 2026-03-01 09:00 UTC 2`,
      [`webhook-${some.id}`]: `#${some.id} https://hooks.example.com/some slack incident.opened, incident.resolved production disabled 2026-03-01 10:00 UTC: Receiver retired (by ops) 1`,
    });
    expect(page.html).toContain(`<a href="/console/webhooks/${all.id}">#${all.id}</a>`);
  });

  it('the add form subscribes a URL and shows its secret once, never again on the list or its page', async () => {
    const form = await b.get('/console/webhooks');
    expect(checkedValues(form.html, 'events')).toEqual(ALL_EVENTS);
    expect(checkedValues(form.html, 'environments')).toEqual([]);
    const res = await b.post('/console/webhooks', { url: 'https://hooks.example.com/herald', format: 'statuspage', events: ['incident.opened', 'incident.resolved'], environments: ['production'], description: 'Pager bridge' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const secret = /id="f-secret"[^>]*value="([^"]+)"/.exec(res.html)?.[1];
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(words(res.html)).toContain('Copy the signing secret now and give it to the receiver. It is shown only this once.');
    expect(words(res.html)).toContain('webhook-signature');
    expect(words(res.html)).toContain('docs/webhook-formats.md');

    const [made] = await t.db.selectFrom('webhook_subscriptions').selectAll().execute();
    expect(made).toMatchObject({ url: 'https://hooks.example.com/herald', format: 'statuspage', events: ['incident.opened', 'incident.resolved'], environments: ['production'], description: 'Pager bridge', secret, created_by: 'ops' });
    for (const path of ['/console/webhooks', `/console/webhooks/${made!.id}`]) {
      const later = await b.get(path);
      expect(later.status).toBe(200);
      expect(later.html).not.toContain(secret!);
    }
    expect(rows((await b.get('/console/webhooks')).html)[`webhook-${made!.id}`]).toBe(`#${made!.id} https://hooks.example.com/herald Pager bridge statuspage incident.opened, incident.resolved production active 0`);
  });

  it('when the add form names a private address and no event, it is 400 with each problem beside its field and what was typed kept; nothing is added', async () => {
    await b.get('/console/webhooks');
    const res = await b.post('/console/webhooks', { url: 'http://10.1.2.3/hook', format: 'discord', environments: ['staging'], description: 'Kept text' });
    expect(res.status).toBe(400);
    expect(res.html).toContain('Nothing was saved: please fix these');
    expect(fieldError(res.html, 'url')).toMatch(/10\.1\.2\.3/);
    expect(fieldError(res.html, 'events')).toBe('name at least one event');
    expect(inputValue(res.html, 'url')).toBe('http://10.1.2.3/hook');
    expect(res.html).toMatch(/<option value="discord" selected="">/);
    expect(checkedValues(res.html, 'events')).toEqual([]);
    expect(checkedValues(res.html, 'environments')).toEqual(['staging']);
    expect(res.html).toContain('>Kept text</textarea>');
    expect(await count()).toBe(0);
  });

  it('a form without this session\'s CSRF token is refused with 403 and adds nothing', async () => {
    await b.get('/console/webhooks');
    const res = await b.post('/console/webhooks', { _csrf: 'not-the-token', url: 'https://hooks.example.com/x', events: ALL_EVENTS });
    expect(res.status).toBe(403);
    expect(words(res.html)).toContain("This form did not carry this session's security token");
    expect(await count()).toBe(0);
  });

  it('the edit form changes URL, format, events, components and description; a refused URL comes back beside the field with the typed values', async () => {
    const sub = await subscribe({ url: 'https://hooks.example.com/old', environments: ['staging'] });
    const form = await b.get(`/console/webhooks/${sub.id}`);
    expect(inputValue(form.html, 'url')).toBe('https://hooks.example.com/old');
    expect(checkedValues(form.html, 'environments')).toEqual(['staging']);

    const bad = await b.post(`/console/webhooks/${sub.id}`, { url: 'http://192.168.0.9/hook', format: 'slack', events: ['incident.opened'], description: 'Typed' });
    expect(bad.status).toBe(400);
    expect(fieldError(bad.html, 'edit-url')).toMatch(/192\.168\.0\.9/);
    expect(inputValue(bad.html, 'url')).toBe('http://192.168.0.9/hook');
    expect(bad.html).toContain('>Typed</textarea>');
    expect((await stored(sub.id)).url).toBe('https://hooks.example.com/old');

    const saved = await b.post(`/console/webhooks/${sub.id}`, { url: 'https://hooks.example.com/new', format: 'slack', events: ['incident.opened', 'mode.changed'], description: 'Chat' });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`/console/webhooks/${sub.id}?done=webhook-saved`);
    expect(await stored(sub.id)).toMatchObject({ url: 'https://hooks.example.com/new', format: 'slack', events: ['incident.opened', 'mode.changed'], environments: null, description: 'Chat' });
    expect(words((await b.get(saved.location!)).html)).toContain('Webhook saved.');
  });

  it('rotating shows the new secret once, keeps the old one signing for the overlap typed, and refuses an overlap that is no number', async () => {
    const sub = await subscribe({ url: 'https://hooks.example.com/r' });
    await b.get(`/console/webhooks/${sub.id}`);
    const bad = await b.post(`/console/webhooks/${sub.id}/rotate`, { overlap_hours: 'soon' });
    expect(bad.status).toBe(400);
    expect(fieldError(bad.html, 'rotate-overlap_hours')).toBe('must be a number of hours');
    expect(inputValue(bad.html, 'overlap_hours')).toBe('soon');
    expect((await stored(sub.id)).secret).toBe(sub.secret);

    const res = await b.post(`/console/webhooks/${sub.id}/rotate`, { overlap_hours: '2' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const row = await stored(sub.id);
    expect(row.secret).not.toBe(sub.secret);
    expect(res.html).toContain(`value="${row.secret}"`);
    expect(row).toMatchObject({ previous_secret: sub.secret, previous_secret_until: new Date('2026-03-01T12:00:00.000Z') });
    expect(words(res.html)).toContain('Until 2026-03-01 12:00 UTC every message is signed with both secrets');
    const after = await b.get(`/console/webhooks/${sub.id}`);
    expect(after.html).not.toContain(row.secret);
    expect(after.html).not.toContain(sub.secret);
    expect(words(after.html)).toContain('Previous secret signs too until 2026-03-01 12:00 UTC');
  });

  it('disable takes a reason and shows it with the time; enable makes it active again', async () => {
    const sub = await subscribe({ url: 'https://hooks.example.com/d' });
    await b.get(`/console/webhooks/${sub.id}`);
    const off = await b.post(`/console/webhooks/${sub.id}/disable`, { reason: 'Receiver moving' });
    expect(off.location).toBe(`/console/webhooks/${sub.id}?done=webhook-disabled`);
    const page = await b.get(off.location!);
    expect(words(page.html)).toContain('State disabled 2026-03-01 10:00 UTC: Receiver moving (by ops)');
    expect(page.html).not.toContain(`action="/console/webhooks/${sub.id}/test"`);
    expect(page.html).not.toContain(`action="/console/webhooks/${sub.id}/disable"`);

    const on = await b.post(`/console/webhooks/${sub.id}/enable`);
    expect(on.location).toBe(`/console/webhooks/${sub.id}?done=webhook-enabled`);
    expect(await stored(sub.id)).toMatchObject({ disabled_at: null, disabled_reason: null });
    expect(words((await b.get(on.location!)).html)).toContain('State active');
  });

  it('remove asks first; confirmed, the webhook is gone from the list and its page', async () => {
    const sub = await subscribe({ url: 'https://hooks.example.com/gone' });
    await b.get(`/console/webhooks/${sub.id}`);
    const ask = await b.post(`/console/webhooks/${sub.id}/remove`);
    expect(ask.status).toBe(200);
    expect(words(ask.html)).toContain(`Remove webhook #${sub.id}?`);
    expect((await stored(sub.id)).removed_at).toBeNull();

    const done = await b.post(`/console/webhooks/${sub.id}/remove`, { intent: 'confirm' });
    expect(done.location).toBe('/console/webhooks?done=webhook-removed');
    expect((await stored(sub.id)).removed_at).not.toBeNull();
    const list = await b.get(done.location!);
    expect(words(list.html)).toContain('Webhook removed. Nothing more is sent to it.');
    expect(rows(list.html)).toEqual({});
    expect((await b.get(`/console/webhooks/${sub.id}`)).status).toBe(404);
    // confirmed twice (a double click): still removed, no error
    expect((await b.post(`/console/webhooks/${sub.id}/remove`, { intent: 'confirm' })).location).toBe('/console/webhooks?done=webhook-removed');
  });

  it('a session without the admin scope is refused the pages and the forms, and sees no Webhooks link', async () => {
    const sub = await subscribe({ url: 'https://hooks.example.com/a' });
    const r = consoleClient(t, '203.0.113.9');
    await r.signIn(await t.token(['incidents:write', 'maintenance:write', 'components:write'], 'alice'));
    expect(r.lastHtml).not.toContain('href="/console/webhooks"');
    expect((await r.get('/console/webhooks')).status).toBe(403);
    expect((await r.get(`/console/webhooks/${sub.id}`)).status).toBe(403);
    await r.get('/console/incidents');
    expect((await r.post('/console/webhooks', { url: 'https://hooks.example.com/b', events: ALL_EVENTS })).status).toBe(403);
    expect((await r.post(`/console/webhooks/${sub.id}/remove`, { intent: 'confirm' })).status).toBe(403);
    expect(await count()).toBe(1);
    expect((await stored(sub.id)).removed_at).toBeNull();
  });

  it('a hostile URL and description are shown as text on every page, never as markup', async () => {
    const url = 'https://example.com/"><script>alert(1)</script>';
    const description = '"><script>alert(2)</script><img src=x onerror=alert(3)>';
    await b.get('/console/webhooks');
    const made = await b.post('/console/webhooks', { url, format: 'herald', description, events: ALL_EVENTS });
    expect(made.status).toBe(200);
    const [row] = await t.db.selectFrom('webhook_subscriptions').selectAll().execute();
    expect(row).toMatchObject({ url, description });
    for (const html of [made.html, (await b.get('/console/webhooks')).html, (await b.get(`/console/webhooks/${row!.id}`)).html]) {
      expect(html).not.toMatch(/<script>alert|<img src=x/);
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).toContain('&lt;img src=x onerror=alert(3)&gt;');
    }
  });

  it('"send a test event" waits for the first attempt and shows what the real receiver answered, escaped; the attempt log lists it', async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(body);
        res.writeHead(202, { 'content-type': 'text/html' }).end('<b>thanks</b><script>alert(4)</script>');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const sub = await subscribe({ url, format: 'slack' });

    const policy = { allow: parseAllowList('127.0.0.1'), timeoutMs: 5_000, maxResponseBytes: 65_536 };
    const dispatcher = new Dispatcher({ db: t.db, clock: t.clock, config: t.config, send: (d) => send(d, policy), sender: 'test' });
    let done = false;
    const pumping = (async () => {
      while (!done) {
        await dispatcher.pass();
        await new Promise((x) => setTimeout(x, 50));
      }
    })();
    // Stopped in the test itself: onTestFinished runs after afterEach has closed the database.
    const stopPumping = async () => {
      done = true;
      await pumping;
    };

    await b.get(`/console/webhooks/${sub.id}`);
    const res = await b.post(`/console/webhooks/${sub.id}/test`).finally(stopPumping);
    expect(res.status).toBe(303);
    const [, messageId] = /^\/console\/webhooks\/\d+\?tested=(msg_[0-9a-f]{32})#test-result$/.exec(res.location ?? '') ?? [];
    expect(messageId).toBeDefined();
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!).text).toMatch(/Test message from Herald/);

    const page = await b.get(res.location!);
    const result = page.html.slice(page.html.indexOf('id="test-result"'), page.html.indexOf('</section>', page.html.indexOf('id="test-result"')));
    expect(words(result)).toMatch(new RegExp(`^.*Test event ${messageId} The receiver answered HTTP 202 after \\d+ ms, at 2026-03-01 10:00 UTC\\.`));
    expect(result).toContain('&lt;b&gt;thanks&lt;/b&gt;&lt;script&gt;alert(4)&lt;/script&gt;');
    expect(page.html).not.toContain('<script>alert(4)');
    const log = page.html.slice(page.html.indexOf('<table class="attempts">'));
    expect(words(log.slice(0, log.indexOf('</table>')))).toMatch(new RegExp(`2026-03-01 10:00 UTC test ${messageId} 202 \\d+ ms delivered <b>thanks</b><script>alert\\(4\\)</script>`.replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'))));
  });
});

/** The notices the writes so far put in the outbox (test events aside), by type. */
const notices = async () => (await t.db.selectFrom('outbox_notices').select('type').where('type', '!=', 'test').orderBy('id').execute()).map((n) => n.type);
/** Whether the "Notify subscribers" box with this id is checked (undefined: there is none). */
const checkbox = (html: string, id: string) => {
  const m = new RegExp(`<input type="checkbox" id="${id}" name="notify" value="on"( checked="")?`).exec(html);
  return m ? m[1] !== undefined : undefined;
};

describe('console: "Notify subscribers"', () => {
  it('the incident forms have the box checked; unchecked, opening, updating and resolving put no notice in the outbox, checked, one each', async () => {
    const open = await b.get('/console/incidents/new');
    expect(checkbox(open.html, 'f-notify')).toBe(true);
    const opened = await b.post('/console/incidents', { _key: inputValue(open.html, '_key')!, intent: 'post', title: 'Quiet', state: 'investigating', message: 'Looking.', 'statuses.production': 'red' });
    expect(opened.status).toBe(303);
    expect(await notices()).toEqual([]);
    const id = Number(/\/console\/incidents\/(\d+)/.exec(opened.location!)![1]);

    const page = await b.get(`/console/incidents/${id}`);
    expect(checkbox(page.html, 'f-notify')).toBe(true);
    expect(checkbox(page.html, 'f-resolve-notify')).toBe(true);
    const loud = await b.post(`/console/incidents/${id}/updates`, { _key: inputValue(page.html, '_key')!, intent: 'post', state: 'identified', message: 'Found it.', 'statuses.production': 'red', notify: 'on' });
    expect(loud.status).toBe(303);
    expect(await notices()).toEqual(['incident.updated']);

    const again = await b.get(`/console/incidents/${id}`);
    await b.post(`/console/incidents/${id}/updates`, { _key: inputValue(again.html, '_key')!, intent: 'post', state: 'monitoring', message: 'Typo fixed.', 'statuses.production': 'red' });
    const resolve = await b.get(`/console/incidents/${id}`);
    const resolveKey = inputValue(resolve.html.slice(resolve.html.indexOf(`action="/console/incidents/${id}/resolve"`)), '_key')!;
    expect((await b.post(`/console/incidents/${id}/resolve`, { _key: resolveKey, message: 'Fixed.' })).status).toBe(303);
    expect((await t.call('GET', `/api/v1/incidents/${id}`)).body.updates.map((u: { message: string }) => u.message)).toEqual(['Fixed.', 'Typo fixed.', 'Found it.', 'Looking.']);
    expect(await notices()).toEqual(['incident.updated']);
  });

  it('a rejected update comes back with the box as it was sent', async () => {
    const id = (await t.call('POST', '/api/v1/incidents', { token: admin, body: { title: 'Errors', message: 'Looking.' } })).body.id;
    await b.get(`/console/incidents/${id}`);
    const rejected = await b.post(`/console/incidents/${id}/updates`, { intent: 'post', state: 'identified', message: '' });
    expect(rejected.status).toBe(400);
    expect(checkbox(rejected.html, 'f-notify')).toBe(false);
    const preview = await b.post(`/console/incidents/${id}/updates`, { intent: 'preview', state: 'identified', message: 'Draft', notify: 'on' });
    expect(checkbox(preview.html, 'f-notify')).toBe(true);
  });

  it('scheduling maintenance: the box is checked; unchecked, no notice; checked, one', async () => {
    const page = await b.get('/console/maintenance');
    expect(checkbox(page.html, 'f-notify')).toBe(true);
    const form = (title: string) => ({ title, message: 'Upgrading.', environments: ['production'], 'modes.web': 'full', 'modes.worker': 'full', plan: 'time', scheduled_for: '2026-03-05T02:00', scheduled_until: '', duration: '2', required_by: '', auto_start: 'true', auto_complete: 'true' });
    expect((await b.post('/console/maintenance', form('Quiet upgrade'))).status).toBe(303);
    expect(await notices()).toEqual([]);
    await b.get('/console/maintenance');
    expect((await b.post('/console/maintenance', { ...form('Announced upgrade'), notify: 'on' })).status).toBe(303);
    expect(await notices()).toEqual(['maintenance.scheduled']);
  });
});
