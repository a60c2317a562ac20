import { Marked } from 'marked';
import xss from 'xss';

// xss is CommonJS: its named exports hang off the default export under Node's ESM loader.
const { FilterXSS, safeAttrValue } = xss as unknown as typeof import('xss');

/**
 * Markdown from commanders becomes HTML through marked, and every render passes the sanitizer:
 * only the tags and attributes a status update needs survive, links keep http(s), mailto,
 * same-page and same-site targets, and any other HTML in the source is escaped so the reader
 * still sees what was typed. The output is safe to insert raw.
 */
const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Raw HTML in the Markdown is shown as text, never parsed: a stray `</ol>` or an unclosed
 * `<table>` in one message cannot reshape the page around it. Headings move down two levels so a
 * message's "# Title" never competes with the page's own h1/h2.
 */
const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    html: (token) => ('block' in token && token.block ? `<p>${escapeHtml(token.text.trim())}</p>\n` : escapeHtml(token.text)),
    heading({ tokens, depth }) {
      const level = Math.min(depth + 2, 6);
      return `<h${level}>${this.parser.parseInline(tokens)}</h${level}>\n`;
    },
  },
});

const sanitizer = new FilterXSS({
  whiteList: {
    p: [], br: [], strong: [], b: [], em: [], i: [], del: [], s: [], code: [], pre: [], blockquote: [],
    ul: [], ol: ['start'], li: [], h1: [], h2: [], h3: [], h4: [], h5: [], h6: [], hr: [],
    a: ['href', 'title'],
    table: [], thead: [], tbody: [], tr: [], th: ['align'], td: ['align'],
  },
  stripIgnoreTag: false,
  stripIgnoreTagBody: ['script', 'style'],
  allowCommentTag: false,
  safeAttrValue(tag, name, value, cssFilter) {
    // http(s), mailto, same page, same site; "//host" and "/\\host" leave the site, so not those
    if (tag === 'a' && name === 'href' && (!/^(https?:|mailto:|#|\/(?![/\\]))/i.test(value.trim()) || value.includes('\\'))) return '';
    // xss knows schemes in lower case only: HTTPS://… is the same link as https://…
    const scheme = tag === 'a' && name === 'href' ? value.trim().replace(/^[a-z]+:/i, (s) => s.toLowerCase()) : value;
    return safeAttrValue(tag, name, scheme, cssFilter);
  },
});

function render(source: string): string {
  const clean = sanitizer.process(marked.parse(source) as string);
  // Every surviving tag was written by the sanitizer, so "<a " here is always a real link.
  return clean.replace(/<a /g, '<a rel="nofollow noopener noreferrer" ');
}

/**
 * Recently rendered sources and their HTML, most recent last, up to about `KEEP_CHARS` characters
 * in all. A page is made again whenever anything changes (each posted update), and almost every
 * message on it is one that was rendered for the version before.
 */
const rendered = new Map<string, string>();
const KEEP_CHARS = 2_000_000;
let keptChars = 0;

export function renderMarkdown(source: string): string {
  let html = rendered.get(source);
  if (html === undefined) {
    html = render(source);
    keptChars += source.length + html.length;
  } else {
    rendered.delete(source);
  }
  rendered.set(source, html);
  while (keptChars > KEEP_CHARS && rendered.size > 1) {
    const [oldest, its] = rendered.entries().next().value!;
    rendered.delete(oldest);
    keptChars -= oldest.length + its.length;
  }
  return html;
}
