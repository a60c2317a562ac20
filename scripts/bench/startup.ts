/**
 * How fast `herald serve` starts on the embedded database, and how much memory it holds then.
 * `npm run bench:start` runs it alone (scripts/bench-start.ts); `benchStartup()` returns the
 * figures and a printable table for a bigger report.
 *
 * Each run is a whole process from spawn to the first 200 on `/` (the log line saying the port is
 * open ends the wait, then one GET: `listening`, or on a restart the earlier line saying it serves
 * the public data kept on disk while the database opens), and on to `listening` (the database
 * open, writes accepted; printed, no target): RUNS times, alternating, for
 *
 * - a first start on a fresh data dir (a new temp dir each run: the template is copied in), as
 *   `npm start` and as `node bin/herald.js serve`;
 * - a restart on the data dir a first start made, the same two ways;
 *
 * and for each, VmRSS and VmHWM (peak) of the server process (for `npm start`, the node process
 * npm runs) right after that first 200, and again after a burst of GETs (BURST requests, 8 at a
 * time, over the public pages and APIs, plain, gzip and br). The template is made first if it is
 * missing (`herald prepare`, timed, not counted).
 *
 * Last, what an idle server costs: `node bin/herald.js serve` on one of those data dirs, left alone
 * for IDLE_SETTLE_MS after `listening` (V8 tidies up after the start meanwhile), then its CPU time
 * over IDLE_MS (printed, no target).
 *
 * Targets (the issue's): first start < 2 s, restart < 1 s (medians), RSS and peak RSS < 250 MB
 * (the highest of every run). A missed target is a result, not a failure.
 *
 * Every server runs in a process group of its own, stopped with SIGTERM (SIGKILL after 10 s) and
 * waited for; the temp dirs are removed on the way out, also on Ctrl-C (with killChildrenOnSignals).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HERALD_BIN, cpuMs, freePort, memoryKb, runHerald, startNode, type Child } from './processes.ts';
import { machineLine, mib, table } from './report.ts';

export interface StartupOptions {
  /** Runs of each kind (5). */
  readonly runs?: number;
  /** GETs in the burst (400). */
  readonly burst?: number;
  /** Progress lines (none by default). */
  readonly progress?: (line: string) => void;
}

export interface Memory {
  /** VmRSS, kB. */
  readonly rss: number;
  /** VmHWM (the peak so far), kB. */
  readonly peak: number;
}

export interface StartRun {
  /** Spawn to the first 200 on `/`, ms. */
  readonly ms: number;
  /** Spawn to `listening`: the database open, writes accepted (ms; polled every 5 ms). */
  readonly liveMs: number;
  readonly afterFirst200: Memory;
  readonly afterBurst: Memory;
  /** First starts: the copy of the template, as the server logged it (ms). */
  readonly copyMs?: number;
}

export type StartKind = 'first start, npm start' | 'first start, node bin/herald.js serve' | 'restart, npm start' | 'restart, node bin/herald.js serve';

export interface StartupResult {
  readonly runs: Readonly<Record<StartKind, readonly StartRun[]>>;
  /** CPU time an idle server used over IDLE_MS, ms. */
  readonly idleCpuMs: number;
  readonly medians: Readonly<Record<StartKind, number>>;
  /** The highest VmRSS and VmHWM of any server, after its first 200 and after its burst. */
  readonly highest: { readonly afterFirst200: Memory; readonly afterBurst: Memory };
  /** `herald prepare` before the runs. */
  readonly prepare: { readonly ms: number; readonly output: string };
  /** Every target met. */
  readonly pass: boolean;
  readonly machine: string;
  /** The figures, their targets and verdicts, ready to print. */
  readonly table: string;
}

export const TARGETS = { firstStartMs: 2_000, restartMs: 1_000, rssKb: 250 * 1024 } as const;

/** Spawn to the first 200, at most: 2 s for a first start, 1 s for a restart. */
export const startTargetMs = (kind: StartKind) => (kind.startsWith('first') ? TARGETS.firstStartMs : TARGETS.restartMs);

const KINDS: readonly StartKind[] = ['first start, npm start', 'first start, node bin/herald.js serve', 'restart, npm start', 'restart, node bin/herald.js serve'];

const BURST_PATHS = [
  '/',
  '/history',
  '/feed.rss',
  '/feed.atom',
  '/maintenance.ics',
  '/api/v1/status',
  '/api/v1/platform',
  '/api/v1/incidents',
  '/api/v3/current-status',
  '/api/v4/current-status',
  '/api/v2/summary.json',
  '/api/v2/components.json',
  '/api/v2/incidents.json',
  '/api/v2/scheduled-maintenances.json',
  '/readyz',
];
const ENCODINGS = ['', 'gzip', 'br'];

