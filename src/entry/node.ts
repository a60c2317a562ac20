import { join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import { createApp } from '../app.ts';
import { CHANGES_CHANNEL, localChanges } from '../cache/changes.ts';
import type { Compressor } from '../routes/cached.ts';
import { FastPath } from './fast-path.ts';
import { leanHeap } from './heap.ts';
import { systemClock, type Clock } from '../clock.ts';
import { parseConfig, type Config } from '../config.ts';
import { connectPostgres, SERVE_KEEPS_OPEN, type DatabaseHandle } from '../db/connect.ts';
import { loadMigrations, migrate, pendingMigrations, type Migration, type MigrationReport } from '../db/migrator.ts';
import { seedEnvironments } from '../db/queries/environments.ts';
import { createLogger } from '../log.ts';
import { databaseReadiness } from '../routes/health.ts';
import { absoluteUrl } from '../services/sessions.ts';
import { offerSetup } from '../services/setup.ts';
import { schedulerTick } from '../services/scheduler.ts';
import { openDatabase } from './embedded.ts';
import { Dispatcher } from '../delivery/dispatcher.ts';
import { DispatchLoop } from '../delivery/loop.ts';
import { MailDispatcher } from '../mail/dispatcher.ts';
import type { MailTransport } from '../mail/transport.ts';
import { checkDestination, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, send } from '../delivery/send.ts';
import { hostname } from 'node:os';

export { DataDirLocked, DataDirNotEmpty, openDatabase } from './embedded.ts';

/** How long start-up waits for the first build of the public data before it opens the port anyway. */
const WARM_UP_MAX_MS = 2_000;

/** How often each instance offers to run the maintenance scheduler (one acts at a time). */
const SCHEDULER_INTERVAL_MS = 10_000;

/** One logfmt line per event on stderr (src/log.ts); the app gets the same writer. */
const write = (line: string) => void process.stderr.write(`${line}\n`);
const log = createLogger(write);

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);
/**
 * Made once per page version, so a middle setting: most of the size win, little of the time. The
 * window is sized to the body (brotli's default is 4 MB, its ring buffer allocated whole for any
 * body over 64 KB) and brotli is told the size: output as small, and far less memory in the
 * encoders, which run on the thread pool, whose freed memory the process keeps.
 */
export const nodeCompress: Compressor = async (data, encoding) =>
  new Uint8Array(
    encoding === 'br'
      ? await brotli(data, { params: { [zlib.BROTLI_PARAM_QUALITY]: 6, [zlib.BROTLI_PARAM_SIZE_HINT]: data.byteLength, [zlib.BROTLI_PARAM_LGWIN]: brotliWindow(data.byteLength) } })
      : await gz(data, { level: 6 }),
  );

/** The smallest window that holds `bytes`, from brotli's least (2^10 bytes) to its default (2^22). */
export const brotliWindow = (bytes: number) => Math.min(zlib.BROTLI_DEFAULT_WINDOW, Math.max(zlib.BROTLI_MIN_WINDOW_BITS, Math.ceil(Math.log2(bytes + 1))));

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Answers snapshot hits before the Hono app (its `served` counts them). */
  readonly fastPath: FastPath;
  close(): Promise<void>;
}

/**
 * Applies pending migrations. On Postgres they run on a connection of their own with no query
 * timeout (a migration may build an index for minutes; the server's pool gives up after 5 s).
 * Given a `handle` (the embedded database, or a test's), on that handle.
 */
export async function migrateDatabase(config: Config, handle: DatabaseHandle | undefined, migrations?: readonly Migration[]): Promise<MigrationReport> {
  if (handle) return migrate(handle.db, migrations);
  if (!config.databaseUrl) throw new Error('migrateDatabase: the embedded database is migrated through its open handle');
  const own = await connectPostgres(config.databaseUrl, { max: 1, queryTimeoutMs: 0 });
  try {
    return await migrate(own.db, migrations);
  } finally {
    await own.close();
  }
}

/**
 * Migrates, then serves Herald over HTTP until closed. The database: `handle` (a test's, left
 * open on close), else `opening` (an `openDatabase` the caller started early), else opened here.
 */
