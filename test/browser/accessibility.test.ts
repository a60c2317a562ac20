import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { ARTIFACTS, launchChromium } from '../support/browser.ts';
import { AXE_TAGS, axeViolations, NOW, seedDemo, startHerald, type Demo, type Herald } from './fixtures.ts';

/**
 * axe-core (WCAG 2.0 / 2.1, levels A and AA) on every public page, in light and dark colour
 * schemes. axe is evaluated into the page, so these contexts bypass the CSP; the XSS suite keeps
 * it on.
 */
describe(`public pages pass axe-core (${AXE_TAGS.join(', ')})`, () => {
  let h: Herald;
  let demo: Demo;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    h = await startHerald({ now: NOW });
    demo = await seedDemo(h);
    // The environments in a group, so the folding list is checked too (open: the demo's open
    // incident degrades production).
    await h.api('POST', '/api/v1/component-groups', { slug: 'platform', name: 'Platform', description: 'Where your apps run' });
    for (const slug of ['production', 'development']) await h.api('PATCH', `/api/v1/components/${slug}`, { group: 'platform' });
    browser = await launchChromium();
    context = await browser.newContext({ bypassCSP: true, viewport: { width: 1024, height: 768 } });
    // The page script rewrites relative times from the browser's clock: make it agree with the server's.
    await context.clock.setFixedTime(new Date(NOW));
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await h?.close();
  });

  const pages: { name: string; path: (d: Demo) => string; expect: RegExp }[] = [
    { name: 'status', path: () => '/', expect: /Platform[\s\S]*Production[\s\S]*Elevated error rates on the API[\s\S]*Scheduled maintenance[\s\S]*Database upgrade to Postgres 17[\s\S]*Recent incidents[\s\S]*Database failover/ },
    { name: 'incident-resolved', path: (d) => `/incidents/${d.failover.id}`, expect: /Database failover[\s\S]*Timeline[\s\S]*Postmortem/ },
    { name: 'incident-open', path: (d) => `/incidents/${d.open}`, expect: /Elevated error rates on the API[\s\S]*Identified/ },
    { name: 'maintenance', path: (d) => `/incidents/${d.runningMaintenance}`, expect: /Build cache migration/ },
    { name: 'history', path: () => '/history', expect: /November 2026[\s\S]*October 2026\s+No incidents reported\.[\s\S]*September 2026/ },
    { name: 'history-page-2', path: () => '/history?page=2', expect: /August 2026\s+No incidents reported\.[\s\S]*July 2026/ },
    { name: 'not-found', path: () => '/nope', expect: /Page not found/ },
  ];

  for (const scheme of ['light', 'dark'] as const) {
    for (const p of pages) {
      it(`${p.name} (${scheme}): no violations`, async () => {
        const page = await context.newPage();
        await page.emulateMedia({ colorScheme: scheme });
        // A normal navigation: the browser sends Accept: text/html, so /nope gets the HTML 404.
        const res = await page.goto(h.url + p.path(demo));
        expect(res?.status()).toBe(p.name === 'not-found' ? 404 : 200);
        expect(await page.locator('main').innerText()).toMatch(p.expect);
        expect(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(scheme === 'dark');
        await page.screenshot({ path: `${ARTIFACTS}a11y-${p.name}-${scheme}.png`, fullPage: true });
        expect(await axeViolations(page)).toEqual([]);
        await page.close();
      });
    }
  }
});
