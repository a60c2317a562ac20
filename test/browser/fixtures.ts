/**
 * Shared set-up for the browser suites: a real Herald server on a fresh database, a token, a
 * small HTTP client for the commander API, a demo timeline with fixed times, and the checks
 * every page load runs (page errors, dialogs, CSP violations).
 *
 * Not a test file (vitest.browser.config.ts only picks up *.test.ts).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import { CHANGES_CHANNEL } from '../../src/cache/changes.ts';
import { fixedClock } from '../../src/clock.ts';
import { parseConfig } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { startServer, type RunningServer } from '../../src/entry/node.ts';
import { operator } from '../../src/services/deps.ts';
import { seeder, seedToken } from '../support/seed.ts';
import { freshDatabase } from '../support/db.ts';

/** The instant the fixed-clock servers live at: a Saturday noon, UTC. */
export const NOW = '2026-11-21T12:00:00.000Z';

export interface Herald {
  readonly url: string;
  readonly handle: DatabaseHandle;
  readonly server: RunningServer;
  readonly token: string;
  /** The server's clock, when it was started with `now` (set or advance it to move time on). */
  readonly clock: ReturnType<typeof fixedClock> | undefined;
  /** JSON request to the commander API; throws unless the status is 2xx. */
  api(method: string, path: string, body?: unknown): Promise<any>;
  /** Tells the running server that the database changed behind its back (direct inserts). */
  notifyChanged(): Promise<void>;
  close(): Promise<void>;
}

/** A Herald server on a fresh database; with `now`, its clock stands still at that instant. */
export async function startHerald(options: { now?: string; env?: Record<string, string> } = {}): Promise<Herald> {
  const handle = await freshDatabase();
  const clock = options.now ? fixedClock(options.now) : undefined;
  const config = { ...parseConfig({ HERALD_NAME: 'Acme Cloud', ...(options.env ?? {}) }), port: 0 };
  const server = await startServer(config, { handle, hostname: '127.0.0.1', ...(clock ? { clock } : {}) });
  const created = options.now ? new Date(options.now) : new Date();
  const token = (await seedToken(handle.db, ['admin'], 'browser'));

  async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
    return JSON.parse(text);
  }

  return {
    url: server.url,
    handle,
    server,
    token,
    clock,
    api,
    async notifyChanged() {
      await sql`select pg_notify(${CHANGES_CHANNEL}, '')`.execute(handle.db);
      // PGlite delivers notifications asynchronously; give the listener a moment.
      await new Promise((r) => setTimeout(r, 100));
    },
    async close() {
      await server.close();
      await handle.close();
    },
  };
}

/**
 * A maintenance written as it would have been, each step as of its own time (the server's clock
 * stands still at NOW): announced at the first update's `at`, later updates posted at theirs.
 */
export async function insertMaintenance(
  h: Herald,
  m: {
    title: string;
    scheduledFor: string;
    scheduledUntil: string;
    updates: { at: string; state: string; message: string; statuses?: Record<string, string>; modes?: Record<string, string> }[];
  },
): Promise<number> {
  const [first, ...rest] = m.updates;
  const seed = seeder(h.handle.db);
  const actor = operator('browser');
  const { id } = await seed.maintenance(actor, first!.at, {
    title: m.title,
    message: first!.message,
    environments: Object.keys(first!.statuses ?? {}),
    ...(first!.modes ? { modes: first!.modes } : {}),
    scheduled_for: m.scheduledFor,
    scheduled_until: m.scheduledUntil,
  });
  for (const u of rest) await seed.update(actor, id, u);
  await h.notifyChanged();
  return id;
}

export const POSTMORTEM = `## What happened

At 02:00 UTC the primary database of the **Production** environment lost its disk. Writes failed until
the replica was promoted; the API stayed read-only for the whole incident.

## Timeline

| time (UTC) | event |
| --- | --- |
| 02:00 | primary loses its disk |
| 02:25 | failover starts |
| 05:41 | writes are back |

## What we are changing

1. Failover is now automatic (see [the runbook](/history)).
2. Disks are replaced before they wear out.

\`\`\`
ERROR: could not write to file "pg_wal/000000010000000000000042": No space left on device
\`\`\`
`;

