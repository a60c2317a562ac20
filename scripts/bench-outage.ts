/**
 * `npm run bench:outage`: how fast Herald's public GETs answer while its Postgres is healthy,
 * down (crashed), and frozen (SIGSTOP), against the healthy phase of the same run.
 *
 * A throwaway Postgres cluster of its own (test/support/throwaway-postgres.ts: initdb in a temp
 * dir, 127.0.0.1, a free port), a token made with `herald token:create` on it, `herald serve` in
 * its own process, one open incident with a few updates, the routes warmed. Then five phases of
 * PHASE_SECONDS of load each, CONNECTIONS keep-alive connections taking turns over PATHS with
 * Accept-Encoding: gzip, br:
 *
 *   1. healthy      the baseline;
 *   2. down         one update posted, then the cluster crashed (pg_ctl stop -m immediate),
 *                   ~1 s for Herald to notice, then the load;
 *   (the cluster started again, /readyz waited for)
 *   3. frozen       one update posted and a GET showing it (so a new snapshot version has just
 *                   been built and the responses of that version are not all made yet), the
 *                   cluster frozen at once (SIGSTOP on the postmaster and every backend), the
 *                   load, then thawed. BENCH_FREEZE_AT=write freezes at once after the 201
 *                   instead, which usually catches the rebuild that follows the write;
 *   4. after        /readyz waited for again, and one more healthy phase.
 *
 * Targets, while down and while frozen: p99 < 50 ms and max < 250 ms. A missed target is a
 * result, not a failure: the exit code is 0. It is non-zero if Herald's process died or any GET
 * was not answered 200 (a status, a connection error or a 10 s timeout).
 *
 * The load generator is a small node:http loop here rather than autocannon (which the other
 * benches use): autocannon drops the requests still in flight when its duration ends, and during
 * an outage those may be exactly the slow ones. Here every connection finishes the request it
 * started, and its time counts. Latencies are exact (every response timed, end of body).
 *
 * Everything it starts is ended on every way out: Herald (SIGTERM, then SIGKILL; on Ctrl-C
 * killChildrenOnSignals SIGKILLs it), the cluster (thawed first, then stopped), the cluster's
 * temp dir. Herald is one process (bin/herald.js imports the built dist/cli.js in process), so killing its pid ends it.
 *
 * Knobs: BENCH_CONNECTIONS (8), BENCH_PHASE_SECONDS (8), BENCH_FREEZE_AT (built | write).
 */
import { rmSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../test/support/throwaway-postgres.ts';
import { jsonRequest } from './bench/http.ts';
import { cpuMs, freePort, killChildrenOnSignals, runHerald, startHerald, type Child } from './bench/processes.ts';
import { int, machineLine, ms, percentile, say, table } from './bench/report.ts';

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const CONNECTIONS = Math.round(num('BENCH_CONNECTIONS', 8));
const PHASE_SECONDS = num('BENCH_PHASE_SECONDS', 8);
const PATHS = ['/', '/api/v1/status', '/api/v4/current-status', '/api/v1/platform', '/feed.rss'] as const;
const ACCEPT_ENCODING = 'gzip, br';
const REQUEST_TIMEOUT_MS = 10_000;
const NOTICE_MS = 1_000;
const FREEZE_AT = process.env.BENCH_FREEZE_AT === 'write' ? 'write' : 'built';
const TARGET_P99_MS = 50;
const TARGET_MAX_MS = 250;

// ---- cleanup ------------------------------------------------------------------------------------

let cluster: ThrowawayPostgres | undefined;
let herald: Child | undefined;

// Ctrl-C / SIGTERM: killChildrenOnSignals SIGKILLs Herald and exits; on exit the cluster's own
// handler (registered when it starts) thaws and stops it; this one, registered after it, removes
// its directory. SIGHUP (terminal closed) takes the same way out.
killChildrenOnSignals();
process.once('SIGHUP', () => process.exit(129));
function removeClusterDirOnExit() {
  process.once('exit', () => {
    if (!cluster) return;
    try {
      cluster.thaw();
      rmSync(cluster.dir, { recursive: true, force: true });
    } catch {
      // nothing more to do on the way out
    }
  });
}

async function cleanup() {
  const step = async (what: string, f: () => unknown) => {
    try {
      await f();
    } catch (error) {
      process.stderr.write(`cleanup: ${what} failed: ${(error as Error).message}\n`);
    }
  };
  await step('thaw', () => cluster?.thaw()); // before Herald stops: its shutdown may talk to the database
  await step('stop herald', () => herald?.stop()); // SIGTERM, SIGKILL after 10 s
  await step('destroy the cluster', () => cluster?.destroy()); // thaws, stops (immediate), removes the directory
}

// ---- load ---------------------------------------------------------------------------------------

interface Slow {
  readonly path: string;
  readonly ms: number;
  /** When the request started, seconds into the phase. */
  readonly at: number;
  readonly snapshot: string;
}

interface PhaseResult {
  readonly name: string;
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly non2xx: number;
  readonly non200: number;
  readonly errors: number;
  readonly stale: number;
  readonly statuses: string;
  readonly errorKinds: string;
  readonly heraldCpu: number;
  readonly loaderCpu: number;
  readonly slowest: readonly Slow[];
  readonly byPath: ReadonlyMap<string, { p99: number; max: number }>;
}

function get(agent: http.Agent, port: number, path: string): Promise<{ status: number; snapshot: string; error?: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { 'accept-encoding': ACCEPT_ENCODING } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve({ status: res.statusCode ?? 0, snapshot: String(res.headers['x-herald-snapshot'] ?? '') }));
      res.on('error', (e) => resolve({ status: 0, snapshot: '', error: e.message }));
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`timeout after ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (e) => resolve({ status: 0, snapshot: '', error: e.message }));
  });
}

/** CONNECTIONS loops, each sending the next path as soon as the last answer ended, for `seconds`. */
async function loadPhase(name: string, port: number, pid: number, seconds: number): Promise<PhaseResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let times = new Float64Array(1 << 17);
  let n = 0;
  const perPath = new Map<string, number[]>(PATHS.map((p) => [p, []]));
  const statuses = new Map<number, number>();
  const errorKinds = new Map<string, number>();
  let errors = 0;
  let stale = 0;
  let slowest: Slow[] = [];
  const cpu0 = cpuMs(pid);
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;

  const loop = async (i: number) => {
    for (let k = i; performance.now() < deadline; k++) {
      const path = PATHS[k % PATHS.length]!;
      const started = performance.now();
      const r = await get(agent, port, path);
      const took = performance.now() - started;
      if (r.error !== undefined) {
        errors++;
        errorKinds.set(r.error, (errorKinds.get(r.error) ?? 0) + 1);
        continue;
      }
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.snapshot.startsWith('stale')) stale++;
      if (n === times.length) {
        const bigger = new Float64Array(times.length * 2);
        bigger.set(times);
        times = bigger;
      }
      times[n++] = took;
      perPath.get(path)!.push(took);
      if (slowest.length < 5 || took > slowest[slowest.length - 1]!.ms) {
        slowest.push({ path, ms: took, at: (started - t0) / 1000, snapshot: r.snapshot.replace(/; since=.*/, '') });
        slowest.sort((a, b) => b.ms - a.ms);
        slowest = slowest.slice(0, 5);
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => loop(i)));
  const wall = performance.now() - t0;
  const self = process.cpuUsage(self0);
  const heraldCpu = ((cpuMs(pid) - cpu0) / wall) * 100;
  agent.destroy();

  const all = times.slice(0, n).sort();
  const byPath = new Map<string, { p99: number; max: number }>();
  for (const [p, list] of perPath) {
    const sorted = Float64Array.from(list).sort();
    byPath.set(p, { p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN });
  }
  let non2xx = 0;
  let non200 = 0;
  for (const [code, count] of statuses) {
    if (code < 200 || code > 299) non2xx += count;
    if (code !== 200) non200 += count;
  }
  return {
    name,
    requests: n + errors,
    rps: (n + errors) / (wall / 1000),
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    max: all[n - 1] ?? NaN,
    non2xx,
    non200,
    errors,
    stale,
    statuses: [...statuses].map(([code, count]) => `${code}×${count}`).join(' '),
    errorKinds: [...errorKinds].map(([e, count]) => `${e} ×${count}`).join('; '),
    heraldCpu,
    loaderCpu: ((self.user + self.system) / 1000 / wall) * 100,
    slowest,
    byPath,
  };
}

// ---- helpers ------------------------------------------------------------------------------------

async function readyWithin(url: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    try {
      const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
      await r.arrayBuffer();
      if (r.status === 200) return (performance.now() - started) / 1000;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`herald not ready within ${timeoutMs / 1000} s`);
}

function alive(h: Child): boolean {
  return h.child.exitCode === null && h.child.signalCode === null;
}

// ---- the run ------------------------------------------------------------------------------------

async function main(): Promise<number> {
  say('# Herald public GETs while its Postgres is healthy, down (crashed) and frozen (SIGSTOP)');
  say(`run of ${new Date().toISOString().slice(0, 10)}`);
  say(machineLine());
  say(
    `load: ${CONNECTIONS} keep-alive connections from this process (node:http, each sending its next request when the last ends), ` +
      `${PHASE_SECONDS} s per phase, rotating over ${PATHS.join(' ')} with Accept-Encoding: ${ACCEPT_ENCODING}; ` +
      `few connections so that the 2 cores are not the bottleneck; herald serve in its own process`,
  );

  let t = performance.now();
  cluster = await startThrowawayPostgres();
  removeClusterDirOnExit();
  await cluster.createDatabase('herald');
  const port = await freePort();
  const env = { DATABASE_URL: cluster.url('herald'), PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` };
  const created = await runHerald(['token:create', '--name', 'bench', '--scopes', 'incidents:write'], env);
  if (created.code !== 0) throw new Error(`token:create failed (${created.code}): ${created.stderr}`);
  const token = created.stdout.trim();
  herald = await startHerald(env);
  const h = herald;
  say(`postgres ${cluster.version}: throwaway cluster on 127.0.0.1:${cluster.port}; herald serve pid ${h.pid} (setup ${((performance.now() - t) / 1000).toFixed(1)} s)`);

  // Content: one open incident with a few updates.
  const post = (path: string, body: unknown) => jsonRequest('POST', `${h.url}${path}`, token, body);
  const incident = (await post('/api/v1/incidents', {
    title: 'Elevated API error rates in eu-west',
    message: 'We are investigating **elevated error rates** on the Platform API in eu-west.',
    statuses: { production: 'red' },
  })) as { id: number };
  const updates: [string, string][] = [
    ['identified', 'A failed deploy of the routing tier left some nodes with a stale configuration. Rolling back.'],
    ['monitoring', 'The rollback is complete and error rates are back to normal. We are monitoring.'],
    ['monitoring', 'Still monitoring: p99 latency in eu-west is within its usual range.'],
  ];
  for (const [state, message] of updates) await post(`/api/v1/incidents/${incident.id}/updates`, { state, message });
  let posted = 0;
  const postUpdate = async (why: string): Promise<string> => {
    const message = `Bench update ${++posted}: ${why}.`;
    await post(`/api/v1/incidents/${incident.id}/updates`, { message });
    return message;
  };

  // Warm every route and encoding (renders, compressed forms), and check they answer 200.
  const warm = new http.Agent({ keepAlive: true });
  for (let round = 0; round < 20; round++) {
    for (const p of PATHS) {
      const r = await get(warm, port, p);
      if (r.status !== 200) throw new Error(`warm-up: GET ${p} → ${r.status} ${r.error ?? ''}`);
    }
  }
  warm.destroy();
  say(`content: 1 open incident with ${1 + updates.length} updates; routes warmed`);
  say();

  const results: PhaseResult[] = [];
  const notes: string[] = [];
  const phase = async (name: string) => {
    const r = await loadPhase(name, port, h.pid, PHASE_SECONDS);
    results.push(r);
    return r;
  };

  // 1. healthy
  await phase('healthy');

  // 2. down: a fresh version exists, then a crash; Herald gets a moment to notice.
  await postUpdate('posted right before the crash');
  t = performance.now();
  await cluster.stop('immediate');
  notes.push(`down: update posted, cluster stopped -m immediate in ${ms(performance.now() - t)} ms, load began ${NOTICE_MS / 1000} s later`);
  await sleep(NOTICE_MS);
  await phase('down');

  // Back up.
  t = performance.now();
  await cluster.start();
  const startMs = performance.now() - t;
  const ready1 = await readyWithin(h.url, 60_000);
  notes.push(`restart: cluster started in ${(startMs / 1000).toFixed(1)} s, /readyz 200 ${ready1.toFixed(1)} s after that`);

  // 3. frozen, right after a write: by default once the snapshot holding it is built (the GET that
  // follows a write waits for that), so the routes' responses for the new version are not made
  // yet; with BENCH_FREEZE_AT=write, at once after the 201, which usually catches that rebuild.
  const message = await postUpdate('posted right before the freeze');
  if (FREEZE_AT === 'built') {
    t = performance.now();
    const r = await fetch(`${h.url}/api/v4/current-status`);
    const body = await r.text();
    const snapshot = r.headers.get('x-herald-snapshot') ?? '';
    if (r.status !== 200 || snapshot !== 'fresh' || !body.includes(message)) throw new Error(`GET after the write: ${r.status} ${snapshot}, update ${body.includes(message) ? 'present' : 'missing'}`);
    cluster.freeze();
    notes.push(`frozen: update posted (201), a GET showed it (fresh) ${ms(performance.now() - t)} ms later, the cluster frozen at once, then the load`);
  } else {
    cluster.freeze();
    notes.push('frozen: update posted (201), the cluster frozen at once (BENCH_FREEZE_AT=write), then the load');
  }
  try {
    await phase('frozen');
  } finally {
    cluster.thaw();
  }

  // 4. after
  const ready2 = await readyWithin(h.url, 60_000);
  notes.push(`after: thawed, /readyz 200 ${ready2.toFixed(1)} s later, then the load`);
  await phase('after');

  // ---- report ----
  const base = results[0]!;
  const ratio = (x: number, b: number) => (b > 0 ? `${(x / b).toFixed(2)}×` : '—');
  say(
    table(
      ['phase', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'p99 / healthy', 'non-2xx', 'errors', 'stale', 'herald CPU', 'loader CPU'],
      results.map((r) => [
        r.name,
        int(r.requests),
        int(r.rps),
        ms(r.p50),
        ms(r.p99),
        ms(r.max),
        ratio(r.p99, base.p99),
        int(r.non2xx),
        int(r.errors),
        int(r.stale),
        `${r.heraldCpu.toFixed(0)} %`,
        `${r.loaderCpu.toFixed(0)} %`,
      ]),
    ),
  );
  say('(CPU in % of one core; stale = answers marked X-Herald-Snapshot: stale)');
  say();
  for (const note of notes) say(note);
  say();
  say('p99 / max by route, ms:');
  say(
    table(
      ['route', ...results.map((r) => r.name)],
      PATHS.map((p) => [p, ...results.map((r) => `${ms(r.byPath.get(p)!.p99)} / ${ms(r.byPath.get(p)!.max)}`)]),
    ),
  );
  say();
  say('slowest requests (started at s into the phase, X-Herald-Snapshot):');
  for (const r of results) {
    say(`  ${r.name.padEnd(8)} ${r.slowest.map((s) => `${ms(s.ms)} ms ${s.path} @${s.at.toFixed(2)} s ${s.snapshot}`).join(', ')}`);
  }
  say();

  say(`targets while down and while frozen: p99 < ${TARGET_P99_MS} ms, max < ${TARGET_MAX_MS} ms`);
  for (const r of results.filter((x) => x.name === 'down' || x.name === 'frozen')) {
    const p99ok = r.p99 < TARGET_P99_MS;
    const maxok = r.max < TARGET_MAX_MS;
    say(
      `  ${r.name.padEnd(7)} p99 ${ms(r.p99)} ms (${ratio(r.p99, base.p99)} healthy): ${p99ok ? 'met' : 'MISSED'}; ` +
        `max ${ms(r.max)} ms (${ratio(r.max, base.max)} healthy): ${maxok ? 'met' : 'MISSED'}`,
    );
  }

  // Exit status: Herald alive, and every GET answered 200.
  let failed = false;
  const bad = results.filter((r) => r.non200 > 0 || r.errors > 0);
  for (const r of bad) {
    say(`!! ${r.name}: ${r.non200} GETs not 200 (${r.statuses})${r.errors ? `, ${r.errors} errors: ${r.errorKinds}` : ''}`);
    failed = true;
  }
  if (!alive(h)) {
    say(`!! herald serve (pid ${h.pid}) died: code ${h.child.exitCode}, signal ${h.child.signalCode}`);
    failed = true;
  } else if (/unhandled error survived|Unhandled 'error' event/.test(h.stderr())) {
    say('note: herald logged an unhandled error (it survived)');
  }
  say(failed ? 'result: FAILED (see !! above)' : 'result: herald served every GET with 200 in every phase, same process throughout');
  return failed ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  process.stderr.write(`bench:outage failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  if (herald) process.stderr.write(`herald's last log lines:\n${herald.stderr().split('\n').slice(-15).join('\n')}\n`);
  code = 1;
} finally {
  await cleanup();
}
process.exitCode = code;
