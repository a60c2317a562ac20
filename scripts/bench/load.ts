/**
 * Load with autocannon (in this process; each server in its own), exact latency percentiles from
 * every response time, and the CPU each side and the rest of the machine used meanwhile.
 */
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMs, machineBusyMs } from './processes.ts';
import { percentile } from './report.ts';

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
  /** req/s of each measured slice, in the order they ran. */
  readonly sliceRps: readonly number[];
  /** Exact percentiles from every response time (autocannon's own histogram rounds to whole ms). */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly requests: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly statuses: string;
  /** CPU the server processes used, in % of one core, and per request in µs. */
  readonly serverCpu: number;
  readonly cpuUsPerReq: number;
  /** CPU the load generator (this process) used, in % of one core. */
  readonly loaderCpu: number;
  /** CPU everything else on the machine used meanwhile (other processes, steal), in % of one core. */
  readonly othersCpu: number;
}

export interface LoadOptions {
  readonly connections: number;
  /** Measured seconds, split evenly over `rounds` slices when interleaved. */
  readonly duration: number;
  readonly warmup: number;
}

export interface Target {
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** The server's processes (a proxy counts its upstream too), for CPU per request. */
  readonly pids: readonly number[];
}

function runAutocannon(opts: Record<string, unknown>, onResponse?: (ms: number) => void): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    const tracker = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
    if (onResponse) tracker.on('response', (_c, _s, _b, t) => onResponse(t));
  });
}

const autocannonOptions = (t: Target, connections: number, seconds: number) => ({ url: t.url, headers: t.headers ?? {}, connections, pipelining: 1, timeout: 10, duration: seconds });

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

/** One measured stretch of load on one target. */
async function measure(t: Target, connections: number, seconds: number): Promise<Slice> {
  let times = new Float64Array(1 << 18);
  let n = 0;
  const serverCpuMs = () => t.pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const server0 = serverCpuMs();
  const self0 = process.cpuUsage();
  const busy0 = machineBusyMs();
  const t0 = performance.now();
  const result = await runAutocannon(autocannonOptions(t, connections, seconds), (ms) => {
    if (n === times.length) {
      const bigger = new Float64Array(times.length * 2);
      bigger.set(times);
      times = bigger;
    }
    times[n++] = ms;
  });
  const wallMs = performance.now() - t0;
  const self = process.cpuUsage(self0);
  const statuses = new Map(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count]));
  return {
    times,
    n,
    seconds: result.duration,
    wallMs,
    serverMs: serverCpuMs() - server0,
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
    sliceRps: slices.map((x) => x.n / x.seconds),
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

export interface InterleaveOptions extends LoadOptions {
  readonly rounds: number;
  /** Before each slice, wait up to this many seconds for the machine to be quiet (0: do not). */
  readonly quietWait: number;
  /** Wait for quiet only before each round's first slice (the slices of a round then run back to back). */
  readonly quietPerRound?: boolean;
  /** Reverse the order every other round (AB BA AB …) instead of keeping it (AB AB …). */
  readonly abba?: boolean;
  readonly onSlice?: (i: number, round: number) => void;
}

/**
 * Loads several targets fairly: each is warmed up (`warmup` s, discarded), then they take turns
 * in `rounds` slices of `duration / rounds` seconds, so drift and background noise on a shared
 * machine fall on all of them alike.
 */
export async function loadInterleaved(targets: readonly Target[], opts: InterleaveOptions): Promise<LoadResult[]> {
  for (const t of targets) if (opts.warmup > 0) await runAutocannon(autocannonOptions(t, opts.connections, opts.warmup));
  const slices: Slice[][] = targets.map(() => []);
  const seconds = Math.max(1, Math.round(opts.duration / opts.rounds));
  for (let round = 0; round < opts.rounds; round++) {
    const order = targets.map((_, i) => i);
    if (opts.abba && round % 2 === 1) order.reverse();
    for (const [n, i] of order.entries()) {
      if (opts.quietWait > 0 && (n === 0 || !opts.quietPerRound)) await waitForQuiet(opts.quietWait);
      opts.onSlice?.(i, round);
      slices[i]!.push(await measure(targets[i]!, opts.connections, seconds));
    }
  }
  return slices.map(summarize);
}

/** Loads one URL: `warmup` seconds discarded, then `duration` seconds measured. */
export async function load(url: string, headers: Record<string, string>, opts: LoadOptions & { pid: number; quietWait?: number }): Promise<LoadResult> {
  const [r] = await loadInterleaved([{ url, headers, pids: [opts.pid] }], { ...opts, rounds: 1, quietWait: opts.quietWait ?? 0 });
  return r!;
}