export interface Demo {
  /** Resolved at 05:41 after 3 h 41 min of Production impact; postmortem written (published unless asked not to). */
  readonly failover: { id: number; updateIds: { investigating: number; identified: number; backdated: number; resolved: number } };
  /** Open since 10:45, Production degraded, web API read-only. */
  readonly open: number;
  readonly scheduledMaintenance: number;
  readonly runningMaintenance: number;
  /** Resolved incidents in September and July 2026 (October and August stay empty). */
  readonly september: number;
  readonly july: number;
}

/**
 * The demo the page suites read, on a server whose clock stands at NOW (2026-11-21 12:00 UTC):
 *
 * - incident "Database failover": 02:00 investigating (Production red, web read-only),
 *   02:25 identified (Production and Development yellow), 05:41 resolved, and an update posted
 *   last but backdated to 03:10 — Production impaired 3 hours 41 minutes, Development 3 hours 16 minutes;
 * - an open incident since 10:45 with a second update at 11:20;
 * - a maintenance scheduled for 24 November, and one in progress since 11:00 (written directly);
 * - resolved incidents on 14 September and 3 July 2026, none in October or August.
 */
export async function seedDemo(h: Herald, options: { publishPostmortem?: boolean } = {}): Promise<Demo> {
  const failover = await h.api('POST', '/api/v1/incidents', {
    title: 'Database failover',
    message: 'Writes are failing on the primary; investigating.',
    statuses: { production: 'red' },
    modes: { web: 'read_only' },
    at: '2026-11-21T02:00:00Z',
  });
  const identified = await h.api('POST', `/api/v1/incidents/${failover.id}/updates`, {
    state: 'identified',
    message: 'Failover to the replica is under way. Development shares the replica and is slower too.',
    statuses: { production: 'yellow', development: 'yellow' },
    at: '2026-11-21T02:25:00Z',
  });
  const resolved = await h.api('POST', `/api/v1/incidents/${failover.id}/updates`, {
    state: 'resolved',
    message: 'Writes are back; the API is **fully available**.',
    modes: { web: 'full' },
    at: '2026-11-21T05:41:00Z',
  });
  // Posted last, but it happened at 03:10: it must land between 02:25 and 05:41.
  const backdated = await h.api('POST', `/api/v1/incidents/${failover.id}/updates`, {
    state: 'identified',
    message:
      'Replica promoted; replaying the write-ahead log. Details: https://status.example.com/a/very/long/path/that/should/wrap/on/a/phone/screen/without/scrolling/sideways/at/all/0123456789abcdef0123456789abcdef',
    at: '2026-11-21T03:10:00Z',
  });
  await h.api('PUT', `/api/v1/incidents/${failover.id}/postmortem`, { markdown: POSTMORTEM });
  if (options.publishPostmortem !== false) await h.api('POST', `/api/v1/incidents/${failover.id}/postmortem/publish`, {});

  const open = await h.api('POST', '/api/v1/incidents', {
    title: 'Elevated error rates on the API',
    message: 'Some requests to the Platform API return **503**. We are investigating.',
    statuses: { production: 'yellow' },
    modes: { web: 'read_only' },
    at: '2026-11-21T10:45:00Z',
  });
  await h.api('POST', `/api/v1/incidents/${open.id}/updates`, {
    state: 'identified',
    message: 'A bad deploy of the router. Rolling back; see the [history](/history) for the last time this happened.\n\n- `api.example.com` affected\n- dashboards unaffected',
    at: '2026-11-21T11:20:00Z',
  });

  const september = await h.api('POST', '/api/v1/incidents', {
    title: 'Slow builds',
    message: 'Builds take longer than usual.',
    statuses: { development: 'yellow' },
    at: '2026-09-14T08:00:00Z',
  });
  await h.api('POST', `/api/v1/incidents/${september.id}/updates`, { state: 'resolved', message: 'Builds are back to normal.', at: '2026-09-14T09:30:00Z' });
  const july = await h.api('POST', '/api/v1/incidents', {
    title: 'Log drains delayed',
    message: 'Log delivery is delayed.',
    statuses: { production: 'yellow' },
    at: '2026-07-03T16:00:00Z',
  });
  await h.api('POST', `/api/v1/incidents/${july.id}/updates`, { state: 'resolved', message: 'Logs are flowing again.', at: '2026-07-03T16:45:00Z' });

  const scheduledMaintenance = await insertMaintenance(h, {
    title: 'Database upgrade to Postgres 17',
    scheduledFor: '2026-11-24T02:00:00.000Z',
    scheduledUntil: '2026-11-24T06:00:00.000Z',
    updates: [
      {
        at: '2026-11-20T09:00:00.000Z',
        state: 'scheduled',
        message: 'Production databases will be upgraded. The API will be **read-only** for up to 4 hours.',
        statuses: { production: 'blue' },
        modes: { web: 'read_only' },
      },
    ],
  });
  const runningMaintenance = await insertMaintenance(h, {
    title: 'Build cache migration',
    scheduledFor: '2026-11-21T11:00:00.000Z',
    scheduledUntil: '2026-11-21T13:00:00.000Z',
    updates: [
      { at: '2026-11-19T15:00:00.000Z', state: 'scheduled', message: 'Build caches move to new storage.' },
      { at: '2026-11-21T11:00:00.000Z', state: 'in_progress', message: 'Migration started.', statuses: { development: 'blue' }, modes: { worker: 'maintenance' } },
    ],
  });

  return {
    failover: { id: failover.id, updateIds: { investigating: failover.updates[0].id, identified: identified.update.id, backdated: backdated.update.id, resolved: resolved.update.id } },
    open: open.id,
    scheduledMaintenance,
    runningMaintenance,
    september: september.id,
    july: july.id,
  };
}

