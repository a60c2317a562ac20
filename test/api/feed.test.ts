import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import Parser from 'rss-parser';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/app.ts';
import { localChanges } from '../../src/cache/changes.ts';
import { fixedClock } from '../../src/clock.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { insertIncident, insertUpdate } from '../../src/db/queries/incidents.ts';
import { nodeCompress } from '../../src/entry/node.ts';
import { databaseReadiness } from '../../src/routes/health.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';

// feedparser ships no types; it is a CommonJS Transform stream.
const FeedParser = createRequire(import.meta.url)('feedparser') as new () => FeedParserStream;
interface FeedParserStream {
  meta: Record<string, any>;
  on(event: 'readable' | 'end', listener: () => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  read(): Record<string, any> | null;
  end(chunk: string): void;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const BASE = 'https://status.example.com';

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let admin: string;

// Every test starts from an empty database and builds the feed it reads.
beforeEach(async () => {
  handle = await freshDatabase();
  t = await testApp(handle);
  admin = await t.token(['admin']);
});
afterEach(async () => handle.close());

async function open(body: Record<string, unknown>): Promise<{ id: number; updateId: number }> {
  const r = await t.call('POST', '/api/v1/incidents', { token: admin, body });
  expect(r.status).toBe(201);
  return { id: r.body.id, updateId: r.body.updates[0].id };
}

async function post(incidentId: number, body: Record<string, unknown>): Promise<number> {
  const r = await t.call('POST', `/api/v1/incidents/${incidentId}/updates`, { token: admin, body });
  expect(r.status).toBe(201);
  return r.body.update.id;
}

/** Another instance on the same database (its own snapshot, clock and compressor), as behind a load balancer. */
function instance(clockAt: string) {
  const deps = { db: handle.db, clock: fixedClock(clockAt), config: t.config, changes: localChanges() };
  return createApp({ ...deps, log: () => {}, compress: nodeCompress, readiness: databaseReadiness(deps, async () => []) });
}

/** Channel elements rss-parser reads but does not type. */
interface ChannelExtras {
  readonly language?: string;
  readonly ttl?: string;
  readonly lastBuildDate?: string;
  readonly generator?: string;
}

interface Parsed {
  readonly status: number;
  readonly headers: Headers;
  readonly xml: string;
  /** rss-parser's view (xml2js, strict XML). */
  readonly rss: Parser.Output<Record<string, unknown>> & ChannelExtras;
  /** feedparser's view (sax, namespace-aware). */
  readonly fp: { meta: Record<string, any>; items: Record<string, any>[] };
}

function feedparse(xml: string): Promise<Parsed['fp']> {
  return new Promise((resolve, reject) => {
    const parser = new FeedParser();
    const items: Record<string, any>[] = [];
    parser.on('error', reject);
    parser.on('readable', () => {
      for (let item = parser.read(); item; item = parser.read()) items.push(item);
    });
    parser.on('end', () => resolve({ meta: parser.meta, items }));
    parser.end(xml);
  });
}

async function feed(path = '/feed.rss', app: { request: typeof t.app.request } = t.app): Promise<Parsed> {
  const res = await app.request(path);
  const xml = await res.text();
  expect(res.status).toBe(200);
  return { status: res.status, headers: res.headers, xml, rss: await new Parser<ChannelExtras>().parseString(xml), fp: await feedparse(xml) };
}

interface Expected {
  readonly title: string;
  readonly incidentId: number;
  readonly updateId: number;
  readonly at: string;
  readonly rfc822: string;
  readonly html: string;
}

/** Every field of every item, as both parsers read it, in order. */
function expectItems(parsed: Parsed, expected: readonly Expected[]) {
  const url = (e: Expected) => `${BASE}/incidents/${e.incidentId}#update-${e.updateId}`;
  expect(parsed.rss.items.map((i) => ({ title: i.title, link: i.link, guid: i.guid, pubDate: i.pubDate, isoDate: i.isoDate, content: i.content }))).toEqual(
    expected.map((e) => ({ title: e.title, link: url(e), guid: url(e), pubDate: e.rfc822, isoDate: e.at, content: e.html })),
  );
  expect(
    parsed.fp.items.map((i) => ({
      title: i.title,
      link: i.link,
      guid: i.guid,
      permalink: i.permalink,
      isPermaLink: i['rss:guid']['@'].ispermalink,
      pubdate: i.pubdate.toISOString(),
      description: i.description,
    })),
  ).toEqual(
    expected.map((e) => ({ title: e.title, link: url(e), guid: url(e), permalink: url(e), isPermaLink: 'true', pubdate: e.at, description: e.html })),
  );
}

/** What both parsers read from the channel. */
function channelOf(parsed: Parsed) {
  const { rss, fp } = parsed;
  return {
    rss: { title: rss.title, link: rss.link, description: rss.description, feedUrl: rss.feedUrl, language: rss.language, ttl: rss.ttl, lastBuildDate: rss.lastBuildDate, generator: rss.generator },
    fp: { title: fp.meta.title, link: fp.meta.link, description: fp.meta.description, xmlurl: fp.meta.xmlurl, language: fp.meta.language, ttl: fp.meta['rss:ttl']?.['#'], date: fp.meta.date?.toISOString(), version: fp.meta['#version'] },
  };
}

const item = (title: string, incidentId: number, updateId: number, iso: string, rfc822: string, html: string): Expected => ({ title, incidentId, updateId, at: iso, rfc822, html });

const WEIRD = `Zürich — 東京 ✓ <edge> & "quotes" 'single' ]]> done`;

/**
 * Incident `a` (production) and incident `b` (development, titled WEIRD), their updates posted at
 * 12:00 but backdated out of insertion order, and one update of `a` (`wrong`) hidden. Returns them
 * with the feed items they make, newest first; the clock is left at 12:00.
 */
async function twoIncidents() {
  t.clock.set(at(2 * HOUR)); // 12:00
  const a = await open({ title: 'Database failover', message: 'Writes are failing on the **primary**.\n\n<script>alert(1)</script>', statuses: { production: 'red' }, at: at(0) });
  const b = await open({ title: WEIRD, message: 'See [runbook](https://example.com/rb?a=1&b=2) & <b onclick="x()">bold</b>', statuses: { development: 'yellow' }, at: at(45 * MIN) });
  const a2 = await post(a.id, { state: 'identified', message: 'Failover to the replica is under way.', at: at(30 * MIN) });
  const b2 = await post(b.id, { state: 'monitoring', message: 'A fix is *deployed*; watching.' });
  const a3 = await post(a.id, { state: 'monitoring', message: 'Replica promoted.\nLatency is back to normal.', at: at(HOUR) });
  const wrong = await post(a.id, { state: 'identified', message: 'Posted to the wrong incident.', at: at(70 * MIN) });
  const hidden = await t.call('POST', `/api/v1/incidents/${a.id}/updates/${wrong}/hide`, { token: admin, body: { reason: 'wrong incident' } });
  expect(hidden.status).toBe(200);
  const expected = [
    item(`${WEIRD} — Monitoring`, b.id, b2, '2026-03-01T12:00:00.000Z', 'Sun, 01 Mar 2026 12:00:00 GMT', '<p>A fix is <em>deployed</em>; watching.</p>'),
    item('Database failover — Monitoring', a.id, a3, '2026-03-01T11:00:00.000Z', 'Sun, 01 Mar 2026 11:00:00 GMT', '<p>Replica promoted.<br>Latency is back to normal.</p>'),
    item(`${WEIRD} — Investigating`, b.id, b.updateId, '2026-03-01T10:45:00.000Z', 'Sun, 01 Mar 2026 10:45:00 GMT', '<p>See <a rel="nofollow noopener noreferrer" href="https://example.com/rb?a=1&amp;b=2">runbook</a> &amp; &lt;b onclick=&quot;x()&quot;&gt;bold&lt;/b&gt;</p>'),
    item('Database failover — Identified', a.id, a2, '2026-03-01T10:30:00.000Z', 'Sun, 01 Mar 2026 10:30:00 GMT', '<p>Failover to the replica is under way.</p>'),
    item('Database failover — Investigating', a.id, a.updateId, '2026-03-01T10:00:00.000Z', 'Sun, 01 Mar 2026 10:00:00 GMT', '<p>Writes are failing on the <strong>primary</strong>.</p>\n<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>'),
  ];
  return { a, b, wrong, expected };
}

describe('GET /feed.rss', () => {
  it('when nothing has happened yet, the feed is an empty RSS 2.0 channel that describes itself', async () => {
    const f = await feed();
    expect(f.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    expect(f.headers.get('cache-control')).toBe('public, max-age=5, stale-while-revalidate=30, stale-if-error=86400');
    expect(f.xml.startsWith('<?xml version="1.0" encoding="UTF-8"?><rss ')).toBe(true);
    expect(channelOf(f)).toEqual({
      rss: {
        title: 'Herald status',
        link: 'https://status.example.com',
        description: 'Updates on Herald incidents and maintenance, newest first.',
        feedUrl: 'https://status.example.com/feed.rss',
        language: 'en',
        ttl: '5',
        lastBuildDate: undefined,
        generator: 'Herald',
      },
      fp: {
        title: 'Herald status',
        link: 'https://status.example.com/',
        description: 'Updates on Herald incidents and maintenance, newest first.',
        xmlurl: 'https://status.example.com/feed.rss',
        language: 'en',
        ttl: '5',
        date: undefined,
        version: '2.0',
      },
    });
    expect(f.rss.items).toEqual([]);
    expect(f.fp.items).toEqual([]);
  });

  it('when updates are backdated out of insertion order and one is hidden, the feed lists every visible update newest first by its time, every field exact', async () => {
    const { wrong, expected } = await twoIncidents();
    const f = await feed();
    expectItems(f, expected);
    expect(f.xml).not.toContain('wrong incident');
    expect(f.xml).not.toContain(`#update-${wrong}<`);
    expect(f.xml).not.toContain('<script');
    // The channel's date is the newest update's, not the time of the build.
    expect(channelOf(f).rss.lastBuildDate).toBe('Sun, 01 Mar 2026 12:00:00 GMT');
    expect(channelOf(f).fp.date).toBe('2026-03-01T12:00:00.000Z');
  });

  it('when an update is posted, it is the first item on the very next request', async () => {
    const { b, expected: before } = await twoIncidents();
    await feed(); // the current feed is rendered and cached
    t.clock.set(at(2 * HOUR + 10 * MIN));
    const b3 = await post(b.id, { state: 'resolved', message: 'All clear.' });
    const expected = [item(`${WEIRD} — Resolved`, b.id, b3, '2026-03-01T12:10:00.000Z', 'Sun, 01 Mar 2026 12:10:00 GMT', '<p>All clear.</p>'), ...before];
    const f = await feed();
    expectItems(f, expected);
    expect(channelOf(f).rss.lastBuildDate).toBe('Sun, 01 Mar 2026 12:10:00 GMT');
  });

  it('when a reader sends the ETag it has, it gets 304 until an update changes the feed', async () => {
    const { a, expected: before } = await twoIncidents();
    const first = await t.app.request('/feed.rss');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    t.clock.set(at(2 * HOUR + 11 * MIN)); // time alone changes nothing
    const again = await t.app.request('/feed.rss', { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    expect((await t.app.request('/feed.rss', { headers: { 'If-None-Match': `W/${etag}` } })).status).toBe(304);
    expect((await t.app.request('/feed.rss', { headers: { 'If-None-Match': '"something-else"' } })).status).toBe(200);
    const head = await t.app.request('/feed.rss', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe(etag);
    expect(await head.text()).toBe('');

    t.clock.set(at(2 * HOUR + 15 * MIN));
    const a4 = await post(a.id, { state: 'resolved', message: 'Writes are back.', at: at(2 * HOUR + 12 * MIN) });
    const expected = [item('Database failover — Resolved', a.id, a4, '2026-03-01T12:12:00.000Z', 'Sun, 01 Mar 2026 12:12:00 GMT', '<p>Writes are back.</p>'), ...before];
    const changed = await t.app.request('/feed.rss', { headers: { 'If-None-Match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expectItems(await feed(), expected);
  });

  it('when a reader accepts gzip, another instance sends the same feed gzipped, under the gzip ETag of that feed', async () => {
    await twoIncidents();
    const identity = await t.app.request('/feed.rss');
    const xml = await identity.text();
    expect(identity.headers.get('content-encoding')).toBeNull();
    // Another instance, built later with its own clock: the same data gives the same bytes.
    // The wall clock moves too, since a library stamping "now" would give the other instance other bytes.
    const other = instance(at(30 * HOUR));
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3 * 86_400_000 });
    let zipped: Response;
    try {
      zipped = await other.request('/feed.rss', { headers: { 'Accept-Encoding': 'gzip' } });
    } finally {
      vi.useRealTimers();
    }
    expect(zipped.status).toBe(200);
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.headers.get('vary')).toBe('Accept-Encoding');
    expect(zipped.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    const bytes = new Uint8Array(await zipped.arrayBuffer());
    expect(Number(zipped.headers.get('content-length'))).toBe(bytes.byteLength);
    expect(bytes.byteLength).toBeLessThan(Buffer.byteLength(xml));
    expect(gunzipSync(bytes).toString('utf8')).toBe(xml);
    // Other bytes, another strong ETag: the identity one with the coding appended.
    const gzipTag = `${identity.headers.get('etag')!.slice(0, -1)}-gzip"`;
    expect(zipped.headers.get('etag')).toBe(gzipTag);
    expect((await other.request('/feed.rss', { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': gzipTag } })).status).toBe(304);
    expect((await other.request('/feed.rss', { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': identity.headers.get('etag')! } })).status).toBe(200);
    expect((await other.request('/feed.rss', { headers: { 'If-None-Match': gzipTag } })).status).toBe(200);
  });

  it('when a title is edited and an unrelated update is posted, every earlier item keeps its guid and link', async () => {
    const { a, expected: items } = await twoIncidents();
    const before = await feed();
    const guids = before.rss.items.map((i) => i.guid);
    expect(new Set(guids).size).toBe(guids.length);
    t.clock.set(at(3 * HOUR));
    const edited = await t.call('PATCH', `/api/v1/incidents/${a.id}`, { token: admin, body: { title: 'Primary database failover' } });
    expect(edited.status).toBe(200);
    const c = await open({ title: 'CDN blip', message: 'Some assets were slow.' });
    const expected = [
      item('CDN blip — Investigating', c.id, c.updateId, '2026-03-01T13:00:00.000Z', 'Sun, 01 Mar 2026 13:00:00 GMT', '<p>Some assets were slow.</p>'),
      ...items.map((e) => (e.incidentId === a.id ? { ...e, title: e.title.replace('Database failover', 'Primary database failover') } : e)),
    ];
    const after = await feed();
    expectItems(after, expected);
    expect(after.rss.items.slice(1).map((i) => i.guid)).toEqual(guids);
    expect(after.fp.items.slice(1).map((i) => i.guid)).toEqual(guids);
  });

  it('when ?environment= names an environment, only incidents that named it are in the feed, and other parameters are ignored', async () => {
    const { a, b, expected: before } = await twoIncidents();
    t.clock.set(at(2 * HOUR + 10 * MIN)); // 12:10: development's newest update
    const b3 = await post(b.id, { state: 'resolved', message: 'All clear.' });
    t.clock.set(at(4 * HOUR)); // 14:00
    // Named development only in an update that was then hidden: not a development incident.
    const e = await open({ title: 'Slow deploys', message: 'Deploys are slow.', statuses: { production: 'yellow' } });
    const mistaken = await post(e.id, { message: 'Development too.', statuses: { development: 'red' } });
    expect((await t.call('POST', `/api/v1/incidents/${e.id}/updates/${mistaken}/hide`, { token: admin, body: { reason: 'it was not' } })).status).toBe(200);
    const expected = [
      item('Slow deploys — Investigating', e.id, e.updateId, '2026-03-01T14:00:00.000Z', 'Sun, 01 Mar 2026 14:00:00 GMT', '<p>Deploys are slow.</p>'),
      item(`${WEIRD} — Resolved`, b.id, b3, '2026-03-01T12:10:00.000Z', 'Sun, 01 Mar 2026 12:10:00 GMT', '<p>All clear.</p>'),
      ...before,
    ];

    const dev = await feed('/feed.rss?environment=development');
    expectItems(dev, expected.filter((x) => x.incidentId === b.id));
    expect(channelOf(dev)).toEqual({
      rss: {
        title: 'Herald status',
        link: 'https://status.example.com',
        description: 'Updates on Herald incidents and maintenance affecting Development, newest first.',
        feedUrl: 'https://status.example.com/feed.rss?environment=development',
        language: 'en',
        ttl: '5',
        lastBuildDate: 'Sun, 01 Mar 2026 12:10:00 GMT',
        generator: 'Herald',
      },
      fp: {
        title: 'Herald status',
        link: 'https://status.example.com/',
        description: 'Updates on Herald incidents and maintenance affecting Development, newest first.',
        xmlurl: 'https://status.example.com/feed.rss?environment=development',
        language: 'en',
        ttl: '5',
        date: '2026-03-01T12:10:00.000Z',
        version: '2.0',
      },
    });

    const prod = await feed('/feed.rss?environment=production');
    expectItems(prod, expected.filter((x) => x.incidentId === a.id || x.incidentId === e.id));
    expect(channelOf(prod).rss.feedUrl).toBe('https://status.example.com/feed.rss?environment=production');

    const all = await feed();
    expectItems(all, expected);
    expect(channelOf(all).rss.feedUrl).toBe('https://status.example.com/feed.rss');

    expect((await feed('/feed.rss?environment=development&utm_source=mail')).xml).toBe(dev.xml);
    expect((await feed('/feed.rss?utm_source=mail&page=2')).xml).toBe(all.xml);
  });

  it('when ?environment= names no configured environment, the answer is a 400 naming the known ones', async () => {
    const staging = await t.call('GET', '/feed.rss?environment=staging');
    expect(staging.status).toBe(400);
    expect(staging.headers.get('content-type')).toMatch(/^application\/json/);
    expect(staging.body).toEqual({
      id: 'invalid_params',
      code: 'request.invalid_query',
      message: 'The query is not valid.',
      errors: [{ path: 'environment', message: 'unknown environment "staging" (known: production, development)' }],
    });
    const empty = await t.call('GET', '/feed.rss?environment=');
    expect(empty.status).toBe(400);
    expect(empty.body.errors).toEqual([{ path: 'environment', message: 'unknown environment "" (known: production, development)' }]);
    const two = await t.call('GET', '/feed.rss?environment=production&environment=development');
    expect(two.status).toBe(400);
    expect(two.body.errors).toEqual([{ path: 'environment', message: 'give one environment, not 2 (known: production, development)' }]);
    const html = await t.call('GET', '/feed.rss?environment=Production', { headers: { accept: 'text/html' } });
    expect(html.status).toBe(400);
    expect(html.body.errors[0].message).toBe('unknown environment "Production" (known: production, development)');
  });

  it('when a maintenance update is in the feed, its state reads in words', async () => {
    const { expected: before } = await twoIncidents();
    t.clock.set(at(5 * HOUR)); // 15:00
    const now = new Date(at(5 * HOUR));
    const m = await insertIncident(handle.db, {
      kind: 'maintenance', title: 'Database upgrade', state: 'in_progress', started_at: now, resolved_at: null, updated_at: now, created_at: now, created_by: 'test',
      scheduled_for: now, scheduled_until: null, required_by: null, postmortem: null, postmortem_updated_at: null, postmortem_published_at: null,
    });
    const u = await insertUpdate(handle.db, { incident_id: m.id, at: now, created_at: now, state: 'in_progress', message: 'Upgrading to Postgres 16.', statuses: { production: 'blue' }, modes: {}, author: 'test' });
    const expected = [item('Database upgrade — In progress', m.id, u.id, '2026-03-01T15:00:00.000Z', 'Sun, 01 Mar 2026 15:00:00 GMT', '<p>Upgrading to Postgres 16.</p>'), ...before];
    // Written below the services, so no change notification: a fresh instance reads it.
    expectItems(await feed('/feed.rss', instance(at(5 * HOUR))), expected);
  });

  it('when a title or message holds a control character XML cannot carry, the feed stays well-formed without it', async () => {
    const { expected: before } = await twoIncidents();
    t.clock.set(at(6 * HOUR)); // 16:00
    const bell = await open({ title: 'Bell\u0007 ringing', message: 'Beep\u0001 beep \u{1F514}' });
    expectItems(await feed(), [item('Bell ringing — Investigating', bell.id, bell.updateId, '2026-03-01T16:00:00.000Z', 'Sun, 01 Mar 2026 16:00:00 GMT', '<p>Beep beep \u{1F514}</p>'), ...before]);
  });

  it('when a title holds markup, the item title is plain text (no CDATA; "&", "<", ">" as references) that a text reader reads as typed', async () => {
    t.clock.set(at(6 * HOUR + MIN)); // 16:01
    const typed = `<script>alert(1)</script> & <b>bold</b> <edge> "q"`;
    const m = await open({ title: typed, message: 'Looking.' });
    const f = await feed();
    expect(f.xml).toContain(
      '<item><title>&#x3C;script&#x3E;alert(1)&#x3C;/script&#x3E; &#x26; &#x3C;b&#x3E;bold&#x3C;/b&#x3E; &#x3C;edge&#x3E; "q" — Investigating</title>',
    );
    expect(f.xml).not.toContain('<title><![CDATA[');
    expect(f.xml).not.toContain('<script');
    expect(f.xml).toContain('<channel><title>Herald status</title>');
    // rss-parser reads an RSS title as text: exactly what was typed.
    expect(f.rss.items[0]).toMatchObject({ title: `${typed} — Investigating`, guid: `${BASE}/incidents/${m.id}#update-${m.updateId}` });
    // feedparser reads the element's text exactly as typed too. Its normalized `title` treats every
    // RSS title as HTML and strips what looks like an HTML element, however the title is encoded
    // (CDATA, entities or references alike), so no feed can get a typed <b> through it; only
    // look-alikes that are not HTML elements (<edge>) survive there.
    expect(f.fp.items[0]!['rss:title']['#']).toBe(`${typed} — Investigating`);
    expect(f.fp.items[0]!.title).toBe('alert(1) & bold <edge> "q" — Investigating');
    expect(f.fp.items[0]!.guid).toBe(`${BASE}/incidents/${m.id}#update-${m.updateId}`);
  });

  it('when 55 updates have been posted, the feed holds the newest 50', async () => {
    t.clock.set(at(7 * HOUR)); // 17:00
    const flood = await open({ title: 'Flapping checks', message: 'Check 1.', at: at(7 * HOUR - 55 * MIN) });
    const ids = [flood.updateId];
    for (let n = 2; n <= 55; n++) ids.push(await post(flood.id, { message: `Check ${n}.`, at: at(7 * HOUR - (56 - n) * MIN) }));
    const f = await feed();
    expect(f.rss.items).toHaveLength(50);
    expect(f.fp.items).toHaveLength(50);
    // Checks 55 (16:59) down to 6 (16:10); the five oldest checks and everything before them are cut.
    const newest50 = ids.slice(5).reverse();
    expect(f.rss.items.map((i) => i.guid)).toEqual(newest50.map((id) => `${BASE}/incidents/${flood.id}#update-${id}`));
    expectItems({ ...f, rss: { ...f.rss, items: [f.rss.items[0]!, f.rss.items[49]!] }, fp: { ...f.fp, items: [f.fp.items[0]!, f.fp.items[49]!] } }, [
      item('Flapping checks — Investigating', flood.id, ids[54]!, '2026-03-01T16:59:00.000Z', 'Sun, 01 Mar 2026 16:59:00 GMT', '<p>Check 55.</p>'),
      item('Flapping checks — Investigating', flood.id, ids[5]!, '2026-03-01T16:10:00.000Z', 'Sun, 01 Mar 2026 16:10:00 GMT', '<p>Check 6.</p>'),
    ]);
    expect(channelOf(f).rss.lastBuildDate).toBe('Sun, 01 Mar 2026 16:59:00 GMT');
  });
});
