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
const marked = new Marked({ gfm: true, breaks: true, async: false });

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
    if (tag === 'a' && name === 'href' && !/^(https?:|mailto:|#|\/(?!\/))/i.test(value.trim())) return '';
    return safeAttrValue(tag, name, value, cssFilter);
  },
});

export function renderMarkdown(source: string): string {
  const clean = sanitizer.process(marked.parse(source) as string);
  // Every surviving tag was written by the sanitizer, so "<a " here is always a real link.
  return clean.replace(/<a /g, '<a rel="nofollow noopener noreferrer" ');
}
