import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localChanges } from '../../src/cache/changes.ts';
import { connectPostgres, type DatabaseHandle } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrator.ts';
import { DAYS } from '../../src/domain/windows.ts';
import { schedulerTick } from '../../src/services/scheduler.ts';
import type { Deps } from '../../src/services/deps.ts';
import { freshDatabase } from '../support/db.ts';
import { testApp } from '../support/app.ts';

/**
 * Planned maintenance (DESIGN "Maintenance windows"): the weekly window, scheduling by time and
 * by deadline, the scheduler (on time, after downtime, racing), run now, reschedule and cancel,
 * and what the public surfaces show. Every test gets its own database (beforeEach) and builds
 * what it needs through the API, so the platform's status and modes are only what that test did.
 *
 * Calendar used below (hand-checked from 2026-01-01 being a Thursday):
 *   2026-03-01 Sunday, 2026-03-02 Monday, 2026-03-03 Tuesday, 2026-03-07 Saturday, 2026-03-08 Sunday;
 *   2026-11-18 Wednesday, 2026-11-22 Sunday, 2026-11-29 Sunday, 2026-12-02 Wednesday;
 *   2026-12-23 Wednesday, 2026-12-26 Saturday, 2026-12-27 Sunday, 2027-01-01 Friday,
 *   2027-01-02 Saturday, 2027-01-03 Sunday, 2027-01-06 Wednesday.
 */

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const iso = (s: string) => new Date(s).toISOString();

const handles: DatabaseHandle[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
});

type App = Awaited<ReturnType<typeof fresh>>;

/** A real app on its own fresh database, an admin token, and the scheduler with the app's deps. */
async function fresh(env: Record<string, string> = {}, handle?: DatabaseHandle) {
  if (!handle) {
    handle = await freshDatabase();
    handles.push(handle);
  }
  const t = await testApp(handle, env);
  const admin = await t.token(['admin'], 'ops');
  const deps: Deps = { db: t.db, clock: t.clock, config: t.config, changes: t.changes };
  const tick = () => schedulerTick(deps);
  const schedule = (body: Record<string, unknown>) => t.call('POST', '/api/v1/maintenances', { token: admin, body: { title: 'Database upgrade', message: 'We are upgrading the primary database.', ...body } });
  const info = async (id: number) => (await t.call('GET', `/api/v1/maintenances/${id}`)).body;
  /** The timeline, oldest first, as [state, at, author, message]. */
  const timeline = async (id: number) =>
    ((await t.call('GET', `/api/v1/incidents/${id}`)).body.updates as any[]).map((u) => [u.state, u.at, u.author, u.message]).reverse();
  const role = async (name: string) => (await t.call('GET', `/api/v1/platform?role=${name}`)).body.roles[0];
  const status = async () => (await t.call('GET', '/api/v1/status')).body;
  const setWindow = (body: Record<string, unknown>) => t.call('PUT', '/api/v1/maintenance-window', { token: admin, body });
  return { ...t, handle, admin, deps, tick, schedule, info, timeline, role, status, setWindow };
}

/** A fresh app with its clock at `now` and the weekly window set to Sundays 14:30 UTC for 4 hours. */
async function freshAt(now: string) {
  const t = await fresh();
  t.clock.set(now);
  expect((await t.setWindow({ day: 'Sunday', time: '14:30' })).status).toBe(200);
  return t;
}

describe('the weekly window', () => {
  let t: App;
  beforeEach(async () => {
    t = await fresh();
  });

  it('when no window was ever set, GET picks one at random once and keeps it: two GETs agree, and maintenance reports it', async () => {
    t.clock.set('2026-03-01T10:00:00Z'); // a Sunday
    const first = await t.call('GET', '/api/v1/maintenance-window');
    expect(first.status).toBe(200);
    const w = first.body;
    expect(DAYS).toContain(w.day);
    expect(w.time).toMatch(/^([01]\d|2[0-3]):00$/); // a whole hour
    expect(w.duration_hours).toBe(4); // the default length, 240 minutes
    expect(w.description).toBe(`${w.day}s ${w.time} UTC for 4 hours`);
    // `next` is that day and time, at or after now and less than a week ahead
    const next = new Date(w.next);
    expect(next.getUTCDay()).toBe(DAYS.indexOf(w.day));
    expect(next.toISOString().slice(11, 16)).toBe(w.time);
    expect(next.getTime()).toBeGreaterThanOrEqual(Date.parse('2026-03-01T10:00:00Z'));
    expect(next.getTime()).toBeLessThan(Date.parse('2026-03-01T10:00:00Z') + 7 * 24 * HOUR);
    const second = await t.call('GET', '/api/v1/maintenance-window');
    expect(second.body).toEqual(w);
    // a maintenance scheduled now reports the same window, and its default length is the window's 4 h
    const m = await t.schedule({ scheduled_for: '2026-03-02T10:00:00Z' });
    expect(m.body.window).toBe(w.description);
    expect(m.body.scheduled_until).toBe('2026-03-02T14:00:00.000Z'); // 10:00 + 4 h
    expect((await t.call('GET', '/api/v1/maintenance-window')).body).toEqual(w);
  });

  it('when several first GETs arrive at once, they all get the same random window', async () => {
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => t.call('GET', '/api/v1/maintenance-window')));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    for (const a of answers) expect(a.body).toEqual(answers[0]!.body);
  });

  it('when PUT sets Sunday 14:30, it answers the description and the next start, and GET keeps it', async () => {
    t.clock.set('2026-03-01T10:00:00Z'); // Sunday 10:00, before today's 14:30
    const put = await t.setWindow({ day: 'Sunday', time: '14:30' });
    expect(put.status).toBe(200);
    const sunday = { day: 'Sunday', time: '14:30', duration_hours: 4, description: 'Sundays 14:30 UTC for 4 hours', next: '2026-03-01T14:30:00.000Z' };
    expect(put.body).toEqual(sunday);
    expect((await t.call('GET', '/api/v1/maintenance-window')).body).toEqual(sunday);
    // at 15:00 today's window has begun, so the next start is a week on: 2026-03-01 + 7 days = 2026-03-08
    t.clock.set('2026-03-01T15:00:00Z');
    expect((await t.call('GET', '/api/v1/maintenance-window')).body.next).toBe('2026-03-08T14:30:00.000Z');
    // exactly at 14:30 the window starting now is the next one ("at or after")
    t.clock.set('2026-03-01T14:30:00Z');
    expect((await t.call('GET', '/api/v1/maintenance-window')).body.next).toBe('2026-03-01T14:30:00.000Z');
  });

  it('when PUT gives a short day name, H:MM and a fractional length, they are normalised; minutes show when not whole hours', async () => {
    t.clock.set('2026-03-01T15:00:00Z'); // Sunday
    const put = await t.setWindow({ day: 'sat', time: '9:05', duration_hours: 1.5 });
    expect(put.status).toBe(200);
    // 1.5 h = 90 minutes; the next Saturday after Sunday 2026-03-01 is 2026-03-07 (+6 days)
    expect(put.body).toEqual({ day: 'Saturday', time: '09:05', duration_hours: 1.5, description: 'Saturdays 09:05 UTC for 90 minutes', next: '2026-03-07T09:05:00.000Z' });
    expect((await t.setWindow({ day: 'Sunday', time: '14:30' })).body.description).toBe('Sundays 14:30 UTC for 4 hours');
  });

  it('when PUT has a bad day, time and duration, it answers 400 listing each problem and keeps the window', async () => {
    await t.setWindow({ day: 'Sunday', time: '14:30' });
    const bad = await t.setWindow({ day: 'Funday', time: '25:00', duration_hours: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.id).toBe('invalid_params');
    expect(bad.body.errors).toEqual([
      { path: 'day', message: 'must be a day of the week, e.g. Sunday' },
      { path: 'time', message: 'must be a time HH:MM in UTC, e.g. 14:30' },
      { path: 'duration_hours', message: 'must be at least 0.25' },
    ]);
    const tooLong = await t.setWindow({ day: 'Monday', time: '14:60', duration_hours: 25 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors).toEqual([
      { path: 'time', message: 'must be a time HH:MM in UTC, e.g. 14:30' },
      { path: 'duration_hours', message: 'must be at most 24' },
    ]);
    const missing = await t.setWindow({});
    expect(missing.status).toBe(400);
    expect(missing.body.errors.map((e: any) => e.path)).toEqual(['day', 'time']);
    expect((await t.call('GET', '/api/v1/maintenance-window')).body.description).toBe('Sundays 14:30 UTC for 4 hours');
  });

  it('when the token has only incidents:write, PUT answers 403; without a token, 401', async () => {
    await t.setWindow({ day: 'Sunday', time: '14:30' });
    const writer = await t.token(['incidents:write'], 'incident-writer');
    const res = await t.call('PUT', '/api/v1/maintenance-window', { token: writer, body: { day: 'Monday', time: '01:00' } });
    expect(res.status).toBe(403);
    expect(res.body.id).toBe('forbidden');
    expect((await t.call('PUT', '/api/v1/maintenance-window', { body: { day: 'Monday', time: '01:00' } })).status).toBe(401);
    expect((await t.call('GET', '/api/v1/maintenance-window')).body.description).toBe('Sundays 14:30 UTC for 4 hours');
  });
});

