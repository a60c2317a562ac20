/**
 * `npm run bench:history`: does the front page's cost grow with history?
 *
 * Seeds Postgres with 100,000 incidents and ~1,000,000 updates over ten years (set-based SQL,
 * deterministic: the same ids get the same data on every run), with a slice in the last 90 days
 * and a few open incidents. Alongside it, two small databases for comparison: one holding only
 * the last-90-days slice and the open incidents (same rows, no older history), and an empty one.
 *
 * Measures, each printed with what it is compared to, and against its target at the end:
 * - the first, uncached build of `/` in a warm process (a fresh app: full build, render, ETag,
 *   brotli; target < 50 ms) and in a cold one (a freshly started `herald serve`: its first GET /,
 *   and the first build of the public data it made at start-up, with the closed incidents'
 *   stretches kept by earlier builds and, once, with none kept; target < 100 ms);
 * - the rebuild after one posted update (target < 20 ms): BENCH_UPDATES updates posted through
 *   the use case to the open incidents in turn, each followed by the snapshot's (incremental)
 *   build, median and p99; then the whole GET / after each (rebuild, render, compression), in
 *   this process and on a running server after a POST through the HTTP API;
 * - cached throughput of `/` with autocannon, big database vs the recent-only one (target within
 *   5 %): the same page, so history is the only difference. The empty database is loaded in the
 *   same turns and reported beside them; its page is another (no incidents in the 90 days), so it
 *   tells what the window's content costs, not what history costs (docs/ARCHITECTURE.md);
 * - the server's RSS from /proc/<pid>/status;
 * - EXPLAIN ANALYZE of every query a full and an incremental build run, on the big database.
 *
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432/herald_bench) names the big database;
 * `<name>_recent` and `<name>_empty` are made next to it. All three are dropped and recreated
 * (only if the name contains "bench") and dropped at the end unless BENCH_KEEP=1; BENCH_REUSE=1
 * takes the ones a kept run left (migrated to the current schema) if they still hold what a seed
 * makes: a run that got as far as posting updates (more of them to the big database's open
 * incidents, whose page is then another) leaves them to be seeded again. Every process the bench
 * starts is stopped at the end, and killed on Ctrl-C.
 * Knobs: BENCH_INCIDENTS (100000), BENCH_RECENT (incidents closed in the last 90 days, 1000),
 * BENCH_UPDATES (posted updates timed, 100), BENCH_DURATION (measured s per database, 10),
 * BENCH_WARMUP (s, 2), BENCH_CONNECTIONS (50), BENCH_ROUNDS (10: the measured seconds alternate
 * empty / recent / big in that many rounds), BENCH_QUIET_WAIT (s, 30: before each round, wait up to that
 * long for the machine to be quiet).
 */
import { Session } from 'node:inspector/promises';
import { Kysely, PostgresDialect, sql, type LogEvent } from 'kysely';
import pg from 'pg';
import { createApp } from '../src/app.ts';
import { CHANGES_CHANNEL, localChanges } from '../src/cache/changes.ts';
import { systemClock } from '../src/clock.ts';
import { parseConfig } from '../src/config.ts';
import { migrate } from '../src/db/migrator.ts';
import { seedEnvironments } from '../src/db/queries/environments.ts';
import type { Database } from '../src/db/schema.ts';
import { nodeCompress } from '../src/entry/node.ts';
import * as q from '../src/db/queries/incidents.ts';
import { segmentsOfPoints, statusSegments } from '../src/domain/timeline.ts';
import { dailyBars } from '../src/domain/uptime.ts';
import { operator, type Actor, type Deps } from '../src/services/deps.ts';
import { postUpdate } from '../src/services/incidents.ts';
import { BAR_DAYS, buildPublicData, PublicDataBuilder } from '../src/services/public-data.ts';
import { groupByIncident, toEntry } from '../src/services/read-model.ts';
import { createToken } from '../src/services/tokens.ts';
import { header, jsonRequest, rawGet } from './bench/http.ts';
import { load, loadInterleaved, waitForQuiet, type LoadResult } from './bench/load.ts';
import { cpuMs, freePort, killChildren, memoryKb, startHerald, type Child } from './bench/processes.ts';
import { summarizeProfile, type CpuProfile, type ProfileSummary } from './bench/profile.ts';
import { int, kib, machineLine, mib, ms, percentile, say, table } from './bench/report.ts';

const BIG_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/herald_bench';
const INCIDENTS = Number(process.env.BENCH_INCIDENTS ?? 100_000);
const RECENT = Number(process.env.BENCH_RECENT ?? 1_000);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
/** Ten rounds of 1 s, not four of 2.5 s: shorter turns leave less to the machine's drift (bench.ts, ROUNDS). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const QUIET_WAIT = Number(process.env.BENCH_QUIET_WAIT ?? 30);
const UPDATES = Number(process.env.BENCH_UPDATES ?? 100);
const OPEN = 5; // 3 incidents, 1 running maintenance, 1 scheduled maintenance

const TARGET_WARM_MS = 50;
const TARGET_COLD_MS = 100;
const TARGET_REBUILD_MS = 20;
const TARGET_THROUGHPUT = 0.05;

const BROWSER = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'accept-encoding': 'gzip, br',
  'accept-language': 'en-US,en;q=0.9',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
};

const dbUrl = (name: string) => {
  const u = new URL(BIG_URL);
  u.pathname = `/${name}`;
  return u.toString();
};
const BIG = decodeURIComponent(new URL(BIG_URL).pathname.slice(1));
const NAMES = { big: BIG, recent: `${BIG}_recent`, empty: `${BIG}_empty` } as const;
type Which = keyof typeof NAMES;

const secs = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

// ---- databases ----------------------------------------------------------------------------------

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: dbUrl('postgres') });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function recreate(name: string): Promise<void> {
  await admin(async (c) => {
    await c.query(`drop database if exists ${quoteIdent(name)} with (force)`);
    await c.query(`create database ${quoteIdent(name)}`);
  });
}

async function drop(name: string): Promise<void> {
  await admin((c) => c.query(`drop database if exists ${quoteIdent(name)} with (force)`));
}

function kysely(url: string, onQuery?: (e: LogEvent) => void) {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(onQuery ? { log: onQuery } : {}) });
}

const config = parseConfig({ PUBLIC_URL: 'http://127.0.0.1:3000' });

async function migrated(name: string): Promise<void> {
  const db = kysely(dbUrl(name));
  try {
    await migrate(db);
    await seedEnvironments(db, config.environments);
  } finally {
    await db.destroy();
  }
}

// ---- seed ---------------------------------------------------------------------------------------

/**
 * A deterministic 31-bit hash of (id, salt): the same incident gets the same data in every database.
 */
const H = (salt: number, id = 'i') => `((hashint4(${id} * 16 + ${salt})::int8 + 2147483648) % 2147483647)`;

/**
 * Closed incidents `from..to` (ids), ten years up to 90 days ago for ids ≤ old, the last 90 days
 * after. About 4 % maintenance. 3–17 updates each (10 on average), Markdown messages of a few
 * hundred characters, statuses and modes as commanders set them, 5 % with a published postmortem,
 * 0.5 % of updates hidden.
 */
