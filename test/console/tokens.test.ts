import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';
import { consoleClient, inputValue } from '../support/console.ts';

/** /console/tokens (admin): list, create (secret once + one-time link), revoke in two steps. */

const MIN = 60_000;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const SECRET = /hrd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/;

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let root: string;
let alice: string; // incidents:write only

beforeAll(async () => {
  handle = await freshDatabase();
  t = await testApp(handle);
  root = await t.token(['admin'], 'root');
  alice = await t.token(['incidents:write'], 'alice');
});
afterAll(async () => handle.close());

async function signedIn(token: string, address = '203.0.113.7') {
  const b = consoleClient(t, address);
  await b.signIn(token);
  return b;
}

const tokenRow = (name: string) => t.db.selectFrom('api_tokens').selectAll().where('name', '=', name).executeTakeFirst();
const tokenCount = async () => Number((await t.db.selectFrom('api_tokens').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

/** The <tr> of a token in the list. */
const rowOf = (html: string, id: number) => new RegExp(`<tr id="token-${id}">([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? '';

describe('console: tokens', () => {
  it('when the token is not admin, the tokens pages are a 403 page and nothing is created or revoked', async () => {
    t.clock.set(T0);
    const b = await signedIn(alice);
    const list = await b.get('/console/tokens');
    expect(list.status).toBe(403);
    expect(list.html).toContain('This token (alice) lacks the &quot;admin&quot; scope.');
    expect(list.html).not.toContain('href="/console/tokens"'); // no Tokens link in the navigation
    const count = await tokenCount();
    const create = await b.post('/console/tokens', { name: 'sneaky', scopes: 'admin' });
    expect(create.status).toBe(403);
    const rootId = (await tokenRow('root'))!.id;
    const revoke = await b.post(`/console/tokens/${rootId}/revoke`, { intent: 'confirm' });
    expect(revoke.status).toBe(403);
    expect(await tokenCount()).toBe(count);
    expect((await tokenRow('root'))!.revoked_at).toBeNull();
  });

  it('when an admin opens the page, every token is listed with its scopes, creation, last use and state, and no secret', async () => {
    t.clock.set(T0);
    await signedIn(alice); // alice's last use: 10:00
    t.clock.set(at(5 * MIN));
    const b = await signedIn(root);
    const res = await b.get('/console/tokens');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.html).toContain('<h1>API tokens</h1>');
    expect(res.html).toContain('aria-current="page"');
    const aliceRow = rowOf(res.html, (await tokenRow('alice'))!.id);
    expect(aliceRow).toContain('<td>alice</td><td>incidents:write</td><td>2026-03-01 10:00 UTC<br/><span class="muted">by test</span></td>');
    expect(aliceRow).toContain('<td>2026-03-01 10:00 UTC</td><td>active</td>'); // last used: signing in at 10:00
    expect(aliceRow).toContain('Revoke alice');
    const rootRow = rowOf(res.html, (await tokenRow('root'))!.id);
    expect(rootRow).toContain('root<span class="muted"> (you)</span>');
    expect(res.html).not.toMatch(SECRET);
    expect(res.html).not.toContain(root.slice(17));
  });

  it('when the create form is wrong, it is 400 with each error beside its field and what was typed kept', async () => {
    t.clock.set(at(6 * MIN));
    const b = await signedIn(root);
    await b.get('/console/tokens');
    const count = await tokenCount();
    const noScopes = await b.post('/console/tokens', { name: 'ci-bot' });
    expect(noScopes.status).toBe(400);
    expect(noScopes.html).toContain('Nothing was saved: please fix this');
    expect(noScopes.html).toMatch(/<p class="field-error" id="f-scopes-error"><span class="sr-only">Error: <\/span>must name at least one scope \(incidents:write, maintenance:write, components:write, alerts:write, admin\)<\/p>/);
    expect(inputValue(noScopes.html, 'name')).toBe('ci-bot');

    const noName = await b.post('/console/tokens', { name: '  ', scopes: ['incidents:write', 'maintenance:write'] });
    expect(noName.status).toBe(400);
    expect(noName.html).toContain('id="f-name-error"');
    expect(noName.html).toContain('<input type="checkbox" name="scopes" value="incidents:write" checked=""/>');
    expect(noName.html).toContain('<input type="checkbox" name="scopes" value="maintenance:write" checked=""/>');
    expect(noName.html).toContain('<input type="checkbox" name="scopes" value="admin"/>');

    const unknown = await b.post('/console/tokens', { name: 'x', scopes: 'root' });
    expect(unknown.status).toBe(400);
    expect(unknown.html).toContain('must be one of incidents:write, maintenance:write, components:write, alerts:write, admin');
    expect(await tokenCount()).toBe(count);
  });

  it('when a token is created, its secret is shown once (200, no-store) and works against the API, with a one-time sign-in link', async () => {
    t.clock.set(at(10 * MIN));
    const b = await signedIn(root);
    await b.get('/console/tokens');
    const res = await b.post('/console/tokens', { name: 'ci-bot', scopes: ['incidents:write', 'incidents:write'] });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.html).toContain('<h1>Token created: ci-bot</h1>');
    const secret = new RegExp(`id="f-secret" class="secret" readonly="" value="(${SECRET.source})"`).exec(res.html)?.[1];
    expect(secret).toMatch(new RegExp(`^${SECRET.source}$`));
    const row = (await tokenRow('ci-bot'))!;
    expect(row).toMatchObject({ scopes: ['incidents:write'], created_by: `token:root#${(await tokenRow('root'))!.id}`, revoked_at: null });
    expect(row.created_at.toISOString()).toBe(at(10 * MIN));
    expect(row.secret_sha256).toBe(sha256(secret!.slice(17)));

    // the link: absolute, on PUBLIC_URL, valid 15 minutes, for this token
    const url = new RegExp(`value="(https://status\\.example\\.com/console/signin/[A-Za-z0-9_-]{43})"`).exec(res.html)?.[1];
    expect(url).toBeDefined();
    const link = await t.db.selectFrom('signin_links').selectAll().where('secret_sha256', '=', sha256(url!.split('/').at(-1)!)).executeTakeFirstOrThrow();
    expect(link).toMatchObject({ token_id: row.id, used_at: null });
    expect(link.expires_at.toISOString()).toBe(at(25 * MIN));

    // the secret works against the API
    const opened = await t.call('POST', '/api/v1/incidents', { token: secret!, body: { title: 'From the console token', message: 'Testing.' } });
    expect(opened.status).toBe(201);
    expect(opened.body.updates[0].author).toBe('ci-bot');

    // and is never shown again
    const list = await b.get('/console/tokens');
    expect(list.html).toContain('<td>ci-bot</td>');
    expect(list.html).not.toContain(secret!);
    expect(list.html).not.toContain(url!);

    // the link signs its holder in as ci-bot, once
    const holder = consoleClient(t, '198.51.100.9');
    const path = new URL(url!).pathname;
    expect((await holder.get(path)).html).toContain('Sign in as ci-bot?');
    expect((await holder.post(path, {})).status).toBe(303);
    expect((await holder.get('/console/tokens')).html).toContain('Sign out ci-bot');

    const audit = await t.db.selectFrom('audit_log').select(['action', 'target']).where('at', '=', new Date(at(10 * MIN))).where('target', '=', `token:${row.id}`).orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['token.create', 'console.link']);
  });

  it('when a token is revoked, the first POST asks, the second revokes it, and its sessions end', async () => {
    t.clock.set(at(20 * MIN));
    const victim = await t.token(['admin'], 'old-laptop');
    const id = (await tokenRow('old-laptop'))!.id;
    const theirs = await signedIn(victim, '198.51.100.10');
    expect((await theirs.get('/console/tokens')).status).toBe(200);

    const b = await signedIn(root);
    await b.get('/console/tokens');
    const ask = await b.post(`/console/tokens/${id}/revoke`, {});
    expect(ask.status).toBe(200);
    expect(ask.html).toContain('<h1>Revoke old-laptop?</h1>');
    expect(ask.html).toContain('Scripts and sessions using it stop working.');
    expect(ask.html).not.toContain('This is the token you are signed in with');
    expect(inputValue(ask.html, 'intent')).toBe('confirm');
    expect((await tokenRow('old-laptop'))!.revoked_at).toBeNull();
    expect((await theirs.get('/console/tokens')).status).toBe(200);

    t.clock.set(at(21 * MIN));
    const done = await b.post(`/console/tokens/${id}/revoke`, { intent: 'confirm' });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/console/tokens?done=revoked');
    expect((await tokenRow('old-laptop'))!.revoked_at?.toISOString()).toBe(at(21 * MIN));
    const page = await b.get(done.location!);
    expect(page.html).toContain('Token revoked; its sessions have ended.');
    expect(rowOf(page.html, id)).toContain('<td>revoked 2026-03-01 10:21 UTC</td>');
    expect(rowOf(page.html, id)).not.toContain('Revoke old-laptop');

    // its session and its API use stop
    const after = await theirs.get('/console/tokens');
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/console/signin?next=%2Fconsole%2Ftokens');
    expect((await t.call('GET', '/api/v1/tokens', { token: victim })).status).toBe(401);

    // confirming again (a double click) changes nothing and says it is revoked
    const twice = await b.post(`/console/tokens/${id}/revoke`, { intent: 'confirm' });
    expect(twice.status).toBe(303);
    expect((await tokenRow('old-laptop'))!.revoked_at?.toISOString()).toBe(at(21 * MIN));
    const audit = await t.db.selectFrom('audit_log').select('action').where('target', '=', `token:${id}`).where('action', '=', 'token.revoke').execute();
    expect(audit).toHaveLength(1);
  });

  it('when the token to revoke does not exist, it is a 404 page', async () => {
    const b = await signedIn(root);
    await b.get('/console/tokens');
    for (const id of ['99999', 'abc', '0']) {
      const res = await b.post(`/console/tokens/${id}/revoke`, {});
      expect(res.status, id).toBe(404);
      expect(res.html).toContain('<h1>Not found</h1>');
    }
  });

  it('when an admin revokes the token they are signed in with, they are warned, then signed out', async () => {
    t.clock.set(at(30 * MIN));
    const self = await t.token(['admin'], 'self-admin');
    const id = (await tokenRow('self-admin'))!.id;
    const b = await signedIn(self, '198.51.100.11');
    await b.get('/console/tokens');
    const ask = await b.post(`/console/tokens/${id}/revoke`, {});
    expect(ask.html).toContain('This is the token you are signed in with:');
    const done = await b.post(`/console/tokens/${id}/revoke`, { intent: 'confirm' });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/console/signin?done=signed-out');
    expect(b.jar.has('herald_session')).toBe(false);
    expect((await b.get('/console/tokens')).status).toBe(303);
  });
});

