/**
 * `npm run bench:deliver`: how Herald's webhook dispatcher copes with 1,000 subscribers, and its
 * mail dispatcher with 10,000 email subscribers, on the embedded database, against baselines
 * measured in the same run. The email part is scripts/bench/deliver-mail.ts (described there);
 * it runs after the webhook part, on servers of its own.
 *
 * Webhooks:
 * Two `herald serve` processes, each on a fresh embedded database in a temp dir, identical but
 * for one thing: B gets BENCH_SUBSCRIBERS subscriptions (format herald, every event), A none.
 * The receivers are one node:http server in this process on 127.0.0.1 (HERALD_WEBHOOK_ALLOW lets
 * Herald send there), each subscription its own path, so arrivals are counted per subscription
 * and by `webhook-id`.
 *
 * 1. Fan-out: one incident opened on B (production red, so one `incident.opened` and one
 *    `component.status_changed` per subscriber); the time from the POST's answer until all the
 *    `incident.opened` deliveries have arrived, and until the `component.status_changed` ones
 *    have too (each subscription gets them in that order). Duplicates are counted by
 *    `webhook-id`, and every signature is checked with the standardwebhooks library afterwards.
 *    Baseline: a bare sender (scripts/bench/bare-sender.ts, a process of its own, no database)
 *    replays the very requests Herald sent, the way Herald sends them (a socket each,
 *    16 subscriptions at once, each in order), to the same receivers.
 * 2. Commander latency: BENCH_UPDATES updates posted to A and to B alternately, in ABBA order,
 *    BENCH_GAP_MS apart. Two servers rather than one before and after subscribing: the posts
 *    take turns, so whatever else the shared machine does falls on both alike, and both
 *    databases hold the same incidents. A is the baseline; B has 1,000 deliveries queued by each
 *    update it takes, so its posts are timed while its dispatcher is busy, which is the case
 *    the target ("unchanged within noise") is about. Both share the machine with B's
 *    deliveries, so what the ratio shows is what sending costs B's own posts (one event loop and
 *    one embedded database for both), not the CPU the deliveries take from the machine.
 * 3. Memory: VmRSS (and VmHWM) of both servers after the fan-out and at the end, A's as the
 *    baseline.
 *
 * Everything it starts is ended on every way out: the servers (SIGTERM, SIGKILL after 10 s), the
 * bare sender, the receivers (in this process), the temp dir. On Ctrl-C, SIGTERM, SIGHUP or an
 * error every child is SIGKILLed and waited for before the temp dir is removed: a server that
 * got the terminal's SIGINT too is closing its database, and a directory removed while it still
 * writes there comes back in part.
 *
 * Knobs: BENCH_SUBSCRIBERS (1000), BENCH_UPDATES (30 per server), BENCH_GAP_MS (300),
 * BENCH_DRAIN_WAIT (s to wait at the end for B's queued deliveries, 20); for email,
 * BENCH_MAIL_SUBSCRIBERS (10000), BENCH_MAIL_POSTS (commander posts before and after the sending,
 * 20 each), BENCH_MAIL_GAP_MS (500), BENCH_MAIL_TIMEOUT (s the sending may take, 240);
 * BENCH_ONLY=webhooks or BENCH_ONLY=mail runs one part; BENCH_KEEP=1 keeps the temp dir.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { WEBHOOK_EVENTS } from '../src/delivery/notice.ts';
import type { RecordedRequest } from './bench/bare-sender.ts';
import { mailBench } from './bench/deliver-mail.ts';
import { jsonRequest } from './bench/http.ts';
import { cpuMs, freePort, killChildren, machineBusyMs, memoryKb, runHerald, runNode, startHerald, type Child, childrenRunning } from './bench/processes.ts';
import { int, machineLine, mib, ms, percentile, say, table } from './bench/report.ts';

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const SUBSCRIBERS = Math.round(num('BENCH_SUBSCRIBERS', 1000));
const UPDATES = Math.round(num('BENCH_UPDATES', 30));
const GAP_MS = num('BENCH_GAP_MS', 300);
const DRAIN_WAIT_S = num('BENCH_DRAIN_WAIT', 20);
const MAIL = {
  subscribers: Math.round(num('BENCH_MAIL_SUBSCRIBERS', 10_000)),
  posts: Math.round(num('BENCH_MAIL_POSTS', 20)),
  gapMs: num('BENCH_MAIL_GAP_MS', 500),
  timeoutS: num('BENCH_MAIL_TIMEOUT', 240),
};
const ONLY = process.env.BENCH_ONLY;
/** The dispatcher's PARALLEL (src/delivery/dispatcher.ts): the bare sender sends as many at once. */
const PARALLEL = 16;
/** How long the fan-out may take before the bench gives up on the missing deliveries. */
const FAN_OUT_TIMEOUT_MS = 90_000;
const BARE_SENDER = fileURLToPath(new URL('./bench/bare-sender.ts', import.meta.url));
const now = () => performance.timeOrigin + performance.now();

