import { afterEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';

/**
 * Components and groups managed as data (/api/v1/components, /api/v1/component-groups): each
 * route, every validation problem in one 400, the 409s, positions renumbered among siblings,
 * history kept through retirement, a rename shown by every public read at once. Each test has
 * its own database whose components are HERALD_ENVIRONMENTS' (seeded at the first start).
 */

const handles: DatabaseHandle[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
});

async function fresh(environments = 'production:Production,staging:Staging') {
  const handle = await freshDatabase();
  handles.push(handle);
  const t = await testApp(handle, { HERALD_ENVIRONMENTS: environments });
  const admin = await t.token(['admin'], 'ops');
  const api = (method: string, path: string, body?: unknown, token = admin) => t.call(method, `/api/v1${path}`, { token, ...(body !== undefined ? { body } : {}) });
  /** The live items' [slug, group, position] in list order. */
  const order = async () => ((await api('GET', '/components')).body.components as any[]).map((c) => [c.slug, c.group, c.position]);
  const groups = async () => ((await api('GET', '/component-groups')).body.groups as any[]).map((g) => [g.slug, g.position, g.components]);
  return { ...t, handle, admin, api, order, groups };
}

describe('reading components', () => {
  it('when a token of any scope asks, lists the live components in page order with their fields and colour; without a token, 401', async () => {
    const t = await fresh();
    const reader = await t.token(['incidents:write'], 'reader');
    expect((await t.call('GET', '/api/v1/components')).status).toBe(401);
    expect((await t.call('GET', '/api/v1/component-groups')).status).toBe(401);
    const res = await t.api('GET', '/components', undefined, reader);
    expect(res.status).toBe(200);
    // seeded at the first start (testApp), so created then: T0 is the clock, but the seed uses the database's now()
    expect(res.body.components.map((c: any) => c.slug)).toEqual(['production', 'staging']);
    expect(res.body.components[0]).toMatchObject({
      slug: 'production',
      name: 'Production',
      description: null,
      group: null,
      position: 1,
      only_show_if_degraded: false,
      showcase: true,
      start_date: null,
      retired_at: null,
      status: 'green',
    });
    expect(Object.keys(res.body.components[0])).toEqual(['slug', 'name', 'description', 'group', 'position', 'only_show_if_degraded', 'showcase', 'start_date', 'created_at', 'updated_at', 'retired_at', 'status']);
  });

  it('when an incident is open, a component shows its colour and its group the worst of its members', async () => {
    const t = await fresh('api:API,db:Database,web:Web');
    await t.api('POST', '/component-groups', { slug: 'data', name: 'Data' });
    await t.api('PATCH', '/components/db', { group: 'data' });
    await t.api('PATCH', '/components/api', { group: 'data' });
    const opened = await t.api('POST', '/incidents', { title: 'Slow queries', message: 'Looking.', statuses: { db: 'orange', api: 'yellow' } });
    expect(opened.status).toBe(201);
    const list = (await t.api('GET', '/components')).body.components;
    expect(list.map((c: any) => [c.slug, c.status])).toEqual([['web', 'green'], ['db', 'orange'], ['api', 'yellow']]);
    expect((await t.api('GET', '/component-groups/data')).body).toMatchObject({ slug: 'data', components: ['db', 'api'], status: 'orange' });
    expect((await t.api('GET', '/components/db')).body.status).toBe('orange');
  });

  it('when asked for a slug that does not exist, 404 component.not_found / group.not_found; a bad include, 400', async () => {
    const t = await fresh();
    expect((await t.api('GET', '/components/nope')).body).toMatchObject({ id: 'not_found', code: 'component.not_found' });
    expect((await t.api('GET', '/components/nope')).status).toBe(404);
    expect((await t.api('GET', '/component-groups/nope')).body).toMatchObject({ code: 'group.not_found' });
    const bad = await t.api('GET', '/components?include=everything');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'request.invalid_query', errors: [{ path: 'include', message: 'must be retired (or left out)' }] });
  });
});

