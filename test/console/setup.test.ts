import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { offerSetup } from '../../src/services/setup.ts';
import { operator } from '../../src/services/deps.ts';
import { createToken, revokeToken } from '../../src/services/tokens.ts';
import { freshDatabase } from '../support/db.ts';
import { testApp } from '../support/app.ts';
import { consoleClient, inputValue, words } from '../support/console.ts';

/**
 * The first run's setup link (src/services/setup.ts): while Herald has no token, /console/setup/
 * <secret> makes the first admin token, shows it once and signs in; once any token exists it is
 * dead. Each test starts from a fresh database with no token.
 */

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
beforeEach(async () => {
  handle = await freshDatabase();
  t = await testApp(handle);
});
afterEach(async () => handle.close());

const tokenCount = async () => Number((await t.db.selectFrom('api_tokens').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

describe('console setup link', () => {
  it('when Herald has no token, the link asks first, then makes an admin token shown once and signs in with it', async () => {
    const path = await offerSetup(t.db, t.clock.now());
    expect(path).toMatch(/^\/console\/setup\/[A-Za-z0-9_-]{43}$/);
    expect(await offerSetup(t.db, t.clock.now())).toBe(path); // the same link on every start until used

    const b = consoleClient(t);
    const ask = await b.get(path!);
    expect(ask.status).toBe(200);
    expect(words(ask.html)).toContain('Herald has no API token yet.');
    expect(inputValue(ask.html, 'name')).toBe('admin');
    expect(await tokenCount()).toBe(0); // opening the link changes nothing
    const late = consoleClient(t, '203.0.113.8');
    expect((await late.get(path!)).status).toBe(200);

    const done = await b.post(path!, { name: 'alice' });
    expect(done.status).toBe(200);
    const secret = /id="f-secret"[^>]*value="([^"]+)"/.exec(done.html)?.[1];
    expect(secret).toMatch(/^hrd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(words(done.html)).toContain('You are signed in as alice.');
    expect(done.headers.getSetCookie().some((l) => /^(__Host-)?herald_session=/.test(l))).toBe(true);

    // the token is an admin token on the API, and the cookie is a console session
    const tokens = await t.call('GET', '/api/v1/tokens', { token: secret! });
    expect(tokens.status).toBe(200);
    expect(tokens.body).toEqual([expect.objectContaining({ name: 'alice', scopes: ['admin'], created_by: 'herald:setup' })]);
    const signedIn = await b.get('/console/tokens');
    expect(signedIn.status).toBe(200);
    expect(signedIn.html).toContain('Sign out alice');

    // used: the link is dead, and no further link is offered
    expect((await b.get(path!)).status).toBe(404);
    expect((await late.post(path!, { name: 'mallory' })).status).toBe(404); // had the form open too
    expect((await late.get(path!)).status).toBe(404);
    expect(await tokenCount()).toBe(1);
    expect(await offerSetup(t.db, t.clock.now())).toBeUndefined();
    expect(t.logs.filter((l) => l.includes('setup'))).toEqual([expect.stringMatching(/^level=info msg="setup: first token created" token_id=\d+$/)]);
  });

  it('when a token is made another way first (even one revoked since), the link stops working', async () => {
    const path = (await offerSetup(t.db, t.clock.now()))!;
    const b = consoleClient(t);
    await b.get(path);
    const made = await createToken(t.deps, { actor: operator('cli:ops') }, { name: 'ops', scopes: ['admin'] });
    await revokeToken(t.deps, { actor: operator('cli:ops') }, made.id);
    const get = await consoleClient(t, '203.0.113.9').get(path);
    expect(get.status).toBe(404);
    expect(words(get.html)).toContain('This setup link cannot be used');
    expect((await b.post(path, { name: 'alice' })).status).toBe(404);
    expect(await tokenCount()).toBe(1);
  });

  it('when the secret is wrong, or the form lacks its CSRF value, nothing is made', async () => {
    const path = (await offerSetup(t.db, t.clock.now()))!;
    const wrong = `/console/setup/${'A'.repeat(43)}`;
    const b = consoleClient(t);
    expect((await b.get(wrong)).status).toBe(404);
    expect((await b.get('/console/setup/short')).status).toBe(404);
    await b.get(path);
    expect((await b.post(wrong, { name: 'alice' })).status).toBe(404);
    const forged = await consoleClient(t, '203.0.113.10').post(path, { _csrf: 'forged', name: 'alice' });
    expect(forged.status).toBe(303);
    expect(forged.location).toBe(path);
    expect(await tokenCount()).toBe(0);
  });

  it('when the name is empty, the form comes back with the error and nothing is made', async () => {
    const path = (await offerSetup(t.db, t.clock.now()))!;
    const b = consoleClient(t);
    await b.get(path);
    const res = await b.post(path, { name: '   ' });
    expect(res.status).toBe(400);
    expect(words(res.html)).toContain('Nothing was saved');
    expect(await tokenCount()).toBe(0);
    expect((await b.get(path)).status).toBe(200); // still open
  });

  it('when two people use the link at once, exactly one first token is made', async () => {
    const path = (await offerSetup(t.db, t.clock.now()))!;
    const a = consoleClient(t, '203.0.113.11');
    const b = consoleClient(t, '203.0.113.12');
    await Promise.all([a.get(path), b.get(path)]);
    const results = await Promise.all([a.post(path, { name: 'alice' }), b.post(path, { name: 'bob' })]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 404]);
    expect(await tokenCount()).toBe(1);
  });
});
