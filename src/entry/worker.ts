/**
 * Cloudflare Workers entry (wrangler.toml: main = "src/entry/worker.ts", nodejs_compat).
 *
 * - The app is created once per isolate, on the first request, and reused: its public snapshot
 *   is a per-isolate cache. No NOTIFY reaches an isolate, so before every public read a cheap
 *   version query (newest audit row and newest mode change: every write records one) tells it
 *   whether someone else (another isolate, a Node instance, the CLI) changed the data.
 * - Postgres through Hyperdrive (`env.HYPERDRIVE.connectionString`) with `pg`: a Client per
 *   acquire, ended on release, so no connection outlives its request; `ctx.waitUntil` lets the
 *   closing finish after the response.
 * - The cron trigger runs one maintenance scheduler pass.
 * - Migrations are not run here (no filesystem): run `npm run migrate` from Node with
 *   DATABASE_URL. /readyz reports not ready until every migration in migration-names.ts is applied.
 * - The platform event stream is not served: an isolate cannot hold a stream open and hear other
 *   instances' changes. It answers 501 pointing to GET /api/v1/platform with If-None-Match.
 */
import { publicDataVersion } from '../db/queries/system.ts';
import { createApp } from '../app.ts';
import { errorBody } from '../errors.ts';
import { localChanges } from '../cache/changes.ts';
import { systemClock } from '../clock.ts';
import { parseConfig, type Config } from '../config.ts';
import { MIGRATION_NAMES } from '../db/migration-names.ts';
import { seedEnvironments } from '../db/queries/environments.ts';
import { workerDatabase, type WorkerDatabase } from '../db/worker-database.ts';
import { createLogger } from '../log.ts';
import { databaseReadiness } from '../routes/health.ts';
import { schedulerTick } from '../services/scheduler.ts';
import type { Deps } from '../services/deps.ts';
import { Dispatcher } from '../delivery/dispatcher.ts';
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS } from '../delivery/address-policy.ts';
import { fetchSend } from '../delivery/send-fetch.ts';

/** The bindings and [vars] this Worker expects (see wrangler.toml). */
export interface WorkerEnv {
  readonly HYPERDRIVE: { readonly connectionString: string };
  readonly PUBLIC_URL?: string;
  readonly HERALD_NAME?: string;
  readonly HERALD_ENVIRONMENTS?: string;
  readonly HERALD_ROLES?: string;
}

/** The parts of Cloudflare's ExecutionContext used here. */
export interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
}

export interface ScheduledEventLike {
  readonly cron: string;
  readonly scheduledTime: number;
}

interface Isolate {
  readonly database: WorkerDatabase;
  readonly deps: Deps;
  readonly app: ReturnType<typeof createApp>;
  /** Environments from config are written once per isolate, before the first request is served. */
  readonly ready: Promise<void>;
}

/** Workers capture console output per request; one logfmt line each (src/log.ts). */
const write = (line: string) => console.log(line);
const log = createLogger(write);

let isolate: Isolate | undefined;
let isolateKey: string | undefined;

function configFrom(env: WorkerEnv): Config {
  const config = parseConfig({
    PUBLIC_URL: env.PUBLIC_URL,
    HERALD_NAME: env.HERALD_NAME,
    HERALD_ENVIRONMENTS: env.HERALD_ENVIRONMENTS,
    HERALD_ROLES: env.HERALD_ROLES,
  });
  // No SMTP from a Worker: the page offers no email sign-up there (docs/subscribers.md).
  return { ...config, mail: { ...config.mail, enabled: false } };
}

/** The public data's version: changes with every write (audit row) and every mode change. */
function publicVersion(database: WorkerDatabase): Promise<string> {
  return publicDataVersion(database.db);
}

function isolateFor(env: WorkerEnv): Isolate {
  const key = JSON.stringify([env.HYPERDRIVE?.connectionString, env.PUBLIC_URL, env.HERALD_NAME, env.HERALD_ENVIRONMENTS, env.HERALD_ROLES]);
  if (isolate && isolateKey === key) return isolate;
  if (!env.HYPERDRIVE?.connectionString) throw new Error('the HYPERDRIVE binding is missing (see wrangler.toml [[hyperdrive]])');
  const config = configFrom(env);
  const database = workerDatabase(env.HYPERDRIVE.connectionString);
  const deps: Deps = { db: database.db, clock: systemClock, config, changes: localChanges() };
  const readiness = databaseReadiness(deps, async () => {
    const rows = await database.db.selectFrom('herald_migrations').select('name').execute();
    const done = new Set(rows.map((r) => r.name));
    return MIGRATION_NAMES.filter((n) => !done.has(n));
  });
  const app = createApp({ ...deps, log: write, readiness, publicVersion: () => publicVersion(database) });
  const holder: { isolate?: Isolate } = {};
  const ready = seedEnvironments(database.db, config.environments).catch((error: unknown) => {
    // Not fatal (the database may be down or not migrated yet): tried again on the next request.
    if (isolate === holder.isolate) isolate = undefined;
    log.warn('environment seeding failed', { error: error instanceof Error ? error.message : String(error) });
  });
  isolate = holder.isolate = { database, deps, app, ready };
  isolateKey = key;
  return isolate;
}

function configErrorResponse(error: unknown): Response {
  const message = error instanceof Error ? error.message : String(error);
  log.error('configuration invalid', { error: message });
  return Response.json(errorBody('server.misconfigured', 'Herald is not configured correctly; see the Worker logs.'), { status: 500 });
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: WorkerContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/api/v1/platform/events') {
      return Response.json(
        errorBody('platform.events_unavailable', 'The event stream is not available on this deployment; poll GET /api/v1/platform with If-None-Match instead.'),
        { status: 501, headers: { Link: '</api/v1/platform>; rel="alternate"', 'Cache-Control': 'no-store' } },
      );
    }
    let current: Isolate;
    try {
      current = isolateFor(env);
    } catch (error) {
      return configErrorResponse(error);
    }
    try {
      await current.ready;
      return await current.app.fetch(request);
    } finally {
      ctx.waitUntil(current.database.drain());
    }
  },

  async scheduled(_event: ScheduledEventLike, env: WorkerEnv, ctx: WorkerContext): Promise<void> {
    const current = isolateFor(env);
    try {
      await current.ready;
      const pass = await schedulerTick(current.deps);
      if (pass.started.length || pass.completed.length) {
        log.info('scheduler', { started: pass.started.join(',') || undefined, completed: pass.completed.join(',') || undefined });
      }
      // Webhooks: no process stays up on Workers, so the cron trigger sends the outbox. Retries
      // fall due on the next trigger after their time; a delivery is at most a minute late.
      const { deps } = current;
      const policy = { allow: deps.config.webhookAllow, timeoutMs: DEFAULT_TIMEOUT_MS, maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES };
      const sent = await new Dispatcher({ ...deps, send: (dest) => fetchSend(dest, policy), sender: `worker:${crypto.randomUUID().slice(0, 8)}` }).pass();
      if (sent.fannedOut || sent.attempted) log.info('webhooks', { notices: sent.fannedOut || undefined, attempts: sent.attempted || undefined, delivered: sent.delivered || undefined });
    } catch (error) {
      log.warn('scheduler pass failed', { error: error instanceof Error ? error.message : String(error) });
      throw error; // so the invocation is recorded as failed in Cloudflare's cron logs
    } finally {
      ctx.waitUntil(current.database.drain());
    }
  },
};
