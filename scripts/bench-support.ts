/**
 * Shared helpers for `npm run bench` and `npm run bench:history`: child processes (Herald, and a
 * bare node:http server replaying recorded responses), raw HTTP fetches, autocannon runs with
 * exact latencies, and /proc readings (CPU time, RSS) of a child.
 *
 * Also runnable on its own as the bare server:
 *   node --import tsx scripts/bench-support.ts bare-server <fixtures.json> <port>
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const HERALD_BIN = fileURLToPath(new URL('../bin/herald.js', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat counts CPU time in these ticks

// ---- output -------------------------------------------------------------------------------------

export const say = (line = '') => process.stdout.write(`${line}\n`);

export function table(head: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const pad = (s: string, i: number) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? s.padEnd(widths[i]!) : s.padStart(widths[i]!));
  const line = (cells: readonly string[]) => cells.map((c, i) => pad(c, i)).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
export const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
export const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
export const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** What else is running: a benchmark on a shared 2-core machine must say how loaded it was. */
export function machineLine(): string {
  const [l1, l5] = os.loadavg();
  return `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? '?'}), load average ${l1!.toFixed(2)} / ${l5!.toFixed(2)} (1 / 5 min), node ${process.version}`;
}

// ---- processes ----------------------------------------------------------------------------------

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Child {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  readonly stderr: () => string;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
function track(child: ChildProcess) {
  children.add(child);
  child.on('exit', () => children.delete(child));
}
/** Kills (by pid) every child this process started and has not stopped yet. */
export function killChildren(): void {
  for (const c of children) {
    stopping.add(c);
    c.kill('SIGKILL');
  }
}
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killChildren();
    process.exit(130);
  });
}

const stopping = new WeakSet<ChildProcess>();
function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      stopping.add(child);
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

function baseEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production', ...extra };
}

/** `herald serve` in its own process; resolves once it logs that it listens. */
export async function startHerald(env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<Child> {
  const child = spawn(process.execPath, [...nodeArgs, HERALD_BIN, 'serve'], { cwd: ROOT, env: baseEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  track(child);
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`herald serve did not start in 60 s:\n${stderr}`)), 60_000);
    child.stderr!.on('data', (d) => {
      stderr += d;
      if (/msg=listening/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`herald serve exited with ${code}:\n${stderr}`));
    });
  });
  child.once('exit', (code, signal) => {
    if (!stopping.has(child)) process.stderr.write(`\n!! herald serve (pid ${child.pid}) exited unexpectedly: code ${code}, signal ${signal}; its last log lines:\n${stderr.split('\n').slice(-15).join('\n')}\n`);
  });
  return { child, pid: child.pid!, url: `http://127.0.0.1:${env.PORT}`, stderr: () => stderr, stop: stopper(child) };
}

/** Runs `herald ARGS` to completion. */
export function runHerald(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HERALD_BIN, ...args], { cwd: ROOT, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The bare node:http server in its own process, replaying the recorded responses. */
export async function startBare(fixturesFile: string, port: number): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, 'bare-server', fixturesFile, String(port)], {
    cwd: ROOT,
    env: baseEnv({}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bare server did not start:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}:\n${out}`)));
  });
  return { child, pid: child.pid!, url: `http://127.0.0.1:${port}`, stderr: () => out, stop: stopper(child) };
}

// ---- /proc --------------------------------------------------------------------------------------

/** User + system CPU time of a process, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** VmRSS and VmHWM (peak RSS) of a process, in kB. */
export function memoryKb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

// ---- HTTP ---------------------------------------------------------------------------------------

export interface RawResponse {
  readonly status: number;
  /** Header name/value pairs exactly as received. */
  readonly headers: readonly [string, string][];
  readonly body: Buffer;
  readonly ms: number;
}

/** A GET that keeps the bytes as sent (no decompression, unlike fetch). */
export function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const pairs: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
        resolve({ status: res.statusCode ?? 0, headers: pairs, body: Buffer.concat(chunks), ms: performance.now() - started });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

