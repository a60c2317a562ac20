import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';
import { consoleClient, inputValue, words } from '../support/console.ts';

/**
 * The console's platform modes page (/console/platform): it shows what the API's
 * /api/v1/platform says, and sets and clears overrides through the same services, each after a
 * confirmation step that writes nothing. Every test starts on a fresh database with the
 * commander "ops" signed in, and sets the modes it needs itself.
 */

const MIN = 60_000;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let admin: string;
let b: ReturnType<typeof consoleClient>;

beforeEach(async () => {
  handle = await freshDatabase();
  t = await testApp(handle);
  admin = await t.token(['admin'], 'ops');
  b = consoleClient(t);
  await b.signIn(admin);
});
afterEach(async () => handle.close());

const role = async (name: string) => (await t.call('GET', `/api/v1/platform?role=${name}`)).body.roles[0];
const history = async (name: string) => (await t.call('GET', `/api/v1/platform/roles/${name}/history`)).body;
const auditCount = async (action: string) => (await t.db.selectFrom('audit_log').select('id').where('action', '=', action).execute()).length;
/** A read-only override on web for "Deploy freeze", set by ops through the API at 10:21. */
const deployFreeze = async () => {
  t.clock.set(at(21 * MIN));
  expect((await t.call('PUT', '/api/v1/platform/roles/web/override', { token: admin, body: { mode: 'read_only', reason: 'Deploy freeze' } })).status).toBe(200);
};
/** The HTML of one section of the page, from its id to its end. */
const section = (html: string, id: string) => {
  const start = html.indexOf(`id="${id}"`);
  return start < 0 ? '' : html.slice(start, html.indexOf('</section>', start));
};

describe('what the page shows', () => {
  it('when an incident holds web read-only and a running maintenance holds worker, the page names each role, its mode, since when, and its sources with links', async () => {
    t.clock.set(at(0));
    const inc = (await t.call('POST', '/api/v1/incidents', { token: admin, body: { title: 'Slow writes', message: 'Looking.', modes: { web: 'read_only' } } })).body;
    const mnt = (await t.call('POST', '/api/v1/maintenances', { token: admin, body: { title: 'Queue upgrade', message: 'Upgrading.', modes: { worker: 'maintenance' }, scheduled_for: at(60 * MIN) } })).body;
    t.clock.set(at(5 * MIN));
    expect((await t.call('POST', `/api/v1/maintenances/${mnt.id}/run`, { token: admin, body: { confirm: 'Herald' } })).status).toBe(200);

    const page = await b.get('/console/platform');
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const web = words(section(page.html, 'role-web'));
    expect(web).toContain('web: read-only');
    expect(web).toContain('Since 2026-03-01 10:00 UTC'); // T0, when the incident opened
    expect(web).toContain('Incident (read-only): Slow writes');
    expect(section(page.html, 'role-web')).toContain(`<a href="/console/incidents/${inc.id}">Slow writes</a>`);
    const worker = words(section(page.html, 'role-worker'));
    expect(worker).toContain('worker: in maintenance');
    expect(worker).toContain('Since 2026-03-01 10:05 UTC'); // T0 + 5 min, when it was run
    // the maintenance's end: scheduled for T0 + 60 min, the default 4 hours long → 15:00
    expect(worker).toContain('Maintenance (in maintenance): Queue upgrade until 2026-03-01 15:00 UTC');
    expect(section(page.html, 'role-worker')).toContain(`<a href="/console/maintenance#m-${mnt.id}">Queue upgrade</a>`);
    // an admin gets the set-override form for each role
    expect(page.html).toContain('action="/console/platform/web/override"');
    expect(page.html).toContain('action="/console/platform/worker/override"');

    t.clock.set(at(10 * MIN));
    await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { state: 'resolved', message: 'Fixed.' } });
    await t.call('POST', `/api/v1/maintenances/${mnt.id}/cancel`, { token: admin, body: {} });
    const after = await b.get('/console/platform');
    expect(words(section(after.html, 'role-web'))).toContain('web: fully available');
    expect(words(section(after.html, 'role-web'))).toContain('Nothing holds it.');
    expect(words(section(after.html, 'role-worker'))).toContain('worker: fully available');
  });
});

