import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Marked } from 'marked';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ASSETS } from '../../templates/assets.ts';
import { ARTIFACTS, launchChromium } from '../support/browser.ts';
import { checkCorpus, XSS_CORPUS } from '../support/xss-corpus.ts';
import { startHerald, watchPage, type Herald } from './fixtures.ts';

/** The tags the Markdown sanitizer lets through (src/render/markdown.ts); anything else in a message is a leak. */
const MESSAGE_TAGS = new Set(['P', 'BR', 'STRONG', 'B', 'EM', 'I', 'DEL', 'S', 'CODE', 'PRE', 'BLOCKQUOTE', 'UL', 'OL', 'LI', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'HR', 'A', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TH', 'TD']);

/**
 * Everything in the DOM that could run script or that Herald never writes itself: handlers,
 * javascript:/data:/vbscript: URLs, inline styles, embedded documents, foreign scripts, and tags
 * in a message outside the sanitizer's allow-list. Empty: the page is clean.
 */
function auditDom(page: Page, jsPath: string): Promise<string[]> {
  return page.evaluate(
    ({ jsPath, messageTags }) => {
      const problems: string[] = [];
      const describe = (el: Element) => `<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}> in ${el.closest('[id]')?.id ?? 'document'}`;
      const urlAttributes = new Set(['href', 'xlink:href', 'src', 'srcset', 'action', 'formaction', 'data', 'poster', 'background', 'values', 'to', 'from', 'by', 'ping', 'content']);
      for (const el of Array.from(document.querySelectorAll('*'))) {
        for (const attr of Array.from(el.attributes)) {
          const name = attr.name.toLowerCase();
          if (name.startsWith('on')) problems.push(`${describe(el)} has the handler ${name}="${attr.value}"`);
          if (name === 'style') problems.push(`${describe(el)} has an inline style "${attr.value}"`);
          if (name === 'srcdoc') problems.push(`${describe(el)} has srcdoc`);
          if (urlAttributes.has(name)) {
            // What the URL parser sees: C0 controls, spaces, tabs and newlines are dropped or ignored.
            const v = attr.value.replace(/[\u0000-\u0020\u007f-\u009f\u200b]/g, '').toLowerCase();
            if (/(^|[;,=])(javascript|data|vbscript|livescript):/.test(v)) problems.push(`${describe(el)} has ${name}="${attr.value}"`);
          }
        }
      }
      const forbidden = 'iframe, frame, frameset, object, embed, img, svg, math, form, input, button, textarea, select, style, base, video, audio, source, noscript, template, body meta, body link, marquee, applet';
      for (const el of Array.from(document.querySelectorAll(forbidden))) problems.push(`${describe(el)} should not exist`);
      for (const s of Array.from(document.scripts)) {
        if (s.src !== location.origin + jsPath) problems.push(`a script that is not Herald's: ${s.outerHTML.slice(0, 200)}`);
      }
      if (document.scripts.length !== 1) problems.push(`${document.scripts.length} script elements (expected Herald's one)`);
      for (const l of Array.from(document.querySelectorAll('link'))) {
        if (!['stylesheet', 'alternate'].includes(l.rel) || !l.href.startsWith(location.origin + '/')) problems.push(`unexpected ${l.outerHTML}`);
      }
      // Herald's own markup that a broken message may have swallowed is the structure audit's business.
      // The sanitizer drops class attributes and never lets <time>, <span> or <div> through, so these are Herald's.
      const chrome = 'footer.site, li[id^="update-"], article.incident, section.postmortem, time, span.state, span[data-relative], a.anchor, p.tags, div.message';
      for (const msg of Array.from(document.querySelectorAll('.message'))) {
        for (const el of Array.from(msg.querySelectorAll('*'))) {
          const own = el.closest(chrome);
          if (own && msg.contains(own)) continue;
          if (!messageTags.includes(el.tagName)) problems.push(`${describe(el)}: <${el.tagName.toLowerCase()}> is not an allowed message tag`);
          if (el.tagName === 'A' && el.hasAttribute('href')) {
            const rel = (el.getAttribute('rel') ?? '').split(/\s+/);
            if (!['nofollow', 'noopener', 'noreferrer'].every((r) => rel.includes(r))) problems.push(`${describe(el)}: link without rel="nofollow noopener noreferrer"`);
            const href = el.getAttribute('href') ?? '';
            if (href && !/^(https?:|mailto:|#|\/)/i.test(href)) problems.push(`${describe(el)}: href "${href}" is not http(s), mailto, same-page or same-site`);
          }
        }
      }
      return problems;
    },
    { jsPath, messageTags: [...MESSAGE_TAGS] },
  );
}

/**
 * A message stays in its box: it cannot close Herald's elements, leave its own open so that they
 * swallow the rest of the page, or add page headings. Empty: the page's structure is intact.
 */
function auditStructure(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    for (const msg of Array.from(document.querySelectorAll('.message'))) {
      const box = msg.parentElement;
      const ok = box?.matches('section.postmortem') || (box?.matches('li[id^="update-"]') && box.parentElement?.matches('ol.timeline'));
      if (!ok) problems.push(`a message escaped its box: it sits in ${box?.outerHTML.slice(0, 100)}…`);
      const swallowed = msg.querySelector('footer.site, li[id^="update-"], article.incident, section.postmortem, main, h2[id]');
      if (swallowed) problems.push(`the message of ${msg.closest('[id]')?.id} swallowed Herald's ${swallowed.tagName.toLowerCase()}.${swallowed.className}`);
    }
    for (const li of Array.from(document.querySelectorAll('li[id^="update-"]'))) {
      if (!li.parentElement?.matches('ol.timeline')) problems.push(`${li.id} is not an item of a timeline but of <${li.parentElement?.tagName.toLowerCase()}>`);
    }
    const footer = document.querySelector('footer.site');
    if (footer?.parentElement !== document.body) problems.push(`the site footer sits in <${footer?.parentElement?.tagName.toLowerCase()}>, not <body>`);
    if (document.querySelector('main')?.parentElement !== document.body) problems.push('<main> is not a child of <body>');
    // The parser re-opens unclosed formatting elements (a, b, i, em, strong…) after their container closes.
    for (const el of Array.from(document.querySelectorAll('a[rel~="nofollow"], main b, main i, main em, main strong, main s, main del, main code'))) {
      if (!el.closest('.message') && !el.matches('.env-head strong, main > p > strong, .notice strong, article.incident > p > strong')) {
        problems.push(`<${el.tagName.toLowerCase()}> from a message leaked outside it, around "${el.textContent?.slice(0, 60)}"`);
      }
    }
    const headings = Array.from(document.querySelectorAll('h1')).filter((h) => !h.closest('.message'));
    if (headings.length !== 1) problems.push(`${headings.length} page headings outside messages: ${headings.map((h) => h.textContent).join(' | ')}`);
    return problems;
  });
}

/** Loads a page with the CSP on, lets deferred handlers (toggle, error, focus) have their turn, and reports anything that ran. */
async function visit(context: BrowserContext, url: string): Promise<{ page: Page; problems: string[]; structure: string[] }> {
  const page = await context.newPage();
  const watch = await watchPage(page);
  const res = await page.goto(url);
  await page.waitForLoadState('load');
  await page.waitForTimeout(300);
  const problems = [...watch.problems()];
  if (res?.status() !== 200) problems.push(`status ${res?.status()}`);
  const mark = await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss);
  if (mark !== undefined) problems.push(`window.__xss = ${String(mark)}`);
  const csp = res?.headers()['content-security-policy'] ?? '';
  if (!csp.includes("script-src 'self'")) problems.push(`weak or missing CSP: ${csp}`);
  problems.push(...(await auditDom(page, ASSETS.js.path)));
  return { page, problems, structure: await auditStructure(page) };
}

/** Not script: markup that closes Herald's elements or leaves its own open. */
const BREAKOUTS = [
  '</div></li></ol><h1>All systems operational</h1><p>This text now sits outside the timeline.</p>',
  '<table>',
  '<h1>An unclosed heading',
  '<a href="/ok">an unclosed link',
  '**<em>unclosed emphasis**',
  '<blockquote><ol><li>unclosed lists',
];

/** Links that look same-site ("/…") but that a browser resolves to another host. */
const OFFSITE = ['<a href="/\\evil.example/phish">Contact support (raw HTML)</a>', '[Contact support (Markdown)](/\\evil.example/phish)', '<a href="/\t/evil.example/phish">Contact support (tab)</a>'];

const joined = XSS_CORPUS.map((p) => `### ${p.id}\n\n${p.payload}`).join('\n\n');

describe(`XSS corpus (${XSS_CORPUS.length} payloads) in titles, updates and a postmortem`, () => {
  let h: Herald;
  let browser: Browser;
  let context: BrowserContext;
  const byPayload = new Map<string, number>();
  let timelineId: number;
  let postmortemId: number;
  const breakoutIds: number[] = [];
  let offsiteId: number;
  let cleanId: number;

  beforeAll(async () => {
    h = await startHerald();
    for (const p of XSS_CORPUS) {
      const incident = await h.api('POST', '/api/v1/incidents', { title: p.payload, message: p.payload, statuses: { production: 'yellow' } });
      byPayload.set(p.id, incident.id);
    }
    const timeline = await h.api('POST', '/api/v1/incidents', { title: 'Every payload as its own update', message: 'The corpus follows, one update per payload.', statuses: { development: 'red' } });
    timelineId = timeline.id;
    for (const p of XSS_CORPUS) await h.api('POST', `/api/v1/incidents/${timelineId}/updates`, { message: p.payload });
    const pm = await h.api('POST', '/api/v1/incidents', { title: 'Every payload in one message and a postmortem', message: joined, statuses: { production: 'red' } });
    postmortemId = pm.id;
    await h.api('POST', `/api/v1/incidents/${postmortemId}/updates`, { state: 'resolved', message: joined });
    await h.api('PUT', `/api/v1/incidents/${postmortemId}/postmortem`, { markdown: `# Postmortem\n\n${joined}` });
    await h.api('POST', `/api/v1/incidents/${postmortemId}/postmortem/publish`, {});
    for (const [i, message] of BREAKOUTS.entries()) {
      // The breakout is the newest update, shown first: an older update follows it in the timeline.
      const breakout = await h.api('POST', '/api/v1/incidents', { title: `Markup that does not close ${i + 1}`, message: 'The older update.' });
      await h.api('POST', `/api/v1/incidents/${breakout.id}/updates`, { message });
      breakoutIds.push(breakout.id);
    }
    const rich = '**Bold**, *em*, `code`, ~~gone~~, a [link](/history) and https://example.com/x.\n\n> quoted\n\n1. one\n2. two\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n```\npre\n```';
    const clean = await h.api('POST', '/api/v1/incidents', { title: 'Ordinary Markdown', message: rich });
    await h.api('POST', `/api/v1/incidents/${clean.id}/updates`, { message: rich });
    cleanId = clean.id;
    offsiteId = (await h.api('POST', '/api/v1/incidents', { title: 'Links that look same-site', message: OFFSITE.join('\n\n') })).id;
    browser = await launchChromium();
    context = await browser.newContext();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await h?.close();
  });

  it('the corpus is well formed: 30+ payloads, unique ids, each naming itself', () => {
    expect(checkCorpus()).toEqual([]);
    expect(XSS_CORPUS.length).toBeGreaterThanOrEqual(30);
  });

  it('the corpus has teeth: every payload marked "load" runs in Chromium when it reaches a page unsanitized, with no CSP, as raw HTML or through marked', async () => {
    const marked = new Marked({ gfm: true, breaks: true, async: false });
    const ctx = await browser.newContext();
    async function fires(id: string, html: string): Promise<boolean> {
      const page = await ctx.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss().catch(() => {});
      });
      await page.setContent(`<!DOCTYPE html><html><head><title>control</title></head><body>${html}</body></html>`);
      await page.waitForTimeout(200);
      const mark = await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss);
      await page.close();
      return mark === id || dialogs.includes(id);
    }
    const silent: string[] = [];
    for (const p of XSS_CORPUS.filter((x) => x.fires === 'load')) {
      if (!(await fires(p.id, p.payload)) && !(await fires(p.id, marked.parse(p.payload) as string))) silent.push(p.id);
    }
    await ctx.close();
    expect(silent).toEqual([]);
  });

  it('control: the pages carry the CSP, and the watcher and the audit notice what slips through', async () => {
    const page = await context.newPage();
    const watch = await watchPage(page);
    await page.goto(h.url + '/');
    // What a leak would look like: an inline script and a handler added after the sanitizer.
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = "window.__xss = 'control'";
      document.body.append(s);
      document.querySelector('.message')!.insertAdjacentHTML('beforeend', '<a href="javascript:void 0" onclick="x()">x</a>');
    });
    await page.waitForTimeout(200);
    expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(watch.csp.length).toBeGreaterThan(0);
    expect(watch.csp.join('\n')).toContain('script-src');
    const audit = await auditDom(page, ASSETS.js.path);
    expect(audit.some((p) => p.includes('handler onclick'))).toBe(true);
    expect(audit.some((p) => p.includes('href="javascript:void 0"'))).toBe(true);
    expect(audit.some((p) => p.includes("a script that is not Herald's"))).toBe(true);
    await page.close();
  });

  it('the status page runs none of them and holds nothing executable', async () => {
    const { page, problems } = await visit(context, h.url + '/');
    // The payload incidents are open: their titles and timelines are on the page.
    const titles = await page.locator('article.incident h3 a').evaluateAll((as) => as.map((a) => a.textContent));
    for (const p of XSS_CORPUS) expect(titles).toContain(p.payload.trim());
    await page.screenshot({ path: `${ARTIFACTS}xss-status.png`, fullPage: true });
    await page.close();
    expect(problems).toEqual([]);
  });

  it('the history page runs none of them and holds nothing executable', async () => {
    const { page, problems } = await visit(context, h.url + '/history');
    const titles = await page.locator('main li > a[href^="/incidents/"]').evaluateAll((as) => as.map((a) => a.textContent));
    for (const p of XSS_CORPUS) expect(titles).toContain(p.payload.trim());
    await page.close();
    expect(problems).toEqual([]);
  });

  it('the timeline with every payload as an update runs none of them', async () => {
    const { page, problems } = await visit(context, `${h.url}/incidents/${timelineId}`);
    expect(await page.locator('li[id^="update-"]').count()).toBe(XSS_CORPUS.length + 1);
    await page.screenshot({ path: `${ARTIFACTS}xss-timeline.png`, fullPage: true });
    await page.close();
    expect(problems).toEqual([]);
  });

  it('the published postmortem holding every payload runs none of them', async () => {
    const { page, problems } = await visit(context, `${h.url}/incidents/${postmortemId}`);
    await expect(page.locator('section.postmortem > h2').innerText()).resolves.toBe('Postmortem');
    await page.close();
    expect(problems).toEqual([]);
  });

  for (const p of XSS_CORPUS) {
    it(`incident page titled and updated with ${p.id} (${p.note}): shown as text, nothing runs`, async () => {
      const { page, problems } = await visit(context, `${h.url}/incidents/${byPayload.get(p.id)}`);
      // The title is plain text: shown exactly as typed (trimmed), in the heading and the document title.
      expect(await page.locator('main > h1').evaluate((e) => e.textContent)).toBe(p.payload.trim());
      const controls = /[\u0000-\u001f]/g;
      expect((await page.title()).replace(controls, '')).toBe(`${p.payload.trim()} · Acme Cloud status`.replace(/\s+/g, ' ').replace(controls, ''));
      await page.close();
      expect(problems).toEqual([]);
    });
  }

  describe('a message stays in its box (Markdown that opens or closes tags cannot reshape the page)', () => {
    it('control: ordinary Markdown in two updates passes the structure audit', async () => {
      const page = await context.newPage();
      await page.goto(`${h.url}/incidents/${cleanId}`);
      expect(await page.locator('.message strong, .message em, .message code, .message a, .message table, .message blockquote').count()).toBeGreaterThanOrEqual(12);
      expect(await auditStructure(page)).toEqual([]);
      expect(await auditDom(page, ASSETS.js.path)).toEqual([]);
      await page.close();
    });

    it('no corpus payload reshapes a page it is on: every update stays in its timeline item, nothing after it is swallowed', async () => {
      const broken: string[] = [];
      // Each payload alone, on its own incident page.
      for (const p of XSS_CORPUS) {
        const page = await context.newPage();
        await page.goto(`${h.url}/incidents/${byPayload.get(p.id)}`);
        const structure = await auditStructure(page);
        if (structure.length) broken.push(`${p.id} on its own page: ${structure.join('; ')}`);
        await page.close();
      }
      // All of them together: the first problems say what happened, the count how far it spread.
      for (const [name, path] of [
        ['the status page', '/'],
        ['the timeline with every payload', `/incidents/${timelineId}`],
        ['the incident with every payload in one message and a postmortem', `/incidents/${postmortemId}`],
      ] as const) {
        const page = await context.newPage();
        await page.goto(h.url + path);
        const structure = await auditStructure(page);
        if (structure.length) broken.push(`${name}: ${structure.length} problems, first ${structure.slice(0, 2).join('; ')}`);
        if (path === `/incidents/${postmortemId}`) {
          // "### id" in a message renders two levels down (h5) so it never competes with the page's headings
          const headings = await page.locator('section.postmortem h5').allInnerTexts();
          const lost = XSS_CORPUS.map((p) => p.id).filter((id) => !headings.includes(id));
          if (lost.length) broken.push(`the postmortem lost the sections after a payload: ${lost.join(', ')}`);
        }
        await page.close();
      }
      expect(broken).toEqual([]);
    }, 120_000);

    it('stray closing tags and unclosed tags in an update leave the page as Herald built it', async () => {
      const broken: string[] = [];
      for (const [i, markup] of BREAKOUTS.entries()) {
        const { page, problems, structure } = await visit(context, `${h.url}/incidents/${breakoutIds[i]}`);
        await page.screenshot({ path: `${ARTIFACTS}xss-breakout-${i + 1}.png`, fullPage: true });
        const items = await page.locator('ol.timeline > li[id^="update-"]').count();
        await page.close();
        expect(problems).toEqual([]);
        if (items !== 2 || structure.length) broken.push(`${JSON.stringify(markup)}: ${items} timeline items; ${structure.join('; ')}`);
      }
      expect(broken).toEqual([]);
    });

    it('a link written as same-site ("/…") never leads to another host', async () => {
      const { page, problems } = await visit(context, `${h.url}/incidents/${offsiteId}`);
      const links = await page.locator('.message a').evaluateAll((as) =>
        as.map((a) => ({ text: a.textContent, href: a.getAttribute('href'), leadsTo: (a as HTMLAnchorElement).href ? new URL((a as HTMLAnchorElement).href).host : null })),
      );
      await page.close();
      expect(problems).toEqual([]);
      // raw HTML is shown as text, so only the Markdown link is a link at all
      expect(links).toHaveLength(1);
      const offsite = links.filter((l) => l.leadsTo !== null && l.leadsTo !== new URL(h.url).host).map((l) => `${l.text}: href ${JSON.stringify(l.href)} leads to ${l.leadsTo}`);
      expect(offsite).toEqual([]);
    });
  });

  describe('with JavaScript disabled', () => {
    let noJs: BrowserContext;
    beforeAll(async () => {
      noJs = await browser.newContext({ javaScriptEnabled: false });
    });
    afterAll(async () => {
      await noJs?.close();
    });

    it('the status page still shows the status, the incidents and their timelines', async () => {
      const page = await noJs.newPage();
      await page.goto(h.url + '/');
      await expect(page.locator('.summary').innerText()).resolves.toBe('Production: Degraded performance · Development: Outage');
      const main = await page.locator('main').innerText();
      expect(main).toContain('Every payload as its own update');
      expect(main).toContain('The corpus follows, one update per payload.');
      expect(main).toContain('hover me');
      expect(main).toContain('Production: Degraded performance');
      expect(await page.locator('li[id^="update-"]').count()).toBe(XSS_CORPUS.length * 2 + 1 + BREAKOUTS.length * 2 + 1 + 2);
      expect(await auditDom(page, ASSETS.js.path)).toEqual([]);
      await page.close();
    });

    it('an incident page still shows its state, timeline and postmortem', async () => {
      const page = await noJs.newPage();
      await page.goto(`${h.url}/incidents/${postmortemId}`);
      await expect(page.locator('main > h1').innerText()).resolves.toBe('Every payload in one message and a postmortem');
      const main = await page.locator('main').innerText();
      expect(main).toMatch(/^Resolved · began /m);
      expect(main).toContain('Production');
      expect(main).toContain('hover me');
      expect(await page.locator('li[id^="update-"]').count()).toBe(2);
      expect(await page.locator('section.postmortem > h2').innerText()).toBe('Postmortem');
      expect(await auditDom(page, ASSETS.js.path)).toEqual([]);
      await page.close();
    });

    it('the history page still lists every incident by month', async () => {
      const page = await noJs.newPage();
      await page.goto(h.url + '/history');
      const month = new Date().toLocaleString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });
      await expect(page.locator('main h2').first().innerText()).resolves.toBe(month);
      expect(await page.locator('main li > a[href^="/incidents/"]').count()).toBe(XSS_CORPUS.length + 4 + BREAKOUTS.length);
      expect(await auditDom(page, ASSETS.js.path)).toEqual([]);
      await page.close();
    });
  });
});
