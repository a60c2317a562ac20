import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';
import { consoleClient, inputValue, words, type Fields } from '../support/console.ts';

/**
 * The console's maintenance page (/console/maintenance): the weekly window and planned
 * maintenance, written through the same services and schemas as the API's /maintenance* routes.
 *
 * Calendar (2026-01-01 is a Thursday): 2026-03-01 Sunday (T0, 10:00 UTC), 2026-03-03 Tuesday,
 * 2026-03-05 Thursday, 2026-03-06 Friday, 2026-03-10 Tuesday, 2026-03-12 Thursday,
 * 2026-03-17 Tuesday, 2026-03-20 Friday.
 *
 * Every test starts on a fresh database at T0 with the commander "ops" signed in, and sets the
 * window and the maintenance it needs itself.
 */

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let admin: string;
let b: ReturnType<typeof consoleClient>;

beforeEach(async () => {
  handle = await freshDatabase();
  t = await testApp(handle);
  t.clock.set(T0);
  admin = await t.token(['admin'], 'ops');
  b = consoleClient(t);
  await b.signIn(admin);
});
afterEach(async () => handle.close());

/** Sets the weekly window to Tuesdays 02:00 UTC for 3 hours through the API. */
async function tuesdayWindow() {
  const res = await t.call('PUT', '/api/v1/maintenance-window', { token: admin, body: { day: 'Tuesday', time: '02:00', duration_hours: 3 } });
  expect(res.body.description).toBe('Tuesdays 02:00 UTC for 3 hours');
}

