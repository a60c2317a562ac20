import { Hono } from 'hono';
import { liveComponents, type Catalog } from '../domain/components.ts';
import RSS from 'rss';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { latestUpdates, type FeedRow } from '../db/queries/incidents.ts';
import { atomXml } from '../render/atom.ts';
import { renderMarkdown } from '../render/markdown.ts';
import type { Deps } from '../services/deps.ts';
import { FEED_ITEMS } from '../services/public-data.ts';
import { stateWords } from '../../templates/format.ts';
import { sendCached, type Compressor, type PublicSnapshot } from './cached.ts';

const RSS_TYPE = 'application/rss+xml; charset=utf-8';
const ATOM_TYPE = 'application/atom+xml; charset=utf-8';
/** Minutes a reader may keep the feed before polling again. */
const TTL_MINUTES = 5;

/**
 * XML 1.0 cannot carry most C0 controls or lone surrogates, even inside CDATA, and the API
 * accepts them in titles and messages (only NUL is refused). One such character would make the
 * whole feed unreadable, so they are dropped here.
 */
const NOT_XML = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const xmlText = (s: string) => s.replace(NOT_XML, '');

/**
 * Titles are plain text (RSS Best Practices Profile): readers disagree on whether a title is HTML,
 * so it carries no markup and no CDATA, with "&", "<" and ">" as the hexadecimal references the
 * profile recommends. A reader that takes titles as text shows a typed `<b>` as typed; one that
 * strips HTML from titles (feedparser does, however the title is encoded) cannot be helped.
 */
const titleText = (s: string) => xmlText(s).replace(/[&<>]/g, (ch) => `&#x${ch.charCodeAt(0).toString(16).toUpperCase()};`);

/**
 * The rss package puts every title in CDATA, so each title is given to it as a placeholder and
 * its element replaced afterwards. A placeholder holds U+0001, which xmlText removes from every
 * text that goes into the feed, and the whole element is matched in document order, so nothing
 * else can match.
 */
class PlainTitles {
  readonly #titles: string[] = [];

  placeholder(title: string): string {
    this.#titles.push(title);
    return `\u0001${this.#titles.length - 1}\u0001`;
  }

  apply(xml: string): string {
    let out = '';
    let from = 0;
    this.#titles.forEach((title, i) => {
      const element = `<title><![CDATA[\u0001${i}\u0001]]></title>`;
      const at = xml.indexOf(element, from);
      if (at < 0) throw new Error(`rss did not write title ${i} as expected`);
      out += `${xml.slice(from, at)}<title>${titleText(title)}</title>`;
      from = at + element.length;
    });
    return out + xml.slice(from);
  }
}

/**
 * The rss package always stamps `lastBuildDate` with the time of the build. Herald rebuilds per
 * instance and per snapshot version, so "now" would give every instance and every rebuild a
 * different body and ETag for the same data. The channel's date is set to the newest item's
 * instead (and left out of an empty feed). The scan skips CDATA, where a description could
 * contain the same characters.
 */
function setLastBuildDate(xml: string, date: Date | undefined): string {
  const open = '<lastBuildDate>';
  const close = '</lastBuildDate>';
  let from = 0;
  for (;;) {
    const tag = xml.indexOf(open, from);
    const cdata = xml.indexOf('<![CDATA[', from);
    if (tag < 0) return xml;
    if (cdata >= 0 && cdata < tag) {
      const cdataEnd = xml.indexOf(']]>', cdata);
      if (cdataEnd < 0) return xml;
      from = cdataEnd + 3;
      continue;
    }
    const end = xml.indexOf(close, tag);
    if (end < 0) return xml;
    const element = date ? `${open}${date.toUTCString()}${close}` : '';
    return xml.slice(0, tag) + element + xml.slice(end + close.length);
  }
}

/** The feed as XML: a pure function of the rows (newest first) and the configuration. */
export function feedXml(config: Config, rows: readonly FeedRow[], environment?: { readonly slug: string; readonly name: string }): string {
  const base = config.publicUrl;
  const titles = new PlainTitles();
  const feed = new RSS({
    title: titles.placeholder(`${config.name} status`),
    description: xmlText(
      environment
        ? `Updates on ${config.name} incidents and maintenance affecting ${environment.name}, newest first.`
        : `Updates on ${config.name} incidents and maintenance, newest first.`,
    ),
    site_url: base,
    feed_url: environment ? `${base}/feed.rss?environment=${encodeURIComponent(environment.slug)}` : `${base}/feed.rss`,
    generator: 'Herald',
    language: 'en',
    ttl: TTL_MINUTES,
  });
  for (const row of rows) {
    const url = permalinkOf(base, row);
    feed.item({
      title: titles.placeholder(`${row.title} — ${stateWords(row.state)}`),
      // Sanitized by renderMarkdown; CDATA keeps it as HTML for the reader to display.
      description: xmlText(renderMarkdown(row.message).trim()),
      // With a url and no guid, rss makes the guid this url with isPermaLink="true": the update's
      // permanent anchor, the same on every build and every instance.
      url,
      date: new Date(row.at),
    });
  }
  const newest = rows[0] ? new Date(rows[0].at) : undefined;
  return setLastBuildDate(titles.apply(feed.xml()), newest);
}