describe('setting an override', () => {
  it('when a commander reviews a read-only override, the confirmation names the role and what it refuses, and nothing is written', async () => {
    t.clock.set(at(20 * MIN));
    const before = await history('web');
    await b.get('/console/platform');
    const review = await b.post('/console/platform/web/override', { intent: 'review', mode: 'read_only', reason: 'Deploy freeze' });
    expect(review.status).toBe(200);
    const text = words(review.html);
    expect(text).toContain('Put web in read-only mode?');
    expect(text).toContain('web will refuse writes (POST, PUT, PATCH, DELETE get 503 read_only); reads pass.');
    expect(text).toContain('Reason: Deploy freeze');
    expect(inputValue(review.html, 'intent')).toBe('confirm');
    expect(inputValue(review.html, 'mode')).toBe('read_only');
    expect(inputValue(review.html, 'reason')).toBe('Deploy freeze');
    expect(review.html).toContain('<a href="/console/platform">Cancel</a>');
    expect(await role('web')).toMatchObject({ mode: 'full', sources: [] });
    expect(await history('web')).toEqual(before);
    expect(await auditCount('override.set')).toBe(0);
  });

  it('when the review has no intent and asks for maintenance, the confirmation says every request is refused', async () => {
    await b.get('/console/platform');
    const review = await b.post('/console/platform/worker/override', { mode: 'maintenance', reason: 'Queue migration' });
    expect(review.status).toBe(200);
    expect(words(review.html)).toContain('worker will refuse every request with 503 maintenance; browsers see the maintenance page.');
    expect(await role('worker')).toMatchObject({ mode: 'full' });
  });

  it('when the commander confirms, web goes read-only: the API shows the override, the history records the change with its cause, and a repeated confirmation writes nothing more', async () => {
    t.clock.set(at(20 * MIN));
    await b.get('/console/platform');
    const review = await b.post('/console/platform/web/override', { intent: 'review', mode: 'read_only', reason: 'Deploy freeze' });
    const confirmation = { intent: 'confirm', mode: 'read_only', reason: 'Deploy freeze', _key: inputValue(review.html, '_key')! };
    t.clock.set(at(21 * MIN));
    const done = await b.post('/console/platform/web/override', confirmation);
    expect(done.status).toBe(303);
    expect(done.location).toBe('/console/platform?done=override-set');
    expect(await role('web')).toMatchObject({ mode: 'read_only', since: at(21 * MIN), sources: [expect.objectContaining({ kind: 'override', mode: 'read_only', title: 'Deploy freeze' })] });
    const h = await history('web');
    expect(h[0]).toMatchObject({ from: 'full', to: 'read_only', at: at(21 * MIN), cause: 'override set on web by ops: Deploy freeze' });

    // the same form sent twice (a double click): the idempotency key answers the second
    const again = await b.post('/console/platform/web/override', confirmation);
    expect(again.status).toBe(303);
    expect(await auditCount('override.set')).toBe(1);
    expect((await history('web')).length).toBe(h.length);

    const page = await b.get('/console/platform?done=override-set');
    expect(words(page.html)).toContain('Override set.');
    const web = words(section(page.html, 'role-web'));
    expect(web).toContain('web: read-only');
    expect(web).toMatch(/Held by: Manual override \(read-only\): Deploy freeze, set by token:ops#\d+ at 2026-03-01 10:21 UTC/);
    expect(section(page.html, 'role-web')).toContain('action="/console/platform/web/clear"');
  });

  it('when the reason is missing, the form comes back with 400, the error beside the field, and the mode kept', async () => {
    await b.get('/console/platform');
    const res = await b.post('/console/platform/web/override', { intent: 'review', mode: 'maintenance', reason: '   ' });
    expect(res.status).toBe(400);
    expect(res.html).toContain('<p class="field-error" id="f-reason-error"><span class="sr-only">Error: </span>reason must not be empty</p>');
    expect(res.html).toMatch(/<input type="radio" name="mode" value="maintenance" checked=""\/>/);
    expect(words(res.html)).toContain('Nothing was saved');
    expect(await auditCount('override.set')).toBe(0);
  });

  it('when the mode is missing or not an override mode, the form comes back with 400 and the typed reason kept', async () => {
    await deployFreeze();
    await b.get('/console/platform');
    const none = await b.post('/console/platform/web/override', { intent: 'review', reason: 'Typed reason' });
    expect(none.status).toBe(400);
    expect(none.html).toContain('<p class="field-error" id="f-mode-error"><span class="sr-only">Error: </span>must be read_only or maintenance (to return to full, clear the override)</p>');
    expect(inputValue(none.html, 'reason')).toBe('Typed reason');
    const full = await b.post('/console/platform/web/override', { intent: 'confirm', mode: 'full', reason: 'Typed <again>' });
    expect(full.status).toBe(400);
    expect(full.html).toContain('must be read_only or maintenance');
    expect(inputValue(full.html, 'reason')).toBe('Typed <again>');
    expect(await role('web')).toMatchObject({ mode: 'read_only', sources: [expect.objectContaining({ kind: 'override', title: 'Deploy freeze' })] });
  });

  it('when the role is not configured, the answer is 404', async () => {
    await b.get('/console/platform');
    const res = await b.post('/console/platform/deploy/override', { intent: 'review', mode: 'read_only', reason: 'x' });
    expect(res.status).toBe(404);
    expect(res.html).toContain('Role &quot;deploy&quot; is not configured');
  });
});

describe('clearing an override', () => {
  it('when an incident also holds web, the confirmation says web stays in maintenance and names it; confirming clears only the override', async () => {
    await deployFreeze();
    t.clock.set(at(30 * MIN));
    const inc = (await t.call('POST', '/api/v1/incidents', { token: admin, body: { title: 'Replica lag', message: 'Looking.', modes: { web: 'maintenance' } } })).body;
    // the read-only override is less strict than the incident, so it does not decide the mode, but is shown in force
    const held = words(section((await b.get('/console/platform')).html, 'role-web'));
    expect(held).toContain('web: in maintenance Since 2026-03-01 10:30 UTC');
    expect(held).toContain('Held by: Incident (in maintenance): Replica lag Manual override: read-only, set by token:ops#');
    const review = await b.post('/console/platform/web/clear', { intent: 'review' });
    expect(review.status).toBe(200);
    const text = words(review.html);
    expect(text).toContain('Clear the override on web?');
    expect(text).toContain('web stays in maintenance: it is also held by these, and returns to full only when they end.');
    expect(text).toContain('Incident (in maintenance): Replica lag');
    expect(review.html).toContain(`<a href="/console/incidents/${inc.id}">Replica lag</a>`);
    expect(await role('web')).toMatchObject({ mode: 'maintenance', sources: [expect.objectContaining({ kind: 'incident' })] });
    expect(await auditCount('override.clear')).toBe(0);

    t.clock.set(at(31 * MIN));
    const done = await b.post('/console/platform/web/clear', { intent: 'confirm', reason: 'Freeze over', _key: inputValue(review.html, '_key')! });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/console/platform?done=override-cleared');
    expect(await auditCount('override.clear')).toBe(1);
    expect(await role('web')).toMatchObject({ mode: 'maintenance', sources: [expect.objectContaining({ source: `incident:${inc.id}` })] });
    const page = await b.get('/console/platform?done=override-cleared');
    expect(words(page.html)).toContain('Override cleared.');
    expect(section(page.html, 'role-web')).not.toContain('Manual override');

    t.clock.set(at(32 * MIN));
    await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { state: 'resolved', message: 'Fixed.' } });
    expect((await role('web')).mode).toBe('full');
  });

  it('when nothing else holds the role, the confirmation says it returns to full; with no override left, clearing answers 409', async () => {
    t.clock.set(at(40 * MIN));
    await t.call('PUT', '/api/v1/platform/roles/worker/override', { token: admin, body: { mode: 'maintenance', reason: 'Queue migration' } });
    await b.get('/console/platform');
    const review = await b.post('/console/platform/worker/clear', {});
    expect(words(review.html)).toContain('worker returns to fully available: no open incident or running maintenance holds it.');
    t.clock.set(at(41 * MIN));
    expect((await b.post('/console/platform/worker/clear', { intent: 'confirm', _key: inputValue(review.html, '_key')! })).status).toBe(303);
    expect(await role('worker')).toEqual({ role: 'worker', mode: 'full', since: at(41 * MIN), sources: [], retry_after: null, refresh: null });
    expect((await history('worker'))[0]).toMatchObject({ from: 'maintenance', to: 'full', at: at(41 * MIN), cause: 'override cleared on worker by ops' });

    const none = await b.post('/console/platform/worker/clear', { intent: 'review' });
    expect(none.status).toBe(409);
    expect(words(none.html)).toContain('Role "worker" has no manual override to clear.');
    const confirmNone = await b.post('/console/platform/worker/clear', { intent: 'confirm' });
    expect(confirmNone.status).toBe(409);
  });
});

