import { describe, expect, it, onTestFinished } from 'vitest';
import { T0, testApp } from '../support/app.ts';
import { freshDatabase } from '../support/db.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

/**
 * A status page of its own: a fresh database seeded with `environments` (HERALD_ENVIRONMENTS),
 * then groups and component settings written as the component use cases will (rows, then the
 * change notification a committed write sends).
 */
async function page(environments: string) {
  const handle = await freshDatabase();
  onTestFinished(() => handle.close());
  const t = await testApp(handle, { HERALD_ENVIRONMENTS: environments });
  const token = await t.token(['admin']);
  const db = t.db;
  return {
    t,
    token,
    async group(slug: string, name: string, position: number, members: string[]) {
      await db.insertInto('environment_groups').values({ slug, name, position, description: null, retired_at: null }).execute();
      await db.updateTable('environments').set({ group_slug: slug }).where('slug', 'in', members).execute();
      t.changes.notify();
    },
    async set(slug: string, values: { only_show_if_degraded?: boolean; start_date?: string; retired_at?: Date; name?: string; position?: number; description?: string }) {
      await db.updateTable('environments').set(values).where('slug', '=', slug).execute();
      t.changes.notify();
    },
    async html(path = '/') {
      const res = await t.app.request(path, { headers: { accept: 'text/html' } });
      expect(res.status).toBe(200);
      return res.text();
    },
  };
}

/** The <li> of the list that holds `name` (a group's whole block, or one environment). */
function itemOf(html: string, name: string): string {
  const list = /<ul class="envs">([\s\S]*)<\/ul>\s*<h2>Open incidents/.exec(html)?.[1] ?? '';
  const items = list.split(/(?=<li class="group">)|(?=<li><div class="env-head">)/);
  const found = items.find((i) => i.includes(`<strong>${name}</strong>`));
  if (!found) throw new Error(`no item named ${name} in:\n${list.slice(0, 2000)}`);
  return found;
}

