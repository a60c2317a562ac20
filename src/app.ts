import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { type Late, NotYet, Snapshot, type SnapshotState } from './cache/snapshot.ts';
import { AppError, errorBody } from './errors.ts';
import { isDatabaseUnavailable } from './db/unavailable.ts';
import { logLine } from './log.ts';
import { PublicDataBuilder, type PublicData } from './services/public-data.ts';
import { cachedAnswers, warmRendering, type AnswerRecorder, type Compressor } from './routes/cached.ts';
import type { Deps } from './services/deps.ts';
import { healthRoutes, type Readiness } from './routes/health.ts';
import { herokuRoutes } from './routes/heroku.ts';
import { BODY_LIMIT_BYTES } from './routes/http.ts';
import { ALERT_BODY_LIMIT_BYTES, alertRoutes, alertRuleRoutes } from './routes/alerts.ts';
import { subscribeRoutes, subscriberApiRoutes } from './routes/subscribe.tsx';
import { incidentRoutes } from './routes/incidents.ts';
import { errorHtml, pageRoutes, samplePage } from './routes/pages.tsx';
import { feedRoutes } from './routes/feed.ts';
import { calendarRoutes } from './routes/calendar.ts';
import { platformRoutes } from './routes/platform.ts';
import { statuspageRoutes } from './routes/statuspage.ts';
import { maintenanceRoutes } from './routes/maintenance.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { componentRoutes } from './routes/components.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { checkDestinationName } from './delivery/address-policy.ts';
import type { DestinationCheck } from './services/webhooks.ts';
import { consoleRoutes } from './routes/console/index.tsx';
import { consoleLinkRoutes } from './routes/console-links.ts';

export interface AppDeps extends Deps {
  readonly readiness: Readiness;
  /** Where operational log lines go (one logfmt line each); never given secrets. */
  readonly log: (line: string) => void;
  /** Compression for cached public responses (node:zlib on Node); absent means identity only. */
  readonly compress?: Compressor;
  /**
   * A cheap token that changes whenever public data changes (Workers: no NOTIFY reaches an
   * isolate). When given, it is read before each GET/HEAD and the snapshot is invalidated when it
   * differs from the last one seen. If reading it fails, the request goes on with what is cached.
   */
  readonly publicVersion?: () => Promise<string>;
  /** Takes every answer served from the snapshot, with its final headers (Node's fast path). */
  readonly answers?: AnswerRecorder;
  /**
   * How long a request waits for a write it is owed to reach the public data (Snapshot's
   * `waitMs`, 2 s by default). Tests on a loaded machine give it more: they assert that the write
   * is there, not how fast.
   */
  readonly freshWaitMs?: number;
  /**
   * Whether a URL may receive webhooks (null) or why not. Node resolves its name and checks every
   * address; the default, for Workers, checks what the URL itself says.
   */
  readonly checkDestination?: DestinationCheck;
  /** Public data an earlier process built (Node keeps it on disk): served, marked stale, until the first build. */
  readonly restored?: { readonly data: PublicData; readonly builtAt: Date };
  /**
   * The database is known not to be open (Node's stand-in while it starts): rebuilds of the
   * public data fail by design, so their failing is not logged.
   */
  readonly databaseNotOpen?: boolean;
  /** Told of every build of the public data (Node writes the last one to disk). */
  readonly onPublicData?: (state: SnapshotState<PublicData>) => void;
}

/**
 * A strict policy: nothing from elsewhere, no inline script or style. Pages work without
 * JavaScript; the one script is our own file.
 */