describe('who may change modes', () => {
  it('when the token lacks maintenance:write, the page shows modes without forms and a confirmed override gets 403 with nothing changed', async () => {
    const writer = await t.token(['incidents:write'], 'writer');
    const w = consoleClient(t, '203.0.113.8');
    await w.signIn(writer);
    const page = await w.get('/console/platform');
    expect(page.status).toBe(200);
    expect(words(page.html)).toContain('web: fully available');
    expect(page.html).not.toContain('action="/console/platform/web/override"');
    expect(words(page.html)).toContain('lacks the maintenance:write scope');
    const res = await w.post('/console/platform/web/override', { intent: 'confirm', mode: 'maintenance', reason: 'Sneaky' });
    expect(res.status).toBe(403);
    expect(words(res.html)).toContain('lacks the "maintenance:write" scope');
    expect(await role('web')).toMatchObject({ mode: 'full' });
    expect(await auditCount('override.set')).toBe(0);
  });

  it('when a form comes without the session\'s _csrf, it is refused with 403 and nothing changes', async () => {
    await b.get('/console/platform');
    const res = await b.post('/console/platform/web/override', { _csrf: '', intent: 'confirm', mode: 'maintenance', reason: 'No token' });
    expect(res.status).toBe(403);
    expect(words(res.html)).toContain('did not carry this session\'s security token');
    const forged = await b.post('/console/platform/web/override', { _csrf: 'forged', intent: 'confirm', mode: 'maintenance', reason: 'No token' });
    expect(forged.status).toBe(403);
    expect(await role('web')).toMatchObject({ mode: 'full' });
    expect(await auditCount('override.set')).toBe(0);
  });
});