export const header = (r: RawResponse, name: string) => r.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

export async function jsonRequest(method: string, url: string, token: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} → ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

// ---- load ---------------------------------------------------------------------------------------

interface AutocannonResult {
  duration: number;
  totalCompletedRequests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
  latency: { p50: number; p99: number };
}
interface AutocannonTracker {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: AutocannonResult) => void) => AutocannonTracker;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadResult {
  readonly rps: number;
  /** Exact percentiles from every response time (autocannon's own histogram rounds to whole ms). */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly requests: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly statuses: string;
  /** CPU the server process used, in % of one core, and per request in µs. */
  readonly serverCpu: number;
  readonly cpuUsPerReq: number;
  /** CPU the load generator (this process) used, in % of one core. */
  readonly loaderCpu: number;
  /** CPU everything else on the machine used meanwhile (other processes, steal), in % of one core. */
  readonly othersCpu: number;
}

function runAutocannon(opts: Record<string, unknown>, onResponse?: (ms: number) => void): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    const tracker = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
    if (onResponse) tracker.on('response', (_c, _s, _b, t) => onResponse(t));
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Busy CPU time of the whole machine (all cores, steal included), in ms. */
export function machineBusyMs(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return ((user + nice + system + irq + softirq + steal) * 1000) / CLK_TCK;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits (up to `maxSeconds`) until the machine is quiet: less than `threshold` % of one core busy
 * over one second, our own idle processes included. Returns the seconds waited and the last reading.
 */
export async function waitForQuiet(maxSeconds: number, threshold = 25): Promise<{ waited: number; busy: number }> {
  const started = performance.now();
  let busy = NaN;
  for (;;) {
    const b0 = machineBusyMs();
    const t0 = performance.now();
    await sleep(1000);
    busy = ((machineBusyMs() - b0) / (performance.now() - t0)) * 100;
    const waited = (performance.now() - started) / 1000;
    if (busy < threshold || waited >= maxSeconds) return { waited, busy };
  }
}

interface Slice {
  times: Float64Array;
  n: number;
  seconds: number;
  wallMs: number;
  serverMs: number;
  loaderMs: number;
  busyMs: number;
  errors: number;
  non2xx: number;
  statuses: Map<string, number>;
}

export interface LoadOptions {
  readonly connections: number;
  /** Measured seconds, split evenly over `rounds` slices when interleaved. */
  readonly duration: number;
  readonly warmup: number;
}

/** One measured stretch of load on one URL. `pid` is the server's, for its CPU time. */
async function measure(url: string, headers: Record<string, string>, connections: number, seconds: number, pid: number): Promise<Slice> {
  let times = new Float64Array(1 << 18);
  let n = 0;
  const server0 = cpuMs(pid);
  const self0 = process.cpuUsage();
  const busy0 = machineBusyMs();
  const t0 = performance.now();
  const result = await runAutocannon({ url, headers, connections, pipelining: 1, timeout: 10, duration: seconds }, (t) => {
    if (n === times.length) {
      const bigger = new Float64Array(times.length * 2);
      bigger.set(times);
      times = bigger;
    }
    times[n++] = t;
  });
  const wallMs = performance.now() - t0;
  const self = process.cpuUsage(self0);
  const statuses = new Map(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count]));
  return {
    times,
    n,
    seconds: result.duration,
    wallMs,
    serverMs: cpuMs(pid) - server0,
    loaderMs: (self.user + self.system) / 1000,
    busyMs: machineBusyMs() - busy0,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    statuses,
  };
}

