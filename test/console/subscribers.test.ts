import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { insertSubscriber } from '../../src/db/queries/subscribers.ts';
import { exportCsv, subscribe } from '../../src/services/subscribers.ts';
import { newHandle } from '../../src/subscribers/links.ts';
import { freshDatabase } from '../support/db.ts';
import { testApp } from '../support/app.ts';
import { consoleClient, inputValue, words } from '../support/console.ts';

/**
 * The console's subscribers page (/console/subscribers, admin only): how many subscribers and how
 * many confirmed, a row per subscriber, the CSV download (with the console's session, not an API
 * token), importing a list (confirmed, no mail) from pasted text or a file, and removing one after
 * a confirmation page. Every test starts on a fresh database whose components are production and
 * staging, with the commander "ops" (admin) signed in.
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

/** Each row of the subscribers table as its words, by row id. */
const rows = (html: string): Record<string, string> => {
  const start = html.indexOf('<table class="subscribers">');
  if (start === -1) return {};
  const body = html.slice(start, html.indexOf('</table>', start));
  return Object.fromEntries([...body.matchAll(/<tr id="([^"]+)"[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => [m[1], words(m[2]!).trim()]));
};
/** The text of a field's error, shown right beside it. */
const fieldError = (html: string, id: string) => {
  const m = new RegExp(`<p class="field-error" id="f-${id}-error"><span class="sr-only">Error: </span>([^<]*)</p>`).exec(html);
  return m ? words(m[1]!) : undefined;
};
const textareaValue = (html: string, name: string) => new RegExp(`<textarea[^>]*name="${name}"[^>]*>([^<]*)</textarea>`).exec(html)?.[1];
const counts = (html: string) => words(/<p id="subscriber-counts">([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '').trim();

const list = async () => (await t.call('GET', '/api/v1/subscribers', { token: admin })).body as { count: number; confirmed: number; subscribers: { id: number; email: string }[] };

/** Imports through the console's form, as a browser posts it (its key from the page). */
async function importCsv(csv: string) {
  const page = await b.get('/console/subscribers');
  return b.post('/console/subscribers/import', { _key: inputValue(page.html, '_key')!, csv });
}
/** Subscribers a test starts with, imported through the form. */
async function given(csv: string) {
  const res = await importCsv(csv);
  expect(res.status, res.html.slice(0, 2000)).toBe(303);
}

describe('console: subscribers', () => {
  it('after an import the page shows how many and how many confirmed, and a row per subscriber: email, state, components or "all", source, created, confirmed; linked from the navigation', async () => {
    await subscribe(t.deps, { email: 'pending@example.org', components: ['staging'] }, '198.51.100.1');
    t.clock.set('2026-03-01T11:30:00Z');

    const done = await importCsv('email,components\nops@example.com,production\nfan@example.net,\nPENDING@example.org,production\n');
    expect(done.status).toBe(303);
    expect(done.location).toBe('/console/subscribers?done=imported&imported=2&existing=1');

    const page = await b.get(done.location!);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.html).toContain('<a href="/console/subscribers" aria-current="page">Subscribers</a>');
    expect(words(page.html)).toContain('Imported 2, 1 already subscribed.');
    expect(counts(page.html)).toBe('3 subscribers, 2 confirmed.');
    const ids = (await list()).subscribers.map((s) => s.id);
    expect(rows(page.html)).toEqual({
      [`subscriber-${ids[0]}`]: `#${ids[0]} pending@example.org pending staging status page 2026-03-01 10:00 UTC — Remove…`,
      [`subscriber-${ids[1]}`]: `#${ids[1]} ops@example.com confirmed production import 2026-03-01 11:30 UTC 2026-03-01 11:30 UTC Remove…`,
      [`subscriber-${ids[2]}`]: `#${ids[2]} fan@example.net confirmed all import 2026-03-01 11:30 UTC 2026-03-01 11:30 UTC Remove…`,
    });
    expect(page.html).toContain('<a href="/console/subscribers/export.csv" download="subscribers.csv">Download CSV</a>');
  });

  it('a bounced subscriber shows "bounced", when, and the reason the mail server gave', async () => {
    await given('email\nlost@example.org\n');
    const [s] = (await list()).subscribers;
    await t.db.updateTable('subscribers').set({ bounced_at: new Date('2026-03-02T08:15:00Z'), bounce_reason: '550 5.1.1 mailbox unavailable' }).where('id', '=', s!.id).execute();
    const page = await b.get('/console/subscribers');
    expect(rows(page.html)[`subscriber-${s!.id}`]).toBe(`#${s!.id} lost@example.org bounced 2026-03-02 08:15 UTC 550 5.1.1 mailbox unavailable all import 2026-03-01 10:00 UTC 2026-03-01 10:00 UTC Remove…`);
    expect(counts(page.html)).toBe('1 subscriber, 0 confirmed.');
  });

  it('with no subscribers the page says so and the counts are zero', async () => {
    const page = await b.get('/console/subscribers');
    expect(counts(page.html)).toBe('0 subscribers, 0 confirmed.');
    expect(words(page.html)).toContain('No subscribers yet.');
    expect(rows(page.html)).toEqual({});
  });

  it('"Download CSV" serves the same CSV as the API\'s export, as an attachment, to the console session; without a session it leads to sign-in, and an API token does not open it', async () => {
    await given('email,components\nops@example.com,production staging\n-cmd@example.com,\nfan@example.net,staging\n');
    const res = await b.get('/console/subscribers/export.csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="subscribers.csv"');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.html).toBe(await exportCsv(t.deps));
    const api = await t.app.request('/api/v1/subscribers/export.csv', { headers: { authorization: `Bearer ${admin}` } });
    expect(res.html).toBe(await api.text());
    expect(res.html.split('\r\n')).toEqual([
      'email,state,components,created_at,confirmed_at',
      'ops@example.com,confirmed,,2026-03-01T10:00:00.000Z,2026-03-01T10:00:00.000Z', // both components: every one
      '"\'-cmd@example.com",confirmed,,2026-03-01T10:00:00.000Z,2026-03-01T10:00:00.000Z',
      'fan@example.net,confirmed,staging,2026-03-01T10:00:00.000Z,2026-03-01T10:00:00.000Z',
      '',
    ]);

    const anonymous = await t.app.request('/console/subscribers/export.csv');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/console/signin?next=%2Fconsole%2Fsubscribers%2Fexport.csv');
    const withToken = await t.app.request('/console/subscribers/export.csv', { headers: { authorization: `Bearer ${admin}` } });
    expect(withToken.status).toBe(303);
    expect(await withToken.text()).not.toContain('ops@example.com');
  });

  it('a bad import lists every problem beside the field and in the summary, keeps the text, and saves nothing', async () => {
    const csv = 'email,components\nnot-an-address,\nok@example.org,production\nother@example.org,mars\n,staging\n';
    const res = await importCsv(csv);
    expect(res.status).toBe(400);
    const problems = [
      'Row 1, email: is not an email address (such as ops@example.com)',
      'Row 3, components: unknown component "mars" (known: production, staging)',
      'Row 4, email: is not an email address (such as ops@example.com)',
    ];
    expect(fieldError(res.html, 'csv')).toBe(problems.join('; '));
    for (const p of problems) expect(res.html).toContain(`<a href="#f-csv">CSV: ${p.replace(/"/g, '&quot;')}</a>`);
    expect(words(res.html)).toContain('Nothing was saved: please fix this');
    expect(textareaValue(res.html, 'csv')).toBe(csv);
    expect(await list()).toMatchObject({ count: 0, confirmed: 0 });
  });

  it('an import without an "email" column, or with nothing at all, is refused with a sentence saying what the CSV needs', async () => {
    const noHeader = await importCsv('ops@example.com\nfan@example.net\n');
    expect(noHeader.status).toBe(400);
    expect(fieldError(noHeader.html, 'csv')).toBe('the CSV needs a header row naming an "email" column (and optionally "components"): email,components');
    const empty = await importCsv('  \n');
    expect(empty.status).toBe(400);
    expect(fieldError(empty.html, 'csv')).toBe('Paste CSV with a header row (email,components), or choose a file.');
    expect((await list()).count).toBe(0);
  });

  it('a file chosen in the form is imported (multipart, as a browser sends it without JavaScript)', async () => {
    const page = await b.get('/console/subscribers');
    const form = new FormData();
    form.set('_csrf', inputValue(page.html, '_csrf')!);
    form.set('_key', inputValue(page.html, '_key')!);
    form.set('csv', '');
    form.set('file', new File(['email,components\r\nfile@example.org,staging\r\n'], 'list.csv', { type: 'text/csv' }));
    const res = await t.app.request('/console/subscribers/import', {
      method: 'POST',
      headers: { accept: 'text/html', cookie: [...b.jar].map(([k, v]) => `${k}=${v}`).join('; '), 'cf-connecting-ip': '203.0.113.7' },
      body: form,
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/subscribers?done=imported&imported=1&existing=0');
    expect((await list()).subscribers).toMatchObject([{ email: 'file@example.org', components: ['staging'], state: 'confirmed', source: 'import' }]);
  });

  it('an import posted twice with the same form (a double click) is written once and answered the same', async () => {
    const page = await b.get('/console/subscribers');
    const fields = { _key: inputValue(page.html, '_key')!, csv: 'email\nops@example.com\n' };
    const first = await b.post('/console/subscribers/import', fields);
    const second = await b.post('/console/subscribers/import', fields);
    expect(first.location).toBe('/console/subscribers?done=imported&imported=1&existing=0');
    expect(second.location).toBe(first.location);
    expect((await list()).count).toBe(1);
  });

  it('an import without this session\'s CSRF token is refused with 403 and saves nothing', async () => {
    await b.get('/console/subscribers');
    const res = await b.post('/console/subscribers/import', { _csrf: 'not-the-token', csv: 'email\nops@example.com\n' });
    expect(res.status).toBe(403);
    expect(words(res.html)).toContain("This form did not carry this session's security token");
    expect((await list()).count).toBe(0);
  });

  it('remove asks first; confirmed, the subscriber is gone from the page and the API, and confirming twice is no error', async () => {
    await given('email\nops@example.com\nfan@example.net\n');
    const [ops, fan] = (await list()).subscribers;
    await b.get('/console/subscribers');
    const ask = await b.post(`/console/subscribers/${ops!.id}/remove`);
    expect(ask.status).toBe(200);
    expect(words(ask.html)).toContain(`Remove subscriber #${ops!.id}?`);
    expect(words(ask.html)).toContain('ops@example.com (confirmed, all) will be sent nothing more');
    expect((await list()).count).toBe(2);

    const done = await b.post(`/console/subscribers/${ops!.id}/remove`, { intent: 'confirm' });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/console/subscribers?done=subscriber-removed');
    expect((await list()).subscribers.map((s) => s.email)).toEqual(['fan@example.net']);
    const page = await b.get(done.location!);
    expect(words(page.html)).toContain('Subscriber removed.');
    expect(Object.keys(rows(page.html))).toEqual([`subscriber-${fan!.id}`]);
    expect(counts(page.html)).toBe('1 subscriber, 1 confirmed.');
    expect((await b.post(`/console/subscribers/${ops!.id}/remove`, { intent: 'confirm' })).location).toBe('/console/subscribers?done=subscriber-removed');
    expect((await b.post(`/console/subscribers/${ops!.id}/remove`)).status).toBe(404);
  });

  it('a session without the admin scope is refused the page, the CSV, the import and remove, and sees no Subscribers link', async () => {
    await given('email\nops@example.com\n');
    const [ops] = (await list()).subscribers;
    const r = consoleClient(t, '203.0.113.9');
    await r.signIn(await t.token(['incidents:write', 'maintenance:write', 'components:write'], 'alice'));
    expect(r.lastHtml).toContain('href="/console/incidents"');
    expect(r.lastHtml).not.toContain('href="/console/subscribers"');
    expect((await r.get('/console/subscribers')).status).toBe(403);
    const csv = await r.get('/console/subscribers/export.csv');
    expect(csv.status).toBe(403);
    expect(csv.html).not.toContain('ops@example.com');
    await r.get('/console/incidents');
    expect((await r.post('/console/subscribers/import', { csv: 'email\nsneaky@example.com\n' })).status).toBe(403);
    expect((await r.post(`/console/subscribers/${ops!.id}/remove`)).status).toBe(403);
    expect((await r.post(`/console/subscribers/${ops!.id}/remove`, { intent: 'confirm' })).status).toBe(403);
    expect((await list()).subscribers.map((s) => s.email)).toEqual(['ops@example.com']);
  });

  it('markup in an address or a bounce reason is shown as text, never as HTML', async () => {
    // The import refuses such an address; one written by another way (an older version, by hand) must still be harmless.
    const row = await insertSubscriber(t.db, {
      handle: newHandle(),
      email: '<script>alert(1)</script>@example.com',
      email_key: '<script>alert(1)</script>@example.com',
      components: null,
      source: 'import',
      created_at: t.clock.now(),
      confirmed_at: t.clock.now(),
    });
    await given("email\no'brien@example.org\n");
    const bounced = (await list()).subscribers.find((s) => s.email === "o'brien@example.org")!;
    await t.db.updateTable('subscribers').set({ bounced_at: t.clock.now(), bounce_reason: '550 <img src=x onerror=alert(2)> rejected' }).where('id', '=', bounced.id).execute();

    const page = await b.get('/console/subscribers');
    expect(page.html).not.toContain('<script>alert(1)');
    expect(page.html).not.toContain('<img src=x');
    expect(page.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;@example.com');
    expect(page.html).toContain('550 &lt;img src=x onerror=alert(2)&gt; rejected');
    expect(page.html).toContain('aria-label="Remove o&#39;brien@example.org"');
    const ask = await b.post(`/console/subscribers/${row.id}/remove`);
    expect(ask.html).not.toContain('<script>alert(1)');
    expect(ask.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;@example.com');
  });
});
