import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { relative } from '../../templates/format.ts';
import { ARTIFACTS, launchChromium } from '../support/browser.ts';
import { NOW, seedDemo, sidewaysOverflow, startHerald, watchPage, type Demo, type Herald } from './fixtures.ts';

/**
 * The public pages as a visitor reads them, on a server whose clock stands at NOW
 * (2026-11-21 12:00 UTC) with the demo timeline of fixtures.ts.
 */
describe('the incident and history pages in Chromium', () => {
  let h: Herald;
  let demo: Demo;
  let browser: Browser;

  beforeAll(async () => {
    h = await startHerald({ now: NOW });
    demo = await seedDemo(h, { publishPostmortem: false });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  async function open(path: string, options: { width?: number; javaScript?: boolean } = {}): Promise<{ page: Page; problems: () => string[] }> {
    const context = await browser.newContext({ viewport: { width: options.width ?? 1024, height: 800 }, javaScriptEnabled: options.javaScript ?? true });
    // The page script rewrites relative times from the browser's clock: make it the server's.
    await context.clock.setFixedTime(new Date(NOW));
    const page = await context.newPage();
    const watch = await watchPage(page);
    page.on('close', () => void context.close());
    await page.goto(h.url + path);
    return { page, problems: () => watch.problems() };
  }

  it('an incident page says, in words, how long each environment was impaired', async () => {
    const { page, problems } = await open(`/incidents/${demo.failover.id}`);
    // Production red 02:00–02:25 and yellow until the 05:41 resolution; Development yellow from 02:25.
    const durations = page.locator('main > p', { has: page.locator('strong', { hasText: 'Production' }) });
    await expect(durations.innerText()).resolves.toBe('Production 3 hours 41 minutes · Development 3 hours 16 minutes');
    const rows = await page.locator('main table tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.children, (c) => (c as HTMLElement).innerText)));
    expect(rows).toEqual([
      ['Production', '3 hours 41 minutes', 'outage 25 min, degraded 3 h 16 min'],
      ['Development', '3 hours 16 minutes', 'degraded 3 h 16 min'],
      ['API web', '3 hours 41 minutes', 'read-only 3 hours 41 minutes'],
    ]);
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('an open incident says how long so far', async () => {
    const { page } = await open(`/incidents/${demo.open}`);
    // Production yellow since 10:45, and the clock stands at 12:00.
    await expect(page.locator('main > p', { has: page.locator('strong', { hasText: 'Production' }) }).innerText()).resolves.toBe('Production 1 hour 15 minutes so far');
    await page.close();
  });

  it('the timeline is newest first by the time things happened, each update with <time datetime> of its ISO time', async () => {
    const { page, problems } = await open(`/incidents/${demo.failover.id}`);
    const api = await (await fetch(`${h.url}/api/v1/incidents/${demo.failover.id}`)).json();
    const ids = demo.failover.updateIds;
    const items = await page.locator('ol.timeline > li').evaluateAll((lis) =>
      lis.map((li) => ({ id: li.id, datetime: li.querySelector(':scope > time')?.getAttribute('datetime'), text: li.querySelector(':scope > time')?.textContent?.slice(0, 20) })),
    );
    // The 03:10 update was posted last: it sits where it happened, between 02:25 and 05:41.
    expect(items).toEqual([
      { id: `update-${ids.resolved}`, datetime: '2026-11-21T05:41:00.000Z', text: '2026-11-21 05:41 UTC' },
      { id: `update-${ids.backdated}`, datetime: '2026-11-21T03:10:00.000Z', text: '2026-11-21 03:10 UTC' },
      { id: `update-${ids.identified}`, datetime: '2026-11-21T02:25:00.000Z', text: '2026-11-21 02:25 UTC' },
      { id: `update-${ids.investigating}`, datetime: '2026-11-21T02:00:00.000Z', text: '2026-11-21 02:00 UTC' },
    ]);
    // The datetime is exactly the update's time as the API gives it.
    expect(items.map((i) => i.datetime)).toEqual(api.updates.map((u: { at: string }) => u.at));
    expect(items.map((i) => i.id)).toEqual(api.updates.map((u: { id: number }) => `update-${u.id}`));
    await expect(page.locator(`#update-${ids.backdated} .message`).innerText()).resolves.toMatch(/^Replica promoted; replaying the write-ahead log\./);
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('each update has a permanent anchor: #update-<id> opens the page at that update', async () => {
    const ids = demo.failover.updateIds;
    const { page, problems } = await open(`/incidents/${demo.failover.id}#update-${ids.investigating}`, { width: 1024 });
    expect(await page.evaluate(() => document.querySelector(':target')?.id)).toBe(`update-${ids.investigating}`);
    // Scrolled to it: the oldest update is at the bottom of a long page, now in view.
    const top = await page.locator(`#update-${ids.investigating}`).evaluate((el) => el.getBoundingClientRect().top);
    expect(top).toBeGreaterThanOrEqual(0);
    expect(top).toBeLessThan(800);

    // The "#" link of an update is that permanent address.
    const anchor = page.locator(`#update-${ids.backdated} a.anchor`);
    await expect(anchor.getAttribute('href')).resolves.toBe(`#update-${ids.backdated}`);
    await expect(anchor.getAttribute('aria-label')).resolves.toBe('Link to the Identified update at 2026-11-21T03:10:00.000Z');
    await anchor.click();
    expect(new URL(page.url()).hash).toBe(`#update-${ids.backdated}`);
    expect(await page.evaluate(() => document.querySelector(':target')?.id)).toBe(`update-${ids.backdated}`);
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('on the status page, an update\'s anchor leads to that update on its incident page', async () => {
    const { page, problems } = await open('/');
    const card = page.locator('article.incident', { hasText: 'Elevated error rates on the API' });
    const first = card.locator('ol.timeline > li').first();
    const id = await first.getAttribute('id');
    await expect(first.locator('a.anchor').getAttribute('href')).resolves.toBe(`/incidents/${demo.open}#${id}`);
    await first.locator('a.anchor').click();
    await page.waitForURL(`**/incidents/${demo.open}#${id}`);
    expect(await page.evaluate(() => document.querySelector(':target')?.id)).toBe(id);
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('the postmortem section appears once the postmortem is published, not while it is a draft', async () => {
    const draft = await open(`/incidents/${demo.failover.id}`);
    expect(await draft.page.locator('section.postmortem').count()).toBe(0);
    expect(await draft.page.locator('main').innerText()).not.toContain('What happened');
    await draft.page.close();

    await h.api('POST', `/api/v1/incidents/${demo.failover.id}/postmortem/publish`, {});
    const { page, problems } = await open(`/incidents/${demo.failover.id}`);
    const section = page.locator('section.postmortem');
    await expect(section.locator('> h2').innerText()).resolves.toBe('Postmortem');
    await expect(section.locator('> p.muted time').getAttribute('datetime')).resolves.toBe(NOW);
    await expect(section.locator('> p.muted').innerText()).resolves.toBe('Published 2026-11-21 12:00 UTC (just now)');
    const text = await section.locator('.message').innerText();
    expect(text).toContain('What happened');
    expect(text).toContain('Failover is now automatic');
    expect(await section.locator('.message table tbody tr').count()).toBe(3);
    expect(await section.locator('.message ol > li').count()).toBe(2);
    // After the timeline.
    const order = await page.evaluate(() => {
      const tl = document.querySelector('ol.timeline')!;
      const pm = document.querySelector('section.postmortem')!;
      return tl.compareDocumentPosition(pm) & Node.DOCUMENT_POSITION_FOLLOWING;
    });
    expect(order).toBeTruthy();
    await page.screenshot({ path: `${ARTIFACTS}incident-page.png`, fullPage: true });
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('/history groups incidents by month, says so for an empty month, and pages with older/newer links', async () => {
    const { page, problems } = await open('/history');
    const months = () =>
      page.locator('main section').evaluateAll((sections) =>
        sections.map((s) => ({
          month: s.querySelector('h2')?.textContent,
          incidents: Array.from(s.querySelectorAll('li > a'), (a) => a.textContent),
          empty: s.querySelector('p')?.textContent ?? null,
        })),
      );
    expect(await months()).toEqual([
      { month: 'November 2026', incidents: ['Elevated error rates on the API', 'Database failover'], empty: null },
      { month: 'October 2026', incidents: [], empty: 'No incidents reported.' },
      { month: 'September 2026', incidents: ['Slow builds'], empty: null },
    ]);
    // Each entry says how long what was impaired.
    await expect(page.locator('main li', { hasText: 'Database failover' }).innerText()).resolves.toBe(
      'Database failover — Resolved, 2026-11-21 02:00 UTC · Production 3 hours 41 minutes, Development 3 hours 16 minutes',
    );
    expect(await page.locator('nav.pages a', { hasText: 'Newer' }).count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}history-page.png`, fullPage: true });

    await page.locator('nav.pages a', { hasText: 'Older' }).click();
    await page.waitForURL('**/history?page=2');
    expect(await months()).toEqual([
      { month: 'August 2026', incidents: [], empty: 'No incidents reported.' },
      { month: 'July 2026', incidents: ['Log drains delayed'], empty: null },
      { month: 'June 2026', incidents: [], empty: 'No incidents reported.' },
    ]);
    // Nothing before June: no older page.
    expect(await page.locator('nav.pages a', { hasText: 'Older' }).count()).toBe(0);

    await page.locator('nav.pages a', { hasText: 'Newer' }).click();
    await page.waitForURL((u) => u.pathname === '/history' && u.search === '?page=1');
    expect((await months())[0]?.month).toBe('November 2026');
    expect(problems()).toEqual([]);
    await page.close();
  });

  const everyPage = (d: Demo) => ['/', `/incidents/${d.failover.id}`, `/incidents/${d.open}`, `/incidents/${d.runningMaintenance}`, `/incidents/${d.scheduledMaintenance}`, '/history', '/history?page=2', '/nope'];

  it('at phone width (360 px) no page scrolls sideways', async () => {
    const overflowing: string[] = [];
    for (const path of everyPage(demo)) {
      const { page } = await open(path, { width: 360 });
      const overflow = await sidewaysOverflow(page);
      if (overflow > 0) {
        const culprits = await page.evaluate(() =>
          Array.from(document.querySelectorAll('body *'))
            .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
            .slice(0, 5)
            .map((el) => `<${el.tagName.toLowerCase()} class="${el.className}">`),
        );
        overflowing.push(`${path}: ${overflow}px wider than the screen (${culprits.join(', ')})`);
      }
      await page.screenshot({ path: `${ARTIFACTS}phone${path.replace(/[/?=]+/g, '-').replace(/-$/, '') || '-status'}.png`, fullPage: true });
      await page.close();
    }
    expect(overflowing).toEqual([]);
  });

  describe('relative times', () => {
    it('without JavaScript, each [data-relative] says how long ago as of the server\'s clock', async () => {
      const { page } = await open('/', { javaScript: false });
      const times = await page.locator('[data-relative]').evaluateAll((els) => els.map((e) => ({ iso: e.getAttribute('data-relative')!, text: e.textContent })));
      expect(times.length).toBeGreaterThan(3);
      for (const t of times) expect(t.text).toBe(relative(t.iso, NOW));
      expect(times).toContainEqual({ iso: '2026-11-21T11:20:00.000Z', text: '40 minutes ago' });
      expect(times).toContainEqual({ iso: '2026-11-24T02:00:00.000Z', text: 'in 2 days' });
      await page.close();
    });

    for (const [name, pathOf] of [['status page', () => '/'], ['incident page', (d: Demo) => `/incidents/${d.failover.id}`]] as const) {
      it(`the page script keeps them current as time passes, with no CSP violation (${name})`, async () => {
        const path = pathOf(demo);
        const context = await browser.newContext();
        await context.clock.install({ time: new Date(NOW) });
        const page = await context.newPage();
        const watch = await watchPage(page);
        const scripts: { url: string; status: number; type: string | undefined }[] = [];
        page.on('response', (r) => {
          if (r.request().resourceType() === 'script') scripts.push({ url: new URL(r.url()).pathname, status: r.status(), type: r.headers()['content-type'] });
        });
        await page.goto(h.url + path);
        await page.waitForLoadState('load');
        const read = () => page.locator('[data-relative]').evaluateAll((els) => els.map((e) => ({ iso: e.getAttribute('data-relative')!, text: e.textContent! })));
        const before = await read();
        expect(before.length).toBeGreaterThan(0);
        for (const t of before) expect(t.text).toBe(relative(t.iso, NOW));

        // Two hours later, the script's 30-second timer has rewritten every one of them.
        await page.clock.fastForward('02:00:00');
        const later = new Date(Date.parse(NOW) + 2 * 3_600_000).toISOString();
        const after = await read();
        for (const t of after) expect(t.text).toBe(relative(t.iso, later));
        expect(after).not.toEqual(before);
        if (path === '/') expect(after).toContainEqual({ iso: '2026-11-21T11:20:00.000Z', text: '2 hours ago' });

        expect(scripts).toHaveLength(1);
        expect(scripts[0]).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
        expect(watch.problems()).toEqual([]);
        await context.close();
      });
    }
  });
});
