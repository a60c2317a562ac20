import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium } from '../support/browser.ts';
import { AXE_TAGS, axeViolations, NOW, seedDemo, startHerald, watchPage, type Demo, type Herald } from './fixtures.ts';

const MIN = 60_000;

/**
 * A commander's whole incident, in Chromium with JavaScript turned off (the console must not
 * need it): sign in, open an incident, post two updates, put web in read-only, resolve, publish
 * the postmortem, and after each step look at what the public sees.
 */
describe('console: running an incident from the browser (JavaScript off)', () => {
  let h: Herald;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let publicPage: Page;
  let incidentPath = '';

  beforeAll(async () => {
    h = await startHerald({ now: NOW });
    browser = await launchChromium();
    context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    page = await context.newPage();
    publicPage = await context.newPage();
    // Public pages may be reused from the HTTP cache for a few seconds (max-age=5): a visitor's
    // browser would catch up shortly; this one must look afresh after every step.
    const cdp = await context.newCDPSession(publicPage);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await h?.close();
  });

  const publicText = async (path: string) => {
    await publicPage.goto(h.url + path);
    return publicPage.locator('main').innerText();
  };
  const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}console-${name}.png`, fullPage: true });

  it('signs in with an API token', async () => {
    await page.goto(`${h.url}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/signin');
    await page.getByLabel('API token').fill(h.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(new URL(page.url()).pathname).toBe('/console/incidents');
    await expect(page.locator('h1').innerText()).resolves.toBe('Incidents');
    const cookie = (await context.cookies()).find((c) => c.name === 'herald_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    // Max-Age of 12 hours (the browser counts it from its own clock)
    expect(Math.abs(cookie.expires - Date.now() / 1000 - 12 * 3600)).toBeLessThan(60);
  });

  it('opens an incident; the public status page shows it', async () => {
    await page.getByRole('link', { name: 'Open an incident' }).click();
    await page.getByLabel('Title').fill('Elevated API latency');
    await page.getByLabel('Message', { exact: true }).fill('Requests to the API are **slow**. We are investigating.');
    await page.getByLabel('Production').selectOption('yellow');
    await shot('new-incident');
    await page.getByRole('button', { name: 'Open incident' }).click();
    expect(page.url()).toMatch(/\/console\/incidents\/\d+\?done=opened$/);
    incidentPath = new URL(page.url()).pathname.replace('/console', '');
    await expect(page.getByRole('status').innerText()).resolves.toContain('Incident opened.');
    const text = await publicText('/');
    expect(text).toContain('Elevated API latency');
    expect(text).toMatch(/Production\s+Degraded performance/);
  });

  it('posts a first update after previewing it; the public incident page shows it', async () => {
    h.clock!.advance(10 * MIN);
    await page.goto(`${h.url}/console${incidentPath}`);
    // preselected from the incident: still investigating, production degraded
    expect(await page.getByLabel('State').inputValue()).toBe('investigating');
    expect(await page.getByLabel('Production').inputValue()).toBe('yellow');
    await page.getByLabel('State').selectOption('identified');
    await page.getByLabel('Message', { exact: true }).fill('A slow query on the *primary*. Adding an index.');
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect(page.locator('.preview').innerText()).resolves.toContain('A slow query on the primary. Adding an index.');
    expect(await page.locator('.preview em').innerText()).toBe('primary');
    expect(await page.getByLabel('State').inputValue()).toBe('identified'); // kept through the preview
    await page.getByRole('button', { name: 'Post update' }).click();
    await expect(page.getByRole('status').innerText()).resolves.toContain('Update posted.');
    const text = await publicText(incidentPath);
    expect(text).toMatch(/Identified — 2026-11-21 12:10 UTC/);
    expect(text).toContain('A slow query on the primary. Adding an index.');
  });

  it('posts a second update putting web in read-only; the public page and the platform API say so', async () => {
    h.clock!.advance(10 * MIN);
    await page.goto(`${h.url}/console${incidentPath}`);
    expect(await page.getByLabel('State').inputValue()).toBe('identified');
    await page.getByLabel('web', { exact: true }).selectOption('read_only');
    await page.getByLabel('Message', { exact: true }).fill('Writes are paused while the index builds.');
    await page.getByRole('button', { name: 'Post update' }).click();
    await expect(page.getByRole('status').innerText()).resolves.toContain('Update posted.');
    expect(await publicText('/')).toContain('The web API is read-only.');
    const platform = await (await fetch(`${h.url}/api/v1/platform?role=web`)).json();
    expect(platform.roles[0]).toMatchObject({ mode: 'read_only', since: '2026-11-21T12:20:00.000Z' });
  });

  it('refuses an update with no message, showing the error beside the field and keeping the choices', async () => {
    await page.getByLabel('State').selectOption('monitoring');
    await page.getByLabel('Message', { exact: true }).fill('');
    await page.getByLabel('Development').selectOption('red');
    // the browser's own check would stop an empty required field; a blank one gets to the server
    await page.getByLabel('Message', { exact: true }).fill('   ');
    await page.getByRole('button', { name: 'Post update' }).click();
    await expect(page.locator('#f-message-error').innerText()).resolves.toContain('message must not be empty');
    expect(await page.getByLabel('State').inputValue()).toBe('monitoring');
    expect(await page.getByLabel('Development').inputValue()).toBe('red');
    await shot('update-rejected');
    expect(await publicText(incidentPath)).not.toContain('Monitoring');
  });

  it('resolves it; the public page shows it resolved with the scope of impact', async () => {
    h.clock!.advance(40 * MIN);
    await page.goto(`${h.url}/console${incidentPath}`);
    await page.getByLabel('Resolution message').fill('The index is built; writes are back.');
    await page.getByRole('button', { name: 'Resolve incident' }).click();
    await expect(page.getByRole('status').innerText()).resolves.toContain('Incident resolved.');
    const text = await publicText(incidentPath);
    expect(text).toMatch(/Resolved — 2026-11-21 13:00 UTC/);
    // production degraded 12:00→13:00; web read-only 12:20→13:00
    expect(text).toMatch(/Production\s+1 hour/);
    expect(text).toMatch(/web\s+40 minutes/);
    expect(await publicText('/')).not.toContain('The web API is read-only.');
  });

  it('writes, previews and publishes the postmortem; the public incident page shows it', async () => {
    await page.getByRole('link', { name: 'Write the postmortem' }).click();
    await expect(page.locator('aside').innerText()).resolves.toMatch(/Production\s+1 hour/);
    await page.getByLabel('Postmortem (Markdown)').fill('## What happened\n\nA missing index made writes slow.\n\n## What we changed\n\n- The index\n- An alert on slow queries');
    await page.getByRole('button', { name: 'Preview' }).click();
    expect(await page.locator('.preview h4').first().innerText()).toBe('What happened');
    expect(await publicText(incidentPath)).not.toContain('A missing index made writes slow.');
    await page.getByRole('button', { name: 'Save and publish' }).click();
    await expect(page.getByRole('status').innerText()).resolves.toContain('Postmortem published');
    await shot('postmortem');
    const text = await publicText(incidentPath);
    expect(text).toContain('Postmortem');
    expect(text).toContain('A missing index made writes slow.');
  });

  it('sets web read-only by override, after a confirmation that names what it refuses; then clears it', async () => {
    await page.goto(`${h.url}/console/platform`);
    const web = page.locator('section#role-web');
    await expect(web.locator('h2').innerText()).resolves.toBe('web: fully available');
    await web.getByLabel(/^Read-only/).check();
    await web.getByLabel('Reason').fill('Database upgrade');
    await web.getByRole('button', { name: 'Review…' }).click();
    const confirmation = await page.locator('main').innerText();
    expect(confirmation).toMatch(/web will refuse writes \(POST, PUT, PATCH, DELETE/);
    expect((await (await fetch(`${h.url}/api/v1/platform?role=web`)).json()).roles[0].mode).toBe('full');
    await page.getByRole('button', { name: 'Confirm: put web in read-only mode' }).click();
    expect((await (await fetch(`${h.url}/api/v1/platform?role=web`)).json()).roles[0]).toMatchObject({ mode: 'read_only', sources: [expect.objectContaining({ kind: 'override', title: 'Database upgrade' })] });
    expect(await publicText('/')).toContain('The web API is read-only.');
    await page.locator('section#role-web').getByRole('button', { name: 'Clear override…' }).click();
    await page.getByRole('button', { name: 'Confirm: clear the override' }).click();
    expect((await (await fetch(`${h.url}/api/v1/platform?role=web`)).json()).roles[0].mode).toBe('full');
    expect(await publicText('/')).not.toContain('The web API is read-only.');
  });

  it('refuses a session past its expiry, and hands back what was typed', async () => {
    await page.goto(`${h.url}/console${incidentPath}`);
    await page.getByLabel('Message', { exact: true }).fill('Typed just before the session ran out.');
    h.clock!.advance(12 * 60 * MIN + 1000);
    await page.getByRole('button', { name: 'Post update' }).click();
    const text = await page.locator('main').innerText();
    expect(text).toContain('Your session had ended, so nothing was saved');
    expect(await page.locator('textarea[readonly]').inputValue()).toBe('Typed just before the session ran out.');
    const incident = await (await fetch(`${h.url}/api/v1${incidentPath}`)).json();
    expect(incident.updates.map((u: { message: string }) => u.message)).not.toContain('Typed just before the session ran out.');
    await page.goto(`${h.url}/console/incidents`);
    expect(new URL(page.url()).pathname).toBe('/console/signin');
  });
});

