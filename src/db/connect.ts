import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type { Database } from './schema.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import { isDatabaseUnavailable, type CommitOutcome } from './unavailable.ts';

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly backend: 'pglite' | 'postgres';
  /** The embedded database itself (for dumps and LISTEN); absent on Postgres. */
  readonly pglite?: import('@electric-sql/pglite').PGlite;
  /**
   * Calls `onNotify` for each NOTIFY on `channel`, and `onGap` whenever notifications may have
   * been missed (the listening connection was lost and is back). Returns a function that stops.
   */
  listen(channel: string, onNotify: (payload: string) => void, onGap: (error?: unknown) => void): Promise<() => Promise<void>>;
  /**
   * Asks the server what became of transaction `xid` (from `txid_current()`), on a connection of
   * its own, for up to `withinMs`. Absent on the embedded database, where a commit cannot be lost
   * in transit.
   */
  readonly commitOutcome?: (xid: string, withinMs: number) => Promise<CommitOutcome>;
  close(): Promise<void>;
}

/**
 * Connections `herald serve` keeps open on Postgres: a full build of the public data reads with
 * six queries at once (src/services/public-data.ts), and each connection opened on demand cost
 * that build ~15 ms on two cores (six at once: ~85 ms, the largest part of a cold build).
 */
export const SERVE_KEEPS_OPEN = 6;

export interface PostgresOptions {
  /** At most this many connections (10). */
  readonly max?: number;
  /** A query gives up after this long (5 s; 0: never). */
  readonly queryTimeoutMs?: number;
  /**
   * Opens this many connections now, in the background (a database that is down is not waited
   * for), and keeps at least as many open while idle: without it, the pool closes every idle
   * connection after `idleTimeoutMs`, and the first build after a quiet spell opens them again.
   */
  readonly keepOpen?: number;
  /** An idle connection beyond `keepOpen` is closed after this long (10 s). */
  readonly idleTimeoutMs?: number;
}

/** Postgres through `pg`: the path for production and for many instances on one database. */
export async function connectPostgres(url: string, options: PostgresOptions = {}): Promise<DatabaseHandle> {
  const { default: pg } = await import('pg');
  // A database that stops answering must not hang requests: connecting gives up after 3 s, a
  // query after 5 s (migrations, which may build indexes for minutes, pass 0: no limit), and TCP
  // keepalive notices a dead peer.
  const queryTimeout = options.queryTimeoutMs ?? 5_000;
  const keepOpen = options.keepOpen ?? 0;
  const pool = new pg.Pool({
    connectionString: url,
    // What pg_stat_activity shows; an application_name in the URL wins (pg reads the URL last).
    application_name: 'herald',
    max: options.max ?? 10,
    min: keepOpen,
    idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
    connectionTimeoutMillis: 3000,
    ...(queryTimeout > 0 ? { query_timeout: queryTimeout } : {}),
    keepAlive: true,
  });
  // A client that loses its server emits 'error'; with no listener Node ends the process. The pool
  // listens only while a client is idle, so every client gets a listener of its own for the time
  // it is checked out too (the query in flight reports the failure to its caller).
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: discardingBrokenClients(pool) }) });
  for (let i = 0; i < keepOpen; i++) pool.connect().then((client) => client.release(), () => {});
  return {
    db,
    backend: 'postgres',
    listen: (channel, onNotify, onGap) => listenPostgres(pg, url, channel, onNotify, onGap),
    commitOutcome: (xid, withinMs) => askCommitOutcome(pg, url, xid, withinMs),
    close: () => db.destroy(),
  };
}

/**
 * A pool whose clients are thrown away, not reused, once a query on them failed for want of the
 * server (lost connection, read timeout). A read timeout leaves the statement running on the
 * server and the ROLLBACK that follows unsent; reused, such a client would carry the failed
 * transaction into the next one and COMMIT it there. Ending it instead makes the server roll the
 * open transaction back when it reads the termination.
 */
function discardingBrokenClients(pool: import('pg').Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let broken: Error | undefined;
      const query = ((text: unknown, parameters?: readonly unknown[]) => {
        // Nothing more goes down a broken connection (the ROLLBACK after a timeout would only
        // queue behind the hung statement): the release below ends it, and the server rolls back.
        if (broken && typeof text === 'string') return Promise.reject(broken);
        const result = client.query(text as string, parameters as unknown[]) as unknown;
        if (!(result instanceof Promise)) return result; // a cursor: its reads fail on their own
        return result.catch((error: unknown) => {
          if (isDatabaseUnavailable(error)) broken = error as Error;
          throw error;
        });
      }) as PostgresPoolClient['query'];
      return { query, release: () => client.release(broken) };
    },
    end: () => pool.end(),
  };
}

