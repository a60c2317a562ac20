import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { freshDatabase } from '../support/db.ts';
import { testApp } from '../support/app.ts';
import { consoleClient, inputValue, words } from '../support/console.ts';

/**
 * The console's components page (/console/components): the components and groups in page order,
 * forms to add and edit them (errors beside the fields), move up/down, retire and restore; the
 * same use cases as the API. Every test starts on a fresh database whose components are
 * production and staging, with the commander "ops" (admin) signed in.
 */

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let admin: string;
let b: ReturnType<typeof consoleClient>;

beforeEach(async () => {
  handle = await freshDatabase();
  t = await testApp(handle, { HERALD_ENVIRONMENTS: 'production:Production,staging:Staging' });
  admin = await t.token(['admin'], 'ops');
  b = consoleClient(t);
  await b.signIn(admin);
});
afterEach(async () => handle.close());

/** The live components as the API lists them: [slug, group, position]. */
const order = async () => ((await t.call('GET', '/api/v1/components', { token: admin })).body.components as any[]).map((c) => [c.slug, c.group, c.position]);
/** Each row of the components table, in order, as its words. */
const rows = (html: string) => [...html.slice(html.indexOf('<table class="components">'), html.indexOf('</table>')).matchAll(/<tr id="([^"]+)"[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => [m[1], words(m[2]!).trim()]);