function summarize(slices: readonly Slice[]): LoadResult {
  const n = slices.reduce((s, x) => s + x.n, 0);
  const all = new Float64Array(n);
  let at = 0;
  for (const x of slices) {
    all.set(x.times.subarray(0, x.n), at);
    at += x.n;
  }
  all.sort();
  const sum = (f: (x: Slice) => number) => slices.reduce((s, x) => s + f(x), 0);
  const wall = sum((x) => x.wallMs);
  const statuses = new Map<string, number>();
  for (const x of slices) for (const [k, v] of x.statuses) statuses.set(k, (statuses.get(k) ?? 0) + v);
  return {
    rps: n / sum((x) => x.seconds),
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    max: all[n - 1] ?? NaN,
    requests: n,
    errors: sum((x) => x.errors),
    non2xx: sum((x) => x.non2xx),
    statuses: [...statuses].map(([code, count]) => `${code}×${count}`).join(' '),
    serverCpu: (sum((x) => x.serverMs) / wall) * 100,
    cpuUsPerReq: (sum((x) => x.serverMs) * 1000) / Math.max(1, n),
    loaderCpu: (sum((x) => x.loaderMs) / wall) * 100,
    othersCpu: (Math.max(0, sum((x) => x.busyMs - x.serverMs - x.loaderMs)) / wall) * 100,
  };
}

export interface Target {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly pid: number;
}

/**
 * Loads several targets fairly: each is warmed up (`warmup` s, discarded), then they take turns
 * in `rounds` slices of `duration / rounds` seconds, so background noise on a shared machine
 * falls on all of them alike. Before each slice, waits up to `quietWait` s for the machine to be
 * quiet. autocannon runs in this process; each server is in its own.
 */
export async function loadInterleaved(targets: readonly Target[], opts: LoadOptions & { rounds: number; quietWait: number; onSlice?: (i: number, round: number) => void }): Promise<LoadResult[]> {
  for (const t of targets) if (opts.warmup > 0) await runAutocannon({ url: t.url, headers: t.headers, connections: opts.connections, pipelining: 1, timeout: 10, duration: opts.warmup });
  const slices: Slice[][] = targets.map(() => []);
  const seconds = Math.max(1, Math.round(opts.duration / opts.rounds));
  for (let round = 0; round < opts.rounds; round++) {
    for (const [i, t] of targets.entries()) {
      if (opts.quietWait > 0) await waitForQuiet(opts.quietWait);
      opts.onSlice?.(i, round);
      slices[i]!.push(await measure(t.url, t.headers, opts.connections, seconds, t.pid));
    }
  }
  return slices.map(summarize);
}

/** Loads one URL: `warmup` seconds discarded, then `duration` seconds measured. */
export async function load(url: string, headers: Record<string, string>, opts: LoadOptions & { pid: number; quietWait?: number }): Promise<LoadResult> {
  const [r] = await loadInterleaved([{ url, headers, pid: opts.pid }], { ...opts, rounds: 1, quietWait: opts.quietWait ?? 0 });
  return r!;
}