function seedClosedSql(from: number, to: number, old: number): string {
  return `
create temporary table plan on commit drop as
select i as id,
  case when ${H(1)} % 100 < 4 then 'maintenance' else 'incident' end as kind,
  (case when i <= ${old}
     then $1::timestamptz - interval '3650 days' + (i - 1) * ((interval '3650 days' - interval '91 days') / ${old})
     else $1::timestamptz - interval '89 days' + (i - ${old} - 1) * (interval '88 days' / ${Math.max(1, RECENT)})
   end) + (${H(2)} % 360) * interval '1 minute' as t0,
  (20 + ${H(3)} % 460)::int4 as dur,
  (3 + ${H(4)} % 15)::int4 as n,
  case when ${H(5)} % 100 < 80 then 'production' else 'development' end as env,
  case when ${H(6)} % 3 = 0 then 'red' else 'yellow' end as sev,
  ${H(7)} % 100 < 10 as read_only,
  ${H(8)} % 100 < 5 as postmortem,
  (array['Platform API','Dashboard','Build pipeline','Postgres add-on','Router','Log drains','Scheduler','Metrics'])[1 + ${H(9)} % 8] as component,
  (array['us-east','eu-west','ap-southeast','us-west'])[1 + ${H(10)} % 4] as region
from generate_series(${from}, ${to}) i;

insert into incidents (id, kind, title, state, started_at, resolved_at, updated_at, created_at, created_by,
  scheduled_for, scheduled_until, postmortem, postmortem_updated_at, postmortem_published_at)
overriding system value
select id, kind,
  case when kind = 'maintenance' then format('Scheduled maintenance: %s upgrade (%s)', component, region)
       else format('%s %s in %s', component, case sev when 'red' then 'unavailable' else 'degraded performance' end, region) end,
  case when kind = 'maintenance' then 'completed' else 'resolved' end,
  case when kind = 'maintenance' then t0 - interval '3 days' else t0 end,
  t0 + dur * interval '1 minute',
  t0 + dur * interval '1 minute',
  case when kind = 'maintenance' then t0 - interval '3 days' else t0 end,
  'bench',
  case when kind = 'maintenance' then t0 end,
  case when kind = 'maintenance' then t0 + interval '4 hours' end,
  case when postmortem and kind = 'incident' then format(E'## Summary\\n\\nFor %s minutes the %s in %s was %s.\\n\\n## Timeline\\n\\n| time | event |\\n| --- | --- |\\n| T+0 | alerts fire |\\n| T+9 | incident declared |\\n\\n## What we are changing\\n\\n- staged rollouts\\n- pool limits checked in CI\\n', dur, component, region, sev) end,
  case when postmortem and kind = 'incident' then t0 + interval '3 days' end,
  case when postmortem and kind = 'incident' then t0 + interval '4 days' end
from plan;

insert into incident_updates (incident_id, at, created_at, state, message, statuses, modes, author, hidden_at, hidden_reason)
select p.id, u.at, u.at, u.state,
  case u.state
    when 'investigating' then format(E'We are **investigating** elevated error rates on the %s in \`%s\`. Some requests fail with \`H12\` or \`503\`.\\n\\n- Affected: %s (%s)\\n- Not affected: running dynos keep serving traffic\\n\\nFollow along on [the incident page](https://status.example.com/incidents/%s).', p.component, p.region, p.component, p.region, p.id)
    when 'identified' then format(E'The cause is **identified**: a configuration change to the %s fleet exhausted connection pools.%s\\n\\n1. The change has been reverted.\\n2. Pools are being recycled region by region.', p.component, repeat(' Queued work is retried automatically.', (k % 3)::int4))
    when 'monitoring' then format(E'A fix is in place and we are *monitoring* the %s. Error rates in \`%s\` are back to normal.\\n\\n> If you still see failures, please retry.', p.component, p.region)
    when 'resolved' then format(E'This incident is **resolved**. The %s has been operating normally for 30 minutes.', p.component)
    when 'scheduled' then format(E'We will upgrade the %s in %s during the maintenance window. Expect brief interruptions; running apps are not affected.', p.component, p.region)
    when 'in_progress' then format('Maintenance of the %s is **in progress**.', p.component)
    when 'verifying' then 'The upgrade is done; we are *verifying* that everything works as expected.'
    else format('Maintenance of the %s is **completed**.', p.component)
  end,
  u.statuses, u.modes, 'bench',
  case when ${H(11, 'p.id * 32 + k')} % 1000 < 5 and k > 0 and k < p.n - 1 then u.at + interval '5 minutes' end,
  case when ${H(11, 'p.id * 32 + k')} % 1000 < 5 and k > 0 and k < p.n - 1 then 'posted to the wrong incident' end
from plan p
cross join lateral generate_series(0, p.n - 1) k
cross join lateral (
  select
    case when p.kind = 'incident' then
      case when k = p.n - 1 then 'resolved' when k = 0 then 'investigating' when k * 2 < p.n then 'identified' else 'monitoring' end
    else
      case when k = p.n - 1 then 'completed' when k = 0 then 'scheduled' when k = 1 then 'in_progress' when k % 2 = 0 then 'verifying' else 'in_progress' end
    end as state,
    case when p.kind = 'maintenance' and k = 0 then p.t0 - interval '3 days'
         else p.t0 + (p.dur * k::float8 / (p.n - 1)) * interval '1 minute' end as at,
    case when p.kind = 'incident' then
      case when k = 0 then jsonb_build_object(p.env, p.sev) when k * 2 >= p.n and k < p.n - 1 then jsonb_build_object(p.env, 'yellow') else '{}'::jsonb end
    else
      case when k <= 1 then '{"production":"blue"}'::jsonb else '{}'::jsonb end
    end as statuses,
    case when p.kind = 'incident' and p.read_only then
      case when k = 0 then '{"web":"read_only"}'::jsonb when k = p.n - 1 then '{"web":"full"}'::jsonb else '{}'::jsonb end
    when p.kind = 'maintenance' and k = 1 then '{"worker":"maintenance"}'::jsonb
    else '{}'::jsonb end as modes
) u
order by p.id, k;

insert into mode_changes (role, from_mode, to_mode, at, sources, cause)
select role, from_mode, to_mode, at, sources, cause from (
  select p.id, 0 as ord, 'web' as role, 'full' as from_mode, 'read_only' as to_mode, p.t0 as at, jsonb_build_array('incident:' || p.id) as sources, format('incident:%s update', p.id) as cause
  from plan p where p.kind = 'incident' and p.read_only
  union all
  select p.id, 1, 'web', 'read_only', 'full', p.t0 + p.dur * interval '1 minute', '[]'::jsonb, format('incident:%s resolved', p.id)
  from plan p where p.kind = 'incident' and p.read_only
  union all
  select p.id, 0, 'worker', 'full', 'maintenance', p.t0 + (p.dur::float8 / (p.n - 1)) * interval '1 minute', jsonb_build_array('maintenance:' || p.id), format('maintenance:%s update', p.id)
  from plan p where p.kind = 'maintenance'
  union all
  select p.id, 1, 'worker', 'maintenance', 'full', p.t0 + p.dur * interval '1 minute', '[]'::jsonb, format('maintenance:%s completed', p.id)
  from plan p where p.kind = 'maintenance'
) c
order by at, id, ord;
`;
}