export async function startServer(
  config: Config,
  options: { clock?: Clock; handle?: DatabaseHandle; opening?: Promise<DatabaseHandle>; hostname?: string; dispatchPollMs?: number } = {},
): Promise<RunningServer> {
  const handle = options.handle ?? (await (options.opening ?? openDatabase(config, { log, keepOpen: SERVE_KEEPS_OPEN })));
  const migrations = await loadMigrations();
  const report = await migrateDatabase(config, options.handle || handle.backend === 'pglite' ? handle : undefined, migrations);
  if (report.applied.length) log.info('migrated', { applied: report.applied.join(',') });
  await seedEnvironments(handle.db, config.environments);
  const changes = localChanges();
  const deps = { db: handle.db, clock: options.clock ?? systemClock, config, changes, ...(handle.commitOutcome ? { commitOutcome: handle.commitOutcome } : {}) };
  const fast = new FastPath(nodeCompress);
  const allow = { allow: config.webhookAllow };
  const app = createApp({
    ...deps,
    log: write,
    compress: nodeCompress,
    answers: fast,
    readiness: databaseReadiness(deps, () => pendingMigrations(handle.db, migrations)),
    checkDestination: (url) => checkDestination(url, allow),
  });
  // Other instances' writes arrive as NOTIFY; a lost connection means changes may have been missed.
  const stopListening = await handle.listen(CHANGES_CHANNEL, (origin) => origin !== changes.origin && changes.notify(), (error) => {
    if (error) log.warn('change notifications lost; reconnecting');
    else log.info('change notifications back');
    changes.notify('gap');
  });
  // The first visitor after a deploy should not wait for the first build of the public data (the
  // whole 90-day window, the pool's first connections): it is made before the port opens. A
  // database that does not answer in time is not waited for; the snapshot retries on demand.
  const warming = performance.now();
  const builtIn = await Promise.race([app.warmUp(), new Promise<undefined>((resolve) => void setTimeout(() => resolve(undefined), WARM_UP_MAX_MS).unref())]);
  // The scheduler starts and completes maintenance on time; at start-up it catches up once (after
  // the first build, which then has the process to itself: the scheduler's writes rebuild anyway).
  let ticking: Promise<void> = Promise.resolve();
  const tick = () => {
    ticking = schedulerTick(deps).then(
      (pass) => {
        if (pass.started.length || pass.completed.length) log.info('scheduler', { started: pass.started.join(',') || undefined, completed: pass.completed.join(',') || undefined });
        return undefined;
      },
      (error) => {
        log.warn('scheduler pass failed', { error: error instanceof Error ? error.message : String(error) });
      },
    );
  };
  tick();
  const timer = setInterval(tick, SCHEDULER_INTERVAL_MS);
  timer.unref();
  // Webhooks: the outbox is sent from here, woken by every committed write (ours, or another
  // instance's NOTIFY) and looking every second for retries that fell due.
  const policy = { ...allow, timeoutMs: DEFAULT_TIMEOUT_MS, maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES };
  const dispatcher = new Dispatcher({ ...deps, send: (dest) => send(dest, policy), sender: `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}` });
  const dispatching = new DispatchLoop(dispatcher, {
    ...(options.dispatchPollMs !== undefined ? { pollMs: options.dispatchPollMs } : {}),
    onPass: (pass) => log.info('webhooks', { notices: pass.fannedOut || undefined, attempts: pass.attempted || undefined, delivered: pass.delivered || undefined }),
    onTrouble: (error) => (error ? log.warn('webhook dispatch failing; retrying', { error: error instanceof Error ? error.message : String(error) }) : log.info('webhook dispatch working again')),
  });
  // Email subscribers: the same outbox, sent over SMTP_URL, or written as .eml files under the
  // data directory when there is none (so a newcomer sees what would have been sent).
  const transport = mailTransport(config);
  const mailer = new MailDispatcher({ ...deps, transport, site: { name: config.name, publicUrl: config.publicUrl, from: config.mail.from } });
  const mailing = new DispatchLoop(mailer, {
    ...(options.dispatchPollMs !== undefined ? { pollMs: options.dispatchPollMs } : {}),
    // Every write's notices pass through here; only a pass that sent mail is worth a line.
    onPass: (pass) => (pass.attempted ? log.info('mail', { attempts: pass.attempted, delivered: pass.delivered }) : undefined),
    onTrouble: (error) => (error ? log.warn('mail dispatch failing; retrying', { error: error instanceof Error ? error.message : String(error) }) : log.info('mail dispatch working again')),
  });
  const stopWaking = changes.subscribe(() => {
    dispatching.wake();
    mailing.wake();
  });
  dispatching.start();
  mailing.start();
  const server: ServerType = await new Promise((resolve) => {
    const s = serve(
      {
        fetch: app.fetch,
        port: config.port,
        ...(options.hostname ? { hostname: options.hostname } : {}),
        // Snapshot hits are answered before @hono/node-server builds a Request (fast-path.ts).
        createServer: ((serverOptions: object, listener: (req: IncomingMessage, res: ServerResponse) => void) =>
          createServer(serverOptions, (req, res) => {
            if (!fast.serve(req, res)) listener(req, res);
          })) as typeof createServer,
      },
      () => resolve(s),
    );
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info('listening', {
    url: `http://localhost:${port}`,
    database: options.handle ? handle.backend : handle.backend === 'pglite' ? `embedded:${config.dataDir}` : 'postgres',
    public_data: builtIn !== undefined ? `built in ${Math.round(builtIn)} ms` : `not built yet (${Math.round(performance.now() - warming)} ms)`,
  });
  // First run: no token yet, so the way in is a one-time link, printed here on purpose (its secret
  // is the point of the line). It stops working once any token exists.
  const setupPath = await offerSetup(handle.db, deps.clock.now());
  if (setupPath) log.info('no API token yet: open this link to make the first admin token and sign in', { url: absoluteUrl(config.publicUrl, setupPath) });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    fastPath: fast,
    close: async () => {
      clearInterval(timer);
      await ticking;
      stopWaking();
      await dispatching.stop();
      await mailing.stop();
      await transport.close();
      await stopListening();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.handle) await handle.close();
    },
  };
}

