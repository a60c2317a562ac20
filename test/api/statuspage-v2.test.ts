import { describe, expect, it, onTestFinished } from 'vitest';
import { derivedImpact, topLevelStatus, type Impact } from '../../src/domain/statuspage.ts';
import type { Status } from '../../src/domain/vocabulary.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
/** Components are written with this creation time (their API is not in this branch yet: see `fresh`). */
const CATALOG_AT = '2026-02-01T00:00:00.000Z';
const URL_ = 'https://status.example.com';

const PAGE_KEYS = ['id', 'name', 'url', 'time_zone', 'updated_at'];
const COMPONENT_KEYS = ['id', 'name', 'status', 'created_at', 'updated_at', 'position', 'description', 'showcase', 'start_date', 'group_id', 'page_id', 'group', 'only_show_if_degraded'];
const INCIDENT_KEYS = ['id', 'name', 'status', 'created_at', 'updated_at', 'monitoring_at', 'resolved_at', 'impact', 'shortlink', 'started_at', 'page_id', 'incident_updates', 'components'];
const UPDATE_KEYS = ['id', 'status', 'body', 'incident_id', 'created_at', 'updated_at', 'display_at', 'affected_components', 'deliver_notifications', 'custom_tweet', 'tweet_id', 'twitter_updated_at'];

const ROUTES = [
  'summary.json',
  'status.json',
  'components.json',
  'incidents.json',
  'incidents/unresolved.json',
  'scheduled-maintenances.json',
  'scheduled-maintenances/upcoming.json',
  'scheduled-maintenances/active.json',
];

/**
 * A fresh database and app of its own for each test: the page's status depends on every
 * component and open incident, so no test may see another's. Components are seeded from
 * HERALD_ENVIRONMENTS; groups, retirement and fixed creation times are written with SQL, because
 * the components API is not in this branch yet (replace with its use cases once it is).
 */
async function fresh(environments = 'production:Production,development:Development') {
  const handle = await freshDatabase();
  onTestFinished(() => handle.close());
  const t = await testApp(handle, { HERALD_NAME: 'Acme', HERALD_ENVIRONMENTS: environments });
  await t.db.updateTable('environments').set({ created_at: new Date(CATALOG_AT), updated_at: new Date(CATALOG_AT) }).execute();
  t.changes.notify();
  const admin = await t.token(['admin']);
  const pageId = (await t.db.selectFrom('herald_settings').select('value').where('name', '=', 'page_id').executeTakeFirstOrThrow()).value;

  const get = async (route: string) => {
    const r = await t.call('GET', `/api/v2/${route}`);
    expect(r.status, route).toBe(200);
    return r.body;
  };
  const open = async (body: Record<string, unknown>) => {
    const r = await t.call('POST', '/api/v1/incidents', { token: admin, body });
    expect(r.status).toBe(201);
    return { id: r.body.id as number, updateId: r.body.updates[0].id as number };
  };
  const update = async (id: number, body: Record<string, unknown>) => {
    const r = await t.call('POST', `/api/v1/incidents/${id}/updates`, { token: admin, body });
    expect(r.status).toBe(201);
    return r.body.update.id as number;
  };
  const schedule = async (body: Record<string, unknown>) => {
    const r = await t.call('POST', '/api/v1/maintenances', { token: admin, body: { title: 'Database upgrade', message: 'We will upgrade the database.', ...body } });
    expect(r.status).toBe(201);
    return r.body.id as number;
  };
  /** A group of existing components, placed at `position` among the top-level items. */
  const group = async (slug: string, name: string, position: number, members: string[]) => {
    await t.db.insertInto('environment_groups').values({ slug, name, description: `${name} group`, position, created_at: new Date(CATALOG_AT), updated_at: new Date(CATALOG_AT), retired_at: null }).execute();
    for (const [i, m] of members.entries()) await t.db.updateTable('environments').set({ group_slug: slug, position: i + 1 }).where('slug', '=', m).execute();
    t.changes.notify();
  };
  const retire = async (slug: string, when: string) => {
    await t.db.updateTable('environments').set({ retired_at: new Date(when), updated_at: new Date(when) }).where('slug', '=', slug).execute();
    t.changes.notify();
  };
  /** A commander sets the impact (null: derived from the statuses again). */
  const setImpact = async (id: number, impact: Impact | null) => {
    const r = await t.call('PATCH', `/api/v1/incidents/${id}`, { token: admin, body: { impact } });
    expect(r.status).toBe(200);
  };
  const page = (updatedAt: string) => ({ id: pageId, name: 'Acme', url: URL_, time_zone: 'Etc/UTC', updated_at: updatedAt });
  const component = (id: string, name: string, status: string, position: number | null, extra: Record<string, unknown> = {}) => ({
    id,
    name,
    status,
    created_at: CATALOG_AT,
    updated_at: CATALOG_AT,
    position,
    description: null,
    showcase: true,
    start_date: null,
    group_id: null,
    page_id: pageId,
    group: false,
    only_show_if_degraded: false,
    ...extra,
  });
  const updateObject = (id: number, incidentId: number, status: string, body: string, when: string, affected: unknown) => ({
    id: String(id),
    status,
    body,
    incident_id: String(incidentId),
    created_at: when,
    updated_at: when,
    display_at: when,
    affected_components: affected,
    deliver_notifications: false,
    custom_tweet: null,
    tweet_id: null,
    twitter_updated_at: null,
  });
  return { ...t, admin, pageId, get, open, update, schedule, group, retire, setImpact, page, component, updateObject };
}