/** npm's own script (npm_execpath under `npm run`, else `npm` on PATH), to run with this node. */
function npmCli(): string {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm && /npm-cli\.js$/.test(fromNpm)) return fromNpm;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'npm');
    if (existsSync(candidate)) {
      const real = realpathSync(candidate);
      if (real.endsWith('.js')) return real;
    }
  }
  throw new Error('npm-cli.js not found (neither npm_execpath nor npm on PATH)');
}

/** The node process running `bin/herald.js serve` under `root` (npm → sh → node), by /proc. */
function heraldPidUnder(root: number): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const under = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 10; p = parents.get(p) ?? 0, hops++) if (p === root) return true;
    return false;
  };
  for (const pid of parents.keys()) {
    if (!under(pid)) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.endsWith('bin/herald.js')) && argv.includes('serve')) return pid;
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no herald serve process under pid ${root}`);
}

async function getOk(url: string, encoding = ''): Promise<void> {
  const r = await fetch(url, { headers: encoding ? { 'accept-encoding': encoding } : {} });
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status}`);
}

async function burst(base: string, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        const i = next++;
        await getOk(base + BURST_PATHS[i % BURST_PATHS.length]!, ENCODINGS[Math.floor(i / BURST_PATHS.length) % ENCODINGS.length]);
      }
    }),
  );
}

