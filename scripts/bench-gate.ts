/**
 * `npm run bench:gate`: what the platform gate costs, and how fast a mode change reaches it.
 *
 * 1. A hello-world Hono app on @hono/node-server, with and without `platformGate` (fed by a
 *    ModeClient following a real Herald's event stream, in full mode): req/s, p50, p99, ratio.
 *    Target: gated ≥ 0.95 × bare req/s. A third app with one no-op async middleware is loaded
 *    alongside as a reference (the floor for any Hono middleware).
 *    1b. The same apps in process, without a network (@hono/node-server's request listener fed
 *    node IncomingMessage / ServerResponse objects): CPU per request of bare, no-op middleware,
 *    each thing platformGate does on a request, platformGate, and two prototypes of a cheaper
 *    gate (in this file, not in src). On a shared machine this is steadier than req/s.
 * 2. The `herald gate` reverse proxy (startGateProxy) in front of a bare node:http upstream, vs
 *    that upstream directly: req/s, p50, p99, ratio; a plain node:http proxy with the same
 *    forwarding but no gate is loaded alongside as a reference (what the hop itself costs).
 * 3. Mode change → enforcement: web is toggled maintenance / full 100 times through Herald's
 *    override API (PUT, then DELETE); after each change both gates above (separate processes)
 *    are polled until they answer with the new mode (503 / 200). Target: p99 under 1 s. An event
 *    stream observer in this process splits the time into Herald's part and the gates' part.
 *
 * Every server runs in its own child process (this file, started again as `child <role>`), all
 * on 127.0.0.1; autocannon runs in this process. Herald runs on a fresh embedded database in a
 * temp dir (or DATABASE_URL when set); its token is made with `herald token:create` before the
 * server starts (PGlite is single-process). Herald is started through `startServer` with
 * hostname 127.0.0.1 — the same code `herald serve` runs, which has no bind-address option and
 * would listen on every interface.
 *
 * Load: each target warmed up BENCH_WARMUP s (default 2), then BENCH_DURATION s (default 8)
 * measured in BENCH_ROUNDS slices (default 4), the order reversing every round (ABC CBA …), so
 * drift and background load on a shared 2-core machine fall on all targets alike. Before each
 * slice the script waits up to BENCH_QUIET_WAIT s (default 2) for the machine to calm down, and
 * it reports how much CPU other processes took meanwhile. Latency percentiles are exact (from
 * every response time).
 *
 * Other knobs: BENCH_CONNECTIONS (50), BENCH_CHANGES (100), BENCH_POLL_MS (gap between polls,
 * default 1), BENCH_BREAKDOWN=1 (also load the fast-path prototype and withPlatformGate), BENCH_KEEP=1 (keep the temp dir).
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { apiRequest, header, rawGet } from './bench/http.ts';
import { loadInterleaved, type LoadResult, type Target } from './bench/load.ts';
import { freePort, killChildren, killChildrenOnSignals, runHerald, runNode, startNode, type Child } from './bench/processes.ts';
import { int, machineLine, ms, percentile, say, table } from './bench/report.ts';

const SELF = fileURLToPath(import.meta.url);
const HOST = '127.0.0.1';
const ROLE = 'web';
const HELLO = 'Hello, World!';

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  return Number.isFinite(v) ? v : fallback;
};
const DURATION = num('BENCH_DURATION', 8);
const WARMUP = num('BENCH_WARMUP', 2);
const CONNECTIONS = num('BENCH_CONNECTIONS', 50);
const ROUNDS = Math.max(1, num('BENCH_ROUNDS', 4));
const QUIET_WAIT = num('BENCH_QUIET_WAIT', 2);
const CHANGES = Math.max(2, num('BENCH_CHANGES', 100));
const POLL_MS = Math.max(0, num('BENCH_POLL_MS', 1));
const CHANGE_TIMEOUT_MS = 10_000;
const TARGET_RATIO = 0.95;
const TARGET_P99_MS = 1000;

/** True from sending a PUT override until a DELETE has been answered: cleanup clears it then. */
let overrideOutstanding = false;
/** The temp dir, removed on every way out (signals included). */
let tmpDir: string | undefined;

/** Like `ms`, with a dash for a figure there is none of. */
const fmt = (x: number) => (Number.isNaN(x) ? '—' : ms(x));
const signed = (x: number) => (x < 0 ? `−${fmt(-x)}` : `+${fmt(x)}`);

/**
 * Why a req/s ratio cannot be trusted, or '' when it can: the per-round ratios disagree by more
 * than 20 %, or other processes took more than half a core while the targets were loaded.
 */
function noiseNote(all: readonly { sliceRps: readonly number[]; othersCpu: number }[], a: { sliceRps: readonly number[] }, b: { sliceRps: readonly number[] }): string {
  const ratios = a.sliceRps.map((r, i) => r / b.sliceRps[i]!);
  const lo = Math.min(...ratios);
  const hi = Math.max(...ratios);
  const others = all.map((t) => t.othersCpu);
  const notes: string[] = [];
  if (hi / lo > 1.2) notes.push(`per-round ratios range ${lo.toFixed(2)}–${hi.toFixed(2)}`);
  if (Math.max(...others) > 50) notes.push(`other processes used ${Math.min(...others).toFixed(0)}–${Math.max(...others).toFixed(0)} % of a core meanwhile`);
  return notes.join('; ');
}

