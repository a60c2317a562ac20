import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchChromium } from '../support/browser.ts';
import { runHerald, startHerald, stopChild } from '../support/process.ts';
import { freePort, waitFor } from '../support/upstream.ts';
import { AXE_TAGS, axeViolations } from './fixtures.ts';

/**
 * Email subscribers as a visitor meets them: a real `herald serve` (embedded database, its own
 * data dir and port) sending over SMTP to an smtp-server on 127.0.0.1, every mail read back with
 * mailparser, and its links opened in Chromium. The sign-up journey runs with JavaScript off;
 * axe-core checks each page of it as the other browser suites do (a context that bypasses the
 * CSP so axe can be evaluated into the page).
 */

const NAME = 'Acme Cloud';

interface Inbox {
  readonly mails: ParsedMail[];
  /** Resolves with the first mail (received so far or later) that `match` accepts. */
  next(match: (mail: ParsedMail) => boolean, timeoutMs?: number): Promise<ParsedMail>;
}

interface Stack {
  /** The server's address, also its PUBLIC_URL: the links in the mails lead here. */
  readonly url: string;
  readonly inbox: Inbox;
  /** JSON request with the admin token made by `token:create --local`; throws unless 2xx. */
  api(method: string, path: string, body?: unknown): Promise<any>;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function smtpSink(): Promise<{ port: number; inbox: Inbox }> {
  const port = await freePort();
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, callback) {
      simpleParser(stream).then((parsed) => {
        mails.push(parsed);
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const inbox: Inbox = {
    mails,
    async next(match, timeoutMs = 20_000) {
      const subjects = () => mails.map((m) => m.subject).join(' | ') || 'none';
      return (await waitFor(() => mails.find(match), timeoutMs, 100).catch((error: Error) => {
        throw new Error(`${error.message}; mails so far: ${subjects()}`);
      })).value!;
    },
  };
  return { port, inbox };
}

/** The SMTP sink, then `herald token:create --local` and `herald serve` on a fresh data dir. */
async function startStack(): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-subscribers-browser-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const { port: smtpPort, inbox } = await smtpSink();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { HERALD_DATA_DIR: join(dir, 'data'), PORT: String(port), PUBLIC_URL: url, HERALD_NAME: NAME, SMTP_URL: `smtp://127.0.0.1:${smtpPort}` };
  const made = await runHerald(['token:create', '--local', '--name', 'ops', '--scopes', 'admin'], env);
  expect(made.code, made.stderr).toBe(0);
  const token = made.stdout.trim();
  const herald = await startHerald(env);
  cleanups.push(() => stopChild(herald.child));
  async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
    return JSON.parse(text);
  }
  return { url, inbox, api };
}

const to = (m: ParsedMail) => (Array.isArray(m.to) ? m.to : [m.to]).flatMap((a) => a?.value.map((v) => v.address) ?? []);
const mailFor = (address: string, subject: string) => (m: ParsedMail) => to(m).includes(address) && m.subject === subject;

/** The first link in the mail's plain text to `base` + `path…`, as a URL string. */
function linkIn(mail: ParsedMail, base: string, path: string): string {
  const escaped = (base + path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${escaped}[^\\s>]+`).exec(mail.text ?? '');
  if (!m) throw new Error(`no link to ${base}${path}… in:\n${mail.text}`);
  return m[0];
}

const heading = (page: Page) => page.locator('h1').innerText();

describe('email subscribers in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function newContext(options: Parameters<Browser['newContext']>[0]): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 }, ...options });
    cleanups.push(() => context.close());
    return context;
  }

  it(
    'with JavaScript off, a visitor subscribes from the header link, confirms from the mail, changes components, gets the update mail of what they follow and unsubscribes; the API then counts no subscriber',
    async () => {
      const s = await startStack();
      const context = await newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      const email = 'jane@example.org';

      // ---- sign up ----
      await page.goto(`${s.url}/`);
      await page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Subscribe' }).click();
      await page.waitForURL(`${s.url}/subscribe`);
      expect(await heading(page)).toBe('Get status updates by email');
      await page.getByLabel('Email address').fill(email);
      await page.getByLabel('Production').check();
      await page.getByRole('button', { name: 'Subscribe' }).click();
      await page.getByRole('heading', { level: 1, name: 'Check your inbox' }).waitFor();
      expect(await page.locator('main').innerText()).toContain('a message is on its way');

      // ---- confirm from the mail ----
      const confirmation = await s.inbox.next(mailFor(email, `[${NAME}] Confirm your subscription`));
      const confirmUrl = linkIn(confirmation, s.url, '/subscriptions/confirm/');
      await page.goto(confirmUrl);
      expect(await heading(page)).toBe('Confirm your subscription');
      // Opening the link alone confirms nothing (a mail scanner follows links).
      expect(await s.api('GET', '/api/v1/subscribers')).toMatchObject({ count: 1, confirmed: 0 });
      await page.getByRole('button', { name: 'Confirm my subscription' }).click();
      await page.waitForURL(/\/subscriptions\/[^/]+\?confirmed=1$/);
      expect(await heading(page)).toBe('Your subscription');
      expect(await page.getByRole('status').innerText()).toBe('Your subscription is confirmed.');
      expect(await page.locator('main').innerText()).toContain(`Status updates go to ${email}.`);
      expect(await page.getByLabel('Production').isChecked()).toBe(true);
      expect(await page.getByLabel('Development').isChecked()).toBe(false);
      expect(await s.api('GET', '/api/v1/subscribers')).toMatchObject({ count: 1, confirmed: 1 });
      const managePath = new URL(page.url()).pathname;

      // ---- change the components ----
      await page.getByLabel('Production').uncheck();
      await page.getByLabel('Development').check();
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(`${s.url}${managePath}?saved=1`);
      expect(await page.getByRole('status').innerText()).toBe('Saved.');
      expect(await page.getByLabel('Production').isChecked()).toBe(false);
      expect(await page.getByLabel('Development').isChecked()).toBe(true);
      expect((await s.api('GET', '/api/v1/subscribers')).subscribers).toMatchObject([{ email, state: 'confirmed', components: ['development'] }]);
      await page.screenshot({ path: `${ARTIFACTS}subscriber-manage.png`, fullPage: true });

      // ---- update mails: only what the subscriber now follows ----
      // Production first: notices are mailed in order, so once Development's mail is here,
      // Production's notice has been through the fan-out, which sent Jane nothing.
      await s.api('POST', '/api/v1/incidents', { title: 'Checkout errors', message: 'Investigating.', statuses: { production: 'red' } });
      await s.api('POST', '/api/v1/incidents', { title: 'Slow builds', message: 'Builds take **twice** as long.', statuses: { development: 'yellow' } });
      const update = await s.inbox.next(mailFor(email, `[${NAME}] Investigating: Slow builds`));
      expect(update.text).toContain('Builds take **twice** as long.');
      expect(s.inbox.mails.filter((m) => to(m).includes(email)).map((m) => m.subject)).toEqual([`[${NAME}] Confirm your subscription`, `[${NAME}] Investigating: Slow builds`]);

      // ---- unsubscribe from the manage page the update mail links to ----
      const manageLink = /^Manage your subscription: (\S+)$/m.exec(update.text ?? '')?.[1];
      expect(manageLink, update.text).toMatch(new RegExp(`^${s.url.replace(/[.]/g, '\\.')}/subscriptions/[^/]+$`));
      await page.goto(manageLink!);
      expect(await page.locator('main').innerText()).toContain(`Status updates go to ${email}.`);
      await page.getByRole('button', { name: 'Unsubscribe' }).click();
      await page.getByRole('heading', { level: 1, name: 'Unsubscribed' }).waitFor();
      expect(await page.locator('main').innerText()).toContain(`no more mail will come from ${NAME}`);
      expect(await s.api('GET', '/api/v1/subscribers')).toMatchObject({ count: 0, subscribers: [] });

      // The manage link is dead now.
      const again = await page.goto(`${s.url}${managePath}`);
      expect(again?.status()).toBe(404);
      expect(await heading(page)).toBe('This link does not work');
    },
    120_000,
  );

  it(
    `the sign-up form (empty and with errors), the confirm page, the manage page and the unsubscribed page pass axe-core (${AXE_TAGS.join(', ')}) in light and dark`,
    async () => {
      const s = await startStack();
      const context = await newContext({ bypassCSP: true });
      const page = await context.newPage();
      const email = 'joe@example.org';
      const checked: string[] = [];
      const noViolations = async (name: string) => {
        for (const scheme of ['light', 'dark'] as const) {
          await page.emulateMedia({ colorScheme: scheme });
          await page.screenshot({ path: `${ARTIFACTS}a11y-subscribe-${name}-${scheme}.png`, fullPage: true });
          expect(await axeViolations(page), `${name} (${scheme})`).toEqual([]);
        }
        checked.push(name);
      };

      const empty = await page.goto(`${s.url}/subscribe`);
      expect(empty?.status()).toBe(200);
      await noViolations('form');

      // The browser's own check stops "jane at example" (type=email); with it off, the server's
      // answer is what a browser without that check would show.
      await page.getByLabel('Email address').fill('jane at example');
      await page.getByRole('button', { name: 'Subscribe' }).click();
      expect(await page.getByLabel('Email address').evaluate((input: HTMLInputElement) => input.validity.typeMismatch)).toBe(true);
      expect(await page.locator('.error-summary').count()).toBe(0);
      await page.locator('form[action="/subscribe"]').evaluate((form: HTMLFormElement) => (form.noValidate = true));
      const [invalid] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Subscribe' }).click()]);
      expect(invalid.status()).toBe(400);
      await page.locator('.error-summary').waitFor();
      expect(await page.locator('.error-summary').innerText()).toContain('Email address: is not an email address');
      expect(await page.getByLabel('Email address').inputValue()).toBe('jane at example');
      expect(await page.getByLabel('Email address').getAttribute('aria-invalid')).toBe('true');
      await noViolations('form-errors');

      await page.getByLabel('Email address').fill(email);
      await page.getByRole('button', { name: 'Subscribe' }).click();
      await page.getByRole('heading', { level: 1, name: 'Check your inbox' }).waitFor();
      await noViolations('check-inbox');

      const confirmation = await s.inbox.next(mailFor(email, `[${NAME}] Confirm your subscription`));
      await page.goto(linkIn(confirmation, s.url, '/subscriptions/confirm/'));
      expect(await heading(page)).toBe('Confirm your subscription');
      await noViolations('confirm');

      await page.getByRole('button', { name: 'Confirm my subscription' }).click();
      await page.waitForURL(/\/subscriptions\/[^/]+\?confirmed=1$/);
      expect(await page.getByRole('status').innerText()).toBe('Your subscription is confirmed.');
      await noViolations('manage');

      await page.getByRole('button', { name: 'Unsubscribe' }).click();
      await page.getByRole('heading', { level: 1, name: 'Unsubscribed' }).waitFor();
      await noViolations('unsubscribed');

      expect(checked).toEqual(['form', 'form-errors', 'check-inbox', 'confirm', 'manage', 'unsubscribed']);
    },
    120_000,
  );
});