// ---- the receivers ------------------------------------------------------------------------------

interface Arrival {
  /** Subscription number (its path is /hook/<n>). */
  readonly sub: number;
  readonly id: string;
  readonly type: string;
  /** Epoch ms, as performance.timeOrigin + now(). */
  readonly at: number;
  /** Kept only while `keep` is on (the fan-out): to replay and to verify. */
  readonly request?: RecordedRequest;
}

/** One node:http server taking every subscription's POSTs, answering 204 at once. */
class Receivers {
  readonly arrivals: Arrival[] = [];
  keep = false;
  /** Herald's arrivals (not the bare sender's), and which subscriptions got each type: kept as they come, so checks are O(1). */
  herald = 0;
  readonly subsByType = new Map<string, Set<number>>();
  readonly #server: http.Server;
  #waiters: (() => void)[] = [];
  port = 0;

  constructor() {
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = now();
        const body = Buffer.concat(chunks).toString('utf8');
        const sub = Number(/^\/hook\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
        let type = '?';
        try {
          type = String((JSON.parse(body) as { type?: unknown }).type);
        } catch {
          // not Herald's JSON: counted as '?'
        }
        const id = String(req.headers['webhook-id'] ?? '');
        const headers = Object.fromEntries(['content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(req.headers[h] ?? '')]));
        this.arrivals.push({ sub, id, type, at, ...(this.keep ? { request: { url: `http://127.0.0.1:${this.port}${req.url}`, headers, body } } : {}) });
        if (!id.startsWith('bare_')) {
          this.herald++;
          if (!this.subsByType.has(type)) this.subsByType.set(type, new Set());
          this.subsByType.get(type)!.add(sub);
        }
        res.writeHead(204).end();
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const w of waiters) w();
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  url(sub: number): string {
    return `http://127.0.0.1:${this.port}/hook/${sub}`;
  }

  /** Resolves once `done()` holds (checked on every arrival), or with false after `timeoutMs`. */
  async until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await Promise.race([new Promise<void>((r) => this.#waiters.push(r)), sleep(Math.min(left, 1_000))]);
    }
    return true;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** What arrived since index `from`: counts by type, the last arrival of each type, duplicates. */
function tally(arrivals: readonly Arrival[], from: number, to = arrivals.length) {
  const seen = new Map<string, number>();
  const subsByType = new Map<string, Set<number>>();
  const lastByType = new Map<string, number>();
  let first = Infinity;
  for (let i = from; i < to; i++) {
    const a = arrivals[i]!;
    seen.set(a.id, (seen.get(a.id) ?? 0) + 1);
    if (!subsByType.has(a.type)) subsByType.set(a.type, new Set());
    subsByType.get(a.type)!.add(a.sub);
    lastByType.set(a.type, Math.max(lastByType.get(a.type) ?? 0, a.at));
    first = Math.min(first, a.at);
  }
  const duplicates = [...seen.values()].reduce((s, n) => s + (n - 1), 0);
  return { count: to - from, distinct: seen.size, duplicates, subsByType, lastByType, first };
}

// ---- the servers --------------------------------------------------------------------------------

interface Server {
  readonly name: string;
  readonly child: Child;
  readonly token: string;
}

async function startServer(name: string, dir: string): Promise<Server> {
  const port = await freePort();
  const env = { PORT: String(port), HERALD_DATA_DIR: path.join(dir, name, 'data'), PUBLIC_URL: `http://127.0.0.1:${port}`, HERALD_WEBHOOK_ALLOW: '127.0.0.1' };
  const made = await runHerald(['token:create', '--name', 'bench', '--scopes', 'admin'], env);
  if (made.code !== 0) throw new Error(`token:create failed: ${made.stderr}`);
  return { name, child: await startHerald(env), token: made.stdout.trim() };
}

const post = (s: Server, p: string, body: unknown) => jsonRequest('POST', `${s.child.url}${p}`, s.token, body);

/** The subscriptions, a few requests at a time; their secrets by subscription number. */
async function subscribe(s: Server, receivers: Receivers, count: number): Promise<string[]> {
  const secrets: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < count) {
        const n = next++;
        const made = await post(s, '/api/v1/webhooks', { url: receivers.url(n), format: 'herald', events: [...WEBHOOK_EVENTS], description: `bench ${n}` });
        secrets[n] = made.secret as string;
      }
    }),
  );
  return secrets;
}

/**
 * CPU time over a window, in ms: each server's, this process's (the receivers, the posts) and
 * everything else on the machine's (other processes, steal): above ~20 % of a core, the window
 * was disturbed.
 */
function cpuWindow(pids: readonly number[]) {
  const t0 = performance.now();
  const servers0 = pids.map(cpuMs);
  const self0 = process.cpuUsage();
  const busy0 = machineBusyMs();
  return () => {
    const wallMs = performance.now() - t0;
    const servers = pids.map((p, i) => cpuMs(p) - servers0[i]!);
    const own = process.cpuUsage(self0);
    const self = (own.user + own.system) / 1000;
    const others = Math.max(0, machineBusyMs() - busy0 - self - servers.reduce((x, y) => x + y, 0));
    const pct = (x: number) => `${((x / wallMs) * 100).toFixed(0)} %`;
    return { wallMs, servers, self, others, pct };
  };
}

/** How the updates' deliveries are spread over the subscribers so far: min, median and max of each one's count. */
function updatesPerSub(bySub: ReadonlyMap<number, number>): string {
  const counts = Float64Array.from({ length: SUBSCRIBERS }, (_, i) => bySub.get(i) ?? 0).sort();
  return `min ${counts[0]}, median ${percentile(counts, 50)}, max ${counts[counts.length - 1]}`;
}

// ---- the run ------------------------------------------------------------------------------------

async function main(dir: string): Promise<void> {
  if (ONLY !== undefined && ONLY !== 'webhooks' && ONLY !== 'mail') throw new Error(`BENCH_ONLY is webhooks or mail, not ${ONLY}`);
  if (ONLY !== 'mail') await webhookBench(dir);
  if (ONLY === undefined) say();
  if (ONLY !== 'webhooks' && !(await mailBench(dir, MAIL))) process.exitCode = 1;
  if (BENCH_KEEP) say(`kept ${dir}`);
}

async function webhookBench(dir: string): Promise<void> {
  const receivers = new Receivers();
  await receivers.listen();
  const machineBefore = machineLine();
  say(`# Webhook delivery: ${int(SUBSCRIBERS)} subscribers on the embedded database`);
  say(`run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  say(`before: ${machineBefore}`);

  let t = performance.now();
  const [a, b] = await Promise.all([startServer('A', dir), startServer('B', dir)]);
  say(`servers: A (no subscriptions) pid ${a.child.pid}, B pid ${b.child.pid}, each herald serve on a fresh embedded database (${((performance.now() - t) / 1000).toFixed(1)} s); receivers: one node:http server in this process, 127.0.0.1:${receivers.port}`);
  t = performance.now();
  const secrets = await subscribe(b, receivers, SUBSCRIBERS);
  say(`subscribed ${int(SUBSCRIBERS)} receivers on B (format herald, all ${WEBHOOK_EVENTS.length} events, 4 requests at a time) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const rssBefore = { a: memoryKb(a.child.pid), b: memoryKb(b.child.pid) };
  say();

  // ---- 1. fan-out ----
  receivers.keep = true;
  const from = receivers.arrivals.length;
  const opening = { title: 'Elevated API error rates', message: 'We are **investigating** elevated error rates on the API.', statuses: { production: 'red' } };
  const openedA = (await post(a, '/api/v1/incidents', opening)) as { id: number };
  const fanCpu = cpuWindow([a.child.pid, b.child.pid]);
  const postSent = now();
  const openedB = (await post(b, '/api/v1/incidents', opening)) as { id: number };
  const answered = now();
  const got = (type: string) => receivers.subsByType.get(type)?.size ?? 0;
  const allOpened = () => got('incident.opened') >= SUBSCRIBERS;
  const everything = () => allOpened() && got('component.status_changed') >= SUBSCRIBERS;
  await receivers.until(allOpened, FAN_OUT_TIMEOUT_MS);
  await receivers.until(everything, FAN_OUT_TIMEOUT_MS);
  const fanCpuUsed = fanCpu();
  await sleep(1_000); // anything sent twice would come now
  receivers.keep = false;
  const rssAfterFanOut = { a: memoryKb(a.child.pid), b: memoryKb(b.child.pid) };
  const fanOutEnd = receivers.arrivals.length;
  const fan = tally(receivers.arrivals, from, fanOutEnd);
  const openedDone = (fan.lastByType.get('incident.opened') ?? NaN) - answered;
  const allDone = Math.max(...fan.lastByType.values()) - answered;
  const otherTypes = [...fan.subsByType.keys()].filter((k) => k !== 'incident.opened' && k !== 'component.status_changed');

  // Every signature, with the subscription's secret (after the timing: it costs this process CPU).
  let verified = 0;
  const failures: string[] = [];
  for (let i = from; i < fanOutEnd; i++) {
    const r = receivers.arrivals[i]!;
    try {
      new Webhook(secrets[r.sub]!).verify(r.request!.body, r.request!.headers);
      verified++;
    } catch (error) {
      if (failures.length < 3) failures.push(`${r.id}: ${(error as Error).message}`);
    }
  }

  // Baseline: the same requests, from a bare sender with no database.
  const bySub: RecordedRequest[][] = Array.from({ length: SUBSCRIBERS }, () => []);
  for (let i = from; i < fanOutEnd; i++) {
    const r = receivers.arrivals[i]!;
    bySub[r.sub]?.push({ ...r.request!, headers: { ...r.request!.headers, 'webhook-id': `bare_${r.id}` } });
  }
  const requestsFile = path.join(dir, 'requests.json');
  writeFileSync(requestsFile, JSON.stringify(bySub));
  const bareFrom = receivers.arrivals.length;
  const sent = await runNode(['--import', 'tsx', BARE_SENDER, requestsFile, String(PARALLEL)], {});
  if (sent.code !== 0) throw new Error(`bare sender failed (${sent.code}): ${sent.stderr}`);
  const bareRun = JSON.parse(sent.stdout.trim().split('\n').at(-1)!) as { startedAt: number; endedAt: number; failed: number; cpuMs: number };
  await receivers.until(() => receivers.arrivals.length - bareFrom >= fanOutEnd - from - bareRun.failed, 5_000);
  const bare = tally(receivers.arrivals, bareFrom);
  const bareOpened = (bare.lastByType.get('incident.opened') ?? NaN) - bareRun.startedAt;
  const bareAll = Math.max(...bare.lastByType.values()) - bareRun.startedAt;

  say(`## 1. Fan-out of one incident opened on B (production red): ${int(SUBSCRIBERS)} × incident.opened, then ${int(SUBSCRIBERS)} × component.status_changed`);
  const delivered = (tl: ReturnType<typeof tally>, type: string) => `${int(tl.subsByType.get(type)?.size ?? 0)} / ${int(SUBSCRIBERS)}`;
  say(
    table(
      ['sender', 'incident.opened', 'all opened, ms', 'component.status_changed', 'all of both, ms', 'deliveries/s', 'duplicates', 'first arrival, ms', 'sender CPU', 'µs CPU/delivery'],
      [
        ['herald B (from the POST answer)', delivered(fan, 'incident.opened'), ms(openedDone), delivered(fan, 'component.status_changed'), ms(allDone), int(fan.distinct / (allDone / 1000)), int(fan.duplicates), ms(fan.first - answered), fanCpuUsed.pct(fanCpuUsed.servers[1]!), int((fanCpuUsed.servers[1]! * 1000) / fan.distinct)],
        ['bare sender (from its first send)', delivered(bare, 'incident.opened'), ms(bareOpened), delivered(bare, 'component.status_changed'), ms(bareAll), int(bare.distinct / (bareAll / 1000)), int(bare.duplicates), ms(bare.first - bareRun.startedAt), `${((bareRun.cpuMs / (bareRun.endedAt - bareRun.startedAt)) * 100).toFixed(0)} %`, int((bareRun.cpuMs * 1000) / bare.distinct)],
        ['herald / bare', '', `${(openedDone / bareOpened).toFixed(2)}×`, '', `${(allDone / bareAll).toFixed(2)}×`, '', '', '', '', `${((fanCpuUsed.servers[1]! / fan.distinct) / (bareRun.cpuMs / bare.distinct)).toFixed(2)}×`],
      ],
    ),
  );
  say(
    `POST /api/v1/incidents on B answered in ${ms(answered - postSent)} ms; signatures verified ${int(verified)} / ${int(fanOutEnd - from)}` +
      `${failures.length ? ` (failures: ${failures.join('; ')})` : ''}${otherTypes.length ? `; other types arrived: ${otherTypes.join(', ')}` : ''}${bareRun.failed ? `; bare sender failures: ${bareRun.failed}` : ''}`,
  );
  say('bare sender: the same requests replayed by a node process with no database, a socket per request, 16 subscriptions at once, each in order');
  say(`CPU in % of one core (2 cores = 200 %); during Herald's fan-out this process (receivers) took ${fanCpuUsed.pct(fanCpuUsed.self)}, other processes and steal ${fanCpuUsed.pct(fanCpuUsed.others)}`);
  say();

  // ---- 2. commander latency ----
  const times: Record<'A' | 'B', number[]> = { A: [], B: [] };
  const heraldBefore = receivers.herald;
  const phaseCpu = cpuWindow([a.child.pid, b.child.pid]);
  const phaseStart = performance.now();
  const slowest: { server: string; i: number; ms: number }[] = [];
  for (let i = 0; i < UPDATES; i++) {
    const order = i % 2 === 0 ? ([a, b] as const) : ([b, a] as const);
    for (const s of order) {
      const id = s === a ? openedA.id : openedB.id;
      const started = performance.now();
      await post(s, `/api/v1/incidents/${id}/updates`, { message: `Update ${i + 1}: still investigating; error rates are ${10 + (i % 7)} % above normal.` });
      const took = performance.now() - started;
      times[s.name as 'A' | 'B'].push(took);
      slowest.push({ server: s.name, i: i + 1, ms: took });
      await sleep(GAP_MS);
    }
  }
  const phaseSeconds = (performance.now() - phaseStart) / 1000;
  const phaseCpuUsed = phaseCpu();
  slowest.sort((x, y) => y.ms - x.ms);
  const queued = UPDATES * SUBSCRIBERS;
  const arrivedDuring = receivers.herald - heraldBefore;
  const stats = (xs: number[]) => {
    const s = Float64Array.from(xs).sort();
    return { p50: percentile(s, 50), p90: percentile(s, 90), max: s[s.length - 1]! };
  };
  const sa = stats(times.A);
  const sb = stats(times.B);
  say(`## 2. Commander latency: ${UPDATES} updates posted to each server, alternating A B / B A, ${GAP_MS} ms apart`);
  say(
    table(
      ['server', 'subscribers', 'p50 ms', 'p90 ms', 'max ms'],
      [
        ['A', '0', ms(sa.p50), ms(sa.p90), ms(sa.max)],
        ['B', int(SUBSCRIBERS), ms(sb.p50), ms(sb.p90), ms(sb.max)],
        ['B / A', '', `${(sb.p50 / sa.p50).toFixed(2)}×`, `${(sb.p90 / sa.p90).toFixed(2)}×`, `${(sb.max / sa.max).toFixed(2)}×`],
      ],
    ),
  );
  say(`slowest posts: ${slowest.slice(0, 4).map((x) => `${x.server} #${x.i} ${ms(x.ms)} ms`).join(', ')}`);
  say(
    `meanwhile B's updates queued ${int(queued)} incident.updated deliveries, and ${int(arrivedDuring)} arrived (${int(arrivedDuring / phaseSeconds)}/s); ` +
      `CPU over the ${phaseSeconds.toFixed(1)} s: A ${phaseCpuUsed.pct(phaseCpuUsed.servers[0]!)}, B ${phaseCpuUsed.pct(phaseCpuUsed.servers[1]!)}, this process ${phaseCpuUsed.pct(phaseCpuUsed.self)}, other processes and steal ${phaseCpuUsed.pct(phaseCpuUsed.others)}`,
  );
  say();

  // The rest of B's queue, for a while: how fast it drains, and whether anything came twice.
  const expectedTotal = 2 * SUBSCRIBERS + queued;
  const drainStart = performance.now();
  const drainFrom = receivers.herald;
  await receivers.until(() => receivers.herald >= expectedTotal, DRAIN_WAIT_S * 1000);
  const drained = { n: receivers.herald - drainFrom, s: (performance.now() - drainStart) / 1000 };
  const rssEnd = { a: memoryKb(a.child.pid), b: memoryKb(b.child.pid) };
  const all = receivers.arrivals.filter((x) => !x.id.startsWith('bare_'));
  const allIds = new Map<string, number>();
  for (const x of all) allIds.set(x.id, (allIds.get(x.id) ?? 0) + 1);
  const updatedSubs = new Map<number, number>();
  for (const x of all) if (x.type === 'incident.updated') updatedSubs.set(x.sub, (updatedSubs.get(x.sub) ?? 0) + 1);

  say('## 3. Memory (VmRSS of each herald serve process; VmHWM = its peak so far)');
  say(
    table(
      ['when', 'A (no subscriptions)', 'B', 'B / A', 'B peak'],
      [
        ['before the fan-out (B subscribed)', mib(rssBefore.a.rss), mib(rssBefore.b.rss), `${(rssBefore.b.rss / rssBefore.a.rss).toFixed(2)}×`, mib(rssBefore.b.peak)],
        ['after the fan-out', mib(rssAfterFanOut.a.rss), mib(rssAfterFanOut.b.rss), `${(rssAfterFanOut.b.rss / rssAfterFanOut.a.rss).toFixed(2)}×`, mib(rssAfterFanOut.b.peak)],
        ['at the end', mib(rssEnd.a.rss), mib(rssEnd.b.rss), `${(rssEnd.b.rss / rssEnd.a.rss).toFixed(2)}×`, mib(rssEnd.b.peak)],
      ],
    ),
  );
  say();
  say('## Summary');
  const fanOk = (fan.subsByType.get('incident.opened')?.size ?? 0) === SUBSCRIBERS && (fan.subsByType.get('component.status_changed')?.size ?? 0) === SUBSCRIBERS && fan.duplicates === 0;
  say(
    table(
      ['what', 'measured', 'baseline (same run)', 'ratio'],
      [
        [`fan-out, ${int(SUBSCRIBERS)} × incident.opened`, `${ms(openedDone)} ms`, `bare sender ${ms(bareOpened)} ms`, `${(openedDone / bareOpened).toFixed(2)}×`],
        [`fan-out, all ${int(2 * SUBSCRIBERS)} of the POST`, `${ms(allDone)} ms`, `bare sender ${ms(bareAll)} ms`, `${(allDone / bareAll).toFixed(2)}×`],
        ['fan-out delivered / expected, duplicates', `${int(fan.distinct)} / ${int(2 * SUBSCRIBERS)}, ${fan.duplicates} dup${fanOk ? '' : ' (MISSING OR DUPLICATED)'}`, '', ''],
        ['commander POST, median / p90', `${ms(sb.p50)} / ${ms(sb.p90)} ms`, `0 subscribers ${ms(sa.p50)} / ${ms(sa.p90)} ms`, `${(sb.p50 / sa.p50).toFixed(2)}× / ${(sb.p90 / sa.p90).toFixed(2)}×`],
        ['server RSS after the fan-out', mib(rssAfterFanOut.b.rss), `0 subscribers ${mib(rssAfterFanOut.a.rss)}`, `${(rssAfterFanOut.b.rss / rssAfterFanOut.a.rss).toFixed(2)}×`],
        [
          `whole run: arrived / queued, duplicates`,
          `${int(allIds.size)} / ${int(expectedTotal)}, ${[...allIds.values()].reduce((s, n) => s + n - 1, 0)} dup`,
          `incident.updated per subscriber: ${updatesPerSub(updatedSubs)} of ${UPDATES}`,
          '',
        ],
        ['after the updates, B went on sending', `${int(drained.n)} in ${drained.s.toFixed(1)} s (${int(drained.n / drained.s)}/s)`, `bare sender ${int(bare.distinct / (bareAll / 1000))}/s`, `${(drained.n / drained.s / (bare.distinct / (bareAll / 1000))).toFixed(2)}×`],
      ],
    ),
  );
  say(`after:  ${machineLine()}`);
  if (!fanOk) process.exitCode = 1;

  // A SIGTERM lets the dispatcher's pass under way finish, and a pass goes on while anything is
  // due: with B's queue still full, the stop's SIGKILL after 10 s is what ends it. Said, not hidden.
  const stopped = await Promise.all(
    [a, b].map(async (s) => {
      const t0 = performance.now();
      await s.child.stop();
      return `${s.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s${s.child.child.signalCode === 'SIGKILL' ? ' (SIGKILL: still sending at SIGTERM + 10 s)' : ''}`;
    }),
  );
  await receivers.close();
  say(`servers stopped: ${stopped.join(', ')}`);
}

// ---- the way out --------------------------------------------------------------------------------

const BENCH_KEEP = process.env.BENCH_KEEP === '1';
const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-deliver-'));
const removeDir = () => {
  if (!BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
};
// The last resort (an exit nobody planned): processes.ts SIGKILLs the children on 'exit' too.
process.on('exit', removeDir);

let leaving = false;
/** SIGKILLs every child, waits (up to 10 s) until none runs, removes the temp dir, exits. */
async function leave(code: number): Promise<never> {
  if (!leaving) {
    leaving = true;
    killChildren();
    const deadline = performance.now() + 10_000;
    while (childrenRunning().length && performance.now() < deadline) await sleep(20);
    removeDir();
  }
  process.exit(code);
}
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) process.on(sig, () => void leave(code));

try {
  await main(dir);
  removeDir();
} catch (error) {
  process.stderr.write(`bench:deliver failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  await leave(1);
}
