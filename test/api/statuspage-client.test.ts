import { describe, expect, it, onTestFinished } from 'vitest';
import { Statuspage } from 'statuspage.io';
import { fixedClock } from '../../src/clock.ts';
import { parseConfig } from '../../src/config.ts';
import { startServer } from '../../src/entry/node.ts';
import { freshDatabase } from '../support/db.ts';
import { seedToken } from '../support/seed.ts';

const NOW = '2026-11-21T12:00:00.000Z';
const HOUR = 3_600_000;
const at = (ms: number) => new Date(Date.parse(NOW) + ms).toISOString();

/** A real Node server of the app (fast path included) on 127.0.0.1, on a fresh database. */
async function heraldServer() {
  const handle = await freshDatabase();
  const clock = fixedClock(NOW);
  const config = { ...parseConfig({ HERALD_NAME: 'Acme Cloud', PUBLIC_URL: 'https://status.acme.test', HERALD_ENVIRONMENTS: 'api:API,dashboard:Dashboard' }), port: 0 };
  const server = await startServer(config, { handle, hostname: '127.0.0.1', clock });
  onTestFinished(async () => {
    await server.close();
    await handle.close();
  });
  const token = await seedToken(handle.db, ['admin'], 'statuspage-client');
  const base = `http://127.0.0.1:${server.port}`;
  const api = async (method: string, path: string, body: unknown) => {
    const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).toBeLessThan(300);
    return json;
  };
  const raw = async (path: string) => (await fetch(base + path)).json();
  return { base, clock, api, raw };
}

describe('the statuspage.io npm client, pointed at Herald', () => {
  it('when a client reads summary, status, components, incidents and maintenances, it gets Herald’s answers unchanged', async () => {
    const h = await heraldServer();
    const open = await h.api('POST', '/api/v1/incidents', { title: 'API errors', message: 'Investigating.', statuses: { api: 'red' } });
    const old = await h.api('POST', '/api/v1/incidents', { title: 'Slow dashboard', message: 'Slow.', statuses: { dashboard: 'yellow' } });
    h.clock.set(at(HOUR));
    await h.api('POST', `/api/v1/incidents/${old.id}/updates`, { state: 'resolved', message: 'Fast again.' });
    const upcoming = await h.api('POST', '/api/v1/maintenances', { title: 'Database upgrade', message: 'Planned.', environments: ['dashboard'], scheduled_for: at(2 * 24 * HOUR), scheduled_until: at(2 * 24 * HOUR + HOUR) });
    const running = await h.api('POST', '/api/v1/maintenances', { title: 'Cache flush', message: 'Planned.', environments: ['dashboard'], scheduled_for: at(24 * HOUR), scheduled_until: at(24 * HOUR + HOUR) });
    await h.api('POST', `/api/v1/maintenances/${running.id}/run`, {});

    const client = new Statuspage('acme');
    client.setApiUrl(h.base);

    const summary = await client.api.getSummary();
    expect(summary).toEqual(await h.raw('/api/v2/summary.json'));
    expect(summary.page).toMatchObject({ name: 'Acme Cloud', url: 'https://status.acme.test', time_zone: 'Etc/UTC' });
    // The newest change: the last incident write (13:00), or the components' own creation (the
    // server seeded them at the wall-clock time) if that is later.
    expect(summary.page.updated_at).toBe([at(HOUR), ...summary.components.map((c) => c.updated_at)].sort().at(-1));
    expect(summary.components.map((c) => [c.id, c.name, c.status, c.position])).toEqual([
      ['api', 'API', 'major_outage', 1],
      ['dashboard', 'Dashboard', 'under_maintenance', 2],
    ]);
    expect(summary.incidents.map((i) => [i.id, i.name, i.status, i.impact])).toEqual([[String(open.id), 'API errors', 'investigating', 'critical']]);
    expect(summary.scheduled_maintenances.map((m) => [m.id, m.status])).toEqual([
      [String(running.id), 'in_progress'],
      [String(upcoming.id), 'scheduled'],
    ]);

    const status = await client.api.getStatus();
    // api red of two: some major outage (major), raised by the open critical incident
    expect(status).toEqual({ page: summary.page, status: { indicator: 'critical', description: 'Major System Outage' } });

    const components = await client.api.getComponents();
    expect(components).toEqual({ page: summary.page, components: summary.components });

    const incidents = await client.api.incidents.getAll();
    expect(incidents).toEqual(await h.raw('/api/v2/incidents.json'));
    // Newest first; both started at 12:00, so the one opened second comes first.
    expect(incidents.incidents.map((i) => [i.name, i.status, i.resolved_at])).toEqual([
      ['Slow dashboard', 'resolved', at(HOUR)],
      ['API errors', 'investigating', null],
    ]);
    const unresolved = await client.api.incidents.getUnresolved();
    expect(unresolved).toEqual({ page: summary.page, incidents: summary.incidents });

    // statuspage.io 3.3.8 asks upcoming.json for all three (its getActive and getAll name the
    // wrong endpoint): what it returns is Herald's upcoming list, unchanged.
    const upcomingList = await h.raw('/api/v2/scheduled-maintenances/upcoming.json');
    expect(upcomingList.scheduled_maintenances.map((m: any) => m.name)).toEqual(['Database upgrade']);
    expect(await client.api.scheduledMaintenances.getUpcoming()).toEqual(upcomingList);
    expect(await client.api.scheduledMaintenances.getActive()).toEqual(upcomingList);
    expect(await client.api.scheduledMaintenances.getAll()).toEqual(upcomingList);
    // What the right endpoints hold, read the way a client that names them does.
    expect((await h.raw('/api/v2/scheduled-maintenances/active.json')).scheduled_maintenances.map((m: any) => m.name)).toEqual(['Cache flush']);
    expect((await h.raw('/api/v2/scheduled-maintenances.json')).scheduled_maintenances.map((m: any) => m.name)).toEqual(['Database upgrade', 'Cache flush']);
  });
});