describe('scheduling by time', () => {
  let t: App;
  beforeEach(async () => {
    t = await freshAt('2026-03-02T09:00:00Z'); // Monday
  });

  it('when only scheduled_for is given, the end is the window length (4 h) later; an explicit scheduled_until is kept', async () => {
    const res = await t.schedule({ environments: ['production'], modes: { web: 'maintenance' }, scheduled_for: '2026-03-03T10:00:00Z' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      title: 'Database upgrade',
      status: 'scheduled',
      window: 'Sundays 14:30 UTC for 4 hours',
      scheduled_for: '2026-03-03T10:00:00.000Z',
      scheduled_until: '2026-03-03T14:00:00.000Z', // 10:00 + 4 h
      required_by: null,
      method: 'explicit',
      auto_start: true,
      auto_complete: true,
      environments: ['production'],
      modes: { web: 'maintenance' },
      started_at: null,
      completed_at: null,
      cancelled_at: null,
      duration: null,
    });
    expect(await t.info(res.body.id)).toEqual(res.body);

    const explicit = await t.schedule({ scheduled_for: '2026-03-03T10:00:00+01:00', scheduled_until: '2026-03-03T11:30:00Z' });
    expect(explicit.status).toBe(201);
    // 10:00+01:00 = 09:00Z
    expect(explicit.body).toMatchObject({ scheduled_for: '2026-03-03T09:00:00.000Z', scheduled_until: '2026-03-03T11:30:00.000Z', method: 'explicit', environments: [], modes: {} });
  });

  it('when the end is not after the start, scheduled_for is in the past, or both ways are given, it answers 400 naming the field', async () => {
    const before = (await t.call('GET', '/api/v1/maintenances?state=all&limit=100')).body.maintenances.length;
    const backwards = await t.schedule({ scheduled_for: '2026-03-03T12:00:00Z', scheduled_until: '2026-03-03T11:00:00Z' });
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors).toEqual([{ path: 'scheduled_until', message: 'must be after scheduled_for' }]);
    const empty = await t.schedule({ scheduled_for: '2026-03-03T12:00:00Z', scheduled_until: '2026-03-03T12:00:00Z' });
    expect(empty.status).toBe(400);
    expect(empty.body.errors).toEqual([{ path: 'scheduled_until', message: 'must be after scheduled_for' }]);

    const past = await t.schedule({ scheduled_for: '2026-03-02T08:59:00Z' }); // a minute before the clock's 09:00
    expect(past.status).toBe(400);
    expect(past.body.errors).toEqual([{ path: 'scheduled_for', message: 'must be in the future (server time is 2026-03-02T09:00:00.000Z)' }]);
    const now = await t.schedule({ scheduled_for: '2026-03-02T09:00:00Z' }); // "future" is strictly after now
    expect(now.status).toBe(400);
    expect(now.body.errors.map((e: any) => e.path)).toEqual(['scheduled_for']);

    const both = await t.schedule({ scheduled_for: '2026-03-03T10:00:00Z', required_by: '2026-03-20T00:00:00Z' });
    expect(both.status).toBe(400);
    expect(both.body.errors).toEqual([{ path: 'required_by', message: 'give either required_by (Herald picks the window) or scheduled_for, not both' }]);
    const neither = await t.schedule({});
    expect(neither.status).toBe(400);
    expect(neither.body.errors).toEqual([{ path: 'scheduled_for', message: 'is required unless required_by is given' }]);
    const noZone = await t.schedule({ scheduled_for: '2026-03-03T10:00:00' });
    expect(noZone.status).toBe(400);
    expect(noZone.body.errors).toEqual([{ path: 'scheduled_for', message: 'must be an ISO 8601 time with a timezone, e.g. 2026-11-21T10:00:00Z' }]);
    expect((await t.call('GET', '/api/v1/maintenances?state=all&limit=100')).body.maintenances.length).toBe(before);
  });

  it('when environments or modes name unknown ones, it answers 400 with each path', async () => {
    const res = await t.schedule({ scheduled_for: '2026-03-03T10:00:00Z', environments: ['production', 'staging'], modes: { deploy: 'maintenance', web: 'off' } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { path: 'environments.1', message: 'unknown environment "staging" (known: production, development)' },
        { path: 'modes.deploy', message: 'unknown role "deploy" (known: web, worker)' },
        { path: 'modes.web', message: 'must be one of full, read_only, maintenance' },
      ]),
    );
    expect(res.body.errors).toHaveLength(3);
    const writer = await t.token(['incidents:write'], 'incident-writer');
    expect((await t.call('POST', '/api/v1/maintenances', { token: writer, body: { title: 'x', message: 'y', scheduled_for: '2026-03-03T10:00:00Z' } })).status).toBe(403);
  });
});