describe('adding a component', () => {
  it('when given only slug and name, answers 201 with start_date today (UTC, by the clock) and the last top-level position', async () => {
    const t = await fresh();
    t.clock.set('2026-03-01T23:30:00-02:00'); // already 2 March in UTC
    const res = await t.api('POST', '/components', { slug: 'cdn', name: 'CDN' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      slug: 'cdn',
      name: 'CDN',
      description: null,
      group: null,
      position: 3,
      only_show_if_degraded: false,
      showcase: true,
      start_date: '2026-03-02',
      created_at: '2026-03-02T01:30:00.000Z',
      updated_at: '2026-03-02T01:30:00.000Z',
      retired_at: null,
      status: 'green',
    });
    expect(await t.order()).toEqual([['production', null, 1], ['staging', null, 2], ['cdn', null, 3]]);
  });

  it('when given every field, keeps them, and a position among the top level renumbers the others 1..n', async () => {
    const t = await fresh();
    const res = await t.api('POST', '/components', { slug: 'dns', name: 'DNS', description: 'Name servers', position: 1, only_show_if_degraded: true, showcase: false, start_date: '2025-12-01' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ slug: 'dns', description: 'Name servers', position: 1, only_show_if_degraded: true, showcase: false, start_date: '2025-12-01' });
    expect(await t.order()).toEqual([['dns', null, 1], ['production', null, 2], ['staging', null, 3]]);
  });

  it('when given a group, goes last among its members unless a position says where', async () => {
    const t = await fresh();
    expect((await t.api('POST', '/component-groups', { slug: 'apps', name: 'Apps' })).body.position).toBe(3);
    await t.api('POST', '/components', { slug: 'web', name: 'Web', group: 'apps' });
    await t.api('POST', '/components', { slug: 'worker', name: 'Worker', group: 'apps' });
    const first = await t.api('POST', '/components', { slug: 'api', name: 'API', group: 'apps', position: 1 });
    expect(first.body).toMatchObject({ group: 'apps', position: 1 });
    expect(await t.order()).toEqual([['production', null, 1], ['staging', null, 2], ['api', 'apps', 1], ['web', 'apps', 2], ['worker', 'apps', 3]]);
    expect(await t.groups()).toEqual([['apps', 3, ['api', 'web', 'worker']]]);
  });

  it('when the body has many problems, one 400 component.invalid_input lists every one', async () => {
    const t = await fresh();
    await t.api('POST', '/component-groups', { slug: 'old', name: 'Old' });
    await t.api('POST', '/component-groups/old/retire', {});
    const res = await t.api('POST', '/components', {
      slug: 'Bad Slug',
      name: '   ',
      description: 'x'.repeat(1001),
      group: 'nope',
      position: 0,
      only_show_if_degraded: 'yes',
      start_date: '2026-02-30',
      colour: 'blue',
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ id: 'invalid_params', code: 'component.invalid_input' });
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { path: 'slug', message: 'slug must be 1 to 40 lowercase letters, digits, - or _, starting with a letter' },
        { path: 'name', message: 'name must not be empty' },
        { path: 'description', message: 'description must be at most 1000 characters' },
        { path: 'group', message: 'unknown group "nope" (there are no groups)' },
        { path: 'position', message: 'position must be a whole number, 1 or more' },
        { path: 'only_show_if_degraded', message: 'only_show_if_degraded must be true or false' },
        { path: 'start_date', message: 'start_date must be a real date YYYY-MM-DD, e.g. 2026-03-01' },
        { path: '(body)', message: 'unknown field: colour' },
      ]),
    );
    expect(res.body.errors).toHaveLength(8);
    const retired = await t.api('POST', '/components', { slug: 'late', name: 'Late', group: 'old', start_date: '1999-12-31', position: 1.5 });
    expect(retired.body.errors).toEqual([
      { path: 'group', message: 'group "old" is retired (restore it first)' },
      { path: 'position', message: 'position must be a whole number, 1 or more' },
      { path: 'start_date', message: 'start_date must not be before 2000-01-01 (a mistyped year?)' },
    ]);
    expect(await t.order()).toEqual([['production', null, 1], ['staging', null, 2]]);
    const missing = await t.api('POST', '/components', {});
    expect(missing.body.errors).toEqual([{ path: 'slug', message: 'is required' }, { path: 'name', message: 'is required' }]);
  });

  it('when the slug is taken by a component, a group or a retired one, 409 component.exists', async () => {
    const t = await fresh();
    await t.api('POST', '/component-groups', { slug: 'apps', name: 'Apps' });
    await t.api('POST', '/components', { slug: 'legacy', name: 'Legacy' });
    await t.api('POST', '/components/legacy/retire', {});
    for (const slug of ['production', 'apps', 'legacy']) {
      const res = await t.api('POST', '/components', { slug, name: 'Again' });
      expect(res.status, slug).toBe(409);
      expect(res.body.code).toBe('component.exists');
      const group = await t.api('POST', '/component-groups', { slug, name: 'Again' });
      expect(group.status, slug).toBe(409);
      expect(group.body.code).toBe('component.exists');
    }
    expect((await t.api('POST', '/components', { slug: 'legacy', name: 'Again' })).body.message).toBe(
      'The slug "legacy" is taken by component "Legacy" (retired; a slug is never used twice): components and groups share one namespace.',
    );
  });

  it('when the token lacks components:write, 403; components:write or admin may write', async () => {
    const t = await fresh();
    const writer = await t.token(['incidents:write'], 'writer');
    const keeper = await t.token(['components:write'], 'keeper');
    expect((await t.api('POST', '/components', { slug: 'a', name: 'A' }, writer)).body).toMatchObject({ code: 'auth.scope_missing' });
    expect((await t.api('POST', '/components', { slug: 'a', name: 'A' }, keeper)).status).toBe(201);
    expect((await t.api('PATCH', '/components/a', { name: 'A2' }, writer)).status).toBe(403);
    expect((await t.api('PATCH', '/components/a', { name: 'A2' }, keeper)).status).toBe(200);
    expect((await t.call('POST', '/api/v1/components', { body: { slug: 'b', name: 'B' } })).status).toBe(401);
  });

  it('when sent twice with the same Idempotency-Key, writes once and replays the answer', async () => {
    const t = await fresh();
    const send = () => t.call('POST', '/api/v1/components', { token: t.admin, body: { slug: 'cdn', name: 'CDN' }, headers: { 'idempotency-key': 'add-cdn-1' } });
    const first = await send();
    const again = await send();
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    const audits = await t.db.selectFrom('audit_log').select(['action', 'target']).where('action', 'like', 'component.%').execute();
    expect(audits).toEqual([{ action: 'component.create', target: 'component:cdn' }]);
  });
});

