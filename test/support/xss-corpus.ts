/**
 * Classic cross-site-scripting payloads, for places where commanders' text reaches a page:
 * incident titles (plain text), update messages and postmortems (Markdown, sanitized).
 *
 * Every payload that runs leaves a mark: it sets `window.__xss` to its own id or calls
 * `alert(<id>)`, so a test that finds either knows which payload got through.
 *
 * `fires`: how the payload would run if it reached the page with no sanitizer and no CSP, either as
 * raw HTML (a title) or rendered by marked (a message) — `load` without any help (the suite checks
 * that these really do fire in Chromium, so the corpus cannot silently rot into harmless strings),
 * `interaction` on a click, hover or focus,
 * `none` in a current browser (kept because filters must still not pass the markup through:
 * older engines or other contexts run them).
 */
export interface XssPayload {
  readonly id: string;
  readonly payload: string;
  readonly fires: 'load' | 'interaction' | 'none';
  readonly note: string;
}

const mark = (id: string) => `window.__xss='${id}'`;

export const XSS_CORPUS: readonly XssPayload[] = [
  // Script elements
  { id: 'script-tag', fires: 'load', note: 'plain script element', payload: `<script>${mark('script-tag')}</script>` },
  { id: 'script-upper', fires: 'load', note: 'upper-case tag name', payload: `<SCRIPT>${mark('script-upper')}</SCRIPT>` },
  { id: 'script-src-data', fires: 'load', note: 'script from a data: URL', payload: `<script src="data:text/javascript,${mark('script-src-data')}"></script>` },
  { id: 'script-split', fires: 'none', note: 'filter that strips <script> once leaves one behind', payload: `<scr<script>ipt>${mark('script-split')}</scr</script>ipt>` },
  { id: 'script-unclosed', fires: 'load', note: 'script with no closing tag, attribute-style opening', payload: `<script/xss>${mark('script-unclosed')}</script>` },

  // Event handlers
  { id: 'img-onerror', fires: 'load', note: 'broken image with onerror', payload: `<img src=x onerror="${mark('img-onerror')}">` },
  { id: 'img-onerror-bare', fires: 'load', note: 'unquoted handler calling alert', payload: `<img src=x onerror=alert('img-onerror-bare')>` },
  { id: 'img-onerror-entity', fires: 'load', note: 'handler body entity-encoded', payload: `<img src=x onerror="&#119;indow.__xss='img-onerror-entity'">` },
  { id: 'svg-onload', fires: 'load', note: 'inline svg onload', payload: `<svg onload="${mark('svg-onload')}"></svg>` },
  { id: 'svg-slash', fires: 'load', note: 'slash instead of space before the attribute', payload: `<svg/onload=${mark('svg-slash')}>` },
  { id: 'body-onload', fires: 'none', note: 'a second body tag merges its handler into the page body', payload: `<body onload="${mark('body-onload')}">` },
  { id: 'body-onpageshow', fires: 'none', note: 'body handler that fires on every show', payload: `<body onpageshow="${mark('body-onpageshow')}">` },
  { id: 'details-ontoggle', fires: 'load', note: 'open details fires toggle without interaction', payload: `<details open ontoggle="${mark('details-ontoggle')}"><summary>x</summary></details>` },
  { id: 'input-autofocus', fires: 'interaction', note: 'autofocus onfocus (fires when the page has focus)', payload: `<input autofocus onfocus="${mark('input-autofocus')}">` },
  { id: 'div-onmouseover', fires: 'interaction', note: 'handler on a block element', payload: `<div onmouseover="${mark('div-onmouseover')}">hover me</div>` },
  { id: 'a-onclick', fires: 'interaction', note: 'handlers on an allowed tag with an allowed href', payload: `<a href="/ok" onclick="${mark('a-onclick')}" onmouseover="${mark('a-onclick')}">click</a>` },

  // javascript:, data:, vbscript: URLs in raw HTML
  { id: 'a-javascript', fires: 'interaction', note: 'javascript: href', payload: `<a href="javascript:${mark('a-javascript')}">click</a>` },
  { id: 'a-javascript-entities', fires: 'interaction', note: 'javascript: spelled with decimal entities', payload: `<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;${mark('a-javascript-entities')}">click</a>` },
  { id: 'a-javascript-hex-tab', fires: 'interaction', note: 'tab entity inside the scheme (browsers strip it)', payload: `<a href="jav&#x09;ascript:${mark('a-javascript-hex-tab')}">click</a>` },
  { id: 'a-javascript-colon-entity', fires: 'interaction', note: 'named entity for the colon', payload: `<a href="javascript&colon;${mark('a-javascript-colon-entity')}">click</a>` },
  { id: 'a-javascript-leading-space', fires: 'interaction', note: 'leading control characters and spaces', payload: `<a href=" \x01javascript:${mark('a-javascript-leading-space')}">click</a>` },
  { id: 'a-data-html', fires: 'interaction', note: 'data: URL holding a page', payload: `<a href="data:text/html,<script>alert('a-data-html')</script>">click</a>` },
  { id: 'a-vbscript', fires: 'none', note: 'vbscript: URL (old IE)', payload: `<a href="vbscript:msgbox('a-vbscript')">click</a>` },
  { id: 'iframe-srcdoc', fires: 'load', note: 'iframe with an inline document', payload: `<iframe srcdoc="<script>parent.__xss='iframe-srcdoc'</script>"></iframe>` },
  { id: 'iframe-javascript', fires: 'load', note: 'iframe with a javascript: src', payload: `<iframe src="javascript:parent.__xss='iframe-javascript'"></iframe>` },
  { id: 'object-data', fires: 'none', note: 'object with a data: document', payload: `<object data="data:text/html,<script>parent.__xss='object-data'</script>"></object>` },
  { id: 'embed-src', fires: 'none', note: 'embed with a javascript: src', payload: `<embed src="javascript:${mark('embed-src')}">` },
  { id: 'form-action', fires: 'interaction', note: 'form posting to javascript:', payload: `<form action="javascript:${mark('form-action')}"><button>go</button></form>` },
  { id: 'button-formaction', fires: 'interaction', note: 'formaction on a button', payload: `<form><button formaction="javascript:${mark('button-formaction')}">go</button></form>` },
  { id: 'meta-refresh', fires: 'none', note: 'refresh to a javascript: URL (blocked by current Chromium)', payload: `<meta http-equiv="refresh" content="0;url=javascript:${mark('meta-refresh')}">` },
  { id: 'base-href', fires: 'none', note: 'base element rewriting every relative URL', payload: `<base href="javascript:${mark('base-href')}//">` },

  // Style and link
  { id: 'style-tag', fires: 'none', note: 'style element (page defacement, old-IE expression())', payload: `<style>body{background:url("javascript:${mark('style-tag')}")} *{x:expression(${mark('style-tag')})}</style>` },
  { id: 'style-attr', fires: 'none', note: 'style attribute on an allowed tag', payload: `<p style="background:url('javascript:${mark('style-attr')}')">styled</p>` },
  { id: 'link-stylesheet', fires: 'none', note: 'link element to a javascript: stylesheet', payload: `<link rel="stylesheet" href="javascript:${mark('link-stylesheet')}">` },

  // SVG
  { id: 'svg-script', fires: 'load', note: 'script inside svg', payload: `<svg><script>${mark('svg-script')}</script></svg>` },
  { id: 'svg-animate-href', fires: 'interaction', note: 'animate sets a javascript: href', payload: `<svg><a><animate attributeName="href" values="javascript:${mark('svg-animate-href')}"/><text x="20" y="20">click</text></a></svg>` },
  { id: 'svg-xlink', fires: 'interaction', note: 'xlink:href javascript: link in svg', payload: `<svg><a xlink:href="javascript:${mark('svg-xlink')}"><text x="20" y="20">click</text></a></svg>` },

  // Markdown
  { id: 'md-link-javascript', fires: 'interaction', note: 'Markdown link to javascript:', payload: `[click me](javascript:alert('md-link-javascript'))` },
  { id: 'md-link-javascript-case', fires: 'interaction', note: 'mixed-case scheme', payload: `[click me](JaVaScRiPt:alert('md-link-javascript-case'))` },
  { id: 'md-link-javascript-entity', fires: 'interaction', note: 'entity-encoded colon in the destination', payload: `[click me](javascript&#58;alert('md-link-javascript-entity'))` },
  { id: 'md-link-javascript-angle', fires: 'interaction', note: 'angle-bracket destination with spaces', payload: `[click me](<javascript: alert('md-link-javascript-angle')>)` },
  { id: 'md-link-data', fires: 'interaction', note: 'Markdown link to a data: page', payload: `[click me](data:text/html,%3Cscript%3Ealert('md-link-data')%3C/script%3E)` },
  { id: 'md-link-vbscript', fires: 'none', note: 'Markdown link to vbscript:', payload: `[click me](vbscript:msgbox('md-link-vbscript'))` },
  { id: 'md-autolink-javascript', fires: 'interaction', note: 'autolink with a javascript: scheme', payload: `<javascript:alert('md-autolink-javascript')>` },
  { id: 'md-reference-javascript', fires: 'interaction', note: 'reference-style link definition', payload: `[click me][evil]\n\n[evil]: javascript:alert('md-reference-javascript')` },
  { id: 'md-image-onerror', fires: 'none', note: 'image destination breaking out of src', payload: `![x](x" onerror="${mark('md-image-onerror')})` },
  { id: 'md-image-javascript', fires: 'none', note: 'image with a javascript: src', payload: `![x](javascript:alert('md-image-javascript'))` },
  { id: 'md-link-title-breakout', fires: 'interaction', note: 'link title breaking out of its attribute', payload: `[x](/ok "a\\" onmouseover=\\"${mark('md-link-title-breakout')}")` },
  { id: 'md-link-text-html', fires: 'load', note: 'raw HTML inside a link text', payload: `[<img src=x onerror="${mark('md-link-text-html')}">](/ok)` },
  { id: 'md-code-span', fires: 'none', note: 'script inside a code span (must show as code)', payload: `\`<script>${mark('md-code-span')}</script>\`` },
  { id: 'md-html-block', fires: 'load', note: 'HTML block that Markdown passes through', payload: `<div>\n<img src=x onerror="${mark('md-html-block')}">\n</div>` },

  // Comments and context breakouts
  { id: 'comment-breakout', fires: 'load', note: 'closing a comment early', payload: `<!-- --><img src=x onerror="${mark('comment-breakout')}"> -->` },
  { id: 'comment-empty', fires: 'load', note: '<!--> is a complete empty comment', payload: `<!--><img src=x onerror="${mark('comment-empty')}">-->` },
  { id: 'comment-bang', fires: 'load', note: 'bogus comment closed by >', payload: `<!a><img src=x onerror="${mark('comment-bang')}">` },
  { id: 'textarea-breakout', fires: 'load', note: 'leaving a textarea', payload: `</textarea><script>${mark('textarea-breakout')}</script>` },
  { id: 'title-breakout', fires: 'load', note: 'leaving the <title> element', payload: `</title><script>${mark('title-breakout')}</script>` },
  { id: 'attr-breakout-double', fires: 'load', note: 'leaving a double-quoted attribute', payload: `"><img src=x onerror="${mark('attr-breakout-double')}">` },
  { id: 'attr-breakout-single', fires: 'load', note: 'leaving a single-quoted attribute', payload: `'><svg onload="${mark('attr-breakout-single')}">` },
  { id: 'attr-breakout-unquoted', fires: 'interaction', note: 'adding an attribute to an unquoted value', payload: `x onmouseover=${mark('attr-breakout-unquoted')} x=` },
  { id: 'template-literal', fires: 'none', note: 'template-literal and string breakouts for a JavaScript context', payload: `\${${mark('template-literal')}}\`;${mark('template-literal')};//'-alert('template-literal')-'"` },
  { id: 'script-context-breakout', fires: 'load', note: 'leaving a <script> block that embeds data', payload: `</script><script>${mark('script-context-breakout')}</script>` },

  // mXSS: markup that parses differently once serialized again
  { id: 'mxss-noscript', fires: 'none', note: 'noscript parses differently with scripting off', payload: `<noscript><p title="</noscript><img src=x onerror=${mark('mxss-noscript')}>"></noscript>` },
  { id: 'mxss-math-style', fires: 'none', note: 'namespace confusion through math/mglyph/style', payload: `<math><mtext><table><mglyph><style><img src=x onerror="${mark('mxss-math-style')}">` },

  // Unicode and escapes
  { id: 'unicode-fullwidth', fires: 'none', note: 'full-width angle brackets (must stay text)', payload: `＜script＞${mark('unicode-fullwidth')}＜/script＞` },
  { id: 'unicode-js-escapes', fires: 'none', note: 'JavaScript escapes typed literally', payload: String.raw`\u003cscript\u003ewindow.__xss='unicode-js-escapes'\u003c/script\u003e` },
  { id: 'unicode-zero-width-scheme', fires: 'none', note: 'zero-width space inside the scheme', payload: `[click me](java\u200bscript:alert('unicode-zero-width-scheme'))` },
  { id: 'unicode-escaped-in-json', fires: 'load', note: 'sent as \\u003c escapes in the JSON body, so the server sees real angle brackets', payload: `\u003cimg src=x onerror="${mark('unicode-escaped-in-json')}"\u003e` },
  { id: 'url-encoded', fires: 'none', note: 'percent-encoded markup', payload: `%3Cscript%3E${mark('url-encoded')}%3C/script%3E` },
];

/** Every payload's id is unique, and a payload carries its own id (so a hit names its payload). */
export function checkCorpus(): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const p of XSS_CORPUS) {
    if (seen.has(p.id)) problems.push(`duplicate id ${p.id}`);
    seen.add(p.id);
    if (!p.payload.includes(p.id)) problems.push(`${p.id}: payload does not mention its id`);
  }
  return problems;
}
