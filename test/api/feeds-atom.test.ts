import { createRequire } from 'node:module';
import Parser from 'rss-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';

// Two independent readers of Atom: rss-parser (xml2js, strict XML) and feedparser (sax,
// namespace-aware). feedparser ships no types; it is a CommonJS Transform stream.
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
const ATOM_TYPE = 'application/atom+xml; charset=utf-8';

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let admin: string;

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

function feedparse(xml: string): Promise<{ meta: Record<string, any>; items: Record<string, any>[] }> {
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

async function atom(path = '/feed.atom') {
  const res = await t.app.request(path);
  const xml = await res.text();
  expect(res.status, path).toBe(200);
  expect(res.headers.get('content-type')).toBe(ATOM_TYPE);
  return { headers: res.headers, xml, rss: await new Parser().parseString(xml), fp: await feedparse(xml) };
}

interface Entry {
  readonly title: string;
  readonly incidentId: number;
  readonly updateId: number;
  readonly updated: string;
  readonly html: string;
}

/** Every entry as both parsers read it: id, title, alternate link, updated, content. */
function expectEntries(parsed: Awaited<ReturnType<typeof atom>>, expected: readonly Entry[]) {
  const url = (e: Entry) => `${BASE}/incidents/${e.incidentId}#update-${e.updateId}`;
  expect(parsed.rss.items.map((i) => ({ id: i.id, title: i.title, link: i.link, isoDate: i.isoDate, content: i.content }))).toEqual(
    expected.map((e) => ({ id: url(e), title: e.title, link: url(e), isoDate: e.updated, content: e.html })),
  );
  expect(parsed.fp.items.map((i) => ({ guid: i.guid, title: i.title, link: i.link, date: i.date.toISOString(), description: i.description, author: i.author }))).toEqual(
    expected.map((e) => ({ guid: url(e), title: e.title, link: url(e), date: e.updated, description: e.html, author: 'Herald' })),
  );
}

/** Feed-level fields as both parsers read them. */
function feedOf(parsed: Awaited<ReturnType<typeof atom>>) {
  const { rss, fp } = parsed;
  return {
    rss: { title: rss.title, link: rss.link, feedUrl: rss.feedUrl, updated: rss.lastBuildDate },
    fp: { title: fp.meta.title, link: fp.meta.link, xmlurl: fp.meta.xmlurl, description: fp.meta.description, date: fp.meta.date?.toISOString(), author: fp.meta.author, type: fp.meta['#type'] },
  };
}

const HOSTILE = `Zürich — 東京 ✓ <edge> & "quotes" 'single' ]]> done`;

/**
 * `a` (production): opened 10:00, identified 10:30, an update at 11:00 that is then hidden.
 * `b` (development, titled HOSTILE): opened 10:45 with Markdown and raw HTML, monitoring at 12:00.
 */
async function twoIncidents() {
  t.clock.set(at(2 * HOUR)); // 12:00
  const a = await open({ title: 'Database failover', message: 'Writes are failing on the **primary**.', statuses: { production: 'red' }, at: at(0) });
  const b = await open({ title: HOSTILE, message: 'See [runbook](https://example.com/rb?a=1&b=2) & <b onclick="x()">bold</b>', statuses: { development: 'yellow' }, at: at(45 * MIN) });
  const a2 = await post(a.id, { state: 'identified', message: 'Failover is under way.', at: at(30 * MIN) });
  const wrong = await post(a.id, { state: 'monitoring', message: 'Posted to the wrong incident.', at: at(HOUR) });
  expect((await t.call('POST', `/api/v1/incidents/${a.id}/updates/${wrong}/hide`, { token: admin, body: { reason: 'wrong incident' } })).status).toBe(200);
  const b2 = await post(b.id, { state: 'monitoring', message: 'A fix is *deployed*; watching.' });
  const entries: Entry[] = [
    { title: `${HOSTILE} — Monitoring`, incidentId: b.id, updateId: b2, updated: '2026-03-01T12:00:00.000Z', html: '<p>A fix is <em>deployed</em>; watching.</p>' },
    {
      title: `${HOSTILE} — Investigating`,
      incidentId: b.id,
      updateId: b.updateId,
      updated: '2026-03-01T10:45:00.000Z',
      html: '<p>See <a rel="nofollow noopener noreferrer" href="https://example.com/rb?a=1&amp;b=2">runbook</a> &amp; &lt;b onclick=&quot;x()&quot;&gt;bold&lt;/b&gt;</p>',
    },
    { title: 'Database failover — Identified', incidentId: a.id, updateId: a2, updated: '2026-03-01T10:30:00.000Z', html: '<p>Failover is under way.</p>' },
    { title: 'Database failover — Investigating', incidentId: a.id, updateId: a.updateId, updated: '2026-03-01T10:00:00.000Z', html: '<p>Writes are failing on the <strong>primary</strong>.</p>' },
  ];
  return { a, b, entries };
}

describe('GET /feed.atom', () => {
  it('when nothing has happened yet, the feed is an empty Atom 1.0 feed, every byte as expected', async () => {
    const f = await atom();
    expect(f.headers.get('cache-control')).toBe('public, max-age=5, stale-while-revalidate=30, stale-if-error=86400');
    expect(f.headers.get('access-control-allow-origin')).toBe('*');
    expect(f.xml).toBe(
      [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
        '  <id>https://status.example.com/feed.atom</id>',
        '  <title type="text">Herald status</title>',
        '  <subtitle type="text">Updates on Herald incidents and maintenance, newest first.</subtitle>',
        '  <updated>1970-01-01T00:00:00Z</updated>',
        '  <link rel="self" type="application/atom+xml" href="https://status.example.com/feed.atom"/>',
        '  <link rel="alternate" type="text/html" href="https://status.example.com/"/>',
        '  <author><name>Herald</name><uri>https://status.example.com/</uri></author>',
        '  <generator>Herald</generator>',
        '</feed>',
        '',
      ].join('\n'),
    );
    expect(f.rss.items).toEqual([]);
    expect(f.fp.items).toEqual([]);
  });

  it('when updates are backdated and one is hidden, both parsers read every visible update newest first, with the ids, titles, links and dates of the RSS feed', async () => {
    const { entries } = await twoIncidents();
    const f = await atom();
    expectEntries(f, entries);
    expect(feedOf(f)).toEqual({
      rss: { title: 'Herald status', link: `${BASE}/`, feedUrl: `${BASE}/feed.atom`, updated: '2026-03-01T12:00:00Z' },
      fp: {
        title: 'Herald status',
        link: `${BASE}/`,
        xmlurl: `${BASE}/feed.atom`,
        description: 'Updates on Herald incidents and maintenance, newest first.',
        date: '2026-03-01T12:00:00.000Z',
        author: 'Herald',
        type: 'atom',
      },
    });
    // The same items and the same stable ids as RSS: each entry's id is the RSS item's guid.
    const rss = await new Parser().parseString(await (await t.app.request('/feed.rss')).text());
    expect(f.rss.items.map((i) => i.id)).toEqual(rss.items.map((i) => i.guid));
    expect(f.rss.items.map((i) => i.title)).toEqual(rss.items.map((i) => i.title));
  });

  it('when a title holds markup, quotes, "]]>" and a control character, it is escaped text, and the content is escaped sanitized HTML', async () => {
    t.clock.set(at(0));
    const x = await open({ title: `${HOSTILE}\u0007!`, message: 'Hello **bold** & more\n\n<script>alert(1)</script>', statuses: { production: 'red' } });
    const f = await atom();
    expect(f.xml).toContain(
      [
        '  <entry>',
        `    <id>${BASE}/incidents/${x.id}#update-${x.updateId}</id>`,
        `    <title type="text">Zürich — 東京 ✓ &lt;edge&gt; &amp; &quot;quotes&quot; 'single' ]]&gt; done! — Investigating</title>`,
        '    <updated>2026-03-01T10:00:00Z</updated>',
        `    <link rel="alternate" type="text/html" href="${BASE}/incidents/${x.id}#update-${x.updateId}"/>`,
        '    <content type="html">&lt;p&gt;Hello &lt;strong&gt;bold&lt;/strong&gt; &amp;amp; more&lt;/p&gt;',
        '&lt;p&gt;&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;&lt;/p&gt;</content>',
        '  </entry>',
      ].join('\n'),
    );
    expectEntries(f, [
      { title: `${HOSTILE}! — Investigating`, incidentId: x.id, updateId: x.updateId, updated: '2026-03-01T10:00:00.000Z', html: '<p>Hello <strong>bold</strong> &amp; more</p>\n<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>' },
    ]);
  });

  it('when ?environment= names an environment, only incidents that named it are in the feed, which names itself by its own address', async () => {
    const { a, b, entries } = await twoIncidents();
    const dev = await atom('/feed.atom?environment=development');
    expectEntries(dev, entries.filter((e) => e.incidentId === b.id));
    expect(feedOf(dev)).toEqual({
      rss: { title: 'Herald status', link: `${BASE}/`, feedUrl: `${BASE}/feed.atom?environment=development`, updated: '2026-03-01T12:00:00Z' },
      fp: {
        title: 'Herald status',
        link: `${BASE}/`,
        xmlurl: `${BASE}/feed.atom?environment=development`,
        description: 'Updates on Herald incidents and maintenance affecting Development, newest first.',
        date: '2026-03-01T12:00:00.000Z',
        author: 'Herald',
        type: 'atom',
      },
    });
    expect(dev.xml).toContain(`  <id>${BASE}/feed.atom?environment=development</id>`);
    const prod = await atom('/feed.atom?environment=production');
    expectEntries(prod, entries.filter((e) => e.incidentId === a.id));
    expect(feedOf(prod).rss.updated).toBe('2026-03-01T10:30:00Z');
    expect((await atom('/feed.atom?environment=development&utm_source=mail')).xml).toBe(dev.xml);
  });

  it('when ?environment= is unknown, empty or repeated, the answer is the 400 /feed.rss gives', async () => {
    for (const query of ['environment=staging', 'environment=', 'environment=production&environment=development']) {
      const atomAnswer = await t.call('GET', `/feed.atom?${query}`, { headers: { accept: 'text/html' } });
      const rssAnswer = await t.call('GET', `/feed.rss?${query}`, { headers: { accept: 'text/html' } });
      expect(atomAnswer.status, query).toBe(400);
      expect(atomAnswer.body, query).toEqual(rssAnswer.body);
    }
    expect((await t.call('GET', '/feed.atom?environment=staging')).body).toEqual({
      id: 'invalid_params',
      code: 'request.invalid_query',
      message: 'The query is not valid.',
      errors: [{ path: 'environment', message: 'unknown environment "staging" (known: production, development)' }],
    });
  });

  it('when a public page is read, its head offers the Atom feed next to the RSS one', async () => {
    const x = await open({ title: 'Slow', message: 'Slow.', statuses: { production: 'yellow' } });
    for (const path of ['/', '/history', `/incidents/${x.id}`]) {
      const html = await (await t.app.request(path)).text();
      const head = html.slice(0, html.indexOf('</head>'));
      expect(head, path).toContain('<link rel="alternate" type="application/rss+xml" title="Herald status updates" href="/feed.rss"/>');
      expect(head, path).toContain('<link rel="alternate" type="application/atom+xml" title="Herald status updates (Atom)" href="/feed.atom"/>');
    }
  });
});