describe('editing a component', () => {
  it('when renamed, the new name shows at once in /api/v1/status, /api/v4/current-status and the status page, and the audit row has before and after', async () => {
    const t = await fresh();
    // the public reads are made once first, so the rename must replace what they hold
    expect((await t.call('GET', '/api/v1/status')).body.environments.map((e: any) => e.name)).toEqual(['Production', 'Staging']);
    expect((await t.call('GET', '/api/v4/current-status')).body.status.map((s: any) => s.system)).toEqual(['Production', 'Staging']);
    const res = await t.api('PATCH', '/components/staging', { name: 'Staging EU', description: 'Frankfurt' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ slug: 'staging', name: 'Staging EU', description: 'Frankfurt', updated_at: T0 });
    expect((await t.call('GET', '/api/v1/status')).body.environments.map((e: any) => e.name)).toEqual(['Production', 'Staging EU']);
    expect((await t.call('GET', '/api/v4/current-status')).body.status.map((s: any) => s.system)).toEqual(['Production', 'Staging EU']);
    expect((await t.app.request('/')).status).toBe(200);
    expect(await (await t.app.request('/')).text()).toContain('Staging EU');
    const audit = await t.db.selectFrom('audit_log').select(['action', 'target', 'before', 'after']).where('action', '=', 'component.update').executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ target: 'component:staging', before: { name: 'Staging', description: null }, after: { name: 'Staging EU', description: 'Frankfurt' } });
  });

  it('when moved to a position, its siblings are renumbered 1..n; past the end means last', async () => {
    const t = await fresh('a:A,b:B,c:C,d:D');
    expect((await t.api('PATCH', '/components/d', { position: 2 })).body.position).toBe(2);
    expect(await t.order()).toEqual([['a', null, 1], ['d', null, 2], ['b', null, 3], ['c', null, 4]]);
    expect((await t.api('PATCH', '/components/a', { position: 99 })).body.position).toBe(4);
    expect(await t.order()).toEqual([['d', null, 1], ['b', null, 2], ['c', null, 3], ['a', null, 4]]);
  });

  it('when moved into a group and out again, both sets of siblings are renumbered, and a group moves among the top-level items', async () => {
    const t = await fresh('a:A,b:B,c:C');
    await t.api('POST', '/component-groups', { slug: 'data', name: 'Data' }); // top level 4
    await t.api('PATCH', '/components/a', { group: 'data' });
    await t.api('PATCH', '/components/c', { group: 'data', position: 1 });
    expect(await t.order()).toEqual([['b', null, 1], ['c', 'data', 1], ['a', 'data', 2]]);
    expect(await t.groups()).toEqual([['data', 2, ['c', 'a']]]);
    expect((await t.api('PATCH', '/component-groups/data', { position: 1 })).body.position).toBe(1);
    expect(await t.order()).toEqual([['c', 'data', 1], ['a', 'data', 2], ['b', null, 2]]);
    const out = await t.api('PATCH', '/components/c', { group: null, position: 1 });
    expect(out.body).toMatchObject({ group: null, position: 1 });
    expect(await t.order()).toEqual([['c', null, 1], ['a', 'data', 1], ['b', null, 3]]);
    expect(await t.groups()).toEqual([['data', 2, ['a']]]);
  });

  it('when the body is empty, names a retired group or is invalid, 400 listing every problem; nothing changes', async () => {
    const t = await fresh();
    expect((await t.api('PATCH', '/components/staging', {})).body.errors).toEqual([{ path: '(body)', message: 'nothing to change: give at least one field' }]);
    const res = await t.api('PATCH', '/components/staging', { slug: 'renamed', name: 'x'.repeat(101), start_date: '2026-3-1', showcase: null });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { path: '(body)', message: 'unknown field: slug' },
        { path: 'name', message: 'name must be at most 100 characters' },
        { path: 'start_date', message: 'start_date must be a real date YYYY-MM-DD, e.g. 2026-03-01' },
        { path: 'showcase', message: 'showcase must be true or false' },
      ]),
    );
    expect(res.body.errors).toHaveLength(4);
    expect((await t.api('GET', '/components/staging')).body.name).toBe('Staging');
  });

  it('when description or start_date is null, clears it', async () => {
    const t = await fresh();
    await t.api('PATCH', '/components/staging', { description: 'EU', start_date: '2026-01-01' });
    const res = await t.api('PATCH', '/components/staging', { description: null, start_date: null });
    expect(res.body).toMatchObject({ description: null, start_date: null });
  });

  it('when the component is retired, 409 component.retired (restore it first); when it does not exist, 404', async () => {
    const t = await fresh();
    await t.api('POST', '/components/staging/retire', {});
    const res = await t.api('PATCH', '/components/staging', { name: 'Back' });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('component.retired');
    expect(res.body.message).toMatch(/^Component "staging" is retired \(since .*\): restore it first\.$/);
    expect((await t.api('PATCH', '/components/nope', { name: 'X' })).status).toBe(404);
    expect((await t.api('POST', '/components/nope/retire', {})).body.code).toBe('component.not_found');
  });
});

