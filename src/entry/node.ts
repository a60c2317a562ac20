import { join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import { createApp } from '../app.ts';
import { CHANGES_CHANNEL, localChanges } from '../cache/changes.ts';
import type { Compressor } from '../routes/cached.ts';
import { FastPath } from './fast-path.ts';
import { renderWithoutAsyncHooks } from './jsx-context.ts';
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
import { keepKey, LastKnownWriter, readLastKnown } from './last-known.ts';
import { notOpenDatabase } from '../db/not-open.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { SnapshotState } from '../cache/snapshot.ts';
import type { PublicData } from '../services/public-data.ts';
import { Dispatcher } from '../delivery/dispatcher.ts';
import { DispatchLoop } from '../delivery/loop.ts';
import { MailDispatcher } from '../mail/dispatcher.ts';
import type { MailTransport } from '../mail/transport.ts';
import { checkDestination, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, send } from '../delivery/send.ts';
import { hostname } from 'node:os';

export { DataDirLocked, DataDirNotEmpty, openDatabase } from './embedded.ts';

/** How long start-up waits for the first build of the public data before it opens the port anyway. */
const WARM_UP_MAX_MS = 2_000;

/**
 * Stopping: requests in flight get this long to finish once the port is closed, then their
 * connections are cut (a client that never finishes sending its request would otherwise hold the
 * stop until node's headers/request timeouts, a minute or more).
 */
const REQUESTS_GRACE_MS = 5_000;
/**
 * Stopping: past this, `herald serve` logs what it was still waiting for and exits 1. Every
 * acknowledged write is committed by then; what is cut short is a goodbye to a dependency that
 * does not answer (a frozen Postgres never answers the end of a connection).
 */
const STOP_DEADLINE_MS = 10_000;

/** Closes the port: idle connections at once, busy ones when their request ends or the grace runs out. */
function closeServer(server: ServerType | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const cut = setTimeout(() => 'closeAllConnections' in server && server.closeAllConnections(), REQUESTS_GRACE_MS);
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
  });
}

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
  /** While close() runs: what it is waiting for now (for the line a stop past its deadline logs). */
  readonly closing: () => string | undefined;
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

/** While the database cannot be reached at start, how long between tries: doubling from the first to the last. */
const START_RETRY_MS = [500, 15_000] as const;

/**
 * Migrates, then serves Herald over HTTP until closed. The database: `handle` (a test's, left
 * open on close), else `opening` (an `openDatabase` the caller started early), else opened here.
 *
 * The port opens before the database when there is something to serve without it: the public
 * data the last run kept on disk (src/entry/last-known.ts), served marked stale while the
 * database opens, or a database that cannot be reached at start. Until the database answers and
 * is migrated, a stand-in app answers: the kept pages, 503 with Retry-After for anything that
 * needs the database, /healthz live and /readyz not ready; start-up is retried with backoff (only
 * for "unavailable" errors: a wrong password or a broken migration still ends the start).
 * Resolves once the real app serves; `signal` gives up the wait (closing what was opened).
 */