const CSP = {
  defaultSrc: ["'none'"],
  styleSrc: ["'self'"],
  scriptSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

const FEEDS = ['/feed.rss', '/feed.atom', '/maintenance.ics'];
const wantsHtml = (path: string, accept: string | undefined) => !path.startsWith('/api/') && !FEEDS.includes(path) && (accept ?? '').includes('text/html');

/**
 * The snapshot of what public pages show, built from the database. A failing rebuild is logged
 * when it starts failing and when it recovers, not on every retry.
 */
function publicSnapshot(deps: AppDeps, builder: PublicDataBuilder): Snapshot<PublicData> {
  let failing = false;
  const build = () => builder.build(deps.clock.now());
  // A pooled connection the server closed while it sat idle fails at once and is then dropped:
  // one more try gets a live one (a database that is really down fails that one as fast).
  const closedWhileIdle = (error: unknown) => error instanceof Error && /Connection terminated unexpectedly|terminating connection/.test(error.message);
  return new Snapshot(async () => {
    try {
      const data = await build().catch((error: unknown) => (closedWhileIdle(error) ? build() : Promise.reject(error)));
      if (failing) deps.log(logLine('info', 'public data rebuilt again'));
      failing = false;
      return data;
    } catch (error) {
      if (!failing && !deps.databaseNotOpen) deps.log(logLine('warn', 'public data could not be rebuilt; serving the last snapshot', { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }));
      failing = true;
      throw error;
    }
  }, { clock: deps.clock, onLate: lateLogger(deps), ...(deps.freshWaitMs !== undefined ? { waitMs: deps.freshWaitMs } : {}), ...(deps.onPublicData ? { onBuilt: deps.onPublicData } : {}) });
}

/**
 * Logs why a visitor got older data than asked for (see Snapshot's onLate), at most one line per
 * reason every 10 s: under load this could otherwise be one line per request.
 */
function lateLogger(deps: AppDeps): (late: Late) => void {
  const loggedAt = new Map<string, number>();
  return (late) => {
    if (late.reason === 'page not made' && late.error instanceof NotYet) return; // a slow database: the rebuild's own lines say so
    const at = performance.now();
    if (at - (loggedAt.get(late.reason) ?? -Infinity) < 10_000) return;
    loggedAt.set(late.reason, at);
    if (late.reason === 'page not made') {
      const error = late.error instanceof Error ? `${late.error.name}: ${late.error.message}` : String(late.error);
      deps.log(logLine('warn', 'a public page could not be made; serving the last one, marked stale', { key: late.key, error }));
    } else {
      deps.log(logLine('warn', 'a write is not in the public data yet; serving the data before it, marked stale', { waited_ms: late.waitedMs, rebuilding: late.rebuilding }));
    }
  };
}

/** The whole HTTP surface as one Hono app. Knows nothing of Node or Workers: deps bring the world in. */
export function createApp(deps: AppDeps) {
  const app = new Hono();
  // Incremental: after the first build, only the incidents changed since the last one are read.
  // After a gap in notifications the next build reads everything, whatever happened meanwhile.
  const builder = new PublicDataBuilder(deps.db, deps.config);
  const snapshot = publicSnapshot(deps, builder);
  if (deps.restored) snapshot.restore(deps.restored.data, deps.restored.builtAt);
  deps.changes.subscribe((kind) => {
    if (kind === 'gap') builder.reset();
    snapshot.invalidate(kind);
  });
  if (deps.answers) {
    const answers = deps.answers;
    answers.attach(snapshot);
    // Outermost, so it sees the response as it leaves: every other middleware has had its say.
    app.use('*', async function recordAnswer(c, next) {
      await next();
      const answer = cachedAnswers.get(c.req.raw);
      if (answer) answers.record(c.env, answer, c.res);
    });
  }
  if (deps.publicVersion) {
    const publicVersion = deps.publicVersion;
    let seen: string | undefined;
    app.use('*', async function checkPublicVersion(c, next) {
      if ((c.req.method === 'GET' || c.req.method === 'HEAD') && c.req.path !== '/healthz' && c.req.path !== '/readyz') {
        const version = await publicVersion().catch(() => undefined);
        if (version !== undefined && version !== seen) {
          if (seen !== undefined) snapshot.invalidate();
          seen = version;
        }
      }
      return next();
    });
  }

  // overwrite: false lets a route choose its own value (the console's Referrer-Policy).
  app.use('*', secureHeaders({ crossOriginResourcePolicy: 'cross-origin', contentSecurityPolicy: CSP, overwrite: false }));
  // Public reads are for anyone's widgets. Hono's cors() touches the response before the handler
  // runs, which makes Hono rebuild the cached response; for GET/HEAD the headers go on afterwards.
  const preflight = cors({ origin: '*', allowMethods: ['GET', 'HEAD'], exposeHeaders: ['ETag', 'Link', 'Retry-After'] });
  const publicCors: MiddlewareHandler = async function publicCors(c, next) {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    await next();
    c.res.headers.set('Access-Control-Allow-Origin', '*');
    c.res.headers.set('Access-Control-Expose-Headers', 'ETag,Link,Retry-After');
  };
  app.use('/api/*', publicCors);
  for (const feed of FEEDS) app.use(feed, publicCors);
  app.use('/api/*', async function limitWrites(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    const maxSize = /^\/api\/v1\/alerts\/(alertmanager|grafana)$/.test(c.req.path) ? ALERT_BODY_LIMIT_BYTES : BODY_LIMIT_BYTES;
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new AppError('request.too_large', `The request body is larger than ${maxSize / 1024} KiB.`);
      },
    })(c, next);
  });

  let unavailableLoggedAt = -Infinity;
  let unavailableUnlogged = 0;
  app.onError((err, c) => {
    if (err instanceof AppError) {
      if (err.status === 503) c.header('Retry-After', '5');
      return c.json(err.toJSON(), err.status);
    }
    if (err instanceof HTTPException && err.status < 500) {
      return c.json(errorBody('request.unreadable', err.message || 'The request could not be read.'), err.status);
    }
    if (isDatabaseUnavailable(err)) {
      // One line per 10 s, not one per request: an outage under load must not flood the log.
      const at = performance.now();
      if (at - unavailableLoggedAt >= 10_000) {
        deps.log(logLine('warn', 'database unavailable', { method: c.req.method, path: c.req.path, error: `${err.name}: ${err.message}`, more: unavailableUnlogged || undefined }));
        unavailableLoggedAt = at;
        unavailableUnlogged = 0;
      } else unavailableUnlogged++;
      c.header('Retry-After', '5');
      if ((c.req.method === 'GET' || c.req.method === 'HEAD') && wantsHtml(c.req.path, c.req.header('accept'))) return c.html(errorHtml(deps, 503), 503);
      return c.json(errorBody('database.unavailable', 'Herald cannot reach its database right now. Nothing was changed; please retry shortly.'), 503);
    }
    deps.log(logLine('error', 'unhandled error', { method: c.req.method, path: c.req.path, error: `${err.name}: ${err.message}` }));
    if (wantsHtml(c.req.path, c.req.header('accept'))) return c.html(errorHtml(deps, 500), 500);
    return c.json(errorBody('server.internal_error', 'Something went wrong on our side. It has been logged; please try again.'), 500);
  });

  app.notFound((c) => {
    if (wantsHtml(c.req.path, c.req.header('accept'))) return c.html(errorHtml(deps, 404), 404);
    return c.json(errorBody('request.no_route', `Nothing at ${c.req.method} ${c.req.path}.`), 404);
  });

  // Ready means visitors get fresh pages: the database answers and the snapshot could be rebuilt.
  const readiness: Readiness = async () => {
    const r = await deps.readiness();
    if (!r.ready || (snapshot.failingSince === null && !snapshot.lastError)) return r;
    return (await snapshot.refresh())
      ? r
      : { ready: false, reason: `serving the last public data; it could not be rebuilt since ${snapshot.failingSince?.toISOString() ?? 'just now'}` };
  };
  app.route('/', healthRoutes({ ...deps, readiness }));
  app.route('/api/v1/tokens', tokenRoutes(deps));
  const webhookDeps = { ...deps, checkDestination: deps.checkDestination ?? (async (url: string) => checkDestinationName(url, deps.config.webhookAllow)) };
  app.route('/api/v1/webhooks', webhookRoutes(webhookDeps));
  app.route('/api/v1/console/links', consoleLinkRoutes(deps));
  app.route('/api/v1/alerts', alertRoutes(deps));
  app.route('/api/v1/alert-rules', alertRuleRoutes(deps));
  app.route('/api/v1/subscribers', subscriberApiRoutes(deps));
  app.route('/api/v1', platformRoutes(deps, snapshot, deps.compress));
  app.route('/api/v1', maintenanceRoutes(deps));
  app.route('/api/v1', componentRoutes(deps, snapshot));
  app.route('/api/v1', incidentRoutes(deps, snapshot, deps.compress));
  app.route('/api', herokuRoutes(deps, snapshot, deps.compress));
  app.route('/api/v2', statuspageRoutes(deps, snapshot, deps.compress));
  app.route('/console', consoleRoutes(webhookDeps));
  app.route('/', subscribeRoutes(deps));
  app.route('/', feedRoutes(deps, snapshot, deps.compress));
  app.route('/', calendarRoutes(deps, snapshot, deps.compress));
  app.route('/', pageRoutes(deps, snapshot, deps.compress));
  return Object.assign(app, {
    /**
     * Builds the public data now rather than for the first visitor (a server starting up): the
     * first build reads the whole 90-day window and opens the pool's connections. Loads what
     * making a page loads on first use, too (WebCrypto, brotli, the renderers); the pages
     * themselves are made when first asked for. Resolves to how long the build took (ms), or
     * undefined if it failed: a failure is left for the snapshot to retry when a page asks.
     */
    warmUp: async (): Promise<number | undefined> => {
      const started = performance.now();
      const built = await snapshot.refresh();
      const took = performance.now() - started;
      await warmRendering(() => samplePage(deps), deps.compress);
      return built ? took : undefined;
    },
  });
}