const api = async (path: string) => (await t.call('GET', path)).body;
const info = (id: number) => api(`/api/v1/maintenances/${id}`);
const role = async (name: string) => (await api(`/api/v1/platform?role=${name}`)).roles[0];
/** The error shown beside a field (forms.tsx renders it with the field's id). */
const fieldError = (html: string, name: string) => {
  const m = new RegExp(`<p class="field-error" id="f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}-error"><span class="sr-only">Error: </span>([^<]*)</p>`).exec(html);
  return m ? words(m[1]!) : undefined;
};
/** The schedule form alone (open maintenance have reschedule forms with the same field names). */
const scheduleFormOf = (html: string) => {
  const start = html.indexOf('<form method="post" action="/console/maintenance" ');
  return html.slice(start, html.indexOf('</form>', start));
};
/** The id in a Location like /console/maintenance?done=scheduled#m-12. */
const idFrom = (location: string | null) => Number(/#m-(\d+)$/.exec(location ?? '')?.[1]);

/** The schedule form as a browser sends it: every field, the chosen plan's filled in. */
async function scheduleForm(fields: Fields): Promise<Fields> {
  const page = await b.get('/console/maintenance');
  return {
    _key: inputValue(page.html, '_key')!,
    title: 'Database upgrade',
    message: 'We are upgrading the primary database.',
    'modes.web': 'full',
    'modes.worker': 'full',
    plan: 'time',
    scheduled_for: '',
    scheduled_until: '',
    duration: '',
    required_by: '',
    auto_start: 'true',
    auto_complete: 'true',
    notify: 'on',
    ...fields,
  };
}

describe('the weekly window', () => {
  it('when no window was ever set, the page shows the one Herald chose and its next start, as the API does', async () => {
    const page = await b.get('/console/maintenance');
    expect(page.status).toBe(200);
    const w = await api('/api/v1/maintenance-window');
    const text = words(page.html);
    expect(text).toContain(`${w.description}. Next: ${w.next.slice(0, 10)} ${w.next.slice(11, 16)} UTC`);
    expect(page.html).toContain('action="/console/maintenance/window"');
    expect(text).toContain('No maintenance is scheduled or running.');
  });

  it('when the commander saves Tuesday 02:00 for 3 hours, the API reports it with its next start', async () => {
    await b.get('/console/maintenance');
    const res = await b.post('/console/maintenance/window', { day: 'Tuesday', time: '02:00', duration_hours: '3' });
    expect(res.status).toBe(303);
    expect(res.location).toBe('/console/maintenance?done=window');
    // from Sunday 2026-03-01 10:00 the next Tuesday is 2026-03-03
    expect(await api('/api/v1/maintenance-window')).toEqual({ day: 'Tuesday', time: '02:00', duration_hours: 3, description: 'Tuesdays 02:00 UTC for 3 hours', next: '2026-03-03T02:00:00.000Z' });
    const page = await b.get(res.location!);
    expect(words(page.html)).toContain('Maintenance window saved.');
    expect(words(page.html)).toContain('Tuesdays 02:00 UTC for 3 hours. Next: 2026-03-03 02:00 UTC');
  });

  it('when the window form is wrong, the page comes back with 400, the API\'s messages beside each field, what was typed kept, and the window unchanged', async () => {
    await tuesdayWindow();
    await b.get('/console/maintenance');
    const res = await b.post('/console/maintenance/window', { day: 'Funday', time: '25:00', duration_hours: '0' });
    expect(res.status).toBe(400);
    expect(fieldError(res.html, 'day')).toBe('must be a day of the week, e.g. Sunday');
    expect(fieldError(res.html, 'time')).toBe('must be a time HH:MM in UTC, e.g. 14:30');
    expect(fieldError(res.html, 'duration_hours')).toBe('must be at least 0.25');
    expect(inputValue(res.html, 'time')).toBe('25:00');
    expect(inputValue(res.html, 'duration_hours')).toBe('0');
    const text = await b.post('/console/maintenance/window', { day: 'Monday', time: '01:00', duration_hours: 'two' });
    expect(text.status).toBe(400);
    expect(fieldError(text.html, 'duration_hours')).toBe('must be a number of hours');
    expect((await api('/api/v1/maintenance-window')).description).toBe('Tuesdays 02:00 UTC for 3 hours');
  });
});

describe('scheduling', () => {
  beforeEach(tuesdayWindow);

  it('when the commander schedules by time with a duration, it starts then and ends that many hours later; sending the form twice makes one', async () => {
    const form = await scheduleForm({ environments: ['production'], 'modes.web': 'maintenance', scheduled_for: '2026-03-05T09:00', duration: '2' });
    const res = await b.post('/console/maintenance', form);
    expect(res.status).toBe(303);
    expect(res.location).toMatch(/^\/console\/maintenance\?done=scheduled#m-\d+$/);
    const id = idFrom(res.location);
    expect(await info(id)).toMatchObject({
      title: 'Database upgrade',
      status: 'scheduled',
      scheduled_for: '2026-03-05T09:00:00.000Z',
      scheduled_until: '2026-03-05T11:00:00.000Z', // 09:00 + 2 hours
      required_by: null,
      method: 'explicit',
      environments: ['production'],
      modes: { web: 'maintenance' }, // worker was left "full", so it is not sent
      auto_start: true,
      auto_complete: true,
    });
    const twice = await b.post('/console/maintenance', form);
    expect(twice.location).toBe(res.location);
    expect((await api('/api/v1/maintenances?state=open')).maintenances.map((m: { id: number }) => m.id)).toEqual([id]);

    const page = await b.get(res.location!);
    expect(words(page.html)).toContain('Maintenance scheduled.');
    const item = words(page.html.slice(page.html.indexOf(`id="m-${id}"`), page.html.indexOf('</article>', page.html.indexOf(`id="m-${id}"`))));
    expect(item).toContain(`#${id} Database upgrade`);
    expect(item).toContain('Status Scheduled');
    expect(item).toContain('Scheduled for 2026-03-05 09:00 UTC');
    expect(item).toContain('Scheduled until 2026-03-05 11:00 UTC');
    expect(item).toContain('Environments Production');
    expect(item).toContain('Modes while it runs web in maintenance');
  });

  it('when the commander schedules by deadline, Herald picks the last window that ends before it', async () => {
    // Tuesdays 02:00–05:00; the deadline Thursday 2026-03-12 00:00 leaves Tuesday 2026-03-10 as the last whole window
    const res = await b.post('/console/maintenance', await scheduleForm({ title: 'Kernel patches', plan: 'deadline', required_by: '2026-03-12T00:00', scheduled_for: '2026-03-04T00:00', auto_start: [] }));
    expect(res.status).toBe(303);
    expect(await info(idFrom(res.location))).toMatchObject({
      title: 'Kernel patches',
      scheduled_for: '2026-03-10T02:00:00.000Z',
      scheduled_until: '2026-03-10T05:00:00.000Z',
      required_by: '2026-03-12T00:00:00.000Z',
      method: 'window',
      environments: [],
      modes: {},
      auto_start: false, // the box was unticked
      auto_complete: true,
    });
  });

  it('when the deadline comes before the next window ends, the service\'s refusal shows beside the deadline with 400 and the title kept', async () => {
    // the next window ends Tuesday 2026-03-03 05:00, after this deadline
    const res = await b.post('/console/maintenance', await scheduleForm({ title: 'Too soon', plan: 'deadline', required_by: '2026-03-03T04:00' }));
    expect(res.status).toBe(400);
    expect(fieldError(res.html, 'required_by')).toBe('2026-03-03T04:00:00.000Z comes before the end of the next maintenance window (Tuesdays 02:00 UTC for 3 hours); give scheduled_for, or run it now');
    expect(inputValue(res.html, 'title')).toBe('Too soon');
    const form = scheduleFormOf(res.html);
    expect(inputValue(form, 'required_by')).toBe('2026-03-03T04:00');
    expect(form).toMatch(/<input type="radio" name="plan" value="deadline" checked=""\/>/);
  });

  it('when the schedule form is wrong, every problem shows beside its field with 400, what was typed is kept, and nothing is scheduled', async () => {
    const before = (await api('/api/v1/maintenances?state=open&limit=100')).maintenances.length;
    const res = await b.post('/console/maintenance', await scheduleForm({ title: ' ', message: 'Kept <text>', environments: ['production', 'staging'], duration: 'soon' }));
    expect(res.status).toBe(400);
    expect(fieldError(res.html, 'title')).toBe('title must not be empty');
    expect(fieldError(res.html, 'environments')).toBe('unknown environment "staging" (known: production, development)');
    expect(fieldError(res.html, 'scheduled_for')).toBe('is required unless required_by is given');
    expect(fieldError(res.html, 'duration')).toBe('must be a number of hours greater than 0');
    expect(res.html).toContain('>Kept &lt;text&gt;</textarea>');
    expect(scheduleFormOf(res.html)).toMatch(/<input type="checkbox" name="environments" value="production" checked=""\/>/);
    expect(inputValue(scheduleFormOf(res.html), 'duration')).toBe('soon');

    const past = await b.post('/console/maintenance', await scheduleForm({ scheduled_for: '2026-02-01T00:00', scheduled_until: '2026-03-05T10:00', duration: '1' }));
    expect(past.status).toBe(400);
    expect(fieldError(past.html, 'scheduled_for')).toBe('must be in the future (server time is 2026-03-01T10:00:00.000Z)');
    expect(fieldError(past.html, 'duration')).toBe('give either an end or a duration, not both');
    expect((await api('/api/v1/maintenances?state=open&limit=100')).maintenances.length).toBe(before);
  });
});

describe('rescheduling, cancelling', () => {
  beforeEach(tuesdayWindow);

  /** "Cache resize", scheduled through the console for Thursday 2026-03-05 12:00 with neither end nor duration. */
  const cacheResize = async () => idFrom((await b.post('/console/maintenance', await scheduleForm({ title: 'Cache resize', scheduled_for: '2026-03-05T12:00' }))).location);

  it('when the commander reschedules by time and then by deadline, the API shows each new plan', async () => {
    const id = await cacheResize();
    // neither end nor duration: the window's 3 hours
    expect(await info(id)).toMatchObject({ scheduled_for: '2026-03-05T12:00:00.000Z', scheduled_until: '2026-03-05T15:00:00.000Z' });

    const byTime = await b.post(`/console/maintenance/${id}/reschedule`, { plan: 'time', scheduled_for: '2026-03-06T08:00', scheduled_until: '2026-03-06T09:30', required_by: '', auto_start: 'true', auto_complete: 'true' });
    expect(byTime.status).toBe(303);
    expect(byTime.location).toBe(`/console/maintenance?done=rescheduled#m-${id}`);
    expect(await info(id)).toMatchObject({ scheduled_for: '2026-03-06T08:00:00.000Z', scheduled_until: '2026-03-06T09:30:00.000Z', method: 'explicit' });

    // deadline Friday 2026-03-20 00:00: the last window before it is Tuesday 2026-03-17 02:00–05:00
    const byDeadline = await b.post(`/console/maintenance/${id}/reschedule`, { plan: 'deadline', scheduled_for: '2026-03-06T08:00', scheduled_until: '', required_by: '2026-03-20T00:00', auto_start: 'true' });
    expect(byDeadline.status).toBe(303);
    expect(await info(id)).toMatchObject({ scheduled_for: '2026-03-17T02:00:00.000Z', scheduled_until: '2026-03-17T05:00:00.000Z', required_by: '2026-03-20T00:00:00.000Z', method: 'window', auto_complete: false });
  });

  it('when a reschedule ends before it starts, its form comes back with 400 and the error beside the end', async () => {
    const id = await cacheResize();
    await b.get('/console/maintenance');
    const res = await b.post(`/console/maintenance/${id}/reschedule`, { plan: 'time', scheduled_for: '2026-03-06T08:00', scheduled_until: '2026-03-06T07:00', auto_start: 'true', auto_complete: 'true' });
    expect(res.status).toBe(400);
    expect(words(res.html)).toContain(`Reschedule #${id} Cache resize`);
    expect(fieldError(res.html, 'scheduled_until')).toBe('must be after scheduled_for');
    expect(inputValue(res.html, 'scheduled_until')).toBe('2026-03-06T07:00');
    expect(await info(id)).toMatchObject({ scheduled_for: '2026-03-05T12:00:00.000Z', scheduled_until: '2026-03-05T15:00:00.000Z' });
  });

  it('when the id is unknown or names an incident, the answer is 404', async () => {
    const inc = (await t.call('POST', '/api/v1/incidents', { token: admin, body: { title: 'Not maintenance', message: 'x' } })).body;
    await b.get('/console/maintenance');
    expect((await b.post('/console/maintenance/99999/reschedule', { plan: 'time', scheduled_for: '2026-03-06T08:00' })).status).toBe(404);
    expect((await b.post(`/console/maintenance/${inc.id}/cancel`, {})).status).toBe(404);
    expect((await b.post('/console/maintenance/abc/run', {})).status).toBe(404);
    await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { state: 'resolved', message: 'ok' } });
  });

  it('when the commander reviews a cancel, nothing changes; confirming cancels it with the message, and it is listed as finished', async () => {
    const id = await cacheResize();
    await b.get('/console/maintenance');
    const review = await b.post(`/console/maintenance/${id}/cancel`, { intent: 'review' });
    expect(review.status).toBe(200);
    expect(words(review.html)).toContain(`Cancel #${id} Cache resize?`);
    expect(words(review.html)).toContain('It will not run.');
    expect(inputValue(review.html, 'intent')).toBe('confirm');
    expect((await info(id)).status).toBe('scheduled');

    const done = await b.post(`/console/maintenance/${id}/cancel`, { intent: 'confirm', message: 'Not needed after all.', _key: inputValue(review.html, '_key')! });
    expect(done.status).toBe(303);
    expect(done.location).toBe(`/console/maintenance?done=cancelled#m-${id}`);
    expect(await info(id)).toMatchObject({ status: 'cancelled', cancelled_at: T0 });
    const updates = (await api(`/api/v1/incidents/${id}`)).updates;
    expect(updates[0]).toMatchObject({ state: 'cancelled', message: 'Not needed after all.', author: 'ops' });

    const page = await b.get(done.location!);
    expect(words(page.html)).toContain('Maintenance cancelled.');
    expect(page.html).not.toContain(`id="m-${id}"`);
    expect(words(page.html)).toContain('Cache resize: Cancelled 2026-03-01 10:00 UTC');
    expect((await b.post(`/console/maintenance/${id}/cancel`, { intent: 'review' })).status).toBe(409);
  });
});