describe('the top-level status rule (pure)', () => {
  const G: Status = 'green';
  const cases: [string, Status[], Impact[], string, string][] = [
    ['no components', [], [], 'none', 'All Systems Operational'],
    ['no components, an open critical incident', [], ['critical'], 'critical', 'Major System Outage'],
    ['all operational', [G, G, G], [], 'none', 'All Systems Operational'],
    ['one under maintenance, the rest operational', [G, 'blue', G], [], 'maintenance', 'Service Under Maintenance'],
    ['all under maintenance', ['blue', 'blue'], [], 'maintenance', 'Service Under Maintenance'],
    ['some degraded', [G, 'yellow'], [], 'minor', 'Partially Degraded Service'],
    ['all degraded', ['yellow', 'yellow'], [], 'minor', 'Degraded System Service'],
    ['degraded and under maintenance: the degraded decide', ['yellow', 'blue'], [], 'minor', 'Partially Degraded Service'],
    ['some partial outage', [G, 'orange', 'yellow'], [], 'minor', 'Minor Service Outage'],
    ['all partial outage', ['orange', 'orange'], [], 'major', 'Partial System Outage'],
    ['some major outage', [G, 'red', 'orange'], [], 'major', 'Partial System Outage'],
    ['all major outage', ['red', 'red', 'red'], [], 'critical', 'Major System Outage'],
    ['the only component in major outage', ['red'], [], 'critical', 'Major System Outage'],
    ['the only component degraded', ['yellow'], [], 'minor', 'Degraded System Service'],
    ['operational, an open minor incident', [G, G], ['minor'], 'minor', 'Minor Service Outage'],
    ['operational, an open major incident', [G, G], ['major'], 'major', 'Partial System Outage'],
    ['operational, an open incident of no impact', [G, G], ['none'], 'none', 'All Systems Operational'],
    ['under maintenance, an open minor incident: the incident is worse', [G, 'blue'], ['minor'], 'minor', 'Minor Service Outage'],
    ['some degraded, an open minor incident: same indicator, the components describe it', [G, 'yellow'], ['minor'], 'minor', 'Partially Degraded Service'],
    ['all major outage, an open minor incident: the components are worse', ['red', 'red'], ['minor'], 'critical', 'Major System Outage'],
    ['some major outage, minor and critical incidents: the worst incident', [G, 'red'], ['minor', 'critical'], 'critical', 'Major System Outage'],
  ];
  it.each(cases)('when %s', (_, colours, impacts, indicator, description) => {
    expect(topLevelStatus(colours, impacts)).toEqual({ indicator, description });
  });

  it('when an incident declared colours, its impact is the worst of them (blue and green: none)', () => {
    expect(derivedImpact([])).toBe('none');
    expect(derivedImpact(['green', 'blue'])).toBe('none');
    expect(derivedImpact(['yellow', 'green'])).toBe('minor');
    expect(derivedImpact(['yellow', 'orange'])).toBe('major');
    expect(derivedImpact(['red', 'yellow', 'blue'])).toBe('critical');
  });
});