/** The open ones, ids first..first+4: three incidents, a running and a scheduled maintenance. */
function seedOpenSql(first: number): string {
  const rows = [
    { title: 'Elevated API error rates in eu-west', kind: 'incident', state: 'monitoring', ago: 4, steps: ['investigating', 'investigating', 'identified', 'identified', 'monitoring', 'monitoring'], statuses: '{"production":"red"}', modes: '{"web":"read_only"}' },
    { title: 'Delayed build logs', kind: 'incident', state: 'identified', ago: 2, steps: ['investigating', 'identified', 'identified', 'identified'], statuses: '{"development":"yellow"}', modes: '{}' },
    { title: 'Intermittent dashboard timeouts', kind: 'incident', state: 'investigating', ago: 1, steps: ['investigating', 'investigating', 'investigating'], statuses: '{"production":"yellow"}', modes: '{}' },
    { title: 'Scheduled maintenance: Postgres add-on upgrade (us-east)', kind: 'maintenance', state: 'in_progress', ago: 48, steps: ['scheduled', 'in_progress', 'in_progress'], statuses: '{"production":"blue"}', modes: '{"worker":"maintenance"}' },
    { title: 'Scheduled maintenance: Router upgrade (eu-west)', kind: 'maintenance', state: 'scheduled', ago: 24, steps: ['scheduled'], statuses: '{"production":"blue"}', modes: '{}' },
  ];
  const modeChanges = `insert into mode_changes (role, from_mode, to_mode, at, sources, cause) values
  ('web', 'full', 'read_only', $1::timestamptz - interval '4 hours', '["incident:${first}"]'::jsonb, 'incident:${first} update'),
  ('worker', 'full', 'maintenance', $1::timestamptz - interval '40 minutes', '["maintenance:${first + 3}"]'::jsonb, 'maintenance:${first + 3} update');`;
  return `${modeChanges}\n` + rows
    .map((r, n) => {
      const id = first + n;
      const start = `$1::timestamptz - interval '${r.ago} hours'`;
      const last = r.steps.length - 1;
      // Each update 20 minutes after the previous; a maintenance goes in progress 47 h after it was announced.
      const at = (k: number) => (r.kind === 'maintenance' && k > 0 ? `$1::timestamptz - interval '${60 - k * 20} minutes'` : `${start} + interval '${k * 20} minutes'`);
      const scheduledFor = r.state === 'scheduled' ? `$1::timestamptz + interval '3 days'` : r.kind === 'maintenance' ? `$1::timestamptz - interval '40 minutes'` : 'null';
      const updates = r.steps
        .map((state, k) => {
          const msg = `Update ${k + 1} on **${r.title}**: ${state === 'investigating' ? 'we are looking into reports of errors; see [the runbook](https://status.example.com/runbook).' : state === 'identified' ? 'the cause is identified:\n\n- a bad config push\n- being rolled back' : state === 'monitoring' ? 'a fix is out; we are *monitoring*.' : state === 'scheduled' ? 'planned for the next window; expect brief interruptions.' : 'work is under way.'}`;
          return `(${id}, ${at(k)}, ${at(k)}, '${state}', ${pgText(msg)}, '${k === 0 || (r.kind === 'maintenance' && k === 1) ? r.statuses : '{}'}'::jsonb, '${k === 0 || (r.kind === 'maintenance' && k === 1) ? r.modes : '{}'}'::jsonb, 'bench')`;
        })
        .join(',\n  ');
      return `insert into incidents (id, kind, title, state, started_at, resolved_at, updated_at, created_at, created_by, scheduled_for, scheduled_until)
overriding system value values (${id}, '${r.kind}', ${pgText(r.title)}, '${r.state}', ${start}, null, ${at(last)}, ${start}, 'bench', ${scheduledFor}, ${r.kind === 'maintenance' ? `(${scheduledFor}) + interval '4 hours'` : 'null'});
insert into incident_updates (incident_id, at, created_at, state, message, statuses, modes, author) values
  ${updates};`;
    })
    .join('\n');
}

const pgText = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function runScript(client: pg.Client, script: string, now: Date): Promise<void> {
  // One statement per call so $1 (now) can be bound; statements end with ";\n".
  for (const statement of script.split(/;\s*\n/).map((s) => s.trim().replace(/;$/, '')).filter(Boolean)) {
    await client.query(statement, statement.includes('$1') ? [now] : []);
  }
}

async function seed(name: string, now: Date, part: 'all' | 'recent'): Promise<{ incidents: number; updates: number; recent: number; open: number; mode_changes: number }> {
  const client = new pg.Client({ connectionString: dbUrl(name) });
  await client.connect();
  try {
    const old = INCIDENTS - RECENT - OPEN;
    await client.query('begin');
    await runScript(client, seedClosedSql(part === 'all' ? 1 : old + 1, old + RECENT, old), now);
    await client.query('commit');
    await runScript(client, seedOpenSql(old + RECENT + 1), now);
    await client.query(`select setval(pg_get_serial_sequence('incidents', 'id'), (select max(id) from incidents))`);
    await client.query('vacuum analyze incidents');
    await client.query('vacuum analyze incident_updates');
    await client.query('vacuum analyze mode_changes');
    const r = await client.query<{ incidents: number; updates: number; recent: number; open: number; mode_changes: number }>(
      `select (select count(*)::int4 from incidents) as incidents, (select count(*)::int4 from incident_updates) as updates,
              (select count(*)::int4 from incidents where resolved_at >= $1::timestamptz - interval '90 days') as recent,
              (select count(*)::int4 from incidents where resolved_at is null) as open,
              (select count(*)::int4 from mode_changes) as mode_changes`,
      [now],
    );
    return r.rows[0]!;
  } finally {
    await client.end();
  }
}

async function sizeOf(name: string): Promise<string> {
  return admin(async (c) => (await c.query<{ s: string }>('select pg_size_pretty(pg_database_size($1)) as s', [name])).rows[0]!.s);
}

// ---- measurements -------------------------------------------------------------------------------

interface Captured {
  readonly sql: string;
  readonly parameters: readonly unknown[];
  readonly ms: number;
  readonly rows?: number;
}

interface InProcess {
  readonly buildFirst: number;
  readonly buildMedian: number;
  /** CPU time of this process (Node side only: Postgres runs elsewhere), median. */
  readonly buildCpu: number;
  readonly pageCpu: number;
  readonly pageFirst: number;
  readonly pageMedian: number;
  readonly pageBytes: number;
  readonly queries: readonly Captured[];
}

/**
 * Uncached builds in this process: buildPublicData alone, then GET / through a fresh app each
 * time (build + render + ETag + brotli). The databases take turns run by run, so JIT warm-up and
 * background noise fall on all of them alike; "first" is each database's first run.
 */
async function inProcess(names: Record<Which, string>, runs = 9): Promise<Record<Which, InProcess>> {
  const which = Object.keys(names) as Which[];
  let log: Captured[] = [];
  const dbs = Object.fromEntries(
    which.map((w) => [
      w,
      kysely(dbUrl(names[w]), (e) => {
        if (e.level === 'query') log.push({ sql: e.query.sql, parameters: e.query.parameters, ms: e.queryDurationMillis });
      }),
    ]),
  ) as Record<Which, Kysely<Database>>;
  try {
    // Connections open, as in a running server.
    for (const w of which) await Promise.all(Array.from({ length: 6 }, () => dbs[w].selectFrom('environments').select('slug').execute()));
    const builds = Object.fromEntries(which.map((w) => [w, [] as number[]])) as Record<Which, number[]>;
    const buildCpu = Object.fromEntries(which.map((w) => [w, [] as number[]])) as Record<Which, number[]>;
    const pageCpu = Object.fromEntries(which.map((w) => [w, [] as number[]])) as Record<Which, number[]>;
    const cpuNow = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const pages = Object.fromEntries(which.map((w) => [w, [] as number[]])) as Record<Which, number[]>;
    const queries = Object.fromEntries(which.map((w) => [w, [] as Captured[]])) as Record<Which, Captured[]>;
    const bytes = {} as Record<Which, number>;
    for (let i = 0; i < runs; i++) {
      for (const w of which) {
        log = [];
        const c = cpuNow();
        const t = performance.now();
        await buildPublicData(dbs[w], config, new Date());
        builds[w].push(performance.now() - t);
        buildCpu[w].push(cpuNow() - c);
        if (i === Math.floor(runs / 2)) queries[w] = log;
      }
    }
    for (let i = 0; i < runs; i++) {
      for (const w of which) {
        const app = freshApp(dbs[w]);
        const c = cpuNow();
        const t = performance.now();
        const res = await app.request('/', { headers: BROWSER });
        const body = new Uint8Array(await res.arrayBuffer());
        pages[w].push(performance.now() - t);
        pageCpu[w].push(cpuNow() - c);
        if (res.status !== 200) throw new Error(`GET / answered ${res.status}`);
        bytes[w] = body.byteLength;
      }
    }
    return Object.fromEntries(
      which.map((w) => [w, { buildFirst: builds[w][0]!, buildMedian: median(builds[w]), buildCpu: median(buildCpu[w]), pageCpu: median(pageCpu[w]), pageFirst: pages[w][0]!, pageMedian: median(pages[w]), pageBytes: bytes[w], queries: queries[w] }]),
    ) as unknown as Record<Which, InProcess>;
  } finally {
    for (const w of which) await dbs[w].destroy();
  }
}

