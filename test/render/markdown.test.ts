import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../src/render/markdown.ts';

/**
 * Markdown from commanders (src/render/markdown.ts): marked, then the xss sanitizer. Links keep
 * http(s), mailto, same-page (#…) and same-site (/…) targets and lose any other href; every link
 * gets rel="nofollow noopener noreferrer" and no target; HTML typed into a message is shown as
 * text; headings move down two levels. The browser tests (test/browser/xss.test.ts) run a larger
 * corpus through a real page.
 */

const REL = 'rel="nofollow noopener noreferrer"';
/** The one link a source renders to, as `<a …>text</a>`. */
const link = (source: string) => {
  const html = renderMarkdown(source);
  const links = html.match(/<a [^>]*>.*?<\/a>/g) ?? [];
  expect(links, html).toHaveLength(1);
  return links[0]!;
};

describe('links that are kept', () => {
  it.each([
    ['an https URL, query and all', '[runbook](https://example.com/rb?a=1&b=2)', 'https://example.com/rb?a=1&amp;b=2'],
    ['an http URL', '[old site](http://example.com)', 'http://example.com'],
    ['a mailto: address', '[write to us](mailto:ops@example.com)', 'mailto:ops@example.com'],
    ['a same-page anchor', '[the update](#update-3)', '#update-3'],
    ['a same-site path', '[incident 3](/incidents/3)', '/incidents/3'],
    ['a URL by reference', '[docs][d]\n\n[d]: https://example.com/ref', 'https://example.com/ref'],
  ])('when a message links %s, the href is kept', (_what, source, href) => {
    expect(link(source)).toMatch(new RegExp(`^<a ${REL} href="${href.replace(/[.?*+[\]()]/g, '\\$&')}">`));
  });

  it('when a URL is written bare or in angle brackets, it becomes a link (www. gets http://)', () => {
    expect(renderMarkdown('<https://example.com/auto>')).toBe(`<p><a ${REL} href="https://example.com/auto">https://example.com/auto</a></p>\n`);
    expect(renderMarkdown('see https://example.com/bare and www.example.com')).toBe(
      `<p>see <a ${REL} href="https://example.com/bare">https://example.com/bare</a> and <a ${REL} href="http://www.example.com">www.example.com</a></p>\n`,
    );
  });

  it('when a link has a title, the title is kept, escaped so it cannot add an attribute', () => {
    expect(link('[a](https://example.com "Status")')).toBe(`<a ${REL} href="https://example.com" title="Status">a</a>`);
    expect(link('[a](https://example.com "x\\" onmouseover=\\"alert(1)")')).toBe(`<a ${REL} href="https://example.com" title="x&quot; onmouseover=&quot;alert(1)">a</a>`);
  });
});