describe('console: components', () => {
  it('lists groups and components in page order, with the nav link; a form adds a component and a group, after which it redirects with a notice', async () => {
    const home = await b.get('/console/components');
    expect(home.status).toBe(200);
    expect(home.html).toContain('<a href="/console/components" aria-current="page">Components</a>');
    expect(rows(home.html).map(([id]) => id)).toEqual(['component-production', 'component-staging']);

    await b.get('/console/components');
    const group = await b.post('/console/component-groups', { slug: 'data', name: 'Data', description: 'Databases' });
    expect(group.status).toBe(303);
    expect(group.location).toBe('/console/components?done=group-added#group-data');

    const page = await b.get('/console/components');
    const added = await b.post('/console/components', { slug: 'db', name: 'Primary database', description: 'Postgres', group: 'data', only_show_if_degraded: 'on', start_date: '2026-01-15' });
    expect(added.status).toBe(303);
    expect(added.location).toBe('/console/components?done=component-added#component-db');
    expect(page.status).toBe(200);

    const after = await b.get(added.location!);
    expect(words(after.html)).toContain('Component added. It is on the status page now.');
    expect(rows(after.html)).toEqual([
      ['component-production', 'Production production Operational — Edit Move down Retire'],
      ['component-staging', 'Staging staging Operational — Edit Move up Move down Retire'],
      ['group-data', 'Data data (group) Databases Operational Edit Move up Retire'],
      ['component-db', '↳ Primary database db Postgres Operational 2026-01-15 only shown if degraded Edit Retire'],
    ]);
    expect((await t.call('GET', '/api/v1/components/db', { token: admin })).body).toMatchObject({ group: 'data', description: 'Postgres', only_show_if_degraded: true, start_date: '2026-01-15' });
  });

  it('when the add form is wrong, it is 400 with each error beside its field and what was typed kept; nothing is added', async () => {
    await b.get('/console/components');
    const res = await b.post('/console/components', { slug: 'Not A Slug', name: '', description: 'Kept text', start_date: '2026-02-30' });
    expect(res.status).toBe(400);
    expect(res.html).toContain('Nothing was saved: please fix these');
    expect(res.html).toMatch(/<p class="field-error" id="f-slug-error"><span class="sr-only">Error: <\/span>slug must be 1 to 40 lowercase letters, digits, - or _, starting with a letter<\/p>/);
    expect(res.html).toMatch(/<p class="field-error" id="f-name-error"><span class="sr-only">Error: <\/span>name must not be empty<\/p>/);
    expect(res.html).toMatch(/<p class="field-error" id="f-start_date-error"><span class="sr-only">Error: <\/span>start_date must be a real date YYYY-MM-DD, e.g. 2026-03-01<\/p>/);
    expect(inputValue(res.html, 'slug')).toBe('Not A Slug');
    expect(res.html).toContain('>Kept text</textarea>');
    const taken = await b.post('/console/components', { slug: 'staging', name: 'Again' });
    expect(taken.status).toBe(409);
    expect(words(taken.html)).toContain('The slug "staging" is taken by component "Staging": components and groups share one namespace.');
    expect(await order()).toEqual([['production', null, 1], ['staging', null, 2]]);
  });

  it('the edit form renames, describes, groups and dates a component; a bad field is shown beside it', async () => {
    await t.call('POST', '/api/v1/component-groups', { token: admin, body: { slug: 'apps', name: 'Apps' } });
    const form = await b.get('/console/components/staging/edit');
    expect(form.status).toBe(200);
    expect(inputValue(form.html, 'name')).toBe('Staging');
    const bad = await b.post('/console/components/staging', { _key: inputValue(form.html, '_key')!, name: 'x'.repeat(101), description: '', group: 'apps', start_date: '' });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/<p class="field-error" id="f-name-error"><span class="sr-only">Error: <\/span>name must be at most 100 characters<\/p>/);
    const saved = await b.post('/console/components/staging', { _key: inputValue(bad.html, '_key')!, name: 'Staging EU', description: 'Frankfurt', group: 'apps', start_date: '2026-02-01' });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe('/console/components?done=component-saved#component-staging');
    expect((await t.call('GET', '/api/v1/components/staging', { token: admin })).body).toMatchObject({ name: 'Staging EU', description: 'Frankfurt', group: 'apps', position: 1, start_date: '2026-02-01', only_show_if_degraded: false });
    // the public status shows the new name at once
    expect((await t.call('GET', '/api/v1/status')).body.environments.map((e: any) => e.name)).toEqual(['Production', 'Staging EU']);
    // posted twice (a double click): written once
    const again = await b.post('/console/components/staging', { _key: inputValue(bad.html, '_key')!, name: 'Staging EU', description: 'Frankfurt', group: 'apps', start_date: '2026-02-01' });
    expect(again.status).toBe(303);
    expect((await t.db.selectFrom('audit_log').select('id').where('action', '=', 'component.update').execute()).length).toBe(1);
  });

  it('move up and move down renumber the siblings; retire and restore move a component between the lists', async () => {
    await t.call('POST', '/api/v1/components', { token: admin, body: { slug: 'cdn', name: 'CDN' } });
    await b.get('/console/components');
    const up = await b.post('/console/components/cdn/move', { direction: 'up' });
    expect(up.location).toBe('/console/components?done=component-moved#component-cdn');
    expect(await order()).toEqual([['production', null, 1], ['cdn', null, 2], ['staging', null, 3]]);
    await b.get('/console/components');
    await b.post('/console/components/production/move', { direction: 'down' });
    expect(await order()).toEqual([['cdn', null, 1], ['production', null, 2], ['staging', null, 3]]);

    await b.get('/console/components');
    expect((await b.post('/console/components/production/retire')).location).toBe('/console/components?done=component-retired#component-production');
    expect(await order()).toEqual([['cdn', null, 1], ['staging', null, 2]]);
    const page = await b.get('/console/components');
    const retired = page.html.slice(page.html.indexOf('id="retired-title"'));
    expect(words(retired)).toContain('Production production Operational — retired 2026-03-01 10:00 UTC');
    expect(retired).toContain('action="/console/components/production/restore"');
    expect((await b.post('/console/components/production/restore')).status).toBe(303);
    expect(await order()).toEqual([['cdn', null, 1], ['staging', null, 2], ['production', null, 3]]);
  });

  it('retiring a group with members shows the refusal naming them; an empty group retires, restores and is renamed by its own form', async () => {
    await t.call('POST', '/api/v1/component-groups', { token: admin, body: { slug: 'tools', name: 'Tools' } });
    await t.call('PATCH', '/api/v1/components/staging', { token: admin, body: { group: 'tools' } });
    await b.get('/console/components');
    const refused = await b.post('/console/component-groups/tools/retire');
    expect(refused.status).toBe(409);
    expect(words(refused.html)).toContain('Group "tools" still has live components: staging.');
    await t.call('PATCH', '/api/v1/components/staging', { token: admin, body: { group: null } });
    await b.get('/console/components');
    expect((await b.post('/console/component-groups/tools/retire')).location).toBe('/console/components?done=group-retired#group-tools');
    await b.get('/console/components');
    expect((await b.post('/console/component-groups/tools/restore')).status).toBe(303);
    const form = await b.get('/console/component-groups/tools/edit');
    const saved = await b.post('/console/component-groups/tools', { _key: inputValue(form.html, '_key')!, name: 'Internal tools', description: '' });
    expect(saved.location).toBe('/console/components?done=group-saved#group-tools');
    expect((await t.call('GET', '/api/v1/component-groups/tools', { token: admin })).body).toMatchObject({ name: 'Internal tools', retired_at: null });
  });

  it('a session without components:write sees the list but no forms, and a posted form is refused with 403', async () => {
    const reader = await t.token(['incidents:write'], 'alice');
    const r = consoleClient(t, '203.0.113.9');
    await r.signIn(reader);
    const page = await r.get('/console/components');
    expect(page.status).toBe(200);
    expect(rows(page.html).map(([id]) => id)).toEqual(['component-production', 'component-staging']);
    expect(page.html).not.toContain('action="/console/components"');
    expect(words(page.html)).toContain('Your token cannot change components: that takes the components:write or admin scope.');
    const refused = await r.post('/console/components', { slug: 'cdn', name: 'CDN' });
    expect(refused.status).toBe(403);
    expect(await order()).toEqual([['production', null, 1], ['staging', null, 2]]);
  });

  it('a form without the session\'s CSRF token changes nothing', async () => {
    await b.get('/console/components');
    const res = await b.post('/console/components', { _csrf: 'forged', slug: 'cdn', name: 'CDN' });
    expect(res.status).toBe(403);
    expect(await order()).toEqual([['production', null, 1], ['staging', null, 2]]);
  });
});