describe('Statuspage public API v2', () => {
  it('when nothing happened yet, every route answers with the page, open CORS, an ETag and the Statuspage shape', async () => {
    const t = await fresh();
    for (const route of ROUTES) {
      const res = await t.app.request(`/api/v2/${route}`, { headers: { origin: 'https://grafana.example.com' } });
      expect(res.status, route).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
      expect(res.headers.get('x-herald-snapshot')).toBe('fresh');
      const body = await res.json();
      // No incident yet: the newest change is the components' own.
      expect(body.page).toEqual(t.page(CATALOG_AT));
      expect(Object.keys(body.page)).toEqual(PAGE_KEYS);
    }
    expect(await t.get('status.json')).toEqual({ page: t.page(CATALOG_AT), status: { indicator: 'none', description: 'All Systems Operational' } });
    expect(Object.keys(await t.get('summary.json'))).toEqual(['page', 'components', 'incidents', 'scheduled_maintenances', 'status']);
    expect(await t.get('incidents.json')).toEqual({ page: t.page(CATALOG_AT), incidents: [] });
    expect(await t.get('scheduled-maintenances/upcoming.json')).toEqual({ page: t.page(CATALOG_AT), scheduled_maintenances: [] });
    const again = await t.app.request('/api/v2/summary.json', { headers: { 'if-none-match': (await t.app.request('/api/v2/summary.json')).headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('when a group has members, components.json lists it before them with their ids and worst colour, in page order numbered from 1', async () => {
    const t = await fresh('api:API,web:Website,db:Database,queue:Queue,docs:Docs');
    // Top level: api (1), the "Data" group (2: db, queue), web (3), docs (5).
    await t.db.updateTable('environments').set({ position: 1 }).where('slug', '=', 'api').execute();
    await t.db.updateTable('environments').set({ position: 3, only_show_if_degraded: true, description: 'The public website', showcase: false, start_date: '2026-01-15' }).where('slug', '=', 'web').execute();
    await t.db.updateTable('environments').set({ position: 5 }).where('slug', '=', 'docs').execute();
    await t.group('data', 'Data', 2, ['db', 'queue']);
    const inc = await t.open({ title: 'Slow queue', message: 'Jobs are slow.', statuses: { queue: 'orange', db: 'yellow' } });

    const body = await t.get('components.json');
    expect(body).toEqual({
      page: t.page(T0),
      components: [
        t.component('api', 'API', 'operational', 1),
        {
          ...t.component('data', 'Data', 'partial_outage', 2, { description: 'Data group', showcase: false, group: true }),
          components: ['db', 'queue'],
        },
        t.component('db', 'Database', 'degraded_performance', 3, { group_id: 'data' }),
        t.component('queue', 'Queue', 'partial_outage', 4, { group_id: 'data' }),
        // only_show_if_degraded says how to show it: it is listed all the same
        t.component('web', 'Website', 'operational', 5, { description: 'The public website', showcase: false, start_date: '2026-01-15', only_show_if_degraded: true }),
        t.component('docs', 'Docs', 'operational', 6),
      ],
    });
    for (const c of body.components) expect(Object.keys(c)).toEqual(c.group ? [...COMPONENT_KEYS, 'components'] : COMPONENT_KEYS);
    // The incident declared orange: major, which raises the page.
    expect((await t.get('status.json')).status).toEqual({ indicator: 'major', description: 'Partial System Outage' });
    // With its impact set to none, the colours alone speak. The group is not a component of its
    // own for the top-level status: db yellow and queue orange among five → some partial outage.
    await t.setImpact(inc.id, 'none');
    expect((await t.get('status.json')).status).toEqual({ indicator: 'minor', description: 'Minor Service Outage' });
    expect((await t.get('summary.json')).components).toEqual(body.components);
  });

  it('when an incident runs its course, incidents.json and summary.json show it field for field: updates newest first, what each changed, hidden ones left out', async () => {
    const t = await fresh();
    t.clock.set(T0);
    const inc = await t.open({ title: 'Elevated API errors', message: 'We are investigating **5xx**.', statuses: { production: 'red' } });
    t.clock.set(at(10 * MIN));
    const identified = await t.update(inc.id, { state: 'identified', message: 'A bad deploy.', statuses: { production: 'orange', development: 'yellow' } });
    t.clock.set(at(15 * MIN));
    const wrong = await t.update(inc.id, { message: 'Posted to the wrong incident.' });
    await t.call('POST', `/api/v1/incidents/${inc.id}/updates/${wrong}/hide`, { token: t.admin, body: { reason: 'wrong incident' } });
    t.clock.set(at(20 * MIN));
    const note = await t.update(inc.id, { message: 'Rolling back.' });
    t.clock.set(at(30 * MIN));
    // Backdated: written at 10:30, displayed at 10:25.
    const monitoring = await t.update(inc.id, { state: 'monitoring', message: 'Rolled back.', statuses: { production: 'green' }, at: at(25 * MIN) });

    const expected = {
      id: String(inc.id),
      name: 'Elevated API errors',
      status: 'monitoring',
      created_at: T0,
      // Herald's last change is the newest update's displayed time
      updated_at: at(25 * MIN),
      monitoring_at: at(25 * MIN),
      resolved_at: null,
      // red was declared: critical, though production is green again
      impact: 'critical',
      shortlink: `${URL_}/incidents/${inc.id}`,
      started_at: T0,
      page_id: t.pageId,
      incident_updates: [
        { ...t.updateObject(monitoring, inc.id, 'monitoring', 'Rolled back.', at(30 * MIN), [{ code: 'production', name: 'Production', old_status: 'partial_outage', new_status: 'operational' }]), display_at: at(25 * MIN) },
        t.updateObject(note, inc.id, 'identified', 'Rolling back.', at(20 * MIN), null),
        t.updateObject(identified, inc.id, 'identified', 'A bad deploy.', at(10 * MIN), [
          { code: 'production', name: 'Production', old_status: 'major_outage', new_status: 'partial_outage' },
          { code: 'development', name: 'Development', old_status: 'operational', new_status: 'degraded_performance' },
        ]),
        t.updateObject(inc.updateId, inc.id, 'investigating', 'We are investigating **5xx**.', T0, [{ code: 'production', name: 'Production', old_status: 'operational', new_status: 'major_outage' }]),
      ],
      components: [t.component('production', 'Production', 'operational', 1), t.component('development', 'Development', 'degraded_performance', 2)],
    };
    const all = await t.get('incidents.json');
    expect(all).toEqual({ page: t.page(at(25 * MIN)), incidents: [expected] });
    expect(Object.keys(all.incidents[0])).toEqual(INCIDENT_KEYS);
    for (const u of all.incidents[0].incident_updates) expect(Object.keys(u)).toEqual(UPDATE_KEYS);
    expect(Object.keys(all.incidents[0].incident_updates[0].affected_components[0])).toEqual(['code', 'name', 'old_status', 'new_status']);
    expect(await t.get('incidents/unresolved.json')).toEqual({ page: t.page(at(25 * MIN)), incidents: [expected] });

    const summary = await t.get('summary.json');
    expect(summary).toEqual({
      page: t.page(at(25 * MIN)),
      components: [t.component('production', 'Production', 'operational', 1), t.component('development', 'Development', 'degraded_performance', 2)],
      incidents: [expected],
      scheduled_maintenances: [],
      // development degraded (some degraded: minor), but the open incident is critical
      status: { indicator: 'critical', description: 'Major System Outage' },
    });
    expect(summary.status).toEqual((await t.get('status.json')).status);

    // The shortlink is a working address of the incident's page.
    const page = await t.app.request(new URL(expected.shortlink).pathname);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Elevated API errors');

    t.clock.set(at(40 * MIN));
    const resolved = await t.update(inc.id, { state: 'resolved', message: 'Fixed.' });
    const closed = (await t.get('incidents.json')).incidents[0];
    expect(closed).toMatchObject({ status: 'resolved', resolved_at: at(40 * MIN), monitoring_at: at(25 * MIN), updated_at: at(40 * MIN), impact: 'critical' });
    // Resolving withdraws development's yellow (production was green already).
    expect(closed.incident_updates[0]).toEqual(t.updateObject(resolved, inc.id, 'resolved', 'Fixed.', at(40 * MIN), [{ code: 'development', name: 'Development', old_status: 'degraded_performance', new_status: 'operational' }]));
    expect(closed.components).toEqual([t.component('production', 'Production', 'operational', 1), t.component('development', 'Development', 'operational', 2)]);
    expect((await t.get('incidents/unresolved.json')).incidents).toEqual([]);
    expect((await t.get('summary.json')).incidents).toEqual([]);
    expect((await t.get('status.json')).status).toEqual({ indicator: 'none', description: 'All Systems Operational' });

    // A published postmortem makes it "postmortem".
    t.clock.set(at(2 * HOUR));
    expect((await t.call('PUT', `/api/v1/incidents/${inc.id}/postmortem`, { token: t.admin, body: { markdown: 'What happened.' } })).status).toBe(200);
    expect((await t.get('incidents.json')).incidents[0].status).toBe('resolved');
    expect((await t.call('POST', `/api/v1/incidents/${inc.id}/postmortem/publish`, { token: t.admin, body: {} })).status).toBe(200);
    expect((await t.get('incidents.json')).incidents[0].status).toBe('postmortem');
  });

  it('when no colour is declared the impact is none; when a commander sets one (PATCH impact) it is the impact and it raises status.json', async () => {
    const t = await fresh();
    const quiet = await t.open({ title: 'Slow dashboard', message: 'Looking into it.' });
    const degraded = await t.open({ title: 'Slow builds', message: 'Builds are slow.', statuses: { development: 'yellow' } });
    const byId = async () => new Map((await t.get('incidents.json')).incidents.map((i: any) => [i.id, i.impact]));
    expect(await byId()).toEqual(new Map([[String(degraded.id), 'minor'], [String(quiet.id), 'none']]));
    // development yellow of two: some degraded; the incidents are minor at worst
    expect((await t.get('status.json')).status).toEqual({ indicator: 'minor', description: 'Partially Degraded Service' });

    // A commander sets it (PATCH /api/v1/incidents/:id).
    await t.setImpact(quiet.id, 'major');
    expect(await byId()).toEqual(new Map([[String(degraded.id), 'minor'], [String(quiet.id), 'major']]));
    expect((await t.get('incidents/unresolved.json')).incidents.map((i: any) => i.impact)).toEqual(['minor', 'major']);
    expect((await t.get('summary.json')).status).toEqual({ indicator: 'major', description: 'Partial System Outage' });
    expect((await t.get('status.json')).status).toEqual({ indicator: 'major', description: 'Partial System Outage' });

    // A set impact lower than the colours: the set one stands (impact_override).
    await t.setImpact(degraded.id, 'none');
    await t.setImpact(quiet.id, null);
    expect(await byId()).toEqual(new Map([[String(degraded.id), 'none'], [String(quiet.id), 'none']]));
    expect((await t.get('status.json')).status).toEqual({ indicator: 'minor', description: 'Partially Degraded Service' });
  });

  it('when components turn colours, status.json follows the rule: maintenance, degraded, partial and major outage, some and all', async () => {
    const t = await fresh('a:A,b:B');
    const status = async () => (await t.get('status.json')).status;
    const inc = await t.open({ title: 'Trouble', message: 'Looking.', statuses: { a: 'blue' } });
    // An impact of none, set, so that only the colours speak.
    await t.setImpact(inc.id, 'none');
    expect(await status()).toEqual({ indicator: 'maintenance', description: 'Service Under Maintenance' });
    const steps: [Record<string, Status>, string, string][] = [
      [{ a: 'yellow' }, 'minor', 'Partially Degraded Service'],
      [{ b: 'yellow' }, 'minor', 'Degraded System Service'],
      [{ a: 'orange' }, 'minor', 'Minor Service Outage'],
      [{ b: 'orange' }, 'major', 'Partial System Outage'],
      [{ a: 'red' }, 'major', 'Partial System Outage'],
      [{ b: 'red' }, 'critical', 'Major System Outage'],
      [{ a: 'green', b: 'blue' }, 'maintenance', 'Service Under Maintenance'],
    ];
    for (const [statuses, indicator, description] of steps) {
      await t.update(inc.id, { message: 'Still looking.', statuses });
      expect(await status(), JSON.stringify(statuses)).toEqual({ indicator, description });
    }
    await t.update(inc.id, { state: 'resolved', message: 'Done.' });
    expect(await status()).toEqual({ indicator: 'none', description: 'All Systems Operational' });
  });

  it('when every component is retired, status.json reads operational unless an open incident says otherwise', async () => {
    const t = await fresh('a:A');
    const inc = await t.open({ title: 'Outage', message: 'Down.', statuses: { a: 'red' } });
    t.clock.set(at(HOUR));
    await t.retire('a', at(HOUR));
    const body = await t.get('summary.json');
    expect(body.components).toEqual([]);
    // No components; the open incident declared red: critical.
    expect(body.status).toEqual({ indicator: 'critical', description: 'Major System Outage' });
    // The page changed when the component was retired.
    expect(body.page).toEqual(t.page(at(HOUR)));
    await t.update(inc.id, { state: 'resolved', message: 'Gone.' });
    expect((await t.get('status.json')).status).toEqual({ indicator: 'none', description: 'All Systems Operational' });
  });

  it('when a component is retired, components.json no longer lists it, and an old incident still names it', async () => {
    const t = await fresh('api:API,legacy:Legacy');
    const inc = await t.open({ title: 'Legacy down', message: 'Down.', statuses: { legacy: 'red', api: 'yellow' } });
    t.clock.set(at(HOUR));
    await t.update(inc.id, { state: 'resolved', message: 'Back.' });
    t.clock.set(at(2 * HOUR));
    await t.retire('legacy', at(2 * HOUR));

    expect((await t.get('components.json')).components).toEqual([t.component('api', 'API', 'operational', 1)]);
    const old = (await t.get('incidents.json')).incidents[0];
    expect(old.components).toEqual([
      t.component('api', 'API', 'operational', 1),
      // retired: no place on the page, operational, its last name and times
      t.component('legacy', 'Legacy', 'operational', null, { updated_at: at(2 * HOUR) }),
    ]);
    expect(old.incident_updates[1].affected_components).toEqual([
      { code: 'api', name: 'API', old_status: 'operational', new_status: 'degraded_performance' },
      { code: 'legacy', name: 'Legacy', old_status: 'operational', new_status: 'major_outage' },
    ]);
    expect(old.impact).toBe('critical');
  });

  it('when maintenances are scheduled, running, verifying, completed and cancelled, each list holds the right ones', async () => {
    const t = await fresh();
    t.clock.set(T0);
    const later = await t.schedule({ title: 'Later', environments: ['production'], scheduled_for: at(2 * DAY), scheduled_until: at(2 * DAY + 2 * HOUR) });
    const soon = await t.schedule({ title: 'Soon', environments: ['development'], scheduled_for: at(DAY), scheduled_until: at(DAY + HOUR) });
    const running = await t.schedule({ title: 'Running', environments: ['development'], scheduled_for: at(3 * DAY), scheduled_until: at(3 * DAY + HOUR) });
    const verifying = await t.schedule({ title: 'Verifying', environments: ['production'], scheduled_for: at(4 * DAY), scheduled_until: at(4 * DAY + HOUR) });
    const done = await t.schedule({ title: 'Done', scheduled_for: at(5 * DAY), scheduled_until: at(5 * DAY + HOUR) });
    const cancelled = await t.schedule({ title: 'Called off', scheduled_for: at(6 * DAY), scheduled_until: at(6 * DAY + HOUR) });
    t.clock.set(at(10 * MIN));
    for (const id of [running, verifying, done]) expect((await t.call('POST', `/api/v1/maintenances/${id}/run`, { token: t.admin, body: {} })).status).toBe(200);
    t.clock.set(at(20 * MIN));
    const verifyingUpdate = await t.update(verifying, { state: 'verifying', message: 'Checking.' });
    await t.update(done, { state: 'completed', message: 'Finished.' });
    expect((await t.call('POST', `/api/v1/maintenances/${cancelled}/cancel`, { token: t.admin, body: { message: 'Not needed.' } })).status).toBe(200);

    const names = (list: any[]) => list.map((m) => m.name);
    expect(names((await t.get('scheduled-maintenances/upcoming.json')).scheduled_maintenances)).toEqual(['Soon', 'Later']);
    const active = (await t.get('scheduled-maintenances/active.json')).scheduled_maintenances;
    expect(active.map((m: any) => [m.name, m.status])).toEqual([
      ['Running', 'in_progress'],
      ['Verifying', 'verifying'],
    ]);
    const all = (await t.get('scheduled-maintenances.json')).scheduled_maintenances;
    // The 50 newest by planned time, newest first (a cancelled one is listed as completed).
    expect(all.map((m: any) => [m.name, m.status])).toEqual([
      ['Called off', 'completed'],
      ['Done', 'completed'],
      ['Verifying', 'verifying'],
      ['Running', 'in_progress'],
      ['Later', 'scheduled'],
      ['Soon', 'scheduled'],
    ]);
    const summary = await t.get('summary.json');
    expect(names(summary.scheduled_maintenances)).toEqual(['Soon', 'Later', 'Running', 'Verifying']);
    // Development blue (Running), production blue (Verifying): all under maintenance.
    expect(summary.status).toEqual({ indicator: 'maintenance', description: 'Service Under Maintenance' });
    expect(summary.incidents).toEqual([]);

    const v = active[1];
    expect(Object.keys(v)).toEqual([...INCIDENT_KEYS, 'scheduled_for', 'scheduled_until']);
    expect(v).toEqual({
      id: String(verifying),
      name: 'Verifying',
      status: 'verifying',
      created_at: T0,
      updated_at: at(20 * MIN),
      monitoring_at: null,
      resolved_at: null,
      impact: 'maintenance',
      shortlink: `${URL_}/incidents/${verifying}`,
      started_at: T0,
      page_id: t.pageId,
      incident_updates: [
        t.updateObject(verifyingUpdate, verifying, 'verifying', 'Checking.', at(20 * MIN), null),
        { ...v.incident_updates[1], status: 'in_progress', created_at: at(10 * MIN), display_at: at(10 * MIN), updated_at: at(10 * MIN), affected_components: [{ code: 'production', name: 'Production', old_status: 'operational', new_status: 'under_maintenance' }] },
        // announced: its blue is not in force until it runs
        { ...t.updateObject(Number(v.incident_updates[2].id), verifying, 'scheduled', 'We will upgrade the database.', T0, null) },
      ],
      components: [t.component('production', 'Production', 'under_maintenance', 1)],
      scheduled_for: at(4 * DAY),
      scheduled_until: at(4 * DAY + HOUR),
    });
    const c = all.find((m: any) => m.name === 'Called off');
    expect(c).toMatchObject({ status: 'completed', resolved_at: at(20 * MIN), impact: 'maintenance', components: [] });
    expect(c.incident_updates.map((u: any) => u.status)).toEqual(['completed', 'scheduled']);
    // Incidents and maintenances stay apart.
    expect((await t.get('incidents.json')).incidents).toEqual([]);
  });

  it('when there are more than 50, incidents.json and scheduled-maintenances.json hold the 50 newest', async () => {
    const t = await fresh();
    for (let i = 0; i < 51; i++) {
      t.clock.set(at(i * MIN));
      await t.open({ title: `Incident ${i}`, message: 'Hm.' });
      await t.schedule({ title: `Maintenance ${i}`, scheduled_for: at(DAY + i * HOUR), scheduled_until: at(DAY + i * HOUR + 30 * MIN) });
    }
    const incidents = (await t.get('incidents.json')).incidents;
    expect(incidents).toHaveLength(50);
    expect(incidents[0].name).toBe('Incident 50');
    expect(incidents[49].name).toBe('Incident 1');
    const maintenances = (await t.get('scheduled-maintenances.json')).scheduled_maintenances;
    expect(maintenances).toHaveLength(50);
    expect(maintenances[0].name).toBe('Maintenance 50');
    expect(maintenances[49].name).toBe('Maintenance 1');
    // The open lists are not capped.
    expect((await t.get('incidents/unresolved.json')).incidents).toHaveLength(51);
    expect((await t.get('scheduled-maintenances/upcoming.json')).scheduled_maintenances).toHaveLength(51);
  });
});