/**
 * `txid_status` until it says committed or aborted. "in progress" means the server has not acted
 * on the COMMIT yet (a frozen server holds it in the socket): ask again. A server that crashed
 * before the commit reached its log says aborted once it is back.
 */
async function askCommitOutcome(pg: typeof import('pg').default, url: string, xid: string, withinMs: number): Promise<CommitOutcome> {
  const until = Date.now() + withinMs;
  for (;;) {
    const left = until - Date.now();
    if (left <= 0) return 'unknown';
    const step = Math.max(200, Math.min(2_000, left));
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: step, query_timeout: step });
    c.on('error', () => {});
    try {
      await c.connect();
      const { rows } = await c.query<{ status: string | null }>('select txid_status($1::bigint) as status', [xid]);
      const status = rows[0]?.status;
      if (status === 'committed' || status === 'aborted') return status;
    } catch {
      // not reachable yet: try again until the time is up
    } finally {
      void c.end().catch(() => {});
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(0, until - Date.now()))));
  }
}

/** The LISTEN connection's retry delays: 250 ms doubling to 5 s, each with up to 50 % jitter. */
export function reconnectDelay(attempt: number, random = Math.random): number {
  return Math.min(5_000, 250 * 2 ** attempt) * (0.5 + random() / 2);
}

/**
 * A dedicated connection that LISTENs, reconnecting with backoff while the server is away. It
 * reports a gap when it is lost and again when it is back: whatever changed meanwhile is unknown.
 */
async function listenPostgres(
  pg: typeof import('pg').default,
  url: string,
  channel: string,
  onNotify: (payload: string) => void,
  onGap: (error?: unknown) => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: import('pg').Client | undefined;
  let lost = false;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const retry = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, reconnectDelay(attempt++));
    timer.unref?.();
  };
  const connect = async (): Promise<void> => {
    if (stopped) return;
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000, keepAlive: true });
    c.on('notification', (n) => n.channel === channel && onNotify(n.payload ?? ''));
    c.on('error', () => {});
    c.on('end', () => {
      if (stopped || client !== c) return;
      client = undefined;
      lost = true;
      onGap(new Error('notification connection lost'));
      retry();
    });
    try {
      await c.connect();
      await c.query(`listen ${channel}`);
      if (stopped) {
        await c.end().catch(() => {});
        return;
      }
      client = c;
      attempt = 0;
      if (lost) {
        lost = false;
        onGap(); // back: whatever changed meanwhile is unknown, so treat it as a change
      }
    } catch {
      lost = true;
      await c.end().catch(() => {});
      retry();
    }
  };
  await connect();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await client?.end().catch(() => {});
  };
}

/**
 * What the embedded database is started with: PGlite's own start parameters, then smaller
 * buffers. Postgres's defaults are sized for a server of its own (shared_buffers 128MB, and
 * wal_buffers 1/32 of it); inside one wasm instance every buffer page it touches stays in the
 * process's RSS, since wasm memory only grows. A status page's working set is a few MB, and the
 * data files stay in the OS page cache, so a miss in shared_buffers costs a read(), not a disk
 * seek. Measured opening a migrated data directory (node 20, 2 cores): RSS 270 MB with the
 * defaults, 156 MB with these (121 MB once src/entry turns off the optimizing wasm compiler).
 * temp_buffers is per session and only used by temporary tables (Herald has none).
 * (The wasm memory's initial size stays PGlite's 128 MB: it is the module's declared minimum, and
 * untouched pages cost nothing.)
 */
export const PGLITE_SETTINGS: readonly string[] = ['shared_buffers=8MB', 'wal_buffers=1MB', 'temp_buffers=1MB'];

/**
 * The embedded database: Postgres compiled to WebAssembly, persisted in `dataDir`
 * (or in memory when `dataDir` is undefined, or loaded from a dump made by `dumpDataDir`).
 * A `dataDir` without a database is initialised here (initdb, in a second wasm instance: slow and
 * some 900 MB at its peak); `herald serve` never lets it come to that (src/entry/embedded.ts).
 */
export async function connectPGlite(options: { dataDir?: string; loadDataDir?: Blob } = {}): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create({
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir !== undefined ? { loadDataDir: options.loadDataDir } : {}),
    startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS.flatMap((s) => ['-c', s])],
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    backend: 'pglite',
    pglite,
    listen: async (channel, onNotify) => pglite.listen(channel, onNotify),
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}