interface Served {
  /** GET / right after an update was posted through the API (rebuild + render + compress) in a warm server: median and p99 wall, median server CPU. */
  change?: { wall: number; p99: number; cpu: number };
  /** The first build of the public data, made at start-up before the port opened (from the `listening` log line). */
  readonly startupBuild: number;
  readonly firstGet: number;
  /** CPU the server process spent on that first GET (10 ms ticks). */
  readonly firstCpu: number;
  readonly secondGet: number;
  readonly bodyBytes: number;
  /** The page's size uncompressed. */
  readonly identityBytes: number;
  readonly rawBytes: string;
  readonly rssStart: number;
  readonly rssAfterFirst: number;
  readonly loads: LoadResult[];
  readonly rssAfterLoad: number;
  readonly peak: number;
}

async function startServed(name: string): Promise<Child> {
  const port = await freePort();
  return startHerald({ DATABASE_URL: dbUrl(name), PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
}

/** How long the server's first build of the public data took, from its `listening` log line. */
function startupBuildOf(server: Child): number {
  const built = /msg=listening .*public_data="built in (\d+) ms"/.exec(server.stderr());
  return built ? Number(built[1]) : NaN;
}

/**
 * The start-up build of a fresh `herald serve` with no stretches kept (incident_stretches empty):
 * what the first start after the upgrade that added them costs, once. The stretches are kept
 * again before it returns, as that server would have kept them had it run on.
 */
async function startupNoneKept(name: string): Promise<number> {
  await client(name, (c) => c.query('delete from incident_stretches'));
  const server = await startServed(name);
  const build = startupBuildOf(server);
  await server.stop();
  const db = kysely(dbUrl(name));
  try {
    const builder = new PublicDataBuilder(db, config);
    await builder.build(new Date());
    await builder.stored;
  } finally {
    await db.destroy();
  }
  return build;
}

/** A fresh `herald serve` on the database: its start-up build, first GET / (cold process), RSS. */
async function firstGet(server: Child): Promise<Omit<Served, 'loads' | 'rssAfterLoad' | 'peak'>> {
  const rssStart = memoryKb(server.pid).rss;
  const cpu0 = cpuMs(server.pid);
  const first = await rawGet(`${server.url}/`, BROWSER);
  const firstCpu = cpuMs(server.pid) - cpu0;
  if (first.status !== 200) throw new Error(`GET / answered ${first.status}`);
  const second = await rawGet(`${server.url}/`, BROWSER);
  const identity = await rawGet(`${server.url}/`, { ...BROWSER, 'accept-encoding': '' });
  return {
    startupBuild: startupBuildOf(server),
    firstGet: first.ms,
    firstCpu,
    secondGet: second.ms,
    bodyBytes: first.body.length,
    identityBytes: identity.body.length,
    rawBytes: `${kib(first.body.length)} ${header(first, 'content-encoding') ?? ''} (${kib(identity.body.length)} uncompressed)`,
    rssStart,
    rssAfterFirst: memoryKb(server.pid).rss,
  };
}

function shortSql(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim().replace(/(\$\d+)(, \$\d+){3,}, (\$\d+)/g, (_m, a: string, _b, z: string) => `${a}, …, ${z}`);
}

interface Explained {
  readonly sql: string;
  readonly plan: string[];
  readonly seqScans: string[];
  readonly execMs: number;
}

async function explain(name: string, queries: readonly Captured[]): Promise<Explained[]> {
  const client = new pg.Client({ connectionString: dbUrl(name) });
  await client.connect();
  try {
    const out: Explained[] = [];
    for (const q of queries) {
      const r = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${q.sql}`, q.parameters as unknown[]);
      // An IN list of a thousand ids makes a plan line of several KB: keep its ends and its length.
      const plan = r.rows.map((row) =>
        row['QUERY PLAN'].replace(/'\{([\d,]+)\}'/g, (m, ids: string) => {
          const list = ids.split(',');
          return list.length > 8 ? `'{${list.slice(0, 3).join(',')},…,${list.slice(-2).join(',')}}' (${list.length} ids)` : m;
        }),
      );
      out.push({
        sql: shortSql(q.sql),
        plan,
        seqScans: plan.filter((l) => /Seq Scan/.test(l)).map((l) => l.trim()),
        execMs: Number(/Execution Time: ([\d.]+) ms/.exec(plan.join('\n'))?.[1] ?? NaN),
      });
    }
    return out;
  } finally {
    await client.end();
  }
}

/**
 * What a change would do, measured inside a transaction that is rolled back: `ddl` (an index)
 * applied first, then `sql` explained (the original query, or a rewrite of it).
 */
async function whatIf(name: string, ddl: string | null, sqlText: string, parameters: readonly unknown[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: dbUrl(name) });
  await client.connect();
  try {
    await client.query('begin');
    if (ddl) {
      await client.query(ddl);
      await client.query('analyze incidents');
    }
    const r = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${sqlText}`, parameters as unknown[]);
    await client.query('rollback');
    return r.rows.map((row) => row['QUERY PLAN']);
  } finally {
    await client.end();
  }
}

// ---- where the time goes -----------------------------------------------------------------------

function freshApp(db: Kysely<Database>) {
  return createApp({ db, clock: systemClock, config, changes: localChanges(), log: () => {}, compress: nodeCompress, readiness: async () => ({ ready: true }) });
}

/** CPU profile of `runs` uncached GET / (fresh app each), self time by category and by function, per page. */
async function profileBuild(name: string, runs: number): Promise<{ wallMs: number; summary: ProfileSummary }> {
  const db = kysely(dbUrl(name));
  const session = new Session();
  session.connect();
  try {
    await freshApp(db).request('/', { headers: BROWSER }); // JIT and pool warm
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    const t = performance.now();
    for (let i = 0; i < runs; i++) await (await freshApp(db).request('/', { headers: BROWSER })).arrayBuffer();
    const wallMs = performance.now() - t;
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    return { wallMs: wallMs / runs, summary: summarizeProfile(profile, runs) };
  } finally {
    await session.post('Profiler.disable').catch(() => {});
    session.disconnect();
    await db.destroy();
  }
}

/** The pieces of buildPublicData's 90-day bars, timed one by one with the same functions (median of `runs`). */
async function barPieces(name: string, runs: number): Promise<[string, number][]> {
  const db = kysely(dbUrl(name));
  try {
    const now = new Date();
    const windowStart = new Date(Math.floor(now.getTime() / 86_400_000) * 86_400_000 - (BAR_DAYS - 1) * 86_400_000);
    const timings = new Map<string, number[]>();
    const time = async <T>(label: string, fn: () => Promise<T> | T): Promise<T> => {
      const t = performance.now();
      const r = await fn();
      timings.set(label, [...(timings.get(label) ?? []), performance.now() - t]);
      return r;
    };
    const { xmin: mark } = await q.changesSince(db, null);
    const builder = new PublicDataBuilder(db, config); // keeps the stretches of any incident none are kept for
    await builder.build(now);
    await builder.stored;
    for (let i = 0; i < runs; i++) {
      // How the bars were read before the incremental builder (full rows of every update of the window)…
      const rows = [...(await time('openIncidents', () => q.openIncidents(db))), ...(await time('closedSince (90 days), all columns (before)', () => q.closedSince(db, windowStart)))];
      const ids = rows.map((r) => r.id);
      const updates = await time(`visibleUpdatesOf(${ids.length} ids), all columns (before)`, () => q.visibleUpdatesOf(db, ids));
      await time(`statusSegments over ${rows.length} incidents, from those rows (before)`, () => {
        const byIncident = groupByIncident(updates);
        return rows.flatMap((r) => statusSegments(r.kind, (byIncident.get(r.id) ?? []).map(toEntry), now));
      });
      // …and how a full build reads them now: one row per closed incident, with the stretches an
      // earlier build kept for it (incident_stretches)…
      const kept = await time('closedTimelinesSince (90 days), stretches kept: one short row per incident (now)', () => q.closedTimelinesSince(db, windowStart));
      const segments = await time(`stretches of ${kept.length} closed incidents (${kept.filter((c) => c.stretches).length} kept), from those rows (now)`, () =>
        kept.flatMap((c) => (c.stretches ? c.stretches.map(([environment, status, from, to]) => ({ environment, status, from, to })) : segmentsOfPoints(c.kind, c.timeline ?? [], now))),
      );
      // …or with none kept (the first start after the upgrade that added them), each timeline as JSON.
      const none = await noneKept(db, (trx) => time('closedTimelinesSince (90 days), none kept: one JSON timeline per incident (now)', () => q.closedTimelinesSince(trx, windowStart)));
      await time(`segmentsOfPoints over ${none.length} closed incidents (${none.reduce((n, c) => n + (c.timeline?.length ?? 0), 0)} updates), from the JSON (now)`, () => none.flatMap((c) => segmentsOfPoints(c.kind, c.timeline ?? [], now)));
      await time(`dailyBars × ${config.environments.length} environments (${segments.length} segments)`, () => config.environments.map((e) => dailyBars(segments, e.slug, now, BAR_DAYS)));
      await time('lastChange: max(updated_at)', () => q.lastChange(db));
      await time('changesSince: the mark, and the incidents changed since the last one', () => q.changesSince(db, mark));
    }
    return [...timings].map(([k, v]) => [k, median(v)]);
  } finally {
    await db.destroy();
  }
}

/** Runs `fn` in a transaction that sees no kept stretches, and rolls it back: nothing is lost. */
async function noneKept<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  let out: T | undefined;
  const rollback = new Error('rollback');
  await db
    .transaction()
    .execute(async (trx) => {
      await trx.deleteFrom('incident_stretches').execute();
      out = await fn(trx);
      throw rollback;
    })
    .catch((e: unknown) => {
      if (e !== rollback) throw e;
    });
  return out!;
}

/** A token on the database, made through the use case, and its open incidents (kind incident): where the benchmark posts. */
async function poster(name: string): Promise<{ token: string; actor: Actor; deps: Deps; targets: number[]; close: () => Promise<void> }> {
  const db = kysely(dbUrl(name));
  const deps: Deps = { db, config, clock: systemClock, changes: localChanges() };
  const made = await createToken(deps, { actor: operator('bench') }, { name: `bench-${Date.now()}`, scopes: ['incidents:write'] });
  const targets = (await q.openIncidents(db)).filter((r) => r.kind === 'incident').map((r) => r.id);
  return { token: made.token, actor: { tokenId: made.id, name: made.name, scopes: ['incidents:write'] }, deps, targets, close: () => db.destroy() };
}

const updateMessage = (i: number) => `Update ${i + 1}: error rates are **falling**; queued work is retried automatically. See [the runbook](https://status.example.com/runbook).`;

interface AfterUpdates {
  /** The builder's rebuild after each posted update: wall, and this process's CPU. */
  readonly rebuild: number[];
  readonly rebuildCpu: number[];
  /** Incidents each rebuild read again (1: the one posted to). */
  readonly read: number[];
  /** A rebuild with nothing changed (the 30-s age rebuild). */
  readonly idle: number[];
  /** GET / through a warm app after each posted update: rebuild + render + ETag + brotli. */
  readonly page: number[];
  readonly pageCpu: number[];
  readonly queries: readonly Captured[];
}

/**
 * The rebuild after one posted update, in this process: `runs` updates posted through the use
 * case (to the open incidents in turn), each followed by the builder's build, timed; then the same
 * with a whole GET / through a warm app, whose snapshot the use case notifies.
 */
async function afterUpdates(name: string, runs: number): Promise<AfterUpdates> {
  let log: Captured[] | undefined;
  const db = kysely(dbUrl(name), (e) => {
    if (e.level === 'query' && log) log.push({ sql: e.query.sql, parameters: e.query.parameters, ms: e.queryDurationMillis });
  });
  const p = await poster(name);
  try {
    const cpuNow = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const post = (i: number, deps: Deps) => postUpdate(deps, { actor: p.actor }, p.targets[i % p.targets.length]!, { message: updateMessage(i) });
    const builder = new PublicDataBuilder(db, config);
    await builder.build(new Date());
    // One update first, untimed: the first incremental build after a full one opens the pool
    // connections its parallel reads need (a full build uses two); a server does that once.
    await post(2 * runs, p.deps);
    await builder.build(new Date());
    const out = { rebuild: [] as number[], rebuildCpu: [] as number[], read: [] as number[], idle: [] as number[], page: [] as number[], pageCpu: [] as number[], queries: [] as Captured[] };
    for (let i = 0; i < runs; i++) {
      await post(i, p.deps);
      if (i === 0) log = [];
      const c = cpuNow();
      const t = performance.now();
      await builder.build(new Date());
      out.rebuild.push(performance.now() - t);
      out.rebuildCpu.push(cpuNow() - c);
      if (i === 0) [out.queries, log] = [log!, undefined];
      if (builder.lastBuild?.kind !== 'incremental') throw new Error(`rebuild ${i + 1} after a posted update was ${builder.lastBuild?.kind}`);
      out.read.push(builder.lastBuild.read);
      const t2 = performance.now();
      await builder.build(new Date());
      out.idle.push(performance.now() - t2);
    }
    const changes = localChanges();
    const app = createApp({ db, clock: systemClock, config, changes, log: () => {}, compress: nodeCompress, readiness: async () => ({ ready: true }) });
    await (await app.request('/', { headers: BROWSER })).arrayBuffer();
    for (let i = 0; i < runs; i++) {
      await post(runs + i, { ...p.deps, changes });
      const c = cpuNow();
      const t = performance.now();
      const res = await app.request('/', { headers: BROWSER });
      await res.arrayBuffer();
      out.page.push(performance.now() - t);
      out.pageCpu.push(cpuNow() - c);
      if (res.status !== 200) throw new Error(`GET / answered ${res.status}`);
    }
    return out;
  } finally {
    await p.close();
    await db.destroy();
  }
}

/**
 * What one posted update costs a running server: POST through the API (the server's own snapshot
 * hears of it before the answer leaves), then GET /, which waits for the rebuild, re-render and
 * re-compression. Median and p99 of `runs`, wall, and median server CPU.
 */
async function postedCost(name: string, server: Child, runs = 20): Promise<{ wall: number; p99: number; cpu: number }> {
  const p = await poster(name);
  try {
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (p.targets.length) await jsonRequest('POST', `${server.url}/api/v1/incidents/${p.targets[i % p.targets.length]}/updates`, p.token, { message: updateMessage(1000 + i) });
      else await client(name, (c) => c.query(`notify ${CHANGES_CHANNEL}`)); // the empty database: nothing to post to
      const c0 = cpuMs(server.pid);
      const r = await rawGet(`${server.url}/`, BROWSER);
      cpus.push(cpuMs(server.pid) - c0);
      walls.push(r.ms);
    }
    return { wall: median(walls), p99: percentile([...walls].sort((a, b) => a - b), 99), cpu: median(cpus) };
  } finally {
    await p.close();
  }
}