// ---- CPU profiles -------------------------------------------------------------------------------

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const CATEGORIES: [RegExp, string][] = [
  [/node_modules\/(pg|pg-protocol|pg-types|postgres-date|postgres-array|postgres-interval|postgres-bytea|pg-pool)\//, 'pg driver (protocol, row and type parsing)'],
  [/node_modules\/@electric-sql\/pglite\//, 'PGlite (embedded Postgres, WASM)'],
  [/node_modules\/kysely\//, 'kysely'],
  [/node_modules\/marked\//, 'marked (Markdown)'],
  [/node_modules\/(xss|cssfilter)\//, 'xss (sanitizer)'],
  [/node_modules\/@hono\/node-server\//, '@hono/node-server (Request/Response ↔ node:http)'],
  [/node_modules\/hono\/dist\/.*(middleware|secure-headers|cors)/, 'hono middleware (secureHeaders, cors, …)'],
  [/node_modules\/hono\/dist\/.*jsx/, 'hono/jsx (render)'],
  [/node_modules\/hono\//, 'hono (routing, context)'],
  [/node_modules\/tsx\//, 'tsx (loader)'],
  [/\/src\/domain\//, 'src/domain (segments, bars, replay)'],
  [/\/src\/services\//, 'src/services (read model)'],
  [/\/src\/cache\//, 'src/cache (snapshot)'],
  [/\/src\/routes\//, 'src/routes (view models, sendCached)'],
  [/\/src\//, 'src (other)'],
  [/\/templates\//, 'templates'],
  [/^node:/, 'node internals (http, streams, buffers, timers)'],
  [/^$/, 'V8 builtins / native'],
];

export interface ProfileSummary {
  /** Sampled time in the window, ms. */
  readonly totalMs: number;
  readonly categories: readonly [string, number][];
  readonly top: readonly [string, number][];
}

/**
 * Self time by category and by function, divided by `per` (e.g. pages or requests), for the
 * samples whose time (µs, the profile's clock) falls in [from, to].
 */
export function summarizeProfile(profile: CpuProfile, per = 1, window?: { from: number; to: number }): ProfileSummary {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = profile.startTime;
  let total = 0;
  profile.samples.forEach((id, i) => {
    const d = profile.timeDeltas[i] ?? 0;
    t += d;
    if (window && (t < window.from || t > window.to)) return;
    self.set(id, (self.get(id) ?? 0) + d / 1000);
    total += d / 1000;
  });
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, msSelf] of self) {
    const { functionName, url, lineNumber } = byNode.get(id)!.callFrame;
    const special = /^\((idle|program|garbage collector|root)\)$/.test(functionName);
    // An in-process Profiler.stop runs (and is sampled) in "dispatch", the inspector's native entry point.
    const profiler = functionName === 'dispatch' && !url;
    const category = profiler
      ? '(the profiler itself)'
      : special
        ? functionName === '(idle)'
          ? '(idle: waiting for I/O)'
          : functionName
        : (CATEGORIES.find(([re]) => re.test(url))?.[1] ?? 'other JS');
    categories.set(category, (categories.get(category) ?? 0) + msSelf / per);
    const where = url ? `${url.replace(/^.*\/(node_modules\/(@[^/]+\/)?[^/]+|src|templates)\//, '$1/').replace(/^file:\/\//, '')}:${lineNumber + 1}` : '';
    const key = profiler ? '(the profiler itself)' : `${functionName || '(anonymous)'} ${where}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + msSelf / per);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: total,
    categories: sorted(categories),
    top: sorted(functions)
      .filter(([k]) => !/^\((idle|program|root|the profiler itself)\)/.test(k))
      .slice(0, 15),
  };
}

// ---- the bare server ----------------------------------------------------------------------------

/** One recorded response: replayed for requests to `path` whose Accept-Encoding is `acceptEncoding`. */
export interface Fixture {
  readonly path: string;
  readonly acceptEncoding: string;
  readonly status: number;
  readonly headers: readonly [string, string][];
  /** base64 */
  readonly body: string;
}

/** Headers node:http adds by itself on every response; everything else is replayed as recorded. */
const NODE_ADDS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

export function replayable(headers: readonly [string, string][]): [string, string][] {
  return headers.filter(([k]) => !NODE_ADDS.has(k.toLowerCase()));
}

async function bareServer(fixturesFile: string, port: number): Promise<void> {
  const fixtures = JSON.parse(await readFile(fixturesFile, 'utf8')) as Fixture[];
  const table = new Map<string, { status: number; headers: string[]; body: Buffer }>();
  for (const f of fixtures) {
    table.set(`${f.path}\n${f.acceptEncoding}`, { status: f.status, headers: replayable(f.headers).flat(), body: Buffer.from(f.body, 'base64') });
  }
  const server = http.createServer((req, res) => {
    const hit = table.get(`${req.url}\n${req.headers['accept-encoding'] ?? ''}`);
    if (!hit) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no fixture');
      return;
    }
    res.writeHead(hit.status, hit.headers);
    res.end(hit.body);
  });
  // Same keep-alive behaviour as @hono/node-server (node:http defaults).
  server.listen(port, '127.0.0.1', () => process.stdout.write(`bare server listening on ${port}\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === 'bare-server') {
  await bareServer(process.argv[3]!, Number(process.argv[4]));
}