// ---- children (this file, run again as `child <role> ...`) --------------------------------------

/** Prints `ready <port>` on stdout once listening; stops on SIGTERM. */
async function child(role: string, args: string[]): Promise<void> {
  const err = (line: string) => process.stderr.write(`${line}\n`);
  const ready = (port: number) => process.stdout.write(`ready ${port}\n`);
  let close: () => Promise<void> = async () => {};
  process.on('SIGTERM', () => void close().finally(() => process.exit(0)));

  if (role === 'herald') {
    const { parseConfig } = await import('../src/config.ts');
    const { startServer } = await import('../src/entry/node.ts');
    const running = await startServer(parseConfig(process.env), { hostname: HOST });
    close = running.close;
    ready(running.port);
  } else if (role === 'hono') {
    // args: variant [heraldUrl]
    const [variant = 'bare', heraldUrl = ''] = args;
    const { serve } = await import('@hono/node-server');
    const built = await honoApp(variant, heraldUrl, err);
    const server = serve({ fetch: built.fetch, port: 0, hostname: HOST }, (info) => ready(info.port));
    close = async () => {
      built.close();
      server.close();
    };
  } else if (role === 'cost') {
    // args: heraldUrl variant...; prints one JSON line: { variant: ns per request[] }
    const [heraldUrl = '', ...variants] = args;
    const result = await inProcessCost(heraldUrl, variants, err);
    process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
    return;
  } else if (role === 'upstream') {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8', 'content-length': Buffer.byteLength(HELLO) });
      res.end(HELLO);
    });
    server.listen(0, HOST, () => ready((server.address() as net.AddressInfo).port));
    close = async () => void server.close();
  } else if (role === 'plain-proxy') {
    // A minimal node:http reverse proxy (keep-alive agent, headers copied, bodies moved with
    // .pipe()), without the gate: what the hop itself costs.
    const [upstream = ''] = args;
    const target = new URL(upstream);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const server = http.createServer((req, res) => {
      const forwarded: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) forwarded[k] = v;
      forwarded['x-forwarded-for'] = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
      const up = http.request({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: forwarded, agent }, (upRes) => {
        const back: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(upRes.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) back[k] = v;
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, back);
        upRes.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    server.listen(0, HOST, () => ready((server.address() as net.AddressInfo).port));
    close = async () => {
      server.closeAllConnections();
      server.close();
      agent.destroy();
    };
  } else if (role === 'proxy') {
    // args: upstreamUrl heraldUrl
    const [upstream = '', heraldUrl = ''] = args;
    const { startGateProxy } = await import('../src/entry/gate.ts');
    const gate = await startGateProxy({ upstream, heraldUrl, role: ROLE, port: 0, hostname: HOST, statusPageUrl: heraldUrl, log: err });
    if (gate.modes.stale) throw new Error(`the gate never reached Herald at ${heraldUrl}`);
    close = gate.close;
    ready(gate.port);
  } else {
    throw new Error(`unknown child role ${role}`);
  }
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/**
 * The hello-world Hono app, in one of these forms:
 * - `bare`: no middleware;
 * - `noop`: one async middleware that only awaits next() (the floor for any Hono middleware);
 * - `gated`: platformGate fed by a ModeClient following Herald;
 * - `url`, `req-headers`, `res-header`: a middleware doing one of the things platformGate does on
 *   every request (parse the URL; materialise the request Headers; set a header on c.res);
 * - `fast` (prototype, not in src): a middleware that, when the mode lets everything through,
 *   skips the async decision and sets the header on node's ServerResponse;
 * - `wrapped`: no middleware; withPlatformGate wraps app.fetch instead (as shipped in
 *   herald/gate), so Hono keeps its synchronous single-handler path.
 */
async function honoApp(variant: string, heraldUrl: string, log: (line: string) => void): Promise<{ fetch: (req: Request, env?: unknown) => Response | Promise<Response>; close(): void }> {
  const { Hono } = await import('hono');
  const app = new Hono();
  let close = () => {};
  type Modes = import('../src/gate/core.ts').ModeSource;
  let modes: Modes | undefined;
  let gate: import('hono').MiddlewareHandler | undefined;
  if (['gated', 'fast', 'wrapped'].includes(variant)) {
    const { platformGate, ModeClient } = await import('../src/gate/index.ts');
    const client = new ModeClient({ heraldUrl, log });
    await client.ready(10_000);
    if (client.stale) throw new Error(`the ModeClient never reached Herald at ${heraldUrl}`);
    close = () => client.close();
    modes = client;
    gate = platformGate({ role: ROLE, modes: client, statusPageUrl: heraldUrl, log });
  }
  const outgoing = (env: unknown) => (env as { outgoing?: http.ServerResponse } | undefined)?.outgoing;
  switch (variant) {
    case 'bare':
    case 'wrapped':
      break;
    case 'gated':
      app.use('*', gate!);
      break;
    case 'noop':
      app.use('*', async (_c, next) => {
        await next();
      });
      break;
    case 'url':
      app.use('*', async (c, next) => {
        void new URL(c.req.url).pathname;
        await next();
      });
      break;
    case 'req-headers':
      app.use('*', async (c, next) => {
        void c.req.raw.headers;
        await next();
      });
      break;
    case 'res-header':
      app.use('*', async (c, next) => {
        await next();
        c.res.headers.set('Platform-Mode', 'full');
      });
      break;
    case 'fast':
      app.use('*', (c, next) => {
        const state = modes!.state(ROLE);
        const out = outgoing(c.env);
        if (state.mode === 'full' && out && !out.headersSent) {
          out.setHeader('Platform-Mode', state.mode);
          return next();
        }
        return gate!(c, next);
      });
      break;
    default:
      throw new Error(`unknown hono variant ${variant}`);
  }
  app.get('/', (c) => c.text(HELLO));
  if (variant !== 'wrapped') return { fetch: app.fetch, close };
  const { withPlatformGate } = await import('../src/gate/index.ts');
  return { fetch: withPlatformGate(app.fetch, { role: ROLE, modes: modes!, statusPageUrl: heraldUrl, log }), close };
}

/**
 * CPU per request of each app variant, in process and without a network: @hono/node-server's own
 * request listener is handed a node IncomingMessage / ServerResponse pair on an unconnected
 * socket, so what is timed is exactly the JavaScript a request costs between the HTTP parser and
 * the socket write. Rounds alternate between variants; returns ns per request for every round.
 */
async function inProcessCost(heraldUrl: string, variants: readonly string[], log: (line: string) => void): Promise<Record<string, number[]>> {
  const { getRequestListener } = await import('@hono/node-server');
  const socket = new net.Socket();
  const apps = await Promise.all(variants.map((v) => honoApp(v, heraldUrl, log)));
  const listeners = apps.map((a) => getRequestListener(a.fetch as (req: Request, env: unknown) => Response | Promise<Response>));
  const one = async (listener: (typeof listeners)[number]) => {
    const req = new http.IncomingMessage(socket);
    req.method = 'GET';
    req.url = '/';
    req.headers = { host: `${HOST}:3000`, accept: '*/*', 'user-agent': 'bench' };
    req.rawHeaders = ['host', `${HOST}:3000`, 'accept', '*/*', 'user-agent', 'bench'];
    req.complete = true;
    req.push(null);
    const res = new http.ServerResponse(req);
    await listener(req, res);
    return res;
  };
  for (const [i, l] of listeners.entries()) {
    const res = await one(l);
    const mode = res.getHeader('platform-mode') ?? /platform-mode: *(\w+)/i.exec(String((res as unknown as { _header?: string })._header))?.[1];
    const gated = !['bare', 'noop', 'url', 'req-headers'].includes(variants[i]!);
    if (res.statusCode !== 200 || (gated && mode !== 'full')) throw new Error(`in-process ${variants[i]}: status ${res.statusCode}, Platform-Mode ${mode}`);
  }
  const N = 20_000;
  const out: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
  for (let round = 0; round < 12; round++) {
    for (const [i, l] of listeners.entries()) {
      const c0 = process.cpuUsage();
      for (let k = 0; k < N; k++) await one(l);
      const c = process.cpuUsage(c0);
      out[variants[i]!]!.push(((c.user + c.system) * 1000) / N);
    }
  }
  for (const a of apps) a.close();
  return out;
}

/** DATABASE_URL, when set, goes to every child (Herald uses it instead of the embedded database). */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra, ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}) };
}

