import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseConfig } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { startServer, type RunningServer } from '../../src/entry/node.ts';
import { seedToken } from '../support/seed.ts';
import { freshDatabase } from '../support/db.ts';
import { ARTIFACTS, launchChromium } from '../support/browser.ts';

describe('the status page in Chromium', () => {
  let handle: DatabaseHandle;
  let server: RunningServer;
  let browser: Browser;
  let token: string;

  beforeAll(async () => {
    handle = await freshDatabase();
    server = await startServer({ ...parseConfig({ HERALD_NAME: 'Acme Cloud' }), port: 0 }, { handle, hostname: '127.0.0.1' });
    token = (await seedToken(handle.db, ['admin'], 'browser'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await handle?.close();
  });

  it('when an incident is open, a visitor sees each environment in words, the incident and its update, and no script from its text runs', async () => {
    const hostile = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;
    const res = await fetch(`${server.url}/api/v1/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ title: `Login failures ${hostile}`, message: `Users cannot log in. ${hostile}`, statuses: { production: 'red' } }),
    });
    expect(res.status).toBe(201);

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => errors.push(`dialog: ${d.message()}`));
    await page.goto(server.url + '/');
    expect(await page.title()).toBe('Acme Cloud status');
    const envs = await page.locator('ul.envs .env-head').allInnerTexts();
    expect(envs.map((t) => t.replace(/\s+/g, ' ').trim())).toEqual(['Production Outage', 'Development Operational']);
    await expect(page.locator('.summary').innerText()).resolves.toBe('Production: Outage');
    await expect(page.locator('article h3').innerText()).resolves.toBe(`Login failures ${hostile}`);
    // The message is Markdown: any HTML in it is shown as text, never parsed.
    await expect(page.locator('ol.timeline .message').innerText()).resolves.toBe(`Users cannot log in. ${hostile}`);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(errors).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}status-page.png`, fullPage: true });
    await page.close();
  });

  it('when read on a phone-width screen, the page does not scroll sideways', async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 740 } });
    await page.goto(server.url + '/');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${ARTIFACTS}status-page-phone.png`, fullPage: true });
    await page.close();
  });
});

describe('a group of environments on the status page, with JavaScript off', () => {
  let handle: DatabaseHandle;
  let server: RunningServer;
  let browser: Browser;
  let token: string;

  beforeAll(async () => {
    handle = await freshDatabase();
    server = await startServer({ ...parseConfig({ HERALD_NAME: 'Acme Cloud', HERALD_ENVIRONMENTS: 'api:API,db:Database,queue:Queue' }), port: 0 }, { handle, hostname: '127.0.0.1' });
    token = await seedToken(handle.db, ['admin'], 'browser');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await handle?.close();
  });

  const api = async (method: string, path: string, body: unknown) => {
    const res = await fetch(server.url + path, { method, headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
    return res.json() as Promise<{ id: number }>;
  };

  it('is folded while all its members are operational and opens with a click; it is open while one is not', async () => {
    await api('POST', '/api/v1/component-groups', { slug: 'data', name: 'Data' });
    for (const slug of ['db', 'queue']) await api('PATCH', `/api/v1/components/${slug}`, { group: 'data' });
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(server.url);
    const group = page.locator('li.group details');
    await expect.poll(() => group.getAttribute('open')).toBeNull();
    expect(await page.getByText('Database', { exact: true }).isVisible()).toBe(false);
    await page.getByText('Data', { exact: true }).click();
    expect(await page.getByText('Database', { exact: true }).isVisible()).toBe(true);

    const incident = await api('POST', '/api/v1/incidents', { title: 'Queue backlog', message: 'Jobs are delayed.', statuses: { queue: 'yellow' } });
    // another URL of the same page: the browser may keep the first for max-age=5
    await page.goto(`${server.url}/?after=incident`);
    expect(await group.getAttribute('open')).toBe('');
    expect(await page.getByText('Queue', { exact: true }).isVisible()).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}status-group-open.png`, fullPage: true });
    await api('POST', `/api/v1/incidents/${incident.id}/updates`, { state: 'resolved', message: 'Drained.' });
    await context.close();
  });
});