async function startOnce(kind: StartKind, dataDir: string, burstSize: number): Promise<StartRun> {
  const port = await freePort();
  const env = { PORT: String(port), HERALD_DATA_DIR: dataDir, npm_config_update_notifier: 'false', npm_config_fund: 'false' };
  const viaNpm = kind.endsWith('npm start');
  const argv = viaNpm ? [npmCli(), 'start'] : [HERALD_BIN, 'serve'];
  const started = performance.now();
  let server: Child | undefined;
  try {
    // The port opens at `listening`, or earlier on a restart: with the data kept on disk (served
    // while the database opens).
    server = await startNode(kind, argv, env, { on: 'stderr', when: /msg=(?:listening|"serving the public data kept on disk)/, port, timeoutSeconds: 120 }, { group: true });
    await getOk(`${server.url}/`);
    const ms = performance.now() - started;
    const pid = viaNpm ? heraldPidUnder(server.pid) : server.pid;
    const afterFirst200 = memoryKb(pid);
    while (!/msg=listening/.test(server.stderr())) {
      if (performance.now() - started > 120_000) throw new Error(`${kind}: never listening:\n${server.stderr()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const liveMs = performance.now() - started;
    await burst(server.url, burstSize);
    const afterBurst = memoryKb(pid);
    const copied = /msg="created the embedded database from the template".* duration=(\d+)ms/.exec(server.stderr());
    return { ms, liveMs, afterFirst200, afterBurst, ...(copied ? { copyMs: Number(copied[1]) } : {}) };
  } finally {
    await server?.stop();
  }
}

const IDLE_SETTLE_MS = 30_000;
const IDLE_MS = 30_000;

/** CPU time (ms) of an idle `herald serve` on `dataDir` over IDLE_MS, from IDLE_SETTLE_MS after it listens. */
async function idleCpu(dataDir: string): Promise<number> {
  const port = await freePort();
  const server = await startNode('idle', [HERALD_BIN, 'serve'], { PORT: String(port), HERALD_DATA_DIR: dataDir }, { on: 'stderr', when: /msg=listening/, port, timeoutSeconds: 120 }, { group: true });
  try {
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
    const before = cpuMs(server.pid);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    return cpuMs(server.pid) - before;
  } finally {
    await server.stop();
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Runs the start-up benchmark; see the file's comment. */
export async function benchStartup(options: StartupOptions = {}): Promise<StartupResult> {
  const runs = options.runs ?? 5;
  const burstSize = options.burst ?? 400;
  const progress = options.progress ?? (() => {});
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-start-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', removeDir);
  try {
    const machineBefore = machineLine();
    let t = performance.now();
    const prepared = await runHerald(['prepare'], {});
    if (prepared.code !== 0) throw new Error(`herald prepare failed:\n${prepared.stderr}`);
    const prepare = { ms: performance.now() - t, output: prepared.stderr.trim() };
    progress(`${prepare.output} (${seconds(prepare.ms)})`);

    const results: Record<StartKind, StartRun[]> = Object.fromEntries(KINDS.map((k) => [k, []])) as unknown as Record<StartKind, StartRun[]>;
    for (let i = 0; i < runs; i++) {
      const npmDir = path.join(dir, `npm-${i}`, 'data');
      const nodeDir = path.join(dir, `node-${i}`, 'data');
      const order: [StartKind, string][] = [
        ['first start, npm start', npmDir],
        ['first start, node bin/herald.js serve', nodeDir],
        ['restart, npm start', npmDir],
        ['restart, node bin/herald.js serve', nodeDir],
      ];
      for (const [kind, dataDir] of order) {
        const run = await startOnce(kind, dataDir, burstSize);
        results[kind].push(run);
        progress(`${kind} #${i + 1}: ${seconds(run.ms)} (listening ${seconds(run.liveMs)}), RSS ${mib(run.afterFirst200.rss)} (peak ${mib(run.afterFirst200.peak)}), after the burst ${mib(run.afterBurst.rss)} (peak ${mib(run.afterBurst.peak)})`);
      }
    }

    const idleCpuMs = await idleCpu(path.join(dir, 'node-0', 'data'));
    progress(`idle server: ${idleCpuMs} ms of CPU in ${IDLE_MS / 1000} s`);

    const medians = Object.fromEntries(KINDS.map((k) => [k, median(results[k].map((r) => r.ms))])) as Record<StartKind, number>;
    const all = KINDS.flatMap((k) => results[k]);
    const highest = {
      afterFirst200: { rss: Math.max(...all.map((r) => r.afterFirst200.rss)), peak: Math.max(...all.map((r) => r.afterFirst200.peak)) },
      afterBurst: { rss: Math.max(...all.map((r) => r.afterBurst.rss)), peak: Math.max(...all.map((r) => r.afterBurst.peak)) },
    };
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    const rows: string[][] = [];
    let pass = true;
    for (const kind of KINDS) {
      const target = startTargetMs(kind);
      const ok = medians[kind] < target;
      pass &&= ok;
      rows.push([`${kind}: spawn to first 200 on /`, seconds(medians[kind]), results[kind].map((r) => (r.ms / 1000).toFixed(2)).join(' '), `< ${seconds(target)}`, verdict(ok)]);
    }
    for (const kind of KINDS) {
      const live = results[kind].map((r) => r.liveMs);
      rows.push([`${kind}: spawn to listening (database open, writes accepted)`, seconds(median(live)), live.map((ms) => (ms / 1000).toFixed(2)).join(' '), '', '']);
    }
    const copies = KINDS.flatMap((k) => results[k].map((r) => r.copyMs).filter((x): x is number => x !== undefined));
    if (copies.length) rows.push(['  of which the template copy (as logged)', `${median(copies).toFixed(0)} ms`, copies.map(String).join(' '), '', '']);
    for (const [label, pick] of [
      ['right after the first 200', (r: StartRun) => r.afterFirst200],
      [`after a burst of ${burstSize} GETs`, (r: StartRun) => r.afterBurst],
    ] as const) {
      for (const field of ['rss', 'peak'] as const) {
        const values = all.map((r) => pick(r)[field]);
        const ok = Math.max(...values) < TARGETS.rssKb;
        pass &&= ok;
        rows.push([`${field === 'rss' ? 'VmRSS' : 'VmHWM (peak)'} ${label}, every run`, `highest ${mib(Math.max(...values))}`, `median ${mib(median(values))}`, `< ${mib(TARGETS.rssKb)}`, verdict(ok)]);
      }
    }
    rows.push([`idle server: CPU time over ${IDLE_MS / 1000} s, from ${IDLE_SETTLE_MS / 1000} s after listening`, `${idleCpuMs} ms`, `${((idleCpuMs / IDLE_MS) * 100).toFixed(2)} % of a core`, '', '']);
    const printed = [
      `# herald serve on the embedded database: start-up and memory (${runs} runs of each kind)`,
      `before: ${machineBefore}`,
      `after:  ${machineLine()}`,
      `template: ${prepare.output}`,
      '',
      table(['measure', 'median', 'runs (s) / spread', 'target', 'verdict'], rows, ['l', 'r', 'l', 'l', 'l']),
    ].join('\n');
    return { runs: results, idleCpuMs, medians, highest, prepare, pass, machine: machineBefore, table: printed };
  } finally {
    removeDir();
    process.off('exit', removeDir);
  }
}