/** This file again as `child ROLE ARGS`; it prints `ready <port>` once listening. */
function startChild(name: string, role: string, args: string[], env: Record<string, string> = childEnv()): Promise<Child> {
  return startNode(name, ['--import', 'tsx', SELF, 'child', role, ...args], env, { on: 'stdout', when: /ready (\d+)/, timeoutSeconds: 60, keepTail: 32_000 });
}

// ---- load ---------------------------------------------------------------------------------------

type Measured = LoadResult & { readonly label: string };

/**
 * Warms every target up, then measures them in `ROUNDS` slices each, in ABBA… order (the order
 * reverses every round), so drift and background load fall on all of them alike.
 */
async function compare(targets: readonly (Target & { readonly label: string })[]): Promise<Measured[]> {
  const results = await loadInterleaved(targets, { connections: CONNECTIONS, duration: DURATION, warmup: WARMUP, rounds: ROUNDS, quietWait: QUIET_WAIT, abba: true });
  return results.map((r, i) => ({ ...r, label: targets[i]!.label }));
}

function loadTable(results: readonly Measured[]): string {
  return table(
    ['target', 'req/s', 'slices req/s', 'p50 ms', 'p99 ms', 'max ms', 'requests', 'err', 'non-2xx', 'server CPU µs/req', 'server CPU %', 'loader CPU %', 'others CPU %'],
    results.map((r) => [
      r.label,
      int(r.rps),
      r.sliceRps.map(int).join(' / '),
      fmt(r.p50),
      fmt(r.p99),
      fmt(r.max),
      int(r.requests),
      String(r.errors),
      String(r.non2xx),
      fmt(r.cpuUsPerReq),
      r.serverCpu.toFixed(0),
      r.loaderCpu.toFixed(0),
      r.othersCpu.toFixed(0),
    ]),
  );
}