/**
 * An update's permanent anchor on its incident page. RSS gives it as the guid (isPermaLink) and
 * Atom as the entry's id and alternate link, so a reader that follows both feeds, or moves from
 * one to the other, sees one entry per update.
 */
const permalinkOf = (base: string, row: FeedRow) => `${base}/incidents/${row.incident_id}#update-${row.id}`;

/** The same items as `feedXml`, as Atom 1.0: a pure function of the rows (newest first) and the configuration. */
export function atomFeedXml(config: Config, rows: readonly FeedRow[], environment?: { readonly slug: string; readonly name: string }): string {
  const base = config.publicUrl;
  const self = environment ? `${base}/feed.atom?environment=${encodeURIComponent(environment.slug)}` : `${base}/feed.atom`;
  return atomXml({
    // The feed's id is its own address: stable, and different for each environment's feed.
    id: self,
    title: `${config.name} status`,
    subtitle: environment
      ? `Updates on ${config.name} incidents and maintenance affecting ${environment.name}, newest first.`
      : `Updates on ${config.name} incidents and maintenance, newest first.`,
    self,
    alternate: `${base}/`,
    author: { name: config.name, uri: `${base}/` },
    entries: rows.map((row) => ({
      id: permalinkOf(base, row),
      title: `${row.title} — ${stateWords(row.state)}`,
      updated: new Date(row.at),
      link: permalinkOf(base, row),
      // Sanitized by renderMarkdown; atomXml escapes it and marks it type="html".
      html: renderMarkdown(row.message).trim(),
    })),
  });
}

/** GET /feed.rss and /feed.atom: one item per visible update, served from the snapshot. */
export function feedRoutes(deps: Deps, snapshot: PublicSnapshot, compress?: Compressor) {
  const { db, config } = deps;
  const app = new Hono();

  app.get('/feed.rss', async (c) => {
    const asked = c.req.queries('environment');
    // The environments are data: the snapshot's catalog says which there are (retired ones too).
    const environment = asked === undefined ? undefined : environmentOf((await snapshot.current()).data.catalog, asked);
    const key = `feed:${environment?.slug ?? ''}`;
    return sendCached(c, snapshot, key, async (state) => ({
      type: RSS_TYPE,
      // The whole feed is in the snapshot; one environment's is fetched once per version.
      body: feedXml(config, environment ? await snapshot.remember(key, state, () => latestUpdates(db, FEED_ITEMS, environment.slug)) : state.data.feed, environment),
    }), compress);
  });

  /** GET /feed.atom: the same items as /feed.rss, as Atom 1.0. */
  app.get('/feed.atom', async (c) => {
    const asked = c.req.queries('environment');
    const environment = asked === undefined ? undefined : environmentOf((await snapshot.current()).data.catalog, asked);
    // One environment's rows are remembered under the RSS feed's key: both feeds share one fetch and one list.
    const rowsKey = `feed:${environment?.slug ?? ''}`;
    return sendCached(c, snapshot, `atom:${environment?.slug ?? ''}`, async (state) => ({
      type: ATOM_TYPE,
      body: atomFeedXml(config, environment ? await snapshot.remember(rowsKey, state, () => latestUpdates(db, FEED_ITEMS, environment.slug)) : state.data.feed, environment),
    }), compress);
  });

  return app;
}

/** `?environment=slug` narrows the feed; anything but one known slug (live or retired) is a 400. */
function environmentOf(catalog: Catalog, values: readonly string[]) {
  const environments = [...liveComponents(catalog), ...catalog.components.filter((e) => e.retired_at !== null)];
  const known = environments.map((e) => e.slug);
  const distinct = [...new Set(values)];
  const problem = (message: string) => new AppError('request.invalid_query', 'The query is not valid.', [{ path: 'environment', message }]);
  if (distinct.length > 1) throw problem(`give one environment, not ${distinct.length} (known: ${known.join(', ')})`);
  const slug = distinct[0] ?? '';
  const found = environments.find((e) => e.slug === slug);
  if (!found) throw problem(`unknown environment "${slug}" (known: ${known.join(', ')})`);
  return found;
}