/**
 * The last line of defence: an error that no code path handled is logged and the server goes on
 * serving (a status page must outlive whatever failed). Every known source of such errors (pg
 * clients, the LISTEN connection, PGlite, the scheduler) handles its own, and the outage tests
 * check that this line never appears: if it does, a path is missing its handler.
 */
export function guardProcess(): void {
  const survive = (kind: string) => (error: unknown) => {
    const e = error instanceof Error ? error : new Error(String(error));
    log.error('unhandled error survived', { kind, error: `${e.name}: ${e.message}` });
  };
  process.on('uncaughtException', survive('exception'));
  process.on('unhandledRejection', survive('rejection'));
}

/** `herald serve`: start, and stop cleanly on SIGINT / SIGTERM. `opening`: as startServer's. */
export async function serveFromEnv(env: Record<string, string | undefined>, options: { opening?: Promise<DatabaseHandle> } = {}): Promise<void> {
  guardProcess();
  const config = parseConfig(env);
  const running = await startServer(config, options.opening ? { opening: options.opening } : {});
  // Only once it serves: under optimize-for-size the heap grows in small steps, and loading the
  // modules, PGlite and the first build then took twice the garbage collection (34 scavenges and 5
  // mark-compacts against 13 and 2: ~65 ms more, and ~0.2 s more to the first 200 of a restart).
  leanHeap();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/**
 * Subscribers' mail goes over SMTP_URL, or into .eml files under the data directory when there is
 * none (so a newcomer sees what would have been sent). The transport's code (nodemailer and its
 * MIME code: 0.3 MB, a third of the server's own bundle) is loaded at the first mail, not
 * compiled at every start: most starts send none.
 */
function mailTransport(config: Config): MailTransport {
  const dir = join(config.dataDir, 'mail');
  let loading: Promise<MailTransport> | undefined;
  const load = () =>
    (loading ??= import('../mail/transport.ts').then(({ fileTransport, smtpTransport }) =>
      config.mail.smtpUrl ? smtpTransport(config.mail.smtpUrl) : told(fileTransport(dir), () => log.info("no SMTP_URL: subscribers' mail is written as .eml files, not sent", { dir })),
    ));
  return {
    send: async (mail) => {
      let transport;
      try {
        transport = await load();
      } catch (error) {
        loading = undefined; // tried again at the next mail
        return { ok: false, permanent: false, error: `the mail transport did not load: ${error instanceof Error ? error.message : String(error)}` };
      }
      return transport.send(mail);
    },
    close: async () => {
      await (await loading?.catch(() => undefined))?.close();
    },
  };
}

/** The transport, telling `tell` once, at its first mail (a server without subscribers says nothing of mail). */
function told(transport: MailTransport, tell: () => void): MailTransport {
  let told = false;
  return {
    close: () => transport.close(),
    send: async (mail) => {
      const result = await transport.send(mail);
      if (result.ok && !told) {
        told = true;
        tell();
      }
      return result;
    },
  };
}