// ---- HTTP helpers -------------------------------------------------------------------------------

async function expectAnswer(label: string, url: string, want: { status: number; body?: string; mode?: string | null }): Promise<void> {
  const a = await rawGet(url);
  const body = a.body.toString('utf8');
  const mode = header(a, 'platform-mode');
  const problems: string[] = [];
  if (a.status !== want.status) problems.push(`status ${a.status}, expected ${want.status}`);
  if (want.body !== undefined && body !== want.body) problems.push(`body ${JSON.stringify(body.slice(0, 200))}, expected ${JSON.stringify(want.body)}`);
  if (problems.length) throw new Error(`${label} (${url}) answered wrong: ${problems.join('; ')}`);
}

// ---- 3. mode change → enforcement ---------------------------------------------------------------

/**
 * Follows Herald's event stream from this process and timestamps every mode of ROLE it announces,
 * so a slow change can be split into Herald's part (write + event) and the gate's part.
 */
class EventObserver {
  readonly events: { mode: string; at: number }[] = [];
  #req: http.ClientRequest | undefined;

  start(heraldUrl: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${heraldUrl}/api/v1/platform/events?role=${ROLE}`, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`events → ${res.statusCode}`));
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          const at = performance.now();
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
            if (!data) continue;
            const mode = (JSON.parse(data) as { roles: { role: string; mode: string }[] }).roles.find((r) => r.role === ROLE)?.mode;
            if (mode) {
              this.events.push({ mode, at });
              resolve();
            }
          }
        });
        res.on('error', () => {});
      });
      req.on('error', reject);
      this.#req = req;
    });
  }

  /** When the first event announcing `mode` at or after `since` arrived. */
  firstSince(since: number, mode: string): number {
    return this.events.find((e) => e.at >= since && e.mode === mode)?.at ?? NaN;
  }

  close(): void {
    this.#req?.destroy();
  }
}

interface ChangeRun {
  /** Per gate: ms from sending the override request to the first poll answer in the new mode. */
  readonly enforced: Map<string, number[]>;
  /** Per gate: ms from the override API's response to enforcement (negative: enforced first). */
  readonly afterAck: Map<string, number[]>;
  readonly apiMs: number[];
  /** ms from sending the override request to Herald's event reaching an observer in this process. */
  readonly eventMs: number[];
  /** Per gate: ms from that event's arrival here to enforcement at the gate. */
  readonly afterEvent: Map<string, number[]>;
  readonly polls: Map<string, number>;
  readonly pollRtt: Map<string, number[]>;
  readonly timeouts: Map<string, number>;
}

async function modeChanges(heraldUrl: string, token: string, gates: readonly { label: string; url: string }[]): Promise<ChangeRun> {
  const run: ChangeRun = { enforced: new Map(), afterAck: new Map(), apiMs: [], eventMs: [], afterEvent: new Map(), polls: new Map(), pollRtt: new Map(), timeouts: new Map() };
  const observer = new EventObserver();
  await observer.start(heraldUrl);
  const agents = new Map(gates.map((g) => [g.label, new http.Agent({ keepAlive: true, maxSockets: 1 })]));
  for (const g of gates) {
    run.enforced.set(g.label, []);
    run.afterAck.set(g.label, []);
    run.afterEvent.set(g.label, []);
    run.polls.set(g.label, 0);
    run.pollRtt.set(g.label, []);
    run.timeouts.set(g.label, 0);
  }
  const overrideUrl = `${heraldUrl}/api/v1/platform/roles/${ROLE}/override`;
  try {
    for (let i = 0; i < CHANGES; i++) {
      const toMaintenance = i % 2 === 0;
      const want = toMaintenance ? 503 : 200;
      const wantMode = toMaintenance ? 'maintenance' : 'full';
      const t0 = performance.now();
      if (toMaintenance) overrideOutstanding = true;
      const call = toMaintenance
        ? apiRequest('PUT', overrideUrl, token, { mode: 'maintenance', reason: `bench-gate change ${i + 1}` })
        : apiRequest('DELETE', overrideUrl, token, { reason: `bench-gate change ${i + 1}` });
      const ack = call.then((r) => {
        if (r.status !== 200) throw new Error(`${toMaintenance ? 'PUT' : 'DELETE'} override → ${r.status}: ${JSON.stringify(r.json)}`);
        if (r.json?.role?.mode !== wantMode) throw new Error(`override answered mode ${r.json?.role?.mode}, expected ${wantMode}`);
        if (!toMaintenance) overrideOutstanding = false;
        return performance.now() - t0;
      });
      const polled = gates.map(async (g) => {
        const agent = agents.get(g.label)!;
        for (;;) {
          const s = performance.now();
          const a = await rawGet(g.url, {}, agent);
          const e = performance.now();
          run.polls.set(g.label, run.polls.get(g.label)! + 1);
          run.pollRtt.get(g.label)!.push(e - s);
          if (a.status === want) {
            const mode = header(a, 'platform-mode');
            if ((mode ?? '') !== wantMode) throw new Error(`${g.label} answered ${a.status} with Platform-Mode ${mode}, expected ${wantMode}`);
            return e - t0;
          }
          if (a.status !== 200 && a.status !== 503) throw new Error(`${g.label} answered ${a.status}: ${a.body.toString('utf8').slice(0, 200)}`);
          if (e - t0 > CHANGE_TIMEOUT_MS) return Infinity;
          if (POLL_MS > 0) await sleep(POLL_MS);
        }
      });
      const [apiMs, ...times] = await Promise.all([ack, ...polled]);
      run.apiMs.push(apiMs);
      // The observer may be a little behind the gates (this process is busy polling): allow it 1 s.
      for (let w = 0; w < 100 && Number.isNaN(observer.firstSince(t0, wantMode)); w++) await sleep(10);
      const eventMs = observer.firstSince(t0, wantMode) - t0;
      run.eventMs.push(eventMs);
      gates.forEach((g, k) => {
        const t = times[k]!;
        if (t === Infinity) run.timeouts.set(g.label, run.timeouts.get(g.label)! + 1);
        run.enforced.get(g.label)!.push(t);
        run.afterAck.get(g.label)!.push(t - apiMs);
        run.afterEvent.get(g.label)!.push(t - eventMs);
      });
      await sleep(20);
    }
  } finally {
    for (const a of agents.values()) a.destroy();
    observer.close();
  }
  return run;
}

function dist(xs: readonly number[]): { p50: number; p99: number; max: number; min: number } {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? NaN, min: s[0] ?? NaN };
}

// ---- main ---------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const started = performance.now();
  say('# herald bench:gate');
  say(machineLine());
  say(`load: ${CONNECTIONS} connections, ${WARMUP} s warm-up per target, ${DURATION} s measured per target in ${ROUNDS} slices (ABBA order), quiet wait ≤ ${QUIET_WAIT} s per slice; all servers on ${HOST}, each in its own process, autocannon in this one`);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'herald-bench-gate-'));
  tmpDir = tmp;
  const kids: Child[] = [];
  let herald: Child | undefined;
  let token = '';
  try {
    // ---- Herald: token first (PGlite is single-process), then serve --------------------------
    const port = await freePort();
    const env = childEnv({ HERALD_DATA_DIR: path.join(tmp, 'data'), PORT: String(port), PUBLIC_URL: `http://${HOST}:${port}`, HERALD_ROLES: 'web,worker' });
    const created = await runHerald(['token:create', '--name', 'bench', '--scopes', 'admin'], env);
    token = created.stdout.trim();
    if (created.code !== 0 || !token) throw new Error(`herald token:create failed (${created.code}):\n${created.stderr}`);
    herald = await startChild('herald', 'herald', [], env);
    say(`herald: ${herald.url} (pid ${herald.pid}, ${process.env.DATABASE_URL ? 'DATABASE_URL' : `embedded database in ${tmp}`})`);
    const platform = await rawGet(`${herald.url}/api/v1/platform`);
    const platformBody = platform.body.toString('utf8');
    const web = (JSON.parse(platformBody) as { roles: { role: string; mode: string }[] }).roles.find((r) => r.role === ROLE);
    if (platform.status !== 200 || web?.mode !== 'full') throw new Error(`Herald's ${ROLE} role is not in full mode (${platform.status} ${platformBody.slice(0, 200)})`);

    // ---- 1. Hono hello world, with and without platformGate --------------------------------------
    say();
    say(`## 1. Hono hello world on @hono/node-server, without vs with platformGate({ role: '${ROLE}' }) (ModeClient following Herald's event stream, full mode)`);
    const bare = await startChild('hono bare', 'hono', ['bare']);
    kids.push(bare);
    const noop = await startChild('hono + no-op middleware', 'hono', ['noop']);
    kids.push(noop);
    const gated = await startChild('hono + platformGate', 'hono', ['gated', herald.url]);
    kids.push(gated);
    await expectAnswer('hono bare', bare.url, { status: 200, body: HELLO, mode: null });
    await expectAnswer('hono + no-op middleware', noop.url, { status: 200, body: HELLO, mode: null });
    await expectAnswer('hono + platformGate', gated.url, { status: 200, body: HELLO, mode: 'full' });
    const [honoBare, honoNoop, honoGated] = (await compare([
      { label: 'hono bare', url: bare.url, pids: [bare.pid] },
      { label: 'hono + no-op middleware (reference)', url: noop.url, pids: [noop.pid] },
      { label: 'hono + platformGate', url: gated.url, pids: [gated.pid] },
    ])) as [Measured, Measured, Measured];
    say(loadTable([honoBare, honoNoop, honoGated]));
    const ratio1 = honoGated.rps / honoBare.rps;
    const pairs = (a: LoadResult, b: LoadResult) => a.sliceRps.map((r, i) => (r / b.sliceRps[i]!).toFixed(3)).join(', ');
    const medianRatio = (a: LoadResult, b: LoadResult) => percentile(a.sliceRps.map((r, i) => r / b.sliceRps[i]!).sort((x, y) => x - y), 50);
    const ok1 = ratio1 >= TARGET_RATIO;
    say(`ratio platformGate / bare: ${ratio1.toFixed(3)} req/s (per round: ${pairs(honoGated, honoBare)}; median round ${medianRatio(honoGated, honoBare).toFixed(3)}); p50 ${fmt(honoBare.p50)} → ${fmt(honoGated.p50)} ms, p99 ${fmt(honoBare.p99)} → ${fmt(honoGated.p99)} ms; server CPU ${fmt(honoBare.cpuUsPerReq)} → ${fmt(honoGated.cpuUsPerReq)} µs/req (${signed(honoGated.cpuUsPerReq - honoBare.cpuUsPerReq)})`);
    say(`reference: no-op middleware / bare ${(honoNoop.rps / honoBare.rps).toFixed(3)} (per round: ${pairs(honoNoop, honoBare)}; median round ${medianRatio(honoNoop, honoBare).toFixed(3)}); platformGate / no-op middleware ${(honoGated.rps / honoNoop.rps).toFixed(3)}`);
    const noise1 = noiseNote([honoBare, honoNoop, honoGated], honoGated, honoBare);
    const cpuRatio1 = honoBare.cpuUsPerReq / honoGated.cpuUsPerReq;
    say(`target platformGate / bare ≥ ${TARGET_RATIO} by req/s: ${ok1 ? 'MET' : 'MISSED'}${noise1 ? ` — UNRELIABLE: ${noise1}` : ''}`);
    say(`by server CPU per request (bare ÷ gated; what req/s follows when the CPU is the limit, and steadier under contention): ${cpuRatio1.toFixed(3)} — ${cpuRatio1 >= TARGET_RATIO ? 'MET' : 'MISSED'}`);

    say();
    say('### 1b. where a request\'s CPU goes: the same apps in process, no network (@hono/node-server\'s listener on a node IncomingMessage / ServerResponse), 12 alternating rounds of 20,000 requests');
    const costVariants = ['bare', 'noop', 'url', 'req-headers', 'res-header', 'gated', 'fast', 'wrapped'];
    const costLabels: Record<string, string> = {
      bare: 'bare',
      noop: 'no-op async middleware',
      url: 'middleware: new URL(c.req.url)',
      'req-headers': 'middleware: c.req.raw.headers',
      'res-header': 'middleware: c.res.headers.set() after next()',
      gated: 'platformGate (as shipped)',
      fast: 'prototype: sync full-mode path, header on ServerResponse',
      wrapped: 'withPlatformGate(app.fetch) (as shipped)',
    };
    const costRun = await runNode(['--import', 'tsx', SELF, 'child', 'cost', herald.url, ...costVariants], childEnv());
    if (costRun.code !== 0) throw new Error(`in-process cost run failed (${costRun.code}):\n${costRun.stderr}`);
    const cost = JSON.parse(costRun.stdout.trim().split('\n').at(-1)!) as Record<string, number[]>;
    const minOf = (v: string) => Math.min(...cost[v]!) / 1000;
    const medOf = (v: string) => percentile([...cost[v]!].sort((a, b) => a - b), 50) / 1000;
    say(table(
      ['variant', 'min µs/req', 'median µs/req', '+µs vs bare (min)', `projected ratio at ${fmt(honoBare.cpuUsPerReq)} µs/req`],
      costVariants.map((v) => {
        const extra = minOf(v) - minOf('bare');
        return [costLabels[v]!, fmt(minOf(v)), fmt(medOf(v)), v === 'bare' ? '—' : signed(extra), v === 'bare' ? '—' : (honoBare.cpuUsPerReq / (honoBare.cpuUsPerReq + extra)).toFixed(3)];
      }),
    ));
    say(`(projected ratio: the bare server's CPU per request under load, from section 1, over that plus the variant's extra in-process CPU; with the CPU saturated, req/s follows CPU per request. The \`fast\` prototype is in this script, not in src.)`);

    if (process.env.BENCH_BREAKDOWN === '1') {
      say();
      say('### 1c. the fast-path prototype and withPlatformGate under load (vs bare and platformGate, same run)');
      const fast = await startChild('prototype: sync full-mode path', 'hono', ['fast', herald.url]);
      const wrapped = await startChild('withPlatformGate(app.fetch)', 'hono', ['wrapped', herald.url]);
      kids.push(fast, wrapped);
      await expectAnswer(fast.name, fast.url, { status: 200, body: HELLO, mode: 'full' });
      await expectAnswer(wrapped.name, wrapped.url, { status: 200, body: HELLO, mode: 'full' });
      const results = await compare([
        { label: 'hono bare', url: bare.url, pids: [bare.pid] },
        { label: fast.name, url: fast.url, pids: [fast.pid] },
        { label: wrapped.name, url: wrapped.url, pids: [wrapped.pid] },
        { label: 'hono + platformGate', url: gated.url, pids: [gated.pid] },
      ]);
      say(loadTable(results));
      for (const r of results.slice(1)) say(`${r.label}: ${(r.rps / results[0]!.rps).toFixed(3)} × bare req/s, ${signed(r.cpuUsPerReq - results[0]!.cpuUsPerReq)} µs CPU/req`);
      await fast.stop();
      await wrapped.stop();
    }

    // ---- 2. herald gate proxy in front of a bare upstream ----------------------------------------
    say();
    say(`## 2. herald gate (startGateProxy, role ${ROLE}) in front of a bare node:http upstream, vs the upstream directly`);
    const upstream = await startChild('upstream', 'upstream', []);
    kids.push(upstream);
    const plain = await startChild('plain node:http proxy', 'plain-proxy', [upstream.url]);
    kids.push(plain);
    const proxy = await startChild('herald gate', 'proxy', [upstream.url, herald.url]);
    kids.push(proxy);
    await expectAnswer('upstream', upstream.url, { status: 200, body: HELLO, mode: null });
    await expectAnswer('plain proxy', plain.url, { status: 200, body: HELLO, mode: null });
    await expectAnswer('herald gate', proxy.url, { status: 200, body: HELLO, mode: 'full' });
    const [direct, plainProxied, proxied] = (await compare([
      { label: 'upstream direct', url: upstream.url, pids: [upstream.pid] },
      { label: 'plain node:http proxy → upstream (reference)', url: plain.url, pids: [plain.pid, upstream.pid] },
      { label: 'herald gate → upstream', url: proxy.url, pids: [proxy.pid, upstream.pid] },
    ])) as [Measured, Measured, Measured];
    say(loadTable([direct, plainProxied, proxied]));
    const ratio2 = proxied.rps / direct.rps;
    say(`ratio herald gate / direct: ${ratio2.toFixed(3)} req/s (per round: ${pairs(proxied, direct)}; median round ${medianRatio(proxied, direct).toFixed(3)}); p50 ${fmt(direct.p50)} → ${fmt(proxied.p50)} ms, p99 ${fmt(direct.p99)} → ${fmt(proxied.p99)} ms`);
    say(`reference: plain proxy / direct ${(plainProxied.rps / direct.rps).toFixed(3)}; herald gate / plain proxy ${(proxied.rps / plainProxied.rps).toFixed(3)}`);
    const noise2 = noiseNote([direct, plainProxied, proxied], proxied, direct);
    if (noise2) say(`UNRELIABLE req/s ratios: ${noise2}`);
    say(`server CPU per request (proxy + upstream): plain ${fmt(plainProxied.cpuUsPerReq)} µs, herald gate ${fmt(proxied.cpuUsPerReq)} µs; herald gate over a plain hop: ${signed(proxied.cpuUsPerReq - plainProxied.cpuUsPerReq)} µs/req`);
    say('(no target: every request crosses two HTTP hops, and on 2 cores the proxy, the upstream and the load generator share the CPU)');

    // ---- 3. mode change → enforcement ------------------------------------------------------------
    say();
    say(`## 3. mode change → enforcement: ${CHANGES} changes of ${ROLE} (PUT maintenance / DELETE override on Herald), both gates polled every ~${POLL_MS} ms until they answer 503 / 200`);
    const gates = [
      { label: 'hono + platformGate', url: gated.url },
      { label: 'herald gate', url: proxy.url },
    ];
    const run = await modeChanges(herald.url, token, gates);
    const api = dist(run.apiMs);
    const rows: string[][] = [];
    for (const g of gates) {
      const d = dist(run.enforced.get(g.label)!);
      const a = dist(run.afterAck.get(g.label)!);
      const rtt = dist(run.pollRtt.get(g.label)!);
      const e = dist(run.afterEvent.get(g.label)!);
      rows.push([g.label, fmt(d.p50), fmt(d.p99), fmt(d.max), `${fmt(a.min)} / ${fmt(a.p50)} / ${fmt(a.p99)} / ${fmt(a.max)}`, `${fmt(e.min)} / ${fmt(e.p50)} / ${fmt(e.p99)} / ${fmt(e.max)}`, String(run.timeouts.get(g.label)), int(run.polls.get(g.label)!), fmt(rtt.p50)]);
    }
    say(table(['gate', 'p50 ms', 'p99 ms', 'max ms', 'after API answer min/p50/p99/max', 'after Herald event min/p50/p99/max', 'timeouts', 'polls', 'poll RTT p50 ms'], rows));
    const ev = dist(run.eventMs);
    const evAfterApi = dist(run.eventMs.map((x, i) => x - run.apiMs[i]!));
    say(`where the time goes (ms from sending the override request; p50 / p99 / max):`);
    say(`  override API answered (PUT / DELETE round trip)      ${fmt(api.p50)} / ${fmt(api.p99)} / ${fmt(api.max)}`);
    say(`  Herald's event reached an observer in this process  ${fmt(ev.p50)} / ${fmt(ev.p99)} / ${fmt(ev.max)}   (after the API answer: ${fmt(evAfterApi.min)} min, ${fmt(evAfterApi.p50)} p50, ${fmt(evAfterApi.p99)} p99, ${fmt(evAfterApi.max)} max)`);
    say('(gate times run from sending the override request to the first gate answer in the new mode, so they include the API write; "after" columns are negative when the gate enforced first)');
    for (const g of gates) {
      const d = dist(run.enforced.get(g.label)!);
      const ok = d.p99 < TARGET_P99_MS && run.timeouts.get(g.label) === 0;
      say(`${g.label}: p99 ${fmt(d.p99)} ms, target < ${TARGET_P99_MS} ms: ${ok ? 'MET' : 'MISSED'}`);
    }

    say();
    say('## summary');
    say(table(
      ['measure', 'value', 'target', 'verdict'],
      [
        ['1. hono + platformGate / bare req/s (median round)', `${ratio1.toFixed(3)} (${medianRatio(honoGated, honoBare).toFixed(3)})`, `≥ ${TARGET_RATIO}`, `${ok1 ? 'met' : 'MISSED'}${noise1 ? ' (unreliable: noise)' : ''}`],
        ['1. hono + platformGate: bare ÷ gated server CPU per request', `${fmt(honoBare.cpuUsPerReq)} ÷ ${fmt(honoGated.cpuUsPerReq)} µs = ${cpuRatio1.toFixed(3)}`, `≥ ${TARGET_RATIO}`, cpuRatio1 >= TARGET_RATIO ? 'met' : 'MISSED'],
        ['1b. platformGate in-process CPU over bare, projected ratio', `${signed(minOf('gated') - minOf('bare'))} µs, ${(honoBare.cpuUsPerReq / (honoBare.cpuUsPerReq + minOf('gated') - minOf('bare'))).toFixed(3)}`, `≥ ${TARGET_RATIO}`, honoBare.cpuUsPerReq / (honoBare.cpuUsPerReq + minOf('gated') - minOf('bare')) >= TARGET_RATIO ? 'met' : 'MISSED'],
        ['1. (reference) no-op middleware / bare req/s', (honoNoop.rps / honoBare.rps).toFixed(3), '—', '—'],
        ['2. herald gate / direct req/s', ratio2.toFixed(3), '—', '—'],
        ['2. (reference) plain proxy / direct req/s', (plainProxied.rps / direct.rps).toFixed(3), '—', '—'],
        ...gates.map((g) => {
          const d = dist(run.enforced.get(g.label)!);
          return [`3. change → enforced, ${g.label}: p50 / p99 / max ms`, `${fmt(d.p50)} / ${fmt(d.p99)} / ${fmt(d.max)}`, `p99 < ${TARGET_P99_MS}`, d.p99 < TARGET_P99_MS && run.timeouts.get(g.label) === 0 ? 'met' : 'MISSED'];
        }),
      ],
    ));
    say(machineLine());
    say(`took ${((performance.now() - started) / 1000).toFixed(0)} s`);
    return 0; // a benchmark reports; a missed target is in the figures, not the exit code
  } catch (error) {
    process.stderr.write(`bench:gate failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    for (const k of [herald, ...kids]) if (k) process.stderr.write(`--- ${k.name} stderr (tail) ---\n${k.stderr().slice(-3000)}\n`);
    return 1;
  } finally {
    // Leave web in full mode on a shared database, even after a failure part-way.
    if (overrideOutstanding && herald && token && herald.child.exitCode === null) {
      await apiRequest('DELETE', `${herald.url}/api/v1/platform/roles/${ROLE}/override`, token, { reason: 'bench-gate cleanup' }).catch(() => {});
    }
    await Promise.all(kids.map((k) => k.stop()));
    await herald?.stop();
    killChildren();
    if (process.env.BENCH_KEEP === '1') say(`kept ${tmp}`);
    else await rm(tmp, { recursive: true, force: true });
    tmpDir = undefined;
  }
}

if (process.argv[2] === 'child') {
  await child(process.argv[3] ?? '', process.argv.slice(4)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
} else {
  killChildrenOnSignals();
  process.once('exit', () => {
    if (tmpDir && process.env.BENCH_KEEP !== '1') rmSync(tmpDir, { recursive: true, force: true });
  });
  process.exitCode = await main();
}