export interface PageWatch {
  readonly errors: string[];
  readonly dialogs: string[];
  readonly csp: string[];
  /** Everything above, in one list: what a clean page load leaves empty. */
  problems(): string[];
}

/**
 * Records page errors, dialogs (dismissed) and Content-Security-Policy violations, both as
 * console messages and as `securitypolicyviolation` events caught before any page script runs.
 */
export async function watchPage(page: Page): Promise<PageWatch> {
  const errors: string[] = [];
  const dialogs: string[] = [];
  const csp: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    dialogs.push(`dialog ${d.type()}: ${d.message()}`);
    void d.dismiss().catch(() => {});
  });
  page.on('console', (m) => {
    if (m.text().includes('Content Security Policy')) csp.push(`console: ${m.text()}`);
  });
  await page.exposeBinding('__heraldCspViolation', (_source, text: string) => void csp.push(`event: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __heraldCspViolation(t: string): void }).__heraldCspViolation(`${e.violatedDirective} blocked ${e.blockedURI} (${e.sample})`);
    });
  });
  return { errors, dialogs, csp, problems: () => [...errors, ...dialogs, ...csp] };
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

/** axe-core's source, to evaluate in a page (only in a context opened with bypassCSP). */
export async function axeScript(): Promise<string> {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Runs axe-core on the page and returns each violation as readable lines (empty: none). */
export async function axeViolations(page: Page): Promise<string[]> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe);
  if (loaded === 'undefined') await page.evaluate(await axeScript());
  const violations = await page.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<any> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n: any) => `${n.target.join(' ')} — ${n.html.slice(0, 160)} — ${String(n.failureSummary).replace(/\s+/g, ' ')}`),
    }));
  }, AXE_TAGS);
  return violations.map((v: { id: string; impact: string; help: string; nodes: string[] }) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.join('\n    ')}`);
}

/** How far the document scrolls sideways (0 or less: it does not). */
export function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}