describe('editing a group', () => {
  it('when renamed and described, answers 200 with its members; a bad body is one 400 listing every problem; an unknown group is 404', async () => {
    const t = await fresh();
    await t.api('POST', '/component-groups', { slug: 'apps', name: 'Apps' });
    await t.api('PATCH', '/components/staging', { group: 'apps' });
    t.clock.advance(60_000);
    const res = await t.api('PATCH', '/component-groups/apps', { name: 'Applications', description: 'Customer-facing' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      slug: 'apps',
      name: 'Applications',
      description: 'Customer-facing',
      position: 2,
      components: ['staging'],
      created_at: T0,
      updated_at: '2026-03-01T10:01:00.000Z',
      retired_at: null,
      status: 'green',
    });
    const bad = await t.api('PATCH', '/component-groups/apps', { name: '', position: -1, slug: 'other' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual(
      expect.arrayContaining([
        { path: 'name', message: 'name must not be empty' },
        { path: 'position', message: 'position must be a whole number, 1 or more' },
        { path: '(body)', message: 'unknown field: slug' },
      ]),
    );
    expect(bad.body.errors).toHaveLength(3);
    expect((await t.api('PATCH', '/component-groups/nope', { name: 'X' })).body).toMatchObject({ code: 'group.not_found' });
    const audit = await t.db.selectFrom('audit_log').select(['target', 'before', 'after']).where('action', '=', 'group.update').executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ target: 'group:apps', before: { name: 'Apps', description: null }, after: { name: 'Applications', description: 'Customer-facing' } });
  });
});

