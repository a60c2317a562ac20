/**
 * Two `herald serve` processes on one Postgres, nothing between them and the load generator: an
 * update posted to one must be served by the other at once. For each of N updates posted to A,
 * this measures the time from A's 201 until B answers a GET that holds the update, polling B
 * back to back from the moment the 201 arrives, while autocannon keeps both busy with cached
 * reads. It also counts how often B's very first answer already held it.
 */
import http from 'node:http';
import pg from 'pg';
import { jsonRequest, rawGet } from './http.ts';
import { load, type LoadResult } from './load.ts';
import { freePort, memoryKb, runHerald, startHerald, type Child } from './processes.ts';
import { int, mib, ms, percentile, table } from './report.ts';

export const TARGET_INSTANCES_P99_MS = 100;

export interface InstancesResult {
  readonly updates: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Updates that B's first GET after A's 201 already showed. */
  readonly firstTry: number;
  /** GETs B answered in all while waiting. */
  readonly polls: number;
  readonly background: readonly LoadResult[];
  readonly rss: readonly { rss: number; peak: number }[];
  readonly report: string;
}

/** Makes database `name` on the server of `adminUrl`, runs `fn` with its URL, and drops it. */
export async function withDatabase<T>(adminUrl: string, name: string, fn: (url: string) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return await fn(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => {});
    await admin.end();
  }
}

export async function measureInstances(databaseUrl: string, options: { updates: number; connections: number }): Promise<InstancesResult> {
  const started: Child[] = [];
  try {
    const portA = await freePort();
    const envA = { PORT: String(portA), DATABASE_URL: databaseUrl, PUBLIC_URL: `http://127.0.0.1:${portA}` };
    const a = await startHerald(envA); // migrates the new database
    started.push(a);
    const portB = await freePort();
    const b = await startHerald({ PORT: String(portB), DATABASE_URL: databaseUrl, PUBLIC_URL: `http://127.0.0.1:${portB}` });
    started.push(b);
    const made = await runHerald(['token:create', '--name', 'bench-instances', '--scopes', 'admin'], envA);
    if (made.code !== 0) throw new Error(`token:create failed: ${made.stderr}`);
    const token = made.stdout.trim();
    const incident = await jsonRequest('POST', `${a.url}/api/v1/incidents`, token, { title: 'Two instances', message: 'Investigating.', statuses: { production: 'yellow' } });

    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const headers = { accept: 'application/json', 'accept-encoding': 'gzip, br' };
    const plain = { accept: 'application/json' };
    await rawGet(`${b.url}/api/v1/status`, headers, agent);

    // Both instances busy with cached reads of the front page for the whole measurement.
    let stop = false;
    const background = [a, b].map(async (server) => {
      const results: LoadResult[] = [];
      while (!stop) results.push(await load(`${server.url}/`, { 'accept-encoding': 'gzip, br' }, { connections: options.connections, duration: 2, warmup: 0, pid: server.pid }));
      return results;
    });
    await new Promise((r) => setTimeout(r, 1_000));

    const latencies: number[] = [];
    let firstTry = 0;
    let polls = 0;
    for (let i = 1; i <= options.updates; i++) {
      const text = `Update ${i} of the two-instance run.`;
      await jsonRequest('POST', `${a.url}/api/v1/incidents/${incident.id}/updates`, token, { message: text });
      const acked = performance.now();
      for (let attempt = 1; ; attempt++) {
        polls++;
        const res = await rawGet(`${b.url}/api/v1/status`, plain, agent);
        if (res.body.includes(text)) {
          latencies.push(performance.now() - acked);
          if (attempt === 1) firstTry++;
          break;
        }
        if (performance.now() - acked > 10_000) throw new Error(`instance B did not show update ${i} within 10 s`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    stop = true;
    const loads = (await Promise.all(background)).map((runs) => runs.at(-1)!);
    agent.destroy();
    const rss = [a, b].map((s) => memoryKb(s.pid));
    const sorted = [...latencies].sort((x, y) => x - y);
    const p99 = percentile(sorted, 99);
    const result = { updates: latencies.length, p50: percentile(sorted, 50), p99, max: sorted.at(-1)!, firstTry, polls };
    const report = [
      table(
        ['updates posted to A', 'B showed it: p50 ms', 'p99 ms', 'max ms', 'first GET of B already had it', 'GETs of B', 'target', 'verdict'],
        [[String(result.updates), ms(result.p50), ms(result.p99), ms(result.max), `${result.firstTry} / ${result.updates}`, int(polls), `p99 < ${TARGET_INSTANCES_P99_MS} ms`, p99 < TARGET_INSTANCES_P99_MS ? 'meets' : 'MISSES']],
      ),
      `meanwhile each instance served GET / to ${options.connections} autocannon connections: A ${int(loads[0]!.rps)} req/s (p99 ${ms(loads[0]!.p99)} ms), B ${int(loads[1]!.rps)} req/s (p99 ${ms(loads[1]!.p99)} ms) in the last 2 s slice; RSS A ${mib(rss[0]!.rss)}, B ${mib(rss[1]!.rss)}`,
    ].join('\n');
    return { ...result, background: loads, rss, report };
  } finally {
    await Promise.all(started.map((s) => s.stop()));
  }
}