describe('scheduling by deadline', () => {
  let t: App;
  beforeEach(async () => {
    t = await freshAt('2026-11-18T09:00:00Z'); // Wednesday
  });

  it('when required_by is given, it lands in the last whole window before the deadline, method "window"', async () => {
    const res = await t.schedule({ required_by: '2026-12-02T00:00:00Z' });
    expect(res.status).toBe(201);
    // Sundays before Wed 2026-12-02 00:00: 11-22 and 11-29; the 11-29 window 14:30–18:30 (+4 h) ends by the deadline
    expect(res.body).toMatchObject({
      status: 'scheduled',
      window: 'Sundays 14:30 UTC for 4 hours',
      scheduled_for: '2026-11-29T14:30:00.000Z',
      scheduled_until: '2026-11-29T18:30:00.000Z',
      required_by: '2026-12-02T00:00:00.000Z',
      method: 'window',
      started_at: null,
      duration: null,
    });
    // a deadline exactly at a window's end still fits it
    const exact = await t.schedule({ required_by: '2026-11-29T18:30:00Z' });
    expect(exact.body).toMatchObject({ scheduled_for: '2026-11-29T14:30:00.000Z', scheduled_until: '2026-11-29T18:30:00.000Z' });
    // a minute earlier it does not: the week before, 2026-11-29 − 7 days = 2026-11-22
    const earlier = await t.schedule({ required_by: '2026-11-29T18:29:00Z' });
    expect(earlier.body).toMatchObject({ scheduled_for: '2026-11-22T14:30:00.000Z', scheduled_until: '2026-11-22T18:30:00.000Z', method: 'window' });
  });

  it('when the deadline comes before the end of the next whole window, it answers 400 with the reason on required_by', async () => {
    // the next window from Wed 2026-11-18 09:00 is Sun 2026-11-22 14:30–18:30; a deadline at 18:29 cannot hold it
    const res = await t.schedule({ required_by: '2026-11-22T18:29:00Z' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      id: 'invalid_params',
      code: 'maintenance.no_window_before_deadline',
      message: 'The maintenance cannot be scheduled.',
      errors: [
        {
          path: 'required_by',
          message: '2026-11-22T18:29:00.000Z comes before the end of the next maintenance window (Sundays 14:30 UTC for 4 hours); give scheduled_for, or run it now',
        },
      ],
    });
    // a window that has already begun is not "next": on Sun 2026-11-22 at 15:00 a deadline at 18:30 is too soon
    t.clock.set('2026-11-22T15:00:00Z');
    const during = await t.schedule({ required_by: '2026-11-22T18:30:00Z' });
    expect(during.status).toBe(400);
    expect(during.body.errors.map((e: any) => e.path)).toEqual(['required_by']);
    // …and one a week later goes to 2026-11-29 (11-22 + 7 days)
    expect((await t.schedule({ required_by: '2026-11-29T18:30:00Z' })).body.scheduled_for).toBe('2026-11-29T14:30:00.000Z');
  });

  it('when the deadline is across a year boundary, the window is found in the right week', async () => {
    t.clock.set('2026-12-23T09:00:00Z'); // Wednesday
    // Wed 2027-01-06 00:00 → the Sunday before is 2027-01-03 (2026-12-27 + 7 days)
    const jan = await t.schedule({ required_by: '2027-01-06T00:00:00Z' });
    expect(jan.body).toMatchObject({ scheduled_for: '2027-01-03T14:30:00.000Z', scheduled_until: '2027-01-03T18:30:00.000Z', required_by: '2027-01-06T00:00:00.000Z', method: 'window' });
    // Fri 2027-01-01 12:00 → the Sunday before it is in the old year: 2026-12-27
    const newYear = await t.schedule({ required_by: '2027-01-01T12:00:00Z' });
    expect(newYear.body).toMatchObject({ scheduled_for: '2026-12-27T14:30:00.000Z', scheduled_until: '2026-12-27T18:30:00.000Z' });

    // a Saturday 23:00 window runs past midnight into Sunday (23:00 + 4 h = 03:00 next day)
    await t.setWindow({ day: 'Saturday', time: '23:00' });
    // deadline Sun 2027-01-03 03:00 holds Sat 2027-01-02 23:00 → Sun 03:00 exactly
    const sat = await t.schedule({ required_by: '2027-01-03T03:00:00Z' });
    expect(sat.body).toMatchObject({ window: 'Saturdays 23:00 UTC for 4 hours', scheduled_for: '2027-01-02T23:00:00.000Z', scheduled_until: '2027-01-03T03:00:00.000Z' });
    // an hour earlier it does not fit, so the week before: Sat 2026-12-26 23:00 → Sun 2026-12-27 03:00
    const satEarlier = await t.schedule({ required_by: '2027-01-03T02:00:00Z' });
    expect(satEarlier.body).toMatchObject({ scheduled_for: '2026-12-26T23:00:00.000Z', scheduled_until: '2026-12-27T03:00:00.000Z' });
  });

  it('when a scheduled maintenance is rescheduled by deadline, it moves to the window and says method "window"', async () => {
    const m = (await t.schedule({ scheduled_for: '2026-11-20T10:00:00Z' })).body;
    expect(m.method).toBe('explicit');
    const moved = await t.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: t.admin, body: { required_by: '2026-12-02T00:00:00Z' } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ scheduled_for: '2026-11-29T14:30:00.000Z', scheduled_until: '2026-11-29T18:30:00.000Z', required_by: '2026-12-02T00:00:00.000Z', method: 'window' });
    const back = await t.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: t.admin, body: { scheduled_for: '2026-11-21T10:00:00Z' } });
    // back to a time: the deadline is dropped, and the end is 10:00 + 4 h
    expect(back.body).toMatchObject({ scheduled_for: '2026-11-21T10:00:00.000Z', scheduled_until: '2026-11-21T14:00:00.000Z', required_by: null, method: 'explicit' });
  });
});

describe('the scheduler', () => {
  let t: App;
  beforeEach(async () => {
    t = await freshAt('2026-03-02T09:00:00Z'); // Monday
  });

  it('when scheduled_for comes, one pass starts it (blue, web in maintenance until scheduled_until); at scheduled_until it completes, and info follows each stage', async () => {
    const m = (await t.schedule({ environments: ['production'], modes: { web: 'maintenance' }, scheduled_for: '2026-03-02T10:00:00Z', scheduled_until: '2026-03-02T12:00:00Z' })).body;
    const planned = {
      id: m.id,
      title: 'Database upgrade',
      window: 'Sundays 14:30 UTC for 4 hours',
      scheduled_for: '2026-03-02T10:00:00.000Z',
      scheduled_until: '2026-03-02T12:00:00.000Z',
      required_by: null,
      method: 'explicit',
      auto_start: true,
      auto_complete: true,
      environments: ['production'],
      modes: { web: 'maintenance' },
    };
    expect(await t.info(m.id)).toEqual({ ...planned, status: 'scheduled', started_at: null, completed_at: null, cancelled_at: null, duration: null });
    // announced, not yet in force
    expect((await t.status()).environments.map((e: any) => e.status)).toEqual(['green', 'green']);
    expect((await t.role('web')).mode).toBe('full');

    t.clock.set('2026-03-02T09:59:59.999Z');
    expect(await t.tick()).toEqual({ acted: true, started: [], completed: [] });
    expect((await t.info(m.id)).status).toBe('scheduled');

    t.clock.set('2026-03-02T10:00:00Z');
    expect(await t.tick()).toEqual({ acted: true, started: [m.id], completed: [] });
    const s = await t.status();
    expect(s.environments).toEqual([
      { slug: 'production', name: 'Production', status: 'blue' },
      { slug: 'development', name: 'Development', status: 'green' },
    ]);
    expect(s.incidents.map((i: any) => i.id)).toEqual([m.id]);
    expect(s.scheduled).toEqual([]);
    const platform = await t.call('GET', '/api/v1/platform?role=web');
    expect(platform.body.roles[0]).toMatchObject({
      role: 'web',
      mode: 'maintenance',
      since: '2026-03-02T10:00:00.000Z',
      retry_after: '2026-03-02T12:00:00.000Z',
      sources: [expect.objectContaining({ source: `maintenance:${m.id}`, kind: 'maintenance', until: '2026-03-02T12:00:00.000Z' })],
    });
    expect(platform.headers.get('retry-after')).toBe('Mon, 02 Mar 2026 12:00:00 GMT');
    expect((await t.role('worker')).mode).toBe('full');

    t.clock.set('2026-03-02T11:00:00Z');
    // 11:00 − 10:00 = 1 hour so far
    expect(await t.info(m.id)).toEqual({ ...planned, status: 'in_progress', started_at: '2026-03-02T10:00:00.000Z', completed_at: null, cancelled_at: null, duration: '1 hour' });
    expect(await t.tick()).toEqual({ acted: true, started: [], completed: [] });

    t.clock.set('2026-03-02T12:00:00Z');
    expect(await t.tick()).toEqual({ acted: true, started: [], completed: [m.id] });
    expect((await t.status()).environments.map((e: any) => e.status)).toEqual(['green', 'green']);
    expect(await t.role('web')).toEqual({ role: 'web', mode: 'full', since: '2026-03-02T12:00:00.000Z', sources: [], retry_after: null, refresh: null });

    t.clock.set('2026-03-02T12:30:00Z');
    // 12:00 − 10:00 = 2 hours (the duration stops at completion, not at now)
    expect(await t.info(m.id)).toEqual({ ...planned, status: 'completed', started_at: '2026-03-02T10:00:00.000Z', completed_at: '2026-03-02T12:00:00.000Z', cancelled_at: null, duration: '2 hours' });
    expect(await t.timeline(m.id)).toEqual([
      ['scheduled', '2026-03-02T09:00:00.000Z', 'ops', 'We are upgrading the primary database.'],
      ['in_progress', '2026-03-02T10:00:00.000Z', 'Herald scheduler', 'Maintenance has started.'],
      ['completed', '2026-03-02T12:00:00.000Z', 'Herald scheduler', 'Maintenance is complete.'],
    ]);
    const view = (await t.call('GET', `/api/v1/incidents/${m.id}`)).body;
    // blue and maintenance from 10:00 to 12:00: 2 h = 7200 s
    expect(view.scope_of_impact.environments[0]).toMatchObject({ environment: 'production', blue_seconds: 7200, impaired: '2 hours' });
    expect(view.scope_of_impact.roles[0]).toMatchObject({ role: 'web', maintenance_seconds: 7200 });
    const history = (await t.call('GET', '/api/v1/platform/roles/web/history')).body;
    expect(history.map((h: any) => [h.from, h.to, h.at])).toEqual([
      ['maintenance', 'full', '2026-03-02T12:00:00.000Z'],
      ['full', 'maintenance', '2026-03-02T10:00:00.000Z'],
    ]);
    // open lists no longer include it; closed and all do (all is the default)
    const ids = async (query: string) => (await t.call('GET', `/api/v1/maintenances${query}`)).body.maintenances.map((x: any) => x.id);
    expect(await ids('?state=open')).not.toContain(m.id);
    expect(await ids('?state=closed')).toContain(m.id);
    expect(await ids('?state=all')).toContain(m.id);
    expect(await ids('')).toContain(m.id);
  });

  it('when auto_start is false the scheduler leaves it scheduled; started by hand, it is still completed on time', async () => {
    t.clock.set('2026-03-02T12:30:00Z');
    const m = (await t.schedule({ environments: ['development'], scheduled_for: '2026-03-02T13:00:00Z', scheduled_until: '2026-03-02T14:00:00Z', auto_start: false })).body;
    expect(m.auto_start).toBe(false);
    t.clock.set('2026-03-02T13:00:00Z');
    expect(await t.tick()).toEqual({ acted: true, started: [], completed: [] });
    t.clock.set('2026-03-02T13:30:00Z');
    expect((await t.info(m.id)).status).toBe('scheduled');
    // it stops no role, so it runs without confirmation
    const run = await t.call('POST', `/api/v1/maintenances/${m.id}/run`, { token: t.admin, body: {} });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ status: 'in_progress', method: 'run', started_at: '2026-03-02T13:30:00.000Z', duration: '0 seconds' });
    t.clock.set('2026-03-02T14:00:00Z');
    expect(await t.tick()).toEqual({ acted: true, started: [], completed: [m.id] });
    // 14:00 − 13:30 = 30 minutes
    expect(await t.info(m.id)).toMatchObject({ status: 'completed', completed_at: '2026-03-02T14:00:00.000Z', duration: '30 minutes' });
  });

  it('when auto_complete is false the scheduler starts it but leaves it running past scheduled_until until someone completes it', async () => {
    t.clock.set('2026-03-02T14:30:00Z');
    const m = (await t.schedule({ environments: ['production'], scheduled_for: '2026-03-02T15:00:00Z', scheduled_until: '2026-03-02T16:00:00Z', auto_complete: false })).body;
    t.clock.set('2026-03-02T15:00:00Z');
    expect(await t.tick()).toEqual({ acted: true, started: [m.id], completed: [] });
    t.clock.set('2026-03-02T16:00:00Z');
    expect(await t.tick()).toEqual({ acted: true, started: [], completed: [] });
    t.clock.set('2026-03-02T16:30:00Z');
    expect(await t.tick()).toEqual({ acted: true, started: [], completed: [] });
    // still blue past its planned end
    expect((await t.status()).environments[0].status).toBe('blue');
    expect(await t.info(m.id)).toMatchObject({ status: 'in_progress', duration: '1 hour 30 minutes' }); // 16:30 − 15:00
    const done = await t.call('POST', `/api/v1/incidents/${m.id}/updates`, { token: t.admin, body: { state: 'completed', message: 'All done.' } });
    expect(done.status).toBe(201);
    expect(await t.info(m.id)).toMatchObject({ status: 'completed', completed_at: '2026-03-02T16:30:00.000Z', duration: '1 hour 30 minutes' });
    expect((await t.status()).environments[0].status).toBe('green');
  });

  it('when a running maintenance was moved to verifying by hand, the scheduler still completes it at scheduled_until', async () => {
    t.clock.set('2026-03-02T16:40:00Z');
    const m = (await t.schedule({ scheduled_for: '2026-03-02T16:45:00Z', scheduled_until: '2026-03-02T16:55:00Z' })).body;
    t.clock.set('2026-03-02T16:45:00Z');
    expect((await t.tick()).started).toEqual([m.id]);
    t.clock.set('2026-03-02T16:50:00Z');
    expect((await t.call('POST', `/api/v1/incidents/${m.id}/updates`, { token: t.admin, body: { state: 'verifying', message: 'Checking.' } })).status).toBe(201);
    t.clock.set('2026-03-02T16:55:00Z');
    expect(await t.tick()).toEqual({ acted: true, started: [], completed: [m.id] });
    expect((await t.timeline(m.id)).map((u) => [u[0], u[1]])).toEqual([
      ['scheduled', '2026-03-02T16:40:00.000Z'],
      ['in_progress', '2026-03-02T16:45:00.000Z'],
      ['verifying', '2026-03-02T16:50:00.000Z'],
      ['completed', '2026-03-02T16:55:00.000Z'],
    ]);
  });

  it('when auto_start is turned off by PATCH, the scheduler respects it', async () => {
    t.clock.set('2026-03-02T17:00:00Z');
    const m = (await t.schedule({ scheduled_for: '2026-03-02T18:00:00Z', scheduled_until: '2026-03-02T19:00:00Z' })).body;
    const off = await t.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: t.admin, body: { auto_start: false } });
    expect(off.status).toBe(200);
    // the times are untouched
    expect(off.body).toMatchObject({ auto_start: false, auto_complete: true, scheduled_for: '2026-03-02T18:00:00.000Z', scheduled_until: '2026-03-02T19:00:00.000Z' });
    t.clock.set('2026-03-02T18:00:00Z');
    expect((await t.tick()).started).toEqual([]);
    await t.call('POST', `/api/v1/maintenances/${m.id}/cancel`, { token: t.admin, body: {} });
  });
});

