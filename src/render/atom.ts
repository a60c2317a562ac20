/**
 * Atom 1.0 (RFC 4287) for the same updates as the RSS feed: a pure function from rows to XML,
 * written by hand because it is a few elements and every byte of it should be deterministic (the
 * body's hash is its ETag, shared by every instance).
 */

/** One entry: a visible update of an incident or maintenance. */
export interface AtomEntry {
  /** Permanent and unique: the same string RSS gives as the item's guid. */
  readonly id: string;
  /** Plain text. */
  readonly title: string;
  readonly updated: Date;
  /** The page the entry is about (the update's anchor on its incident page). */
  readonly link: string;
  /** Sanitized HTML; escaped here and sent as type="html". */
  readonly html: string;
}

export interface AtomFeed {
  readonly id: string;
  readonly title: string;
  readonly subtitle: string;
  /** Where this feed is fetched from. */
  readonly self: string;
  /** The HTML page the feed stands for. */
  readonly alternate: string;
  readonly author: { readonly name: string; readonly uri: string };
  /** Newest first. */
  readonly entries: readonly AtomEntry[];
}

/**
 * An empty feed still needs an `<updated>` (RFC 4287 §4.1.1); "now" would give every build a
 * different body, so it is the epoch, the one date that claims nothing.
 */
export const EMPTY_FEED_UPDATED = new Date(0);

/**
 * XML 1.0 cannot carry most C0 controls or lone surrogates, escaped or not, and the API accepts
 * them in titles and messages; one would make the whole feed unreadable, so they are dropped.
 */
const NOT_XML = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text content and attribute values: "&", "<", ">" and '"' as entities; nothing else needs it. */
export function xmlEscape(s: string): string {
  return s.replace(NOT_XML, '').replace(/[&<>"]/g, (ch) => (ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : '&quot;'));
}

/** RFC 3339 in UTC, to the second (what readers and validators expect to see). */
const stamp = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function atomXml(feed: AtomFeed): string {
  const updated = feed.entries[0]?.updated ?? EMPTY_FEED_UPDATED;
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
    `  <id>${xmlEscape(feed.id)}</id>`,
    `  <title type="text">${xmlEscape(feed.title)}</title>`,
    `  <subtitle type="text">${xmlEscape(feed.subtitle)}</subtitle>`,
    `  <updated>${stamp(updated)}</updated>`,
    `  <link rel="self" type="application/atom+xml" href="${xmlEscape(feed.self)}"/>`,
    `  <link rel="alternate" type="text/html" href="${xmlEscape(feed.alternate)}"/>`,
    `  <author><name>${xmlEscape(feed.author.name)}</name><uri>${xmlEscape(feed.author.uri)}</uri></author>`,
    '  <generator>Herald</generator>',
  ];
  for (const e of feed.entries) {
    lines.push(
      '  <entry>',
      `    <id>${xmlEscape(e.id)}</id>`,
      `    <title type="text">${xmlEscape(e.title)}</title>`,
      `    <updated>${stamp(e.updated)}</updated>`,
      `    <link rel="alternate" type="text/html" href="${xmlEscape(e.link)}"/>`,
      `    <content type="html">${xmlEscape(e.html)}</content>`,
      '  </entry>',
    );
  }
  lines.push('</feed>', '');
  return lines.join('\n');
}
