import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { insertIncident, insertUpdate } from '../../src/db/queries/incidents.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';

const MIN = 60_000;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let admin: string;

beforeAll(async () => {
  handle = await freshDatabase();
  t = await testApp(handle);
  admin = await t.token(['admin']);
});
afterAll(async () => handle.close());

const web = async () => (await t.call('GET', '/api/v1/platform?role=web')).body.roles[0];
const open = async (title: string, modes: Record<string, string>) => (await t.call('POST', '/api/v1/incidents', { token: admin, body: { title, message: 'm', modes } })).body;
const resolve = (id: number) => t.call('POST', `/api/v1/incidents/${id}/updates`, { token: admin, body: { state: 'resolved', message: 'ok' } });
const history = async (role: string) => (await t.call('GET', `/api/v1/platform/roles/${role}/history`)).body;

describe('effective modes', () => {
  it('when two incidents declare different modes for web, the stricter wins; resolving one then the other steps back to full', async () => {
    t.clock.set(at(0));
    const a = await open('Slow writes', { web: 'read_only' });
    t.clock.set(at(1 * MIN));
    const b = await open('Database down', { web: 'maintenance', worker: 'maintenance' });
    expect(await web()).toMatchObject({ mode: 'maintenance', since: at(1 * MIN), sources: [expect.objectContaining({ source: `incident:${b.id}`, title: 'Database down' })] });
    t.clock.set(at(10 * MIN));
    await resolve(b.id);
    expect(await web()).toMatchObject({ mode: 'read_only', since: at(10 * MIN), sources: [expect.objectContaining({ source: `incident:${a.id}` })] });
    t.clock.set(at(25 * MIN));
    await resolve(a.id);
    expect(await web()).toEqual({ role: 'web', mode: 'full', since: at(25 * MIN), sources: [], retry_after: null, refresh: null });
    const h = await history('web');
    expect(h.map((c: any) => [c.from, c.to, c.at])).toEqual([
      ['read_only', 'full', at(25 * MIN)],
      ['maintenance', 'read_only', at(10 * MIN)],
      ['read_only', 'maintenance', at(1 * MIN)],
      ['full', 'read_only', at(0)],
    ]);
    expect(h[3].sources).toEqual([`incident:${a.id}`]);
    // the incident pages carry the per-role durations of their own timelines
    const bView = (await t.call('GET', `/api/v1/incidents/${b.id}`)).body;
    expect(bView.scope_of_impact.roles).toEqual([
      { role: 'web', read_only_seconds: 0, maintenance_seconds: 9 * 60, read_only: '0 seconds', maintenance: '9 minutes' },
      { role: 'worker', read_only_seconds: 0, maintenance_seconds: 9 * 60, read_only: '0 seconds', maintenance: '9 minutes' },
    ]);
  });

  it('when an override is set during an incident, it wins while stricter; clearing it leaves the incident holding the role, and says so', async () => {
    t.clock.set(at(60 * MIN));
    const inc = await open('Replica lag', { web: 'maintenance' });
    t.clock.set(at(61 * MIN));
    const set = await t.call('PUT', '/api/v1/platform/roles/web/override', { token: admin, body: { mode: 'read_only', reason: 'Deploy freeze' } });
    expect(set.status).toBe(200);
    expect(set.body.role.mode).toBe('maintenance'); // the incident's maintenance is stricter
    expect(set.body.override).toMatchObject({ role: 'web', mode: 'read_only', reason: 'Deploy freeze', cleared_at: null });
    const cleared = await t.call('DELETE', '/api/v1/platform/roles/web/override', { token: admin, body: { reason: 'freeze over' } });
    expect(cleared.status).toBe(200);
    expect(cleared.body.still_held).toBe(true);
    expect(cleared.body.message).toBe(`The override is cleared, but web stays in maintenance: held by incident "Replica lag" (incident:${inc.id}).`);
    expect(cleared.body.role.mode).toBe('maintenance');
    t.clock.set(at(62 * MIN));
    await resolve(inc.id);
    expect((await web()).mode).toBe('full');

    const o = await t.call('PUT', '/api/v1/platform/roles/worker/override', { token: admin, body: { mode: 'maintenance', reason: 'Queue migration' } });
    expect(o.body.role).toMatchObject({ mode: 'maintenance', sources: [expect.objectContaining({ kind: 'override', title: 'Queue migration' })] });
    const off = await t.call('DELETE', '/api/v1/platform/roles/worker/override', { token: admin });
    expect(off.body).toMatchObject({ still_held: false, message: 'The override is cleared; worker is fully available.' });
    const again = await t.call('DELETE', '/api/v1/platform/roles/worker/override', { token: admin });
    expect(again.status).toBe(409);
    const bad = await t.call('PUT', '/api/v1/platform/roles/deploy/override', { token: admin, body: { mode: 'full', reason: '' } });
    expect(bad.status).toBe(404);
    const bad2 = await t.call('PUT', '/api/v1/platform/roles/web/override', { token: admin, body: { mode: 'full', reason: '' } });
    expect(bad2.status).toBe(400);
    expect(bad2.body.errors.map((e: any) => e.path)).toEqual(['mode', 'reason']);
    const writer = await t.token(['incidents:write']);
    expect((await t.call('PUT', '/api/v1/platform/roles/web/override', { token: writer, body: { mode: 'maintenance', reason: 'x' } })).status).toBe(403);
  });

  it('when a running maintenance holds web with a known end, Retry-After says when; an incident also holding it makes the end unknown', async () => {
    t.clock.set(at(120 * MIN));
    const until = new Date(Date.parse(at(180 * MIN)));
    const mnt = await insertIncident(t.db, {
      kind: 'maintenance', title: 'Database upgrade', state: 'in_progress', started_at: new Date(at(120 * MIN)), resolved_at: null,
      updated_at: new Date(at(120 * MIN)), created_at: new Date(at(120 * MIN)), created_by: 'test', scheduled_for: new Date(at(120 * MIN)),
      scheduled_until: until, required_by: null, postmortem: null, postmortem_updated_at: null, postmortem_published_at: null,
    });
    await insertUpdate(t.db, { incident_id: mnt.id, at: new Date(at(120 * MIN)), created_at: new Date(at(120 * MIN)), state: 'in_progress', message: 'Started', statuses: { production: 'blue' }, modes: { web: 'maintenance' }, author: 'test' });
    t.changes.notify();
    const r = await t.call('GET', '/api/v1/platform?role=web');
    expect(r.headers.get('retry-after')).toBe(until.toUTCString());
    expect(r.headers.get('cache-control')).toBe('no-cache');
    expect(r.body.roles[0]).toMatchObject({ mode: 'maintenance', retry_after: until.toISOString(), sources: [expect.objectContaining({ kind: 'maintenance', until: until.toISOString() })] });
    const etag = r.headers.get('etag')!;
    expect((await t.call('GET', '/api/v1/platform?role=web', { headers: { 'if-none-match': etag } })).status).toBe(304);

    const inc = await open('Also broken', { web: 'maintenance' });
    const both = await t.call('GET', '/api/v1/platform?role=web');
    expect(both.headers.get('retry-after')).toBeNull();
    expect(both.body.roles[0].retry_after).toBeNull();
    expect(both.body.roles[0].sources.map((s: any) => s.source).sort()).toEqual([`incident:${inc.id}`, `maintenance:${mnt.id}`].sort());
    await resolve(inc.id);
    expect((await t.call('GET', '/api/v1/platform?role=nope')).status).toBe(404);
  });

  it('when a client listens to the event stream, it gets the full state on connect and each change after', async () => {
    const res = await t.app.request('/api/v1/platform/events?role=worker');
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const nextEvent = async () => {
      while (!buffer.includes('\n\n')) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += decoder.decode(value);
      }
      const [event, ...rest] = buffer.split('\n\n');
      buffer = rest.join('\n\n');
      const data = event!.split('\n').find((l) => l.startsWith('data: '))!.slice(6);
      return JSON.parse(data);
    };
    const first = await nextEvent();
    expect(first.roles).toEqual([expect.objectContaining({ role: 'worker', mode: 'full' })]);
    await t.call('PUT', '/api/v1/platform/roles/worker/override', { token: admin, body: { mode: 'read_only', reason: 'Backfill' } });
    const second = await nextEvent();
    expect(second.roles[0]).toMatchObject({ role: 'worker', mode: 'read_only', sources: [expect.objectContaining({ title: 'Backfill' })] });
    await t.call('DELETE', '/api/v1/platform/roles/worker/override', { token: admin });
    expect((await nextEvent()).roles[0].mode).toBe('full');
    await reader.cancel();
  });
});