describe('running now', () => {
  it('when a maintenance would put web into maintenance, running it asks for the instance name, refuses without it, and starts it with it', async () => {
    const id = idFrom((await b.post('/console/maintenance', await scheduleForm({ title: 'Schema migration', environments: ['production', 'development'], 'modes.web': 'maintenance', 'modes.worker': 'read_only', scheduled_for: '2026-03-05T09:00' }))).location);
    await b.get('/console/maintenance');
    const review = await b.post(`/console/maintenance/${id}/run`, { intent: 'review' });
    expect(review.status).toBe(200);
    const text = words(review.html);
    expect(text).toContain(`Run #${id} Schema migration now?`);
    expect(text).toContain('Running it now puts web into maintenance now.');
    expect(text).toContain('web will refuse every request with 503 maintenance; browsers see the maintenance page.');
    expect(text).toContain('worker will refuse writes (POST, PUT, PATCH, DELETE get 503 read_only); reads pass.');
    expect(text).toContain('The status page shows Production and Development as under maintenance.');
    expect(text).toContain('Type Herald to confirm.');
    const key = inputValue(review.html, '_key')!;

    const missing = await b.post(`/console/maintenance/${id}/run`, { intent: 'confirm', confirm: '', message: 'Starting early.', _key: key });
    expect(missing.status).toBe(400);
    expect(fieldError(missing.html, 'confirm')).toBe('type the instance name, Herald, to confirm');
    expect(missing.html).toContain('>Starting early.</textarea>');
    const wrong = await b.post(`/console/maintenance/${id}/run`, { intent: 'confirm', confirm: 'herald', message: 'Starting early.', _key: key });
    expect(wrong.status).toBe(400);
    expect(fieldError(wrong.html, 'confirm')).toBe('does not match; type the instance name, Herald');
    expect(inputValue(wrong.html, 'confirm')).toBe('herald');
    expect(await role('web')).toMatchObject({ mode: 'full' });
    expect((await info(id)).status).toBe('scheduled');

    t.clock.set('2026-03-01T10:30:00.000Z');
    const done = await b.post(`/console/maintenance/${id}/run`, { intent: 'confirm', confirm: 'Herald', message: 'Starting early.', _key: key });
    expect(done.status).toBe(303);
    expect(done.location).toBe(`/console/maintenance?done=started#m-${id}`);
    expect(await info(id)).toMatchObject({ status: 'in_progress', method: 'run', started_at: '2026-03-01T10:30:00.000Z' });
    expect(await role('web')).toMatchObject({ mode: 'maintenance', since: '2026-03-01T10:30:00.000Z', sources: [expect.objectContaining({ source: `maintenance:${id}` })] });
    expect(await role('worker')).toMatchObject({ mode: 'read_only' });
    const history = (await api('/api/v1/platform/roles/web/history'))[0];
    expect(history).toMatchObject({ from: 'full', to: 'maintenance', cause: `maintenance ${id} run by ops` });
    const page = await b.get(done.location!);
    expect(words(page.html)).toContain('Maintenance started.');
    expect(words(page.html)).toContain('Started 2026-03-01 10:30 UTC');

    // stopping it lifts the modes it declared
    const stop = await b.post(`/console/maintenance/${id}/cancel`, { intent: 'review' });
    expect(words(stop.html)).toContain(`Stop and cancel #${id} Schema migration?`);
    expect((await b.post(`/console/maintenance/${id}/cancel`, { intent: 'confirm', _key: inputValue(stop.html, '_key')! })).status).toBe(303);
    expect(await role('web')).toMatchObject({ mode: 'full' });
  });

  it('when the roles it stops are in maintenance already, no instance name is asked for', async () => {
    t.clock.set('2026-03-01T11:00:00.000Z');
    await t.call('PUT', '/api/v1/platform/roles/web/override', { token: admin, body: { mode: 'maintenance', reason: 'Hands off' } });
    const id = idFrom((await b.post('/console/maintenance', await scheduleForm({ title: 'Quiet migration', 'modes.web': 'maintenance', scheduled_for: '2026-03-05T09:00' }))).location);
    await b.get('/console/maintenance');
    const review = await b.post(`/console/maintenance/${id}/run`, {});
    expect(words(review.html)).toContain('It puts no role into maintenance now (web is in maintenance already).');
    expect(inputValue(review.html, 'confirm')).toBeUndefined();
    expect((await b.post(`/console/maintenance/${id}/run`, { intent: 'confirm', _key: inputValue(review.html, '_key')! })).status).toBe(303);
    expect((await info(id)).status).toBe('in_progress');
    await t.call('POST', `/api/v1/maintenances/${id}/cancel`, { token: admin, body: {} });
    await t.call('DELETE', '/api/v1/platform/roles/web/override', { token: admin });
  });
});