describe('retiring and restoring', () => {
  it('when a component is retired, it leaves the lists and the status, keeps its history, and an update may no longer name it', async () => {
    const t = await fresh();
    const opened = await t.api('POST', '/incidents', { title: 'Deploys failing', message: 'Down.', statuses: { staging: 'red' } });
    const id = opened.body.id;
    t.clock.advance(30 * 60_000);
    await t.api('POST', `/incidents/${id}/updates`, { state: 'resolved', message: 'Back.', statuses: { staging: 'green' } });
    t.clock.advance(60_000);
    const retired = await t.api('POST', '/components/staging/retire', {});
    expect(retired.status).toBe(200);
    expect(retired.body).toMatchObject({ slug: 'staging', retired_at: '2026-03-01T10:31:00.000Z' });
    expect(await t.order()).toEqual([['production', null, 1]]);
    const all = (await t.api('GET', '/components?include=retired')).body.components;
    expect(all.map((c: any) => [c.slug, c.retired_at])).toEqual([['production', null], ['staging', '2026-03-01T10:31:00.000Z']]);
    expect((await t.call('GET', '/api/v1/status')).body.environments.map((e: any) => e.slug)).toEqual(['production']);
    // history: the old incident's scope of impact and its public page still name it
    const incident = (await t.call('GET', `/api/v1/incidents/${id}`)).body;
    expect(incident.scope_of_impact.environments.map((e: any) => [e.environment, e.red_seconds])).toEqual([['production', 0], ['staging', 1800]]);
    const page = await (await t.app.request(`/incidents/${id}`)).text();
    expect(page).toContain('Staging');
    // a new update may not name it
    const next = await t.api('POST', '/incidents', { title: 'Again', message: 'Hm.', statuses: { staging: 'yellow' } });
    expect(next.status).toBe(400);
    expect(next.body.errors).toEqual([{ path: 'statuses.staging', message: 'environment "staging" is retired' }]);
    // retiring twice
    expect((await t.api('POST', '/components/staging/retire', {})).body.code).toBe('component.retired');
  });

  it('when a retired component is restored, it comes back last among its siblings; restoring a live one is 409', async () => {
    const t = await fresh('a:A,b:B,c:C');
    // a retired component keeps the position it had; the live ones close the gap
    expect((await t.api('POST', '/components/a/retire', {})).body).toMatchObject({ position: 1, retired_at: T0 });
    expect(await t.order()).toEqual([['b', null, 1], ['c', null, 2]]);
    const back = await t.api('POST', '/components/a/restore', {});
    expect(back.body).toMatchObject({ slug: 'a', retired_at: null, position: 3 });
    expect(await t.order()).toEqual([['b', null, 1], ['c', null, 2], ['a', null, 3]]);
    expect((await t.api('POST', '/components/a/restore', {})).body.code).toBe('component.not_retired');
    expect((await t.api('POST', '/incidents', { title: 'A', message: 'A.', statuses: { a: 'yellow' } })).status).toBe(201);
  });

  it('when a group has live members, retiring it is 409 group.not_empty naming them; empty, it retires and restores', async () => {
    const t = await fresh('a:A,b:B');
    await t.api('POST', '/component-groups', { slug: 'apps', name: 'Apps', description: 'Our apps' });
    await t.api('PATCH', '/components/a', { group: 'apps' });
    await t.api('PATCH', '/components/b', { group: 'apps' });
    const refused = await t.api('POST', '/component-groups/apps/retire', {});
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'group.not_empty', message: 'Group "apps" still has live components: a, b. Move them out (group: null) or retire them first.' });
    await t.api('PATCH', '/components/a', { group: null });
    await t.api('POST', '/components/b/retire', {});
    const retired = await t.api('POST', '/component-groups/apps/retire', {});
    expect(retired.status).toBe(200);
    expect(retired.body).toMatchObject({ slug: 'apps', retired_at: T0, components: [] });
    expect(await t.groups()).toEqual([]);
    expect(((await t.api('GET', '/component-groups?include=retired')).body.groups as any[]).map((g) => g.slug)).toEqual(['apps']);
    expect((await t.api('PATCH', '/component-groups/apps', { name: 'X' })).body.code).toBe('group.retired');
    // b comes back ungrouped: its group is retired
    expect((await t.api('POST', '/components/b/restore', {})).body).toMatchObject({ group: null, position: 2 });
    const restored = await t.api('POST', '/component-groups/apps/restore', {});
    expect(restored.body).toMatchObject({ slug: 'apps', retired_at: null, position: 3 });
    expect((await t.api('POST', '/component-groups/apps/restore', {})).body.code).toBe('group.not_retired');
    expect((await t.api('POST', '/component-groups/nope/retire', {})).status).toBe(404);
  });

  it('when retire is sent a field, 400: it takes none', async () => {
    const t = await fresh();
    const res = await t.api('POST', '/components/staging/retire', { reason: 'old' });
    expect(res.body).toMatchObject({ code: 'component.invalid_input', errors: [{ path: '(body)', message: 'unknown field: reason' }] });
  });
});

describe('seeding', () => {
  it('HERALD_ENVIRONMENTS seeds only an empty table: a later start with another list changes nothing, even when every component is retired', async () => {
    const handle = await freshDatabase();
    handles.push(handle);
    const first = await testApp(handle, { HERALD_ENVIRONMENTS: 'alpha:Alpha,beta:Beta' });
    const admin = await first.token(['admin'], 'ops');
    await first.call('POST', '/api/v1/components/alpha/retire', { token: admin, body: {} });
    await first.call('POST', '/api/v1/components/beta/retire', { token: admin, body: {} });
    const second = await testApp(handle, { HERALD_ENVIRONMENTS: 'gamma:Gamma' });
    const list = (await second.call('GET', '/api/v1/components?include=retired', { token: admin })).body.components;
    expect(list.map((c: any) => [c.slug, c.retired_at !== null])).toEqual([['alpha', true], ['beta', true]]);
  });
});