describe('API: sign-in links', () => {
  it('when a token is created through the API, the answer has a one-time signin_url made in the same write', async () => {
    t.clock.set(at(40 * MIN));
    const created = await t.call('POST', '/api/v1/tokens', { token: root, body: { name: 'api-bot', scopes: ['maintenance:write'] } });
    expect(created.status).toBe(201);
    expect(created.body.signin_url).toMatch(/^https:\/\/status\.example\.com\/console\/signin\/[A-Za-z0-9_-]{43}$/);
    const link = await t.db.selectFrom('signin_links').selectAll().where('secret_sha256', '=', sha256(created.body.signin_url.split('/').at(-1))).executeTakeFirstOrThrow();
    expect(link.token_id).toBe(created.body.id);
    expect(link.expires_at.toISOString()).toBe(at(55 * MIN));
  });

  it('when any valid token asks POST /api/v1/console/links, it gets a 201 link for itself that expires in 15 minutes', async () => {
    t.clock.set(at(50 * MIN));
    const res = await t.call('POST', '/api/v1/console/links', { token: alice });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(res.body).sort()).toEqual(['expires_at', 'url']);
    expect(res.body.expires_at).toBe(at(65 * MIN));
    expect(res.body.url).toMatch(/^https:\/\/status\.example\.com\/console\/signin\/[A-Za-z0-9_-]{43}$/);
    const b = consoleClient(t, '198.51.100.12');
    const path = new URL(res.body.url).pathname;
    expect((await b.get(path)).html).toContain('Sign in as alice?');
    expect((await b.post(path, {})).status).toBe(303);
    expect((await b.post(path, { _csrf: b.jar.get('herald_signin')! })).status).toBe(404);

    const none = await t.call('POST', '/api/v1/console/links');
    expect(none.status).toBe(401);
    expect(none.body.id).toBe('unauthorized');
    const bad = await t.call('POST', '/api/v1/console/links', { token: `hrd_${'0'.repeat(12)}_${'x'.repeat(43)}` });
    expect(bad.status).toBe(401);
  });
});