describe('console: a form posted from another site is refused', () => {
  let h: Herald;
  let browser: Browser;
  let evil: Server;
  let evilPort = 0;
  let incidentId = 0;

  beforeAll(async () => {
    h = await startHerald({ now: NOW });
    incidentId = (await h.api('POST', '/api/v1/incidents', { title: 'Target', message: 'First.' })).id;
    browser = await launchChromium();
    // A page elsewhere that posts a form to the console as soon as it loads.
    evil = createServer((req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!DOCTYPE html><form id="f" method="post" action="${h.url}/console/incidents/${incidentId}/updates">
        <input name="message" value="forged"><input name="intent" value="post"></form>
        <script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
    evilPort = (evil.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await browser?.close();
    if (evil) await new Promise((r) => evil.close(r));
    await h?.close();
  });

  for (const host of ['localhost', '127.0.0.1'] as const) {
    it(`when a signed-in commander visits a page on ${host === 'localhost' ? 'another site' : 'another origin of the same host'} that posts to the console, nothing is posted`, async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${h.url}/console/signin`);
      await page.getByLabel('API token').fill(h.token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      expect(new URL(page.url()).pathname).toBe('/console/incidents');
      const response = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/console/incidents/'));
      await page.goto(`http://${host}:${evilPort}/`);
      const res = await response;
      expect(res.status()).toBe(403);
      await page.waitForLoadState();
      expect(await page.locator('h1').innerText()).toBe('Form refused');
      const incident = await h.api('GET', `/api/v1/incidents/${incidentId}`);
      expect(incident.updates.map((u: { message: string }) => u.message)).toEqual(['First.']);
      await context.close();
    });
  }
});

describe('console pages: no CSP violations or script errors with JavaScript on', () => {
  let h: Herald;
  let browser: Browser;

  beforeAll(async () => {
    h = await startHerald({ now: NOW });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('when each console page loads under the real CSP, nothing is blocked and nothing throws', async () => {
    const incident = await h.api('POST', '/api/v1/incidents', { title: 'Under CSP', message: 'First.' });
    const context = await browser.newContext();
    const page = await context.newPage();
    const watch = await watchPage(page);
    await page.goto(`${h.url}/console/signin`);
    await page.getByLabel('API token').fill(h.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    for (const path of ['/console/incidents', '/console/incidents/new', `/console/incidents/${incident.id}`, `/console/incidents/${incident.id}/postmortem`, '/console/platform', '/console/maintenance', '/console/tokens', '/console/components', '/console/webhooks', '/console/alerts']) {
      const res = await page.goto(h.url + path);
      expect(res?.status(), path).toBe(200);
    }
    expect(watch.problems()).toEqual([]);
    await context.close();
  });

  it('when Ctrl+Enter is pressed in the message, the update is posted (not previewed)', async () => {
    const incident = await h.api('POST', '/api/v1/incidents', { title: 'Keyboard', message: 'First.' });
    const context = await browser.newContext();
    const page = await context.newPage();
    const watch = await watchPage(page);
    await page.goto(`${h.url}/console/signin`);
    await page.getByLabel('API token').fill(h.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.goto(`${h.url}/console/incidents/${incident.id}`);
    await page.getByLabel('Message', { exact: true }).fill('Sent from the keyboard.');
    await page.getByLabel('Message', { exact: true }).press('Control+Enter');
    await page.waitForURL(/done=posted/);
    const after = await h.api('GET', `/api/v1/incidents/${incident.id}`);
    expect(after.updates.map((u: { message: string }) => u.message)).toEqual(['Sent from the keyboard.', 'First.']);
    expect(watch.problems()).toEqual([]);
    await context.close();
  });
});

/**
 * axe-core on every console page, signed out and signed in, in light and dark, including the
 * states a commander meets under stress: errors beside fields, previews, confirmation steps.
 */
describe(`console pages pass axe-core (${AXE_TAGS.join(', ')})`, () => {
  let h: Herald;
  let demo: Demo;
  let browser: Browser;

  beforeAll(async () => {
    // 127.0.0.1 may receive webhooks: a test event is sent to Herald itself
    h = await startHerald({ now: NOW, env: { HERALD_WEBHOOK_ALLOW: '127.0.0.1' } });
    demo = await seedDemo(h);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  /** How to reach each state: a plain load, or a load then a form submission. */
  const states: { name: string; go: (page: Page) => Promise<unknown>; expect: RegExp }[] = [
    { name: 'signin', go: (p) => p.goto(`${h.url}/console/signin`), expect: /Sign in to the console/ },
    {
      name: 'signin-error',
      go: async (p) => {
        await p.goto(`${h.url}/console/signin`);
        await p.getByLabel('API token').fill('hrd_nope');
        await p.getByRole('button', { name: 'Sign in' }).click();
      },
      expect: /not a valid API token/,
    },
    { name: 'incidents', go: (p) => p.goto(`${h.url}/console/incidents`), expect: /Open[\s\S]*Elevated error rates on the API[\s\S]*Closed/ },
    { name: 'new-incident', go: (p) => p.goto(`${h.url}/console/incidents/new`), expect: /Open an incident/ },
    {
      name: 'new-incident-errors',
      go: async (p) => {
        await p.goto(`${h.url}/console/incidents/new`);
        await p.getByLabel('Title').fill(' ');
        await p.getByLabel('Message', { exact: true }).fill(' ');
        await p.getByRole('button', { name: 'Open incident' }).click();
      },
      expect: /Nothing was saved[\s\S]*title must not be empty/,
    },
    { name: 'incident', go: (p) => p.goto(`${h.url}/console/incidents/${demo.open}`), expect: /Post an update[\s\S]*Timeline[\s\S]*Resolve/ },
    {
      name: 'incident-preview',
      go: async (p) => {
        await p.goto(`${h.url}/console/incidents/${demo.open}`);
        await p.getByLabel('Message', { exact: true }).fill('**Rolling back** now; [details](/history).');
        await p.getByRole('button', { name: 'Preview' }).click();
      },
      expect: /Preview[\s\S]*Rolling back now/,
    },
    { name: 'postmortem', go: (p) => p.goto(`${h.url}/console/incidents/${demo.failover.id}/postmortem`), expect: /Postmortem: Database failover[\s\S]*Scope of impact/ },
    { name: 'platform', go: (p) => p.goto(`${h.url}/console/platform`), expect: /web: read-only/ },
    {
      name: 'platform-confirm',
      go: async (p) => {
        await p.goto(`${h.url}/console/platform`);
        const worker = p.locator('section#role-worker');
        await worker.getByLabel(/^Maintenance/).check();
        await worker.getByLabel('Reason').fill('Queue migration');
        await worker.getByRole('button', { name: 'Review…' }).click();
      },
      expect: /worker will refuse every request/,
    },
    { name: 'maintenance', go: (p) => p.goto(`${h.url}/console/maintenance`), expect: /Database upgrade to Postgres 17/ },
    {
      name: 'maintenance-run-confirm',
      go: async (p) => {
        await p.goto(`${h.url}/console/maintenance`);
        await p.getByRole('button', { name: 'Run now…' }).first().click();
      },
      expect: /Instance name|Run/,
    },
    { name: 'tokens', go: (p) => p.goto(`${h.url}/console/tokens`), expect: /browser/ },
    { name: 'components', go: (p) => p.goto(`${h.url}/console/components`), expect: /Components[\s\S]*Production[\s\S]*Add a component[\s\S]*Add a group/ },
    {
      name: 'components-errors',
      go: async (p) => {
        await p.goto(`${h.url}/console/components`);
        const add = p.locator('section', { has: p.getByRole('heading', { name: 'Add a component' }) });
        // a slug that is not one and a blank name (a space passes the browser's own check): the server's two problems, beside their fields
        await add.getByLabel(/^Slug/).fill('Not A Slug');
        await add.getByLabel(/^Name/).fill(' ');
        await add.getByRole('button', { name: 'Add component' }).click();
      },
      expect: /slug must be 1 to 40 lowercase letters[\s\S]*name must not be empty|name must not be empty[\s\S]*slug must be 1 to 40 lowercase letters/,
    },
    { name: 'webhooks', go: (p) => p.goto(`${h.url}/console/webhooks`), expect: /Subscriptions[\s\S]*Add a webhook/ },
    {
      name: 'webhooks-errors',
      go: async (p) => {
        await p.goto(`${h.url}/console/webhooks`);
        await p.getByLabel('URL', { exact: true }).fill('http://10.0.0.1/hook');
        await p.getByRole('button', { name: 'Add webhook' }).click();
      },
      expect: /Nothing was saved[\s\S]*10\.0\.0\.1/,
    },
    {
      name: 'webhook-created',
      go: async (p) => {
        await p.goto(`${h.url}/console/webhooks`);
        // Herald itself receives it (127.0.0.1 is allowed here): it answers with an error page, which is what the log shows
        await p.getByLabel('URL', { exact: true }).fill(`${h.url}/webhook-sink`);
        await p.getByLabel('Description').fill('Axe sink');
        await p.getByRole('button', { name: 'Add webhook' }).click();
      },
      expect: /shown only this once/,
    },
    {
      name: 'webhook-tested',
      go: async (p) => {
        await p.getByRole('link', { name: /^Webhook #\d+$/ }).click();
        await p.getByRole('button', { name: 'Send a test event' }).click();
      },
      expect: /Test event msg_\w+[\s\S]*The receiver answered HTTP \d{3}[\s\S]*Attempts/,
    },
    { name: 'webhook-remove-confirm', go: (p) => p.getByRole('button', { name: /^Remove webhook #\d+…$/ }).click(), expect: /Remove webhook #\d+\?/ },
    { name: 'alerts', go: (p) => p.goto(`${h.url}/console/alerts`), expect: /Rules[\s\S]*Add a rule[\s\S]*How to connect[\s\S]*Inbox/ },
  ];

  for (const scheme of ['light', 'dark'] as const) {
    it(`every console page (${scheme}): no violations`, async () => {
      // a context of its own: each scheme starts signed out
      const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 }, colorScheme: scheme });
      await context.clock.setFixedTime(new Date(NOW));
      const page = await context.newPage();
      const found: string[] = [];
      for (const [i, s] of states.entries()) {
        if (i === 2) {
          // signed out so far; sign in for the rest
          await page.goto(`${h.url}/console/signin`);
          await page.getByLabel('API token').fill(h.token);
          await page.getByRole('button', { name: 'Sign in' }).click();
        }
        await s.go(page);
        expect(await page.locator('main').innerText(), s.name).toMatch(s.expect);
        await page.screenshot({ path: `${ARTIFACTS}a11y-console-${s.name}-${scheme}.png`, fullPage: true });
        for (const v of await axeViolations(page)) found.push(`${s.name}: ${v}`);
      }
      expect(found).toEqual([]);
      await context.close();
    });
  }
});