async function client<T>(name: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: dbUrl(name) });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Load while a change is announced every `everyMs` (NOTIFY on Herald's channel, as each posted update does). */
async function loadWithChanges(name: string, server: Child, everyMs: number): Promise<LoadResult> {
  const client = new pg.Client({ connectionString: dbUrl(name) });
  await client.connect();
  const timer = setInterval(() => void client.query(`notify ${CHANGES_CHANNEL}`).catch(() => {}), everyMs);
  try {
    return await load(`${server.url}/`, BROWSER, { connections: CONNECTIONS, duration: DURATION, warmup: 0, pid: server.pid });
  } finally {
    clearInterval(timer);
    await client.end();
  }
}

// ---- main ---------------------------------------------------------------------------------------

async function main() {
  if (!Object.values(NAMES).every((n) => /bench/.test(n))) {
    throw new Error(`refusing to drop and recreate "${BIG}": the database name must contain "bench" (this script drops it)`);
  }
  say('# Herald front page vs. history size (Postgres)');
  say(machineLine());
  const server = await admin(async (c) => (await c.query<{ server_version: string }>('show server_version')).rows[0]!.server_version);
  say(`postgres ${server} at ${new URL(BIG_URL).host}; databases ${NAMES.big}, ${NAMES.recent}, ${NAMES.empty}`);
  say();

  const now = new Date();
  let t = performance.now();
  const counts = async (name: string) => {
    const client = new pg.Client({ connectionString: dbUrl(name) });
    await client.connect();
    try {
      const r = await client.query<{ incidents: number; updates: number; recent: number; open: number; open_updates: number; mode_changes: number }>(
        `select (select count(*)::int4 from incidents) as incidents, (select count(*)::int4 from incident_updates) as updates,
                (select count(*)::int4 from incident_updates u join incidents i on i.id = u.incident_id where i.resolved_at is null) as open_updates,
                (select count(*)::int4 from incidents where resolved_at >= now() - interval '90 days') as recent,
                (select count(*)::int4 from incidents where resolved_at is null) as open,
                (select count(*)::int4 from mode_changes) as mode_changes`,
      );
      return r.rows[0]!;
    } finally {
      await client.end();
    }
  };
  let big: Awaited<ReturnType<typeof seed>> | undefined;
  let recent: Awaited<ReturnType<typeof seed>> | undefined;
  if (process.env.BENCH_REUSE === '1') {
    // Reuse databases a previous run kept (BENCH_KEEP=1), if they hold what this run would seed.
    try {
      const [b, r] = [await counts(NAMES.big), await counts(NAMES.recent)];
      await counts(NAMES.empty);
      // A run posts updates to the open incidents (more of them to big): reused after one, the
      // two would no longer show the same page.
      if (b.incidents === INCIDENTS && r.incidents === RECENT + OPEN && b.mode_changes > 0 && b.open_updates === r.open_updates) [big, recent] = [b, r];
      else say('the kept databases no longer hold what a seed makes (a run posted to them): seeding again');
    } catch {
      /* missing: seed below */
    }
    if (big && recent) for (const n of Object.values(NAMES)) await migrated(n); // a kept database may predate a migration
    if (big && recent) say(`reusing ${NAMES.big} (${int(big.incidents)} incidents, ${int(big.updates)} updates, ${int(big.recent)} closed in the last 90 days) and ${NAMES.recent}, ${NAMES.empty} (BENCH_REUSE=1)`);
  }
  if (!big || !recent) {
    for (const n of Object.values(NAMES)) {
      await recreate(n);
      await migrated(n);
    }
    say(`created and migrated 3 databases in ${secs(t)}`);
    t = performance.now();
    big = await seed(NAMES.big, now, 'all');
    say(`seeded ${NAMES.big} in ${secs(t)}: ${int(big.incidents)} incidents, ${int(big.updates)} updates, ${int(big.recent)} closed in the last 90 days, ${big.open} open, ${int(big.mode_changes)} mode changes; ${await sizeOf(NAMES.big)}`);
    t = performance.now();
    recent = await seed(NAMES.recent, now, 'recent');
    say(`seeded ${NAMES.recent} in ${secs(t)}: ${int(recent.incidents)} incidents, ${int(recent.updates)} updates (the same last-90-days and open rows, no older history); ${await sizeOf(NAMES.recent)}`);
  }
  say(`${NAMES.empty}: migrated, no incidents`);
  say();

  // 1. Uncached builds in this process.
  const quiet = async (what: string) => {
    const q = await waitForQuiet(QUIET_WAIT);
    if (q.busy >= 25) process.stderr.write(`(machine still busy, ${q.busy.toFixed(0)} % of a core, before ${what})\n`);
  };
  await quiet('in-process builds');
  const ip = await inProcess({ empty: NAMES.empty, recent: NAMES.recent, big: NAMES.big });
  say('## Uncached build of / in this process (9 runs each, the databases taking turns; "first" is each one\'s first run)');
  say(
    table(
      ['database', 'buildPublicData first', 'median', 'CPU', 'GET / (fresh app: build + render + etag + br) first', 'median', 'CPU', 'page'],
      (['empty', 'recent', 'big'] as const).map((w) => [
        `${w} (${NAMES[w]})`,
        `${ms(ip[w].buildFirst)} ms`,
        `${ms(ip[w].buildMedian)} ms`,
        `${ms(ip[w].buildCpu)} ms`,
        `${ms(ip[w].pageFirst)} ms`,
        `${ms(ip[w].pageMedian)} ms`,
        `${ms(ip[w].pageCpu)} ms`,
        kib(ip[w].pageBytes),
      ]),
    ),
  );
  say(`history cost (big − recent-only, same page content): buildPublicData ${ms(ip.big.buildMedian - ip.recent.buildMedian)} ms, whole page ${ms(ip.big.pageMedian - ip.recent.pageMedian)} ms`);
  const windowCost = ip.recent.pageMedian - ip.empty.pageMedian;
  say(`window cost (recent-only − empty: ${int(recent.recent)} incidents closed in 90 days + ${recent.open} open): buildPublicData ${ms(ip.recent.buildMedian - ip.empty.buildMedian)} ms, whole page ${ms(windowCost)} ms, i.e. ${((windowCost / Math.max(1, recent.incidents)) * 1000).toFixed(0)} µs per incident in the window (linear: 100 in the window ≈ ${ms(ip.empty.pageMedian + windowCost / 10)} ms a page)`);
  say('CPU = this process\'s CPU time (the Node side; Postgres is another process). Wall time on a busy machine includes waiting for a core; CPU time much less so.');
  say();
  say('### Queries of one buildPublicData on the big database (as sent by Kysely; time as seen by the client, the first six run in parallel)');
  say(
    table(
      ['#', 'ms', 'query'],
      ip.big.queries.map((q, i) => [String(i + 1), ms(q.ms), shortSql(q.sql).slice(0, 150)]),
      ['r', 'r', 'l'],
    ),
  );
  say();
  await quiet('timing the pieces of the bars');
  const piecesBig = await barPieces(NAMES.big, 5);
  const piecesRecent = await barPieces(NAMES.recent, 5);
  say('### The 90-day bars piece by piece, same functions as buildPublicData, run one at a time (median of 5)');
  say(table(['piece', 'big', 'recent-only'], piecesBig.map(([k, v], i) => [k, `${ms(v)} ms`, `${ms(piecesRecent[i]?.[1] ?? NaN)} ms`])));
  say();
  await quiet('profiling');
  const prof = await profileBuild(NAMES.big, 5);
  say(`### CPU profile of an uncached GET / on the big database (fresh app, mean of 5: ${ms(prof.wallMs)} ms wall), self time per page`);
  say(table(['where', 'ms per page', 'share of wall'], prof.summary.categories.map(([k, v]) => [k, ms(v), `${((v / prof.wallMs) * 100).toFixed(0)} %`])));
  say();
  say(table(['top functions (self time)', 'ms per page'], prof.summary.top.map(([k, v]) => [k.slice(0, 110), ms(v)])));
  say();
  // 2. Fresh server processes: first GET /, RSS, cached throughput.
  const served: Partial<Record<Which, Served>> = {};
  const order: Which[] = ['recent', 'empty', 'big'];
  const running: Partial<Record<Which, Child>> = {};
  await quiet('a start with no stretches kept');
  const coldNoneKept = await startupNoneKept(NAMES.big);
  for (const w of order) {
    const s = await startServed(NAMES[w]);
    running[w] = s;
    await quiet(`first GET / on ${w}`);
    served[w] = { ...(await firstGet(s)), loads: [], rssAfterLoad: NaN, peak: NaN };
  }
  const LOADED = ['empty', 'recent', 'big'] as const;
  const [loadEmpty, loadRecent, loadBig] = (await loadInterleaved(
    LOADED.map((w) => ({ url: `${running[w]!.url}/`, headers: BROWSER, pids: [running[w]!.pid] })),
    {
      connections: CONNECTIONS,
      duration: DURATION,
      warmup: WARMUP,
      rounds: ROUNDS,
      quietWait: QUIET_WAIT,
      quietPerRound: true,
      abba: true, // empty, recent, big, big, recent, empty, …: none always goes first
      onSlice: (i, round) => process.stderr.write(`round ${round + 1}: loading / on ${LOADED[i]}\n`),
    },
  )) as [LoadResult, LoadResult, LoadResult];
  served.empty!.loads.push(loadEmpty);
  served.recent!.loads.push(loadRecent);
  served.big!.loads.push(loadBig);
  const CHANGE_EVERY_MS = 2000;
  const withChanges: Partial<Record<'empty' | 'big', LoadResult>> = {};
  for (const w of ['empty', 'big'] as const) {
    await quiet(`loading ${w} with changes`);
    process.stderr.write(`loading / on ${w} with a change every ${CHANGE_EVERY_MS / 1000} s\n`);
    withChanges[w] = await loadWithChanges(NAMES[w], running[w]!, CHANGE_EVERY_MS);
  }
  // Posting last: the updates posted here lengthen the open incidents, and so the page.
  for (const w of LOADED) {
    await quiet(`posting on ${w}`);
    served[w]!.change = await postedCost(NAMES[w], running[w]!);
  }
  for (const w of LOADED) {
    const m = memoryKb(running[w]!.pid);
    served[w] = { ...served[w]!, rssAfterLoad: m.rss, peak: m.peak };
    await running[w]!.stop();
  }

  say('## A fresh `herald serve` per database (DATABASE_URL, pg pool)');
  say(
    table(
      ['database', 'start-up build', 'first GET / ms', 'its server CPU', 'second GET / ms', 'GET / after a posted update: median', 'p99', 'its server CPU', 'body', 'RSS at start', 'after first GET', 'after load', 'peak'],
      order.map((w) => {
        const s = served[w]!;
        return [w, `${ms(s.startupBuild)} ms`, ms(s.firstGet), `${s.firstCpu.toFixed(0)} ms`, ms(s.secondGet), `${ms(s.change!.wall)} ms`, `${ms(s.change!.p99)} ms`, `${s.change!.cpu.toFixed(0)} ms`, s.rawBytes, mib(s.rssStart), mib(s.rssAfterFirst), mib(s.rssAfterLoad), mib(s.peak)];
      }),
    ),
  );
  say('start-up build = the first build of the public data in the cold process (JIT cold, the pool\'s first connections), made before the port opens (the `listening` log line says how long it took);');
  say(`  with the closed incidents' stretches kept by earlier builds (incident_stretches), as on every start but the first after the upgrade that added them; with none kept, big: ${ms(coldNoneKept)} ms;`);
  say('first GET / = what the first visitor after a deploy waits for: the page rendered and compressed in that cold process;');
  say('after a posted update = POST /api/v1/incidents/:id/updates, then GET / (20 times; the empty database has nothing to post to: NOTIFY instead): the incremental rebuild, render and compression a committer\'s next page load waits for. Server CPU is read from /proc in 10 ms ticks.');
  say();
  say(`## Cached throughput of / (browser headers, gzip/br), ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s in ${ROUNDS} slices each, empty / recent / big taking turns (ABC CBA …)`);
  const loadRow = (label: string, r: LoadResult) => [label, int(r.rps), ms(r.p50), ms(r.p99), ms(r.max), `${r.serverCpu.toFixed(0)} %`, r.cpuUsPerReq.toFixed(0), `${r.loaderCpu.toFixed(0)} %`, `${r.othersCpu.toFixed(0)} %`, `${r.errors}/${r.non2xx}`];
  const loadHead = ['database', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'server CPU', 'µs/req', 'loader CPU', 'others CPU', 'errors/non-2xx'];
  say(table(loadHead, [loadRow('empty', loadEmpty), loadRow('recent', loadRecent), loadRow('big', loadBig)]));
  const ratio = loadBig.rps / loadRecent.rps;
  const emptyRatio = loadBig.rps / loadEmpty.rps;
  // The same rows in the window make the same page, but for what differs between two servers and
  // two moments (their ports in links, relative times): within 1 % counts as the same.
  const samePage = Math.abs(served.big!.identityBytes - served.recent!.identityBytes) <= 0.01 * served.recent!.identityBytes;
  say(`big / recent-only (history the only difference): req/s ${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)} %), server CPU per request ${(loadBig.cpuUsPerReq / loadRecent.cpuUsPerReq).toFixed(3)}; uncompressed page big ${served.big!.identityBytes} B vs recent ${served.recent!.identityBytes} B${samePage ? '' : ' (NOT the same page: more than 1 % apart)'}`);
  say(`big / empty (another page: no incidents in the 90 days): req/s ${emptyRatio.toFixed(3)} (${((emptyRatio - 1) * 100).toFixed(1)} %), server CPU per request ${(loadBig.cpuUsPerReq / loadEmpty.cpuUsPerReq).toFixed(3)}; body big ${kib(served.big!.bodyBytes)} vs empty ${kib(served.empty!.bodyBytes)}`);
  say('(the snapshot also rebuilds in the background once it is 30 s old, so a run may or may not include one rebuild)');
  say();
  say(`## The same load while updates are being posted: a change every ${CHANGE_EVERY_MS / 1000} s (NOTIFY ${CHANGES_CHANNEL}, as each committed write sends), ${DURATION} s`);
  say(table(loadHead, [loadRow('empty', withChanges.empty!), loadRow('big', withChanges.big!)]));
  say('each change makes the next request rebuild the snapshot and re-render and re-compress the page; requests arriving meanwhile wait for it.');
  say();

  // 3. The rebuild after posted updates, in this process (after the servers: the posts lengthen the big page).
  await quiet('posting updates');
  const posted = await afterUpdates(NAMES.big, UPDATES);
  const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
  const rebuildMedian = median(posted.rebuild);
  const rebuildP99 = percentile(sorted(posted.rebuild), 99);
  say(`## Rebuild after one posted update, big database (${UPDATES} updates posted through the use case to the ${NAMES.big} open incidents in turn; this process)`);
  say(
    table(
      ['what', 'median', 'p99', 'max', 'CPU (median)'],
      [
        ['incremental build of the public data after one posted update', `${ms(rebuildMedian)} ms`, `${ms(rebuildP99)} ms`, `${ms(Math.max(...posted.rebuild))} ms`, `${ms(median(posted.rebuildCpu))} ms`],
        ['the same build with nothing changed (what the 30-s age rebuild costs)', `${ms(median(posted.idle))} ms`, `${ms(percentile(sorted(posted.idle), 99))} ms`, `${ms(Math.max(...posted.idle))} ms`, ''],
        ['GET / through a warm app after one posted update (rebuild + render + ETag + brotli)', `${ms(median(posted.page))} ms`, `${ms(percentile(sorted(posted.page), 99))} ms`, `${ms(Math.max(...posted.page))} ms`, `${ms(median(posted.pageCpu))} ms`],
      ],
    ),
  );
  say(`incidents read again per rebuild: ${[...new Set(posted.read)].sort((a, b) => a - b).join(' or ')} (the one posted to; 2 when the recent list took in another). p99 is the nearest rank: of ${UPDATES} updates, ${UPDATES - Math.ceil(0.99 * UPDATES) === 0 ? 'the slowest' : `the slowest but ${UPDATES - Math.ceil(0.99 * UPDATES)}`}. One update before them is not timed: the first incremental build after a full one opens the pool connections its parallel reads need.`);
  say();
  say('### Queries of the incremental build after one posted update (time as seen by the client; the first three run in parallel, then the next five)');
  say(table(['#', 'ms', 'query'], posted.queries.map((q, i) => [String(i + 1), ms(q.ms), shortSql(q.sql).slice(0, 150)]), ['r', 'r', 'l']));
  say();

  // 4. Plans.
  const explained = [...ip.big.queries, ...posted.queries];
  const plans = await explain(NAMES.big, explained);
  say(`## EXPLAIN (ANALYZE, BUFFERS) of the queries of a full build (1–${ip.big.queries.length}) and of an incremental build after one posted update (${ip.big.queries.length + 1}–${plans.length}) on the big database`);
  for (const [i, p] of plans.entries()) {
    say(`-- ${i + 1}. ${p.sql.slice(0, 300)}`);
    for (const line of p.plan) say(`   ${line}`);
  }
  say();
  const seq = plans.flatMap((p, i) => p.seqScans.map((s) => `query ${i + 1}: ${s}`));
  say(seq.length ? `sequential scans (${seq.length}):\n${seq.map((s) => `  ${s}`).join('\n')}` : 'sequential scans: none');
  // Candidate fixes for the scans that grow with history, measured the same way.
  const fixes: { match: RegExp; what: string; ddl: string | null; sql: (q: Captured) => string; params: (q: Captured) => readonly unknown[] }[] = [
    {
      match: /max\("updated_at"\)/,
      what: 'index on incidents (updated_at), so max() reads one index entry',
      ddl: 'create index incidents_updated_idx on incidents (updated_at)',
      sql: (q) => q.sql,
      params: (q) => q.parameters,
    },
    {
      match: /distinct on \(role\)/,
      what: 'one index probe per configured role (mode_changes_role_idx already exists) instead of distinct on over the whole table',
      ddl: null,
      sql: () => 'select c.* from unnest($1::text[]) as r(role) cross join lateral (select * from mode_changes m where m.role = r.role order by m.id desc limit 1) c',
      params: () => [config.roles],
    },
  ];
  for (const [i, p] of plans.entries()) {
    const query = explained[i]!;
    const fix = fixes.find((f) => f.match.test(query.sql));
    if (!fix || !p.seqScans.length && !/Index Scan.*rows=\d{4,}/.test(p.plan.join('\n'))) continue;
    const plan = await whatIf(NAMES.big, fix.ddl, fix.sql(query), fix.params(query));
    const after = Number(/Execution Time: ([\d.]+) ms/.exec(plan.join('\n'))?.[1] ?? NaN);
    say(`what if (query ${i + 1}) ${fix.what}${fix.ddl ? `: \`${fix.ddl}\`` : `: ${fix.sql(query)}`} — measured in a rolled-back transaction: ${p.execMs} ms → ${after} ms`);
    for (const line of plan) say(`   ${line}`);
  }
  say();

  // 5. Verdicts.
  const cold = served.big!;
  const rssMb = Math.max(served.big!.peak, served.empty!.peak, served.recent!.peak) / 1024;
  const verdict = (ok: boolean) => (ok ? 'meets' : 'MISSES');
  say('## Against the targets');
  say(
    table(
      ['what', 'measured', 'compared to', 'target', 'verdict'],
      [
        [`first, uncached build of / on ${int(big.incidents)} incidents, warm process (fresh app: build + render + ETag + brotli, median)`, `${ms(ip.big.pageMedian)} ms (CPU ${ms(ip.big.pageCpu)} ms)`, `recent-only ${ms(ip.recent.pageMedian)} ms (CPU ${ms(ip.recent.pageCpu)}), empty ${ms(ip.empty.pageMedian)} ms (CPU ${ms(ip.empty.pageCpu)})`, `< ${TARGET_WARM_MS} ms`, verdict(ip.big.pageMedian < TARGET_WARM_MS)],
        ['first GET / of a freshly started herald serve, big', `${ms(cold.firstGet)} ms (server CPU ${cold.firstCpu.toFixed(0)} ms)`, `recent-only ${ms(served.recent!.firstGet)} ms, empty ${ms(served.empty!.firstGet)} ms`, `< ${TARGET_COLD_MS} ms`, verdict(cold.firstGet < TARGET_COLD_MS)],
        ['… and the first build of the public data in that cold process (at start-up), big', `${ms(cold.startupBuild)} ms`, `recent-only ${ms(served.recent!.startupBuild)} ms, empty ${ms(served.empty!.startupBuild)} ms`, `< ${TARGET_COLD_MS} ms`, verdict(cold.startupBuild < TARGET_COLD_MS)],
        ['… the same with no stretches kept (once: the first start after the upgrade that added them), big', `${ms(coldNoneKept)} ms`, 'its updates read instead of the kept stretches', `< ${TARGET_COLD_MS} ms`, verdict(coldNoneKept < TARGET_COLD_MS)],
        [`rebuild after one posted update (incremental build, ${UPDATES} updates), big`, `median ${ms(rebuildMedian)} ms, p99 ${ms(rebuildP99)} ms`, `GET / after one: median ${ms(median(posted.page))} ms in process, ${ms(cold.change!.wall)} ms on a running server (p99 ${ms(cold.change!.p99)})`, `< ${TARGET_REBUILD_MS} ms`, verdict(rebuildMedian < TARGET_REBUILD_MS && rebuildP99 < TARGET_REBUILD_MS)],
        ['cached req/s of /, big vs recent-only (same page, no history)', `${int(loadBig.rps)} req/s`, `recent-only ${int(loadRecent.rps)} req/s (${((ratio - 1) * 100).toFixed(1)} %); empty ${int(loadEmpty.rps)} req/s (${((emptyRatio - 1) * 100).toFixed(1)} %, a ${kib(served.empty!.bodyBytes)} page against ${kib(served.big!.bodyBytes)})`, `within ${TARGET_THROUGHPUT * 100} %`, verdict(samePage && Math.abs(ratio - 1) <= TARGET_THROUGHPUT)],
        ['cached GET / p99 under load, big', `${ms(loadBig.p99)} ms`, `empty ${ms(loadEmpty.p99)} ms; with changes every ${CHANGE_EVERY_MS / 1000} s: big ${ms(withChanges.big!.p99)} ms, empty ${ms(withChanges.empty!.p99)} ms`, '< 10 ms (bench.ts target)', verdict(loadBig.p99 < 10)],
        ['server RSS (peak VmHWM of the three servers)', `${rssMb.toFixed(0)} MB`, `big ${mib(served.big!.peak)}, empty ${mib(served.empty!.peak)}, recent ${mib(served.recent!.peak)}`, '(reported only)', ''],
        ['sequential scans in the builds\' queries', String(seq.length), '', '0 on big tables', seq.length ? 'see above' : 'meets'],
      ],
      ['l', 'r', 'l', 'l', 'l'],
    ),
  );
  say(machineLine().replace('machine:', 'machine at the end:'));

  if (KEEP) say(`kept databases ${Object.values(NAMES).join(', ')}`);
}

const KEEP = process.env.BENCH_KEEP === '1';
let dropping: Promise<void> | undefined;
/** Drops the three databases (once), unless BENCH_KEEP=1: at the end, after a failure, and on Ctrl-C. */
const dropAll = () =>
  (dropping ??= KEEP || !Object.values(NAMES).every((n) => /bench/.test(n)) ? Promise.resolve() : (async () => {
    for (const n of Object.values(NAMES)) await drop(n).catch((error: unknown) => process.stderr.write(`could not drop ${n}: ${String(error)}\n`));
  })());
// Ctrl-C: the servers this bench started are killed (by pid), the databases dropped, then exit 130.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killChildren();
    void dropAll().finally(() => process.exit(130));
  });
}
try {
  await main();
} finally {
  killChildren();
  await dropAll();
}