describe('missed starts after downtime', () => {
  let t: App;
  beforeEach(async () => {
    t = await freshAt('2026-03-02T09:00:00Z'); // Monday
  });

  it('when the clock jumps past both start and end, one pass records the start and the end at their scheduled times, and a second pass adds nothing', async () => {
    const m = (await t.schedule({ environments: ['production'], modes: { web: 'maintenance' }, scheduled_for: '2026-03-02T10:00:00Z', scheduled_until: '2026-03-02T13:30:00Z' })).body;

    t.clock.set('2026-03-02T15:45:00Z'); // down from before 10:00 until now
    expect(await t.tick()).toEqual({ acted: true, started: [m.id], completed: [m.id] });
    expect(await t.timeline(m.id)).toEqual([
      ['scheduled', '2026-03-02T09:00:00.000Z', 'ops', 'We are upgrading the primary database.'],
      ['in_progress', '2026-03-02T10:00:00.000Z', 'Herald scheduler', "Maintenance has started (recorded at the scheduled time; Herald's scheduler caught up at 2026-03-02T15:45:00.000Z)."],
      ['completed', '2026-03-02T13:30:00.000Z', 'Herald scheduler', 'Maintenance is complete.'],
    ]);
    // catch up once: nothing more, now or later
    expect(await t.tick()).toEqual({ acted: true, started: [], completed: [] });
    t.clock.set('2026-03-02T15:46:00Z');
    expect(await t.tick()).toEqual({ acted: true, started: [], completed: [] });
    expect(await t.timeline(m.id)).toHaveLength(3);

    // blue exactly the window: 13:30 − 10:00 = 3 h 30 min = 12 600 s
    const view = (await t.call('GET', `/api/v1/incidents/${m.id}`)).body;
    expect(view.scope_of_impact.environments[0]).toEqual({ environment: 'production', impaired_seconds: 12600, impaired: '3 hours 30 minutes', yellow_seconds: 0, orange_seconds: 0, red_seconds: 0, blue_seconds: 12600 });
    expect(view.scope_of_impact.roles[0]).toMatchObject({ role: 'web', maintenance_seconds: 12600, maintenance: '3 hours 30 minutes' });
    expect(await t.info(m.id)).toMatchObject({ status: 'completed', started_at: '2026-03-02T10:00:00.000Z', completed_at: '2026-03-02T13:30:00.000Z', duration: '3 hours 30 minutes' });
    expect((await t.role('web')).mode).toBe('full');
    expect((await t.status()).environments[0].status).toBe('green');
    // the mode history says when web was in maintenance, not when Herald found out
    const history = (await t.call('GET', '/api/v1/platform/roles/web/history')).body;
    expect(history.map((h: any) => [h.from, h.to, h.at, h.cause])).toEqual([
      ['maintenance', 'full', '2026-03-02T13:30:00.000Z', 'maintenance scheduler'],
      ['full', 'maintenance', '2026-03-02T10:00:00.000Z', 'maintenance scheduler'],
    ]);
  });

  it('when several were missed, one pass catches each up in order; a start missed by under 2 minutes reads as on time', async () => {
    t.clock.set('2026-03-03T09:00:00Z');
    const a = (await t.schedule({ title: 'A', scheduled_for: '2026-03-03T10:00:00Z', scheduled_until: '2026-03-03T11:00:00Z' })).body;
    const b = (await t.schedule({ title: 'B', scheduled_for: '2026-03-03T09:30:00Z', scheduled_until: '2026-03-03T12:00:00Z' })).body;
    t.clock.set('2026-03-03T11:30:00Z');
    // started in scheduled_for order (B 09:30, A 10:00); only A (ends 11:00 ≤ 11:30) completes
    expect(await t.tick()).toEqual({ acted: true, started: [b.id, a.id], completed: [a.id] });
    expect((await t.info(b.id)).status).toBe('in_progress');
    t.clock.set('2026-03-03T12:00:00Z');
    expect(await t.tick()).toEqual({ acted: true, started: [], completed: [b.id] });

    t.clock.set('2026-03-03T13:00:00Z');
    const c = (await t.schedule({ title: 'C', scheduled_for: '2026-03-03T14:00:00Z', scheduled_until: '2026-03-03T15:00:00Z' })).body;
    t.clock.set('2026-03-03T14:01:59Z'); // 1 min 59 s late: not more than 2 minutes
    expect((await t.tick()).started).toEqual([c.id]);
    expect((await t.timeline(c.id))[1]).toEqual(['in_progress', '2026-03-03T14:00:00.000Z', 'Herald scheduler', 'Maintenance has started.']);
  });

  it('when two maintenances were missed one after the other, the catch-up applies start, end, start, end in time order, mode history included', async () => {
    t.clock.set('2026-03-04T08:00:00Z');
    const a = (await t.schedule({ title: 'Queue A', modes: { worker: 'maintenance' }, scheduled_for: '2026-03-04T10:00:00Z', scheduled_until: '2026-03-04T11:00:00Z' })).body;
    const b = (await t.schedule({ title: 'Queue B', modes: { worker: 'maintenance' }, scheduled_for: '2026-03-04T12:00:00Z', scheduled_until: '2026-03-04T13:00:00Z' })).body;
    t.clock.set('2026-03-04T14:00:00Z'); // down through both
    expect(await t.tick()).toEqual({ acted: true, started: [a.id, b.id], completed: [a.id, b.id] });
    const history = (await t.call('GET', '/api/v1/platform/roles/worker/history')).body;
    expect(history.map((h: any) => [h.from, h.to, h.at])).toEqual([
      ['maintenance', 'full', '2026-03-04T13:00:00.000Z'],
      ['full', 'maintenance', '2026-03-04T12:00:00.000Z'],
      ['maintenance', 'full', '2026-03-04T11:00:00.000Z'],
      ['full', 'maintenance', '2026-03-04T10:00:00.000Z'],
    ]);
    expect((await t.role('worker')).mode).toBe('full');
  });
});