describe('who may change maintenance', () => {
  beforeEach(tuesdayWindow);

  it('when the token lacks maintenance:write, the page shows maintenance without forms and every write gets 403 with nothing changed', async () => {
    const writer = await t.token(['incidents:write'], 'writer');
    const w = consoleClient(t, '203.0.113.9');
    await w.signIn(writer);
    const page = await w.get('/console/maintenance');
    expect(page.status).toBe(200);
    expect(words(page.html)).toContain('Tuesdays 02:00 UTC for 3 hours');
    expect(page.html).not.toContain('action="/console/maintenance/window"');
    expect(page.html).not.toContain('action="/console/maintenance"');
    const before = (await api('/api/v1/maintenances?state=all&limit=100')).maintenances.length;
    expect((await w.post('/console/maintenance/window', { day: 'Monday', time: '01:00' })).status).toBe(403);
    expect((await w.post('/console/maintenance', { title: 'x', message: 'y', plan: 'time', scheduled_for: '2026-03-05T09:00' })).status).toBe(403);
    expect((await api('/api/v1/maintenance-window')).description).toBe('Tuesdays 02:00 UTC for 3 hours');
    expect((await api('/api/v1/maintenances?state=all&limit=100')).maintenances.length).toBe(before);
  });

  it('when a form comes without the session\'s _csrf, it is refused with 403 and nothing changes', async () => {
    await b.get('/console/maintenance');
    const res = await b.post('/console/maintenance/window', { _csrf: '', day: 'Monday', time: '01:00' });
    expect(res.status).toBe(403);
    const before = (await api('/api/v1/maintenances?state=all&limit=100')).maintenances.length;
    expect((await b.post('/console/maintenance', { ...(await scheduleForm({ scheduled_for: '2026-03-05T09:00' })), _csrf: '' })).status).toBe(403);
    expect((await api('/api/v1/maintenance-window')).description).toBe('Tuesdays 02:00 UTC for 3 hours');
    expect((await api('/api/v1/maintenances?state=all&limit=100')).maintenances.length).toBe(before);
  });
});