describe('links that lose their href', () => {
  it.each([
    ['javascript:', '[a](javascript:alert(1))'],
    ['javascript: in mixed case', '[a](JaVaScRiPt:alert(1))'],
    ['javascript: after a space', '[a]( javascript:alert(1))'],
    ['javascript: in angle brackets', '[a](<javascript:alert(1)>)'],
    ['javascript: behind a character reference', '[a](&#106;avascript:alert(1))'],
    ['javascript: split by an encoded tab', '[a](java&#x09;script:alert(1))'],
    ['javascript: in a reference definition', '[a][x]\n\n[x]: javascript:alert(1)'],
    ['data:', '[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)'],
    ['data:image/', '[a](data:image/png;base64,iVBORw0KGgo=)'],
    ['vbscript:', '[a](vbscript:msgbox(1))'],
    ['another scheme (ftp:)', '[a](ftp://example.com/file)'],
    ['tel:', '[a](tel:+15555550100)'],
    ['a protocol-relative //host', '[a](//evil.example/x)'],
    ['a path relative to the page', '[a](docs/page)'],
    ['./ and ../ paths', '[a](./page) [b](../up)'],
    ['a bare query', '[a](?q=1)'],
  ])('when a message links %s, the link keeps its text but loses its href', (_what, source) => {
    const html = renderMarkdown(source);
    for (const a of html.match(/<a [^>]*>/g) ?? []) expect(a).toBe(`<a ${REL} href>`);
    expect(html).toMatch(/<a /);
    expect(html).not.toMatch(/javascript:|data:|vbscript:|evil\.example|href="/i);
  });

  it('when a path starts with a backslash after the slash, the backslash is percent-encoded: a same-site path, not another host', () => {
    expect(link('[a](/\\evil.example)')).toBe(`<a ${REL} href="/%5Cevil.example">a</a>`);
  });

  // Upper-case schemes are valid URLs; the xss package compares "http://", "https://" and
  // "mailto:" case-sensitively, so markdown.ts lowers the scheme before asking it.
  it('when a link\'s scheme is upper case (HTTPS:), the href is kept as for https:', () => {
    expect(link('[a](HTTPS://EXAMPLE.COM/status)')).toMatch(/href="https:\/\/EXAMPLE\.COM\/status"/i);
  });
  it('when a link\'s scheme is upper case (MAILTO:), the href is kept as for mailto:', () => {
    expect(link('[a](MAILTO:ops@example.com)')).toMatch(/href="mailto:ops@example\.com"/i);
  });
});

describe('rel and target', () => {
  it('when a message has several links, every one gets rel="nofollow noopener noreferrer" first and none gets a target', () => {
    const html = renderMarkdown('[a](https://a.example) then [b](/b) and <https://c.example>\n\n- [d](#d)');
    const tags = html.match(/<a [^>]*>/g) ?? [];
    expect(tags).toHaveLength(4);
    for (const a of tags) {
      expect(a.startsWith(`<a ${REL} href="`)).toBe(true);
      expect(a).not.toContain('target');
    }
  });

  it('when text or code shows "<a ", it is escaped text, and gets no rel', () => {
    expect(renderMarkdown('type `<a href="x">` or <a href="/x">here</a>')).toBe(
      '<p>type <code>&lt;a href=&quot;x&quot;&gt;</code> or &lt;a href=&quot;/x&quot;&gt;here&lt;/a&gt;</p>\n',
    );
  });
});

describe('HTML in the source is shown, not run', () => {
  it.each([
    ['a script', '<script>alert(1)</script>', '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n'],
    ['a style element', '<style>p{}</style>text', '<p>&lt;style&gt;p{}&lt;/style&gt;text</p>\n'],
    ['an image with an onerror handler', 'x <img src=x onerror=alert(1)> y', '<p>x &lt;img src=x onerror=alert(1)&gt; y</p>\n'],
    ['a link with target and onclick', '<a href="https://example.com" target="_blank" onclick="x()">raw</a>', '<p>&lt;a href=&quot;https://example.com&quot; target=&quot;_blank&quot; onclick=&quot;x()&quot;&gt;raw&lt;/a&gt;</p>\n'],
    ['an HTML comment', '<!-- hidden -->', '<p>&lt;!-- hidden --&gt;</p>\n'],
    ['an unclosed table', '<table><tr><td>x', '<p>&lt;table&gt;&lt;tr&gt;&lt;td&gt;x</p>\n'],
    ['stray closing tags', '</ol></div>', '<p>&lt;/ol&gt;&lt;/div&gt;</p>\n'],
    ['&, <, > and quotes', 'a & b < c > d "e"', '<p>a &amp; b &lt; c &gt; d &quot;e&quot;</p>\n'],
  ])('when a message holds %s, it is escaped text', (_what, source, html) => {
    expect(renderMarkdown(source)).toBe(html);
  });

  it('when Markdown makes an image, no <img> element is made (the tag is shown as text), so nothing loads', () => {
    for (const source of ['![graph](https://example.com/i.png)', '![x](javascript:alert(1))']) {
      const html = renderMarkdown(source);
      expect(html).not.toMatch(/<img/i);
      expect(html).toMatch(/^<p>&lt;img src=&quot;|^<p>&lt;img src="/);
    }
  });
});

describe('the Markdown a status update needs', () => {
  it('when a message uses emphasis, strike, code and a line break, they render; the break is a <br>', () => {
    expect(renderMarkdown('**b** *i* ~~s~~ `c<b>`\nnext line')).toBe('<p><strong>b</strong> <em>i</em> <del>s</del> <code>c&lt;b&gt;</code><br>next line</p>\n');
  });

  it('when a message has headings, they move down two levels (h1 → h3), never below h6', () => {
    expect(renderMarkdown('# One\n## Two\n#### Four\n###### Six')).toBe('<h3>One</h3>\n<h4>Two</h4>\n<h6>Four</h6>\n<h6>Six</h6>\n');
  });

  it('when a message has lists, a quote, a rule, a code block and a table, they keep their structure and allowed attributes (start, align)', () => {
    expect(renderMarkdown('3. three\n4. four')).toBe('<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>\n');
    expect(renderMarkdown('- a\n- b')).toBe('<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n');
    expect(renderMarkdown('> quote')).toBe('<blockquote>\n<p>quote</p>\n</blockquote>\n');
    expect(renderMarkdown('---')).toBe('<hr>\n');
    expect(renderMarkdown('```\n<a href="x">\n```')).toBe('<pre><code>&lt;a href=&quot;x&quot;&gt;\n</code></pre>\n');
    expect(renderMarkdown('| a | b |\n|:-|-:|\n| 1 | 2 |')).toBe(
      '<table>\n<thead>\n<tr>\n<th align="left">a</th>\n<th align="right">b</th>\n</tr>\n</thead>\n<tbody><tr>\n<td align="left">1</td>\n<td align="right">2</td>\n</tr>\n</tbody></table>\n',
    );
  });
});

describe('renders are remembered by source', () => {
  it('when a source is rendered again, even after more than the remembered budget went by, the HTML is the same', () => {
    const first = renderMarkdown('A **remembered** [link](https://example.com/a).');
    expect(renderMarkdown('A **remembered** [link](https://example.com/a).')).toBe(first);
    // 120 sources of 20,000 characters: more than the 2 M characters kept, so the first is let go
    for (let i = 0; i < 120; i++) expect(renderMarkdown(`${i} ${'word '.repeat(4_000)}`)).toMatch(new RegExp(`^<p>${i} word`));
    expect(renderMarkdown('A **remembered** [link](https://example.com/a).')).toBe(first);
    expect(first).toBe(`<p>A <strong>remembered</strong> <a ${REL} href="https://example.com/a">link</a>.</p>\n`);
  });
});