export async function startServer(
  config: Config,
  options: { clock?: Clock; handle?: DatabaseHandle; opening?: Promise<DatabaseHandle>; hostname?: string; keepLastKnown?: boolean; signal?: AbortSignal } = {},
): Promise<RunningServer> {
  renderWithoutAsyncHooks();
  const clock = options.clock ?? systemClock;
  const keep = (options.keepLastKnown ?? !options.handle) ? keepKey(config.databaseUrl) : undefined;
  const restored = keep ? await readLastKnown(config.dataDir, keep) : undefined;
  const fast = new FastPath(nodeCompress);
  let answer: (request: Request, env: unknown) => Response | Promise<Response> = () => new Response(null, { status: 503 });
  let live = false;
  let server: ServerType | undefined;
  const listen = (): Promise<ServerType> =>
    server
      ? Promise.resolve(server)
      : new Promise<ServerType>((resolve, reject) => {
          const s = serve(
            {
              fetch: (request, env) => answer(request, env),
              port: config.port,
              ...(options.hostname ? { hostname: options.hostname } : {}),
              // Snapshot hits are answered before @hono/node-server builds a Request (fast-path.ts).
              createServer: ((serverOptions: object, listener: (req: IncomingMessage, res: ServerResponse) => void) =>
                createServer(serverOptions, (req, res) => {
                  if (!live || !fast.serve(req, res)) listener(req, res);
                })) as typeof createServer,
            },
            () => {
              s.off('error', reject);
              server = s;
              resolve(s);
            },
          );
          s.once('error', reject); // the port in use, say
        });
  const portOf = (s: ServerType) => {
    const address = s.address();
    return typeof address === 'object' && address ? address.port : config.port;
  };
  let waiting = 'the database is not open yet; Herald is starting';
  const standIn = () => {
    const deps = { db: notOpenDatabase(() => waiting), clock, config, changes: localChanges(), databaseNotOpen: true };
    return createApp({ ...deps, log: write, compress: nodeCompress, readiness: async () => ({ ready: false, reason: waiting }), ...(restored ? { restored } : {}) }).fetch;
  };
  if (restored) {
    answer = standIn();
    const s = await listen().catch(async (error: unknown) => {
      // The port in use is most often another Herald on this data dir, which its lock says better.
      await (await options.opening)?.close();
      throw error;
    });
    log.info('serving the public data kept on disk until the database is open', { url: `http://localhost:${portOf(s)}`, built_at: restored.builtAt.toISOString() });
  }

  const migrations = await loadMigrations();
  let handle = options.handle;
  let opening = options.opening;
  let saidAt = -Infinity;
  for (let attempt = 0; ; attempt++) {
    try {
      handle ??= await (opening ?? openDatabase(config, { log, keepOpen: SERVE_KEEPS_OPEN }));
      const report = await migrateDatabase(config, options.handle || handle.backend === 'pglite' ? handle : undefined, migrations);
      if (report.applied.length) log.info('migrated', { applied: report.applied.join(',') });
      await seedEnvironments(handle.db, config.environments);
      if (attempt > 0) log.info('the database answers; starting');
      break;
    } catch (error) {
      opening = undefined;
      const giveUp = async (reason: unknown) => {
        await closeServer(server);
        if (handle && !options.handle) await handle.close().catch(() => {});
        throw reason;
      };
      if (!isDatabaseUnavailable(error) || options.signal?.aborted) await giveUp(error);
      const message = error instanceof Error ? error.message : String(error);
      waiting = `the database cannot be reached: ${message}`;
      if (!server) {
        answer = standIn();
        await listen();
      }
      // Said at the first failure and then once a minute, not at every retry.
      if (performance.now() - saidAt >= 60_000) {
        saidAt = performance.now();
        log.warn('the database cannot be reached at start; serving what needs no database, and retrying', { url: `http://localhost:${portOf(server!)}`, error: message, kept_data: restored ? restored.builtAt.toISOString() : 'none' });
      }
      const delay = Math.min(START_RETRY_MS[1], START_RETRY_MS[0] * 2 ** attempt);
      await abortableSleep(delay * (0.75 + Math.random() / 2), options.signal).catch(giveUp);
    }
  }

  const changes = localChanges();
  // The delivery loops start last; until then a write that queued something finds them asleep.
  let wakeLoops = () => {};
  const deps = { db: handle.db, clock, config, changes, queued: () => wakeLoops(), ...(handle.commitOutcome ? { commitOutcome: handle.commitOutcome } : {}) };
  const allow = { allow: config.webhookAllow };
  const keeper = keep ? new LastKnownWriter(config.dataDir, keep, (error) => log.warn('the public data could not be kept on disk', { error: error instanceof Error ? error.message : String(error) })) : undefined;
  const app = createApp({
    ...deps,
    log: write,
    compress: nodeCompress,
    answers: fast,
    readiness: databaseReadiness(deps, () => pendingMigrations(handle.db, migrations)),
    checkDestination: (url) => checkDestination(url, allow),
    ...(restored ? { restored } : {}),
    ...(keeper ? { onPublicData: (state: SnapshotState<PublicData>) => keeper.offer(state) } : {}),
  });
  // Other instances' writes arrive as NOTIFY; a lost connection means changes may have been missed.
  const stopListening = await handle.listen(CHANGES_CHANNEL, (origin) => origin !== changes.origin && changes.notify(), (error) => {
    if (error) log.warn('change notifications lost; reconnecting');
    else log.info('change notifications back');
    changes.notify('gap');
  });
  // The first visitor after a deploy should not wait for the first build of the public data (the
  // whole 90-day window, the pool's first connections): it is made before the real app takes
  // over. A database that does not answer in time is not waited for; the snapshot retries on demand.
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
  // instance's NOTIFY) and, between writes, when the next retry or lease falls due.
  const policy = { ...allow, timeoutMs: DEFAULT_TIMEOUT_MS, maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES };
  const dispatcher = new Dispatcher({ ...deps, send: (dest) => send(dest, policy), sender: `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}` });
  const dispatching = new DispatchLoop(dispatcher, {
    onPass: (pass) => log.info('webhooks', { notices: pass.fannedOut || undefined, attempts: pass.attempted || undefined, delivered: pass.delivered || undefined }),
    onTrouble: (error) => (error ? log.warn('webhook dispatch failing; retrying', { error: error instanceof Error ? error.message : String(error) }) : log.info('webhook dispatch working again')),
  });
  // Email subscribers: the same outbox, sent over SMTP_URL, or written as .eml files under the
  // data directory when there is none (so a newcomer sees what would have been sent).
  const transport = mailTransport(config);
  const mailer = new MailDispatcher({ ...deps, transport, site: { name: config.name, publicUrl: config.publicUrl, from: config.mail.from } });
  const mailing = new DispatchLoop(mailer, {
    // Every write's notices pass through here; only a pass that sent mail is worth a line.
    onPass: (pass) => (pass.attempted ? log.info('mail', { attempts: pass.attempted, delivered: pass.delivered }) : undefined),
    onTrouble: (error) => (error ? log.warn('mail dispatch failing; retrying', { error: error instanceof Error ? error.message : String(error) }) : log.info('mail dispatch working again')),
  });
  wakeLoops = () => {
    dispatching.wake();
    mailing.wake();
  };
  const stopWaking = changes.subscribe(() => wakeLoops());
  dispatching.start();
  mailing.start();
  answer = app.fetch;
  live = true;
  const opened = handle;
  let closing: string | undefined;
  const close = async () => {
    closing = 'the maintenance scheduler';
    clearInterval(timer);
    await ticking;
    stopWaking();
    closing = 'webhook and mail deliveries in flight';
    await Promise.all([dispatching.stop(), mailing.stop()]);
    await transport.close();
    closing = 'the database to end the LISTEN connection';
    await stopListening();
    closing = 'requests in flight';
    await closeServer(server);
    closing = 'the public data to be kept on disk';
    await keeper?.close();
    closing = 'the database to close';
    if (!options.handle) await opened.close();
    closing = undefined;
  };
  const port = portOf(
    await listen().catch(async (error: unknown) => {
      await close();
      throw error;
    }),
  );
  log.info('listening', {
    url: `http://localhost:${port}`,
    database: options.handle ? handle.backend : handle.backend === 'pglite' ? `embedded:${config.dataDir}` : 'postgres',
    public_data: builtIn !== undefined ? `built in ${Math.round(builtIn)} ms` : `not built yet (${Math.round(performance.now() - warming)} ms)`,
  });
  // First run: no token yet, so the way in is a one-time link, printed here on purpose (its secret
  // is the point of the line). It stops working once any token exists.
  const setupPath = await offerSetup(handle.db, deps.clock.now()).catch((error: unknown) => {
    log.warn('could not check for a first token; the setup link is offered at the next start', { error: error instanceof Error ? error.message : String(error) });
    return undefined;
  });
  if (setupPath) log.info('no API token yet: open this link to make the first admin token and sign in', { url: absoluteUrl(config.publicUrl, setupPath) });
  return { url: `http://127.0.0.1:${port}`, port, fastPath: fast, close, closing: () => closing };
}