describe('two scheduler passes at once', () => {
  const postgres = Boolean(process.env.TEST_DATABASE_URL);

  /** Two separate pools on one new database of the test server (dropped at the end). */
  async function twoPools() {
    const url = process.env.TEST_DATABASE_URL!;
    const { default: pg } = await import('pg');
    const name = `herald_race_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const target = new URL(url);
    target.pathname = `/${name}`;
    const a = await connectPostgres(target.toString(), { max: 10 });
    await migrate(a.db);
    const b = await connectPostgres(target.toString(), { max: 10 });
    return {
      a,
      b,
      close: async () => {
        await a.close();
        await b.close();
        const again = new pg.Client({ connectionString: url });
        await again.connect();
        await again.query(`drop database if exists ${name} with (force)`);
        await again.end();
      },
    };
  }

  /** 20 rounds of 3 maintenances, each started and completed by several passes racing. */
  async function race(t: App, passes: Array<() => Promise<{ acted: boolean; started: number[]; completed: number[] }>>) {
    const base = Date.parse('2026-03-02T00:00:00Z');
    let skipped = 0;
    for (let round = 0; round < 20; round++) {
      const at = (min: number) => new Date(base + round * HOUR + min * MIN).toISOString();
      t.clock.set(at(0));
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) ids.push((await t.schedule({ title: `R${round}.${i}`, modes: { worker: 'maintenance' }, scheduled_for: at(10), scheduled_until: at(20) })).body.id);
      t.clock.set(at(10));
      const starts = await Promise.all(passes.map((p) => p()));
      skipped += starts.filter((r) => !r.acted).length;
      // every maintenance started by exactly one pass
      expect(starts.flatMap((r) => r.started).sort((x, y) => x - y)).toEqual(ids);
      expect(starts.flatMap((r) => r.completed)).toEqual([]);
      t.clock.set(at(20));
      const ends = await Promise.all(passes.map((p) => p()));
      expect(ends.flatMap((r) => r.completed).sort((x, y) => x - y)).toEqual(ids);
      for (const id of ids) {
        const states = (await t.timeline(id)).map((u) => u[0]);
        expect(states).toEqual(['scheduled', 'in_progress', 'completed']);
      }
      // the worker role went into maintenance once and came back once per round
      const history = (await t.call('GET', '/api/v1/platform/roles/worker/history')).body;
      expect(history).toHaveLength(2 * (round + 1));
    }
    return skipped;
  }

  it.runIf(postgres)('when two instances on separate pools tick together many times, each maintenance gets exactly one in_progress and one completed update', async () => {
    const pools = await twoPools();
    try {
      const t = await fresh({}, pools.a);
      await t.setWindow({ day: 'Sunday', time: '14:30' });
      const other: Deps = { db: pools.b.db, clock: t.clock, config: t.config, changes: localChanges() };
      const skipped = await race(t, [t.tick, () => schedulerTick(other), t.tick, () => schedulerTick(other)]);
      // the passes really overlapped: some found the advisory lock taken and stood aside
      // (observed: 3 of the 4 passes in every one of the 20 rounds)
      expect(skipped).toBeGreaterThan(0);
    } finally {
      await pools.close();
    }
  }, 60_000);

  it.runIf(!postgres)('when passes run concurrently on the one PGlite handle many times, each maintenance gets exactly one in_progress and one completed update', async () => {
    const t = await fresh();
    await t.setWindow({ day: 'Sunday', time: '14:30' });
    await race(t, [t.tick, t.tick, t.tick, t.tick]);
  }, 60_000);
});

describe('run now', () => {
  let t: App;
  beforeEach(async () => {
    t = await freshAt('2026-03-02T09:00:00Z'); // Monday
  });

  it('when running would put web into maintenance, it refuses with 409 naming the role and how to confirm; with the instance name it runs, method "run"', async () => {
    const m = (await t.schedule({ environments: ['production'], modes: { web: 'maintenance' }, scheduled_for: '2026-03-03T10:00:00Z', scheduled_until: '2026-03-03T12:00:00Z' })).body;
    const refused = await t.call('POST', `/api/v1/maintenances/${m.id}/run`, { token: t.admin, body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      id: 'conflict',
      code: 'maintenance.confirmation_required',
      message: `Running maintenance ${m.id} now puts web into maintenance, refusing requests. Put it in maintenance first, or confirm with the instance name: {"confirm": "Herald"} (CLI: --confirm Herald).`,
    });
    const wrongName = await t.call('POST', `/api/v1/maintenances/${m.id}/run`, { token: t.admin, body: { confirm: 'herald' } });
    expect(wrongName.status).toBe(409);
    expect(await t.info(m.id)).toMatchObject({ status: 'scheduled', method: 'explicit' });
    expect((await t.role('web')).mode).toBe('full');

    t.clock.set('2026-03-02T09:15:00Z');
    const run = await t.call('POST', `/api/v1/maintenances/${m.id}/run`, { token: t.admin, body: { confirm: 'Herald', message: 'Starting early.' } });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ status: 'in_progress', method: 'run', started_at: '2026-03-02T09:15:00.000Z', scheduled_for: '2026-03-03T10:00:00.000Z', scheduled_until: '2026-03-03T12:00:00.000Z', duration: '0 seconds' });
    expect(await t.role('web')).toMatchObject({ mode: 'maintenance', since: '2026-03-02T09:15:00.000Z', retry_after: '2026-03-03T12:00:00.000Z' });
    expect((await t.timeline(m.id)).at(-1)).toEqual(['in_progress', '2026-03-02T09:15:00.000Z', 'ops', 'Starting early.']);
    // the scheduler does not start it again at scheduled_for, and completes it at scheduled_until
    t.clock.set('2026-03-03T10:00:00Z');
    expect(await t.tick()).toEqual({ acted: true, started: [], completed: [] });
    t.clock.set('2026-03-03T12:00:00Z');
    expect(await t.tick()).toEqual({ acted: true, started: [], completed: [m.id] });
    // 2026-03-03 12:00 − 2026-03-02 09:15 = 1 day 2 hours 45 minutes
    expect(await t.info(m.id)).toMatchObject({ status: 'completed', method: 'run', duration: '1 day 2 hours 45 minutes' });
    const again = await t.call('POST', `/api/v1/maintenances/${m.id}/run`, { token: t.admin, body: { confirm: 'Herald' } });
    expect(again.status).toBe(409);
    expect(again.body.message).toBe(`Maintenance ${m.id} is completed; only a scheduled maintenance can be run.`);
  });

  it('when it would stop two roles, the refusal names both; an override already holding one leaves only the other to name', async () => {
    t.clock.set('2026-03-03T13:00:00Z');
    const m = (await t.schedule({ modes: { web: 'maintenance', worker: 'maintenance' }, scheduled_for: '2026-03-04T10:00:00Z' })).body;
    const both = await t.call('POST', `/api/v1/maintenances/${m.id}/run`, { token: t.admin, body: {} });
    expect(both.status).toBe(409);
    expect(both.body.message).toBe(`Running maintenance ${m.id} now puts web and worker into maintenance, refusing requests. Put them in maintenance first, or confirm with the instance name: {"confirm": "Herald"} (CLI: --confirm Herald).`);
    expect((await t.call('PUT', '/api/v1/platform/roles/web/override', { token: t.admin, body: { mode: 'maintenance', reason: 'Deploy' } })).status).toBe(200);
    const one = await t.call('POST', `/api/v1/maintenances/${m.id}/run`, { token: t.admin, body: {} });
    expect(one.status).toBe(409);
    expect(one.body.message).toBe(`Running maintenance ${m.id} now puts worker into maintenance, refusing requests. Put it in maintenance first, or confirm with the instance name: {"confirm": "Herald"} (CLI: --confirm Herald).`);
    await t.call('POST', `/api/v1/maintenances/${m.id}/cancel`, { token: t.admin, body: {} });
  });

  it('when an override already holds web in maintenance, it runs without confirmation', async () => {
    t.clock.set('2026-03-03T13:00:00Z');
    expect((await t.call('PUT', '/api/v1/platform/roles/web/override', { token: t.admin, body: { mode: 'maintenance', reason: 'Deploy' } })).status).toBe(200);
    const m = (await t.schedule({ modes: { web: 'maintenance' }, scheduled_for: '2026-03-04T10:00:00Z' })).body;
    expect((await t.role('web')).mode).toBe('maintenance'); // the override
    const run = await t.call('POST', `/api/v1/maintenances/${m.id}/run`, { token: t.admin, body: {} });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ status: 'in_progress', method: 'run', started_at: '2026-03-03T13:00:00.000Z' });
    // clearing the override leaves the maintenance holding web
    const cleared = await t.call('DELETE', '/api/v1/platform/roles/web/override', { token: t.admin });
    expect(cleared.body.still_held).toBe(true);
    await t.call('POST', `/api/v1/maintenances/${m.id}/cancel`, { token: t.admin, body: {} });
    expect((await t.role('web')).mode).toBe('full');
  });

  it('when it stops no role (read_only only), it runs without confirmation', async () => {
    t.clock.set('2026-03-03T13:00:00Z');
    const m = (await t.schedule({ modes: { worker: 'read_only' }, scheduled_for: '2026-03-04T10:00:00Z' })).body;
    const run = await t.call('POST', `/api/v1/maintenances/${m.id}/run`, { token: t.admin, body: {} });
    expect(run.status).toBe(200);
    expect(run.body.method).toBe('run');
    expect((await t.timeline(m.id)).at(-1)).toEqual(['in_progress', '2026-03-03T13:00:00.000Z', 'ops', 'Maintenance has started.']);
    expect((await t.role('worker')).mode).toBe('read_only');
    await t.call('POST', `/api/v1/maintenances/${m.id}/cancel`, { token: t.admin, body: {} });
  });

  it('when the instance has another name, that name confirms and "Herald" does not', async () => {
    const acme = await fresh({ HERALD_NAME: 'Acme Status' }, t.handle);
    const m = (await acme.schedule({ modes: { web: 'maintenance' }, scheduled_for: '2026-03-04T10:00:00Z' })).body;
    const herald = await acme.call('POST', `/api/v1/maintenances/${m.id}/run`, { token: acme.admin, body: { confirm: 'Herald' } });
    expect(herald.status).toBe(409);
    expect(herald.body.message).toContain('confirm with the instance name: {"confirm": "Acme Status"} (CLI: --confirm Acme Status).');
    const ok = await acme.call('POST', `/api/v1/maintenances/${m.id}/run`, { token: acme.admin, body: { confirm: 'Acme Status' } });
    expect(ok.status).toBe(200);
    await acme.call('POST', `/api/v1/maintenances/${m.id}/cancel`, { token: acme.admin, body: {} });
  });

  it('when the id is unknown or an incident, run, cancel, PATCH and info answer 404; an incidents:write token gets 403', async () => {
    const inc = (await t.call('POST', '/api/v1/incidents', { token: t.admin, body: { title: 'Not maintenance', message: 'x' } })).body;
    for (const id of [999999, inc.id]) {
      expect((await t.call('POST', `/api/v1/maintenances/${id}/run`, { token: t.admin, body: { confirm: 'Herald' } })).status).toBe(404);
      expect((await t.call('POST', `/api/v1/maintenances/${id}/cancel`, { token: t.admin, body: {} })).status).toBe(404);
      expect((await t.call('PATCH', `/api/v1/maintenances/${id}`, { token: t.admin, body: { auto_start: false } })).status).toBe(404);
      const got = await t.call('GET', `/api/v1/maintenances/${id}`);
      expect(got.status).toBe(404);
      expect(got.body.message).toBe(`Maintenance ${id} was not found.`);
    }
    const m = (await t.schedule({ scheduled_for: '2026-03-04T10:00:00Z' })).body;
    const writer = await t.token(['incidents:write'], 'incident-writer');
    expect((await t.call('POST', `/api/v1/maintenances/${m.id}/run`, { token: writer, body: {} })).status).toBe(403);
    expect((await t.call('POST', `/api/v1/maintenances/${m.id}/cancel`, { token: writer, body: {} })).status).toBe(403);
    expect((await t.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: writer, body: { auto_start: false } })).status).toBe(403);
    await t.call('POST', `/api/v1/maintenances/${m.id}/cancel`, { token: t.admin, body: {} });
  });
});

describe('reschedule and cancel', () => {
  let t: App;
  beforeEach(async () => {
    t = await freshAt('2026-03-02T09:00:00Z'); // Monday
  });

  it('when scheduled, PATCH moves it (new start, default end); a start in the past or an end before the start is a 400', async () => {
    const m = (await t.schedule({ scheduled_for: '2026-03-03T10:00:00Z', scheduled_until: '2026-03-03T11:00:00Z' })).body;
    const moved = await t.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: t.admin, body: { scheduled_for: '2026-03-05T08:00:00Z' } });
    expect(moved.status).toBe(200);
    // a new start without an end takes the window's length again: 08:00 + 4 h = 12:00
    expect(moved.body).toMatchObject({ status: 'scheduled', scheduled_for: '2026-03-05T08:00:00.000Z', scheduled_until: '2026-03-05T12:00:00.000Z', method: 'explicit' });
    const both = await t.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: t.admin, body: { scheduled_for: '2026-03-05T09:00:00Z', scheduled_until: '2026-03-05T09:45:00Z' } });
    expect(both.body).toMatchObject({ scheduled_for: '2026-03-05T09:00:00.000Z', scheduled_until: '2026-03-05T09:45:00.000Z' });
    const past = await t.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: t.admin, body: { scheduled_for: '2026-03-01T08:00:00Z' } });
    expect(past.status).toBe(400);
    expect(past.body.errors).toEqual([{ path: 'scheduled_for', message: 'must be in the future (server time is 2026-03-02T09:00:00.000Z)' }]);
    const backwards = await t.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: t.admin, body: { scheduled_for: '2026-03-05T08:00:00Z', scheduled_until: '2026-03-05T07:00:00Z' } });
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors).toEqual([{ path: 'scheduled_until', message: 'must be after scheduled_for' }]);
    const unknown = await t.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: t.admin, body: { title: 'nope' } });
    expect(unknown.status).toBe(400);
    expect(await t.info(m.id)).toMatchObject({ scheduled_for: '2026-03-05T09:00:00.000Z', scheduled_until: '2026-03-05T09:45:00.000Z' });
    await t.call('POST', `/api/v1/maintenances/${m.id}/cancel`, { token: t.admin, body: {} });
  });

  it('when PATCH gives only a new end, the start stays and the end moves', async () => {
    const m = (await t.schedule({ scheduled_for: '2026-03-05T08:00:00Z' })).body;
    expect(m.scheduled_until).toBe('2026-03-05T12:00:00.000Z'); // 08:00 + 4 h
    const longer = await t.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: t.admin, body: { scheduled_until: '2026-03-05T13:00:00Z' } });
    expect(longer.status).toBe(200);
    expect(longer.body).toMatchObject({ scheduled_for: '2026-03-05T08:00:00.000Z', scheduled_until: '2026-03-05T13:00:00.000Z', method: 'explicit' });
    await t.call('POST', `/api/v1/maintenances/${m.id}/cancel`, { token: t.admin, body: {} });
  });

  it('when PATCH moves only the end before the start, it answers 400 on scheduled_until and changes nothing', async () => {
    const m = (await t.schedule({ scheduled_for: '2026-03-03T10:00:00Z', scheduled_until: '2026-03-03T11:00:00Z' })).body;
    const bad = await t.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: t.admin, body: { scheduled_until: '2026-03-03T09:30:00Z' } });
    expect(bad.status).toBe(400);
    expect(await t.info(m.id)).toMatchObject({ scheduled_for: '2026-03-03T10:00:00.000Z', scheduled_until: '2026-03-03T11:00:00.000Z' });
    await t.call('POST', `/api/v1/maintenances/${m.id}/cancel`, { token: t.admin, body: {} });
    expect(bad.body.errors).toEqual([{ path: 'scheduled_until', message: 'must be after scheduled_for' }]);
  });

  it('when cancelled while scheduled, it never starts, and takes no further update, run, PATCH or cancel (409)', async () => {
    t.clock.set('2026-03-02T09:00:00Z');
    const m = (await t.schedule({ environments: ['production'], modes: { web: 'maintenance' }, scheduled_for: '2026-03-02T10:00:00Z', scheduled_until: '2026-03-02T11:00:00Z' })).body;
    t.clock.set('2026-03-02T09:30:00Z');
    const cancelled = await t.call('POST', `/api/v1/maintenances/${m.id}/cancel`, { token: t.admin, body: {} });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancelled_at: '2026-03-02T09:30:00.000Z', completed_at: null, started_at: null, duration: null });
    expect((await t.timeline(m.id)).at(-1)).toEqual(['cancelled', '2026-03-02T09:30:00.000Z', 'ops', 'This maintenance has been cancelled.']);
    t.clock.set('2026-03-02T10:00:00Z');
    expect((await t.tick()).started).not.toContain(m.id);
    expect((await t.role('web')).mode).toBe('full');
    await expectClosed(t, m.id, 'cancelled');
  });

  it('when cancelled during progress, modes return to full and status to green at once', async () => {
    t.clock.set('2026-03-02T11:00:00Z');
    const m = (await t.schedule({ environments: ['production'], modes: { web: 'maintenance' }, scheduled_for: '2026-03-02T12:00:00Z', scheduled_until: '2026-03-02T14:00:00Z' })).body;
    t.clock.set('2026-03-02T12:00:00Z');
    expect((await t.tick()).started).toEqual([m.id]);
    expect((await t.role('web')).mode).toBe('maintenance');
    const inProgress = await t.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: t.admin, body: { scheduled_for: '2026-03-02T15:00:00Z' } });
    expect(inProgress.status).toBe(409);
    expect(inProgress.body.message).toBe(`Maintenance ${m.id} is in_progress; only a scheduled maintenance can be rescheduled.`);

    t.clock.set('2026-03-02T12:40:00Z');
    const stop = await t.call('POST', `/api/v1/maintenances/${m.id}/cancel`, { token: t.admin, body: { message: 'Rolled back.' } });
    expect(stop.status).toBe(200);
    // 12:40 − 12:00 = 40 minutes
    expect(stop.body).toMatchObject({ status: 'cancelled', started_at: '2026-03-02T12:00:00.000Z', cancelled_at: '2026-03-02T12:40:00.000Z', completed_at: null, duration: '40 minutes' });
    expect(await t.role('web')).toEqual({ role: 'web', mode: 'full', since: '2026-03-02T12:40:00.000Z', sources: [], retry_after: null, refresh: null });
    expect((await t.status()).environments[0].status).toBe('green');
    // blue 12:00 → 12:40 = 2400 s
    expect((await t.call('GET', `/api/v1/incidents/${m.id}`)).body.scope_of_impact.environments[0].blue_seconds).toBe(2400);
    t.clock.set('2026-03-02T14:00:00Z');
    expect((await t.tick()).completed).toEqual([]);
    await expectClosed(t, m.id, 'cancelled');

    // the default message when stopped mid-way
    t.clock.set('2026-03-02T14:10:00Z');
    const n = (await t.schedule({ scheduled_for: '2026-03-02T14:20:00Z' })).body;
    t.clock.set('2026-03-02T14:20:00Z');
    await t.tick();
    await t.call('POST', `/api/v1/maintenances/${n.id}/cancel`, { token: t.admin, body: {} });
    expect((await t.timeline(n.id)).at(-1)![3]).toBe('This maintenance was stopped before it completed.');
  });

  it('when completed, it takes no further update, run, PATCH or cancel (409)', async () => {
    t.clock.set('2026-03-02T15:00:00Z');
    const m = (await t.schedule({ scheduled_for: '2026-03-02T16:00:00Z', scheduled_until: '2026-03-02T17:00:00Z' })).body;
    t.clock.set('2026-03-02T16:00:00Z');
    await t.tick();
    t.clock.set('2026-03-02T17:00:00Z');
    expect((await t.tick()).completed).toEqual([m.id]);
    t.clock.set('2026-03-02T17:05:00Z');
    await expectClosed(t, m.id, 'completed');
  });

  async function expectClosed(t: App, id: number, state: 'completed' | 'cancelled') {
    const before = (await t.timeline(id)).length;
    const cancel = await t.call('POST', `/api/v1/maintenances/${id}/cancel`, { token: t.admin, body: {} });
    expect(cancel.status).toBe(409);
    expect(cancel.body.message).toBe(`Maintenance ${id} is already ${state}.`);
    const run = await t.call('POST', `/api/v1/maintenances/${id}/run`, { token: t.admin, body: { confirm: 'Herald' } });
    expect(run.status).toBe(409);
    expect(run.body.message).toBe(`Maintenance ${id} is ${state}; only a scheduled maintenance can be run.`);
    const patch = await t.call('PATCH', `/api/v1/maintenances/${id}`, { token: t.admin, body: { auto_start: true } });
    expect(patch.status).toBe(409);
    expect(patch.body.message).toBe(`Maintenance ${id} is ${state}; only a scheduled maintenance can be rescheduled.`);
    for (const body of [{ state: 'in_progress', message: 'Again' }, { message: 'A note' }, { state: 'completed', message: 'Done again' }]) {
      const update = await t.call('POST', `/api/v1/incidents/${id}/updates`, { token: t.admin, body });
      expect(update.status).toBe(409);
      expect(update.body.message).toContain(`a maintenance takes no update after it is ${state}`);
    }
    expect(await t.timeline(id)).toHaveLength(before);
  }
});

describe('what the public sees', () => {
  let t: App;
  beforeEach(async () => {
    t = await freshAt('2026-03-02T09:00:00Z'); // Monday
  });

  it('when a maintenance is upcoming then running, the status page, v4 current-status and the feed say so', async () => {
    const m = (await t.schedule({ title: 'Network switch replacement', environments: ['production'], modes: { web: 'maintenance' }, scheduled_for: '2026-03-02T10:00:00Z', scheduled_until: '2026-03-02T12:00:00Z' })).body;

    const page = await t.call('GET', '/', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h2>Scheduled maintenance</h2>');
    expect(page.body).not.toContain('Maintenance in progress');
    expect(page.body.indexOf('Network switch replacement')).toBeGreaterThan(page.body.indexOf('<h2>Scheduled maintenance</h2>'));
    expect(page.body).toContain('All systems operational');

    const v4 = (await t.call('GET', '/api/v4/current-status')).body;
    expect(v4.incidents).toEqual([]);
    expect(v4.scheduled).toHaveLength(1);
    expect(v4.scheduled[0]).toMatchObject({ id: m.id, title: 'Network switch replacement', upcoming: true, resolved: false, status_prod: 'green' });
    expect(v4.scheduled[0].updates.map((u: any) => [u.update_type, u.contents])).toEqual([['scheduled', 'We are upgrading the primary database.']]);
    expect(v4.status).toEqual([
      { system: 'Production', status: 'green' },
      { system: 'Development', status: 'green' },
    ]);

    t.clock.set('2026-03-02T10:00:00Z');
    await t.tick();
    const running = await t.call('GET', '/', { headers: { accept: 'text/html' } });
    expect(running.body).toContain('<h2>Maintenance in progress</h2>');
    expect(running.body).not.toContain('<h2>Scheduled maintenance</h2>');
    expect(running.body.indexOf('Network switch replacement')).toBeGreaterThan(running.body.indexOf('<h2>Maintenance in progress</h2>'));
    expect(running.body).toContain('The web API is in maintenance.');
    const v4running = (await t.call('GET', '/api/v4/current-status')).body;
    expect(v4running.scheduled).toEqual([]);
    expect(v4running.incidents.map((i: any) => [i.id, i.upcoming, i.status_prod])).toEqual([[m.id, false, 'blue']]);
    expect(v4running.status[0]).toEqual({ system: 'Production', status: 'blue' });

    t.clock.set('2026-03-02T12:00:00Z');
    await t.tick();
    const feed = await t.call('GET', '/feed.rss');
    expect(feed.status).toBe(200);
    const xml: string = feed.body;
    const updates = ((await t.call('GET', `/api/v1/incidents/${m.id}`)).body.updates as any[]).reverse();
    expect(updates.map((u) => u.state)).toEqual(['scheduled', 'in_progress', 'completed']);
    for (const [u, words] of [[updates[0], 'Scheduled'], [updates[1], 'In progress'], [updates[2], 'Completed']] as const) {
      expect(xml).toContain(`Network switch replacement — ${words}`);
      expect(xml).toContain(`https://status.example.com/incidents/${m.id}#update-${u.id}`);
    }
    // the scheduler's updates carry their scheduled times
    expect(xml).toContain('<pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>');
    expect(xml).toContain('<pubDate>Mon, 02 Mar 2026 12:00:00 GMT</pubDate>');
    const after = await t.call('GET', '/', { headers: { accept: 'text/html' } });
    expect(after.body).not.toContain('<h2>Maintenance in progress</h2>');
    expect(after.body).toContain('All systems operational');
  });

  it('when two are upcoming, current-status lists them soonest first (by scheduled_for, not by when they were announced)', async () => {
    t.clock.set('2026-03-03T09:00:00Z');
    const later = (await t.schedule({ title: 'Later', scheduled_for: '2026-03-10T10:00:00Z' })).body;
    t.clock.set('2026-03-03T09:05:00Z');
    const sooner = (await t.schedule({ title: 'Sooner', scheduled_for: '2026-03-04T10:00:00Z' })).body;
    // 2026-03-04 comes before 2026-03-10, though "Later" was announced first
    const v4 = (await t.call('GET', '/api/v4/current-status')).body;
    expect(v4.scheduled.map((s: any) => s.id)).toEqual([sooner.id, later.id]);
    const v1 = await t.status();
    expect(v1.scheduled.map((s: any) => s.id)).toEqual([sooner.id, later.id]);
    const page = (await t.call('GET', '/', { headers: { accept: 'text/html' } })).body as string;
    expect(page.indexOf('Sooner')).toBeLessThan(page.indexOf('Later'));
  });
});