describe('the status page lists components as data', () => {
  it('shows a group as one folded item holding its members in order, and opens it while a member is not operational', async () => {
    const p = await page('api:API,web:Web,db:Database,queue:Queue');
    await p.group('data', 'Data', 2, ['db', 'queue']);
    await p.set('queue', { position: 1 });
    await p.set('db', { position: 2 });
    const html = await p.html();
    const names = [...html.matchAll(/<strong>([^<]+)<\/strong>/g)].map((m) => m[1]);
    // top level by position: API (1), Data (2), Web (2, after Data by slug: "data" < "web"); members Queue (1), Database (2)
    expect(names.slice(0, 5)).toEqual(['API', 'Data', 'Queue', 'Database', 'Web']);
    expect(itemOf(html, 'Data')).toMatch(/<details><summary class="env-head"><strong>Data<\/strong>/);
    expect(itemOf(html, 'Data')).toContain('Operational');

    const opened = await p.t.call('POST', '/api/v1/incidents', { token: p.token, body: { title: 'Slow queue', message: 'Looking.', statuses: { queue: 'orange' } } });
    expect(opened.status).toBe(201);
    const after = itemOf(await p.html(), 'Data');
    expect(after).toMatch(/<details open=""><summary class="env-head"><strong>Data<\/strong><span class="status orange">Partial outage<\/span>/);
  });

  it('leaves out an only-show-if-degraded component while it is operational, and shows it once an incident degrades it', async () => {
    const p = await page('api:API,cdn:CDN');
    await p.set('cdn', { only_show_if_degraded: true });
    expect(await p.html()).not.toContain('<strong>CDN</strong>');
    await p.t.call('POST', '/api/v1/incidents', { token: p.token, body: { title: 'Edge errors', message: 'Looking.', statuses: { cdn: 'yellow' } } });
    expect(itemOf(await p.html(), 'CDN')).toContain('Degraded performance');
  });

  it("starts a component's bars at its start date: earlier days show no data and do not count in its uptime", async () => {
    const p = await page('api:API');
    // T0 is 2026-03-01 10:00 UTC. Red from 02-27 00:00 to 02-28 00:00 (a whole day), then the component starts on 02-28.
    p.t.clock.set(at(-34 * HOUR));
    const opened = await p.t.call('POST', '/api/v1/incidents', { token: p.token, body: { title: 'Before it counted', message: 'Down.', statuses: { api: 'red' }, at: '2026-02-27T00:00:00Z' } });
    expect(opened.status).toBe(201);
    await p.t.call('POST', `/api/v1/incidents/${opened.body.id}/updates`, { token: p.token, body: { state: 'resolved', message: 'Up.', at: '2026-02-28T00:00:00Z' } });
    p.t.clock.set(at(0));
    await p.set('api', { start_date: '2026-02-28' });
    const html = await p.html();
    expect(html).toContain('title="2026-02-27: no data"');
    expect(html).toContain('title="2026-02-28: Operational, 100% uptime"');
    // tracked: 02-28 (24 h) and 03-01 until 10:00 (10 h), none of it red
    expect(itemOf(html, 'API')).toContain('100% uptime</span>');
    await p.set('api', { start_date: '2026-02-27' });
    // now 02-27 counts: 24 h red of 58 h → 58.62% (floored to hundredths)
    expect(itemOf(await p.html(), 'API')).toContain('58.62% uptime</span>');
  });

  it('after a component is retired it leaves the page, and an incident that named it still names it, by name, on its page and in its JSON', async () => {
    const p = await page('api:API,legacy:Legacy API');
    const opened = await p.t.call('POST', '/api/v1/incidents', { token: p.token, body: { title: 'Legacy outage', message: 'Down.', statuses: { legacy: 'red' } } });
    p.t.clock.set(at(HOUR));
    await p.t.call('POST', `/api/v1/incidents/${opened.body.id}/updates`, { token: p.token, body: { state: 'resolved', message: 'Up.' } });
    await p.set('legacy', { retired_at: new Date(at(2 * HOUR)) });
    p.t.clock.set(at(3 * HOUR));
    const front = await p.html();
    expect(front).not.toContain('<strong>Legacy API</strong>');
    expect(await p.html(`/incidents/${opened.body.id}`)).toContain('Legacy API');
    const json = await p.t.call('GET', `/api/v1/incidents/${opened.body.id}`);
    expect(json.body.scope_of_impact.environments.map((e: { environment: string }) => e.environment)).toEqual(['api', 'legacy']);
    expect(json.body.scope_of_impact.environments[1]).toMatchObject({ environment: 'legacy', red_seconds: 3600 });
    // a new update may not name it
    const refused = await p.t.call('POST', '/api/v1/incidents', { token: p.token, body: { title: 'Again', message: 'x', statuses: { legacy: 'red' } } });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('legacy');
  });

  it('a rename shows at once on the page, in Heroku v3/v4 and in the v1 status, without a restart', async () => {
    const p = await page('production:Production,staging:Staging');
    await p.html(); // the snapshot is built with the old name
    await p.set('staging', { name: 'Staging EU' });
    expect(itemOf(await p.html(), 'Staging EU')).toContain('Operational');
    const v4 = await p.t.call('GET', '/api/v4/current-status');
    expect(v4.body.status).toEqual([
      { system: 'Production', status: 'green' },
      { system: 'Staging EU', status: 'green' },
    ]);
    const v3 = await p.t.call('GET', '/api/v3/current-status');
    expect(Object.keys(v3.body.status)).toEqual(['Production', 'Staging EU']);
    const v1 = await p.t.call('GET', '/api/v1/status');
    expect(v1.body.environments.map((e: { name: string }) => e.name)).toEqual(['Production', 'Staging EU']);
  });

  it('a partial outage (orange) is orange on the page and in /api/v1/status, and red in Heroku v3/v4, which have no such colour', async () => {
    const p = await page('production:Production,staging:Staging');
    const opened = await p.t.call('POST', '/api/v1/incidents', { token: p.token, body: { title: 'Some customers down', message: 'x', statuses: { production: 'orange', staging: 'orange' } } });
    expect(opened.status).toBe(201);
    expect(itemOf(await p.html(), 'Production')).toContain('<span class="status orange">Partial outage</span>');
    expect((await p.t.call('GET', '/api/v1/status')).body.environments.map((e: { status: string }) => e.status)).toEqual(['orange', 'orange']);
    expect((await p.t.call('GET', '/api/v4/current-status')).body.status.map((e: { status: string }) => e.status)).toEqual(['red', 'red']);
    const v3 = await p.t.call('GET', '/api/v3/current-status');
    expect(v3.body.status).toEqual({ Production: 'red', Staging: 'red' });
    expect(v3.body.issues[0]).toMatchObject({ status_prod: 'red', status_dev: 'red' });
  });

  it('HERALD_ENVIRONMENTS seeds only an empty table: a second start with another list keeps the components there are', async () => {
    const handle = await freshDatabase();
    onTestFinished(() => handle.close());
    await testApp(handle, { HERALD_ENVIRONMENTS: 'api:API,web:Web' });
    const second = await testApp(handle, { HERALD_ENVIRONMENTS: 'other:Other' });
    const v4 = await second.call('GET', '/api/v4/current-status');
    expect(v4.body.status.map((s: { system: string }) => s.system)).toEqual(['API', 'Web']);
  });
});