/** Waits `ms`, or rejects with the signal's reason once it is aborted. */
function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
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
  // A log reader that went away (a closed pipe into a log shipper) fails every write with EPIPE.
  // That costs the lines, nothing more: unheard, the error would come back here, whose line would
  // fail again, round and round at 100 % CPU, deaf to SIGTERM.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
}

/** `herald serve`: start, and stop cleanly on SIGINT / SIGTERM. `opening`: as startServer's. */
export async function serveFromEnv(env: Record<string, string | undefined>, options: { opening?: Promise<DatabaseHandle> } = {}): Promise<void> {
  guardProcess();
  const config = parseConfig(env);
  // A signal may come while start-up still waits for the database: it gives up that wait.
  const starting = new AbortController();
  let running: RunningServer | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    if (!running) return starting.abort(new Error(`stopped by ${signal} while starting`));
    closeWithin(running);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  try {
    running = await startServer(config, { ...(options.opening ? { opening: options.opening } : {}), signal: starting.signal });
  } catch (error) {
    if (starting.signal.aborted) process.exit(0);
    throw error;
  }
  // Only once it serves: with the heap growing in small steps, loading the modules, PGlite and the
  // first build took twice the garbage collection (34 scavenges and 5 mark-compacts against 13 and
  // 2: ~65 ms more, and ~0.2 s more to the first 200 of a restart; measured with optimize-for-size).
  leanHeap();
  if (stopping) closeWithin(running);
}

/** Closes the server and exits: 0 once closed, 1 if closing failed or did not end by the deadline. */
function closeWithin(running: RunningServer): void {
  const deadline = setTimeout(() => {
    log.error('could not stop in time; exiting anyway', { within: `${STOP_DEADLINE_MS / 1000}s`, waiting_for: running.closing() ?? 'unknown' });
    process.exit(1);
  }, STOP_DEADLINE_MS);
  deadline.unref();
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
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