describe('the maintenance list', () => {
  let t: App;
  beforeEach(async () => {
    t = await fresh();
    t.clock.set('2026-03-02T09:00:00Z');
  });

  it('when a client pages with limit, it gets {maintenances, next_cursor, next} and a Link header, latest scheduled first, and one scheduled meanwhile shifts nothing', async () => {
    // two share a start: the newer id comes first
    for (const day of ['03', '04', '04', '05', '06']) expect((await t.schedule({ scheduled_for: `2026-03-${day}T10:00:00Z` })).status).toBe(201);
    const expected = (await t.db.selectFrom('incidents').select('id').where('kind', '=', 'maintenance').orderBy('scheduled_for', 'desc').orderBy('id', 'desc').execute()).map((r) => r.id);

    const seen: number[] = [];
    let next = '/api/v1/maintenances?limit=2';
    let pages = 0;
    while (next) {
      const page = await t.call('GET', next.replace('https://status.example.com', ''));
      expect(page.status).toBe(200);
      expect(Object.keys(page.body).sort()).toEqual(['maintenances', 'next', 'next_cursor']);
      seen.push(...page.body.maintenances.map((m: any) => m.id));
      if (pages++ === 0) expect((await t.schedule({ title: 'Scheduled while paging', scheduled_for: '2026-03-20T10:00:00Z' })).status).toBe(201);
      next = page.body.next ?? '';
      if (next) {
        expect(page.headers.get('link')).toBe(`<${next}>; rel="next"`);
        expect(new URL(next).searchParams.get('cursor')).toBe(page.body.next_cursor);
      } else {
        expect(page.headers.get('link')).toBeNull();
        expect(page.body.next_cursor).toBeNull();
      }
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);
  });

  it('when state is open, closed or all, the list holds those, and the next page keeps the filter; the default is all, as for incidents', async () => {
    for (const day of ['03', '04', '04', '05', '06', '20']) expect((await t.schedule({ scheduled_for: `2026-03-${day}T10:00:00Z` })).status).toBe(201);
    const all = (await t.call('GET', '/api/v1/maintenances?limit=100')).body.maintenances.map((m: any) => m.id);
    expect(all).toHaveLength(6);
    const cancelled = all.slice(0, 3);
    for (const id of cancelled) expect((await t.call('POST', `/api/v1/maintenances/${id}/cancel`, { token: t.admin, body: {} })).status).toBe(200);
    const ids = async (query: string) => (await t.call('GET', `/api/v1/maintenances${query}`)).body.maintenances.map((m: any) => m.id);
    expect(await ids('?state=all&limit=100')).toEqual(all);
    expect(await ids('?state=closed&limit=100')).toEqual(cancelled);
    expect(await ids('?state=open&limit=100')).toEqual(all.slice(3));
    const first = await t.call('GET', '/api/v1/maintenances?state=closed&limit=2');
    expect(new URL(first.body.next).searchParams.get('state')).toBe('closed');
    const second = await t.call('GET', first.body.next.replace('https://status.example.com', ''));
    expect([...first.body.maintenances, ...second.body.maintenances].map((m: any) => m.id)).toEqual(cancelled);
    expect(second.body.next).toBeNull();
    // the incidents list takes the same words
    const incidents = await t.call('GET', '/api/v1/incidents?state=all&kind=maintenance&limit=100');
    expect(incidents.status).toBe(200);
    expect(incidents.body.incidents.map((i: any) => i.id).sort()).toEqual([...all].sort());
  });

  it('when state, limit or cursor is wrong, one 400 lists every problem, as the incidents list does', async () => {
    for (const list of ['maintenances', 'incidents']) {
      const r = await t.call('GET', `/api/v1/${list}?limit=0&state=maybe&cursor=zzz`);
      expect(r.status).toBe(400);
      expect(r.body.errors).toEqual([
        { path: 'limit', message: 'must be at least 1' },
        { path: 'cursor', message: 'is not a cursor this server gave out' },
        { path: 'state', message: 'must be open, closed or all' },
      ]);
      expect((await t.call('GET', `/api/v1/${list}?limit=101`)).body.errors).toEqual([{ path: 'limit', message: 'must be at most 100' }]);
      expect((await t.call('GET', `/api/v1/${list}?limit=ten`)).body.errors).toEqual([{ path: 'limit', message: 'must be a number' }]);
    }
    expect((await t.call('GET', '/api/v1/maintenances?kind=incident')).status).toBe(400);
  });
});
