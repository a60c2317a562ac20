/**
 * `npm run bench:alerts`: how soon an alert shows on the status page. Target: an incident opened
 * by an Alertmanager notification is on `/` and in `/api/v2/summary.json` less than 1 s after the
 * notification reaches Herald.
 *
 * One `herald serve` on a fresh embedded database in a temp dir, one alert rule (severity="page",
 * component from the `environment` label), an admin token and an alerts:write token.
 *
 * 1. Opening. BENCH_OPENS hand-built Alertmanager v4 notifications, each a group of its own (so
 *    each opens an incident, titled by its alertname), posted to /api/v1/alerts/alertmanager;
 *    the baseline, measured in the same run, is the commander's write path: as many
 *    POST /api/v1/incidents. The two take turns (intake, commander / commander, intake, …),
 *    BENCH_GAP_MS apart, so whatever else the machine does falls on both alike.
 * 2. Updating. BENCH_UPDATES notifications that add an alert to an open group (outcome
 *    `updated`, "Our automated systems see more"), against as many commander
 *    POST /api/v1/incidents/:id/updates, in turns too.
 *
 *    For each, from the moment its POST is sent: (a) the POST's answer; (b) the first GET `/`
 *    and (c) the first GET /api/v2/summary.json whose body holds the new title (or the update's
 *    token). Two pollers, one keep-alive connection each, one GET at a time and BENCH_POLL_MS
 *    between: a time is when the answer that showed it ended, so it is late by at most one poll
 *    (a GET plus the pause). On 127.0.0.1 the POST arrives within a millisecond of being sent, so
 *    "from sent" is "from arrival" to well within the poll's resolution.
 * 3. A real Alertmanager, when `alertmanager` (Debian: `prometheus-alertmanager`) and `amtool` are
 *    on PATH: BENCH_AM_ALERTS alerts (each its own group) sent with `amtool alert add` under each
 *    of two routes, group_wait 0s and 1s. Times from amtool's start, and from the notification's
 *    arrival (the inbox's received_at, Herald's clock, the same machine's as this process; taken
 *    once the token is checked, so a few ms late), compared with the hand-built openings' times
 *    from sent. They count in the verdict too.
 *
 * Everything it starts is ended on every way out: Herald (SIGTERM, SIGKILL after 10 s),
 * Alertmanager (its own process group, SIGTERM then SIGKILL), the temp dir. On Ctrl-C, SIGTERM,
 * SIGHUP or an error every child is SIGKILLed and waited for before the temp dir is removed.
 * The exit code is 1 if something never showed (BENCH_VISIBLE_TIMEOUT s) or a notification did
 * not do what it should; a missed target is a result, printed as the verdict, not a failure.
 *
 * Knobs: BENCH_OPENS (30), BENCH_UPDATES (10), BENCH_GAP_MS (200), BENCH_POLL_MS (5),
 * BENCH_AM_ALERTS (6 per group_wait), BENCH_VISIBLE_TIMEOUT (10), BENCH_KEEP=1 keeps the temp dir.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiRequest, jsonRequest, rawGet } from './bench/http.ts';
import { cpuMs, freePort, killChildren, machineBusyMs, runHerald, startHerald, type Child, childrenRunning } from './bench/processes.ts';
import { machineLine, ms, percentile, say, table } from './bench/report.ts';

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const OPENS = Math.round(num('BENCH_OPENS', 30));
const UPDATES = Math.round(num('BENCH_UPDATES', 10));
const GAP_MS = num('BENCH_GAP_MS', 200);
const POLL_MS = num('BENCH_POLL_MS', 5);
const AM_ALERTS = Math.round(num('BENCH_AM_ALERTS', 6));
const VISIBLE_TIMEOUT_MS = num('BENCH_VISIBLE_TIMEOUT', 10) * 1000;
const TARGET_MS = 1000;
const GROUP_WAITS = ['0s', '1s'] as const;
const now = () => performance.timeOrigin + performance.now();

// ---- watching the page ------------------------------------------------------------------------------

/** When a GET of `url` first answered with a body holding `needle`: epoch ms, or NaN on timeout. */
async function firstShowing(url: string, needle: string, agent: http.Agent, deadline: number): Promise<number> {
  while (now() < deadline) {
    const r = await rawGet(url, {}, agent);
    if (r.status === 200 && r.body.includes(needle)) return now();
    await sleep(POLL_MS);
  }
  return NaN;
}

interface Timed {
  /** ms from the POST sent (or amtool started) to each moment; NaN: never within the timeout. */
  readonly answered: number;
  readonly page: number;
  readonly summary: number;
}

interface Watchers {
  readonly page: http.Agent;
  readonly summary: http.Agent;
}

/**
 * Sends the write (`send`), and from that moment polls `/` and summary.json until each holds its
 * needle. `send` resolves when the write's answer has come.
 */
async function timeWrite(base: string, agents: Watchers, needles: { page: string; summary: string }, send: () => Promise<unknown>): Promise<Timed & { answer: unknown }> {
  const t0 = now();
  const deadline = t0 + VISIBLE_TIMEOUT_MS;
  let answeredAt = NaN;
  const [answer, page, summary] = await Promise.all([
    send().then((a) => {
      answeredAt = now();
      return a;
    }),
    firstShowing(`${base}/`, needles.page, agents.page, deadline),
    firstShowing(`${base}/api/v2/summary.json`, needles.summary, agents.summary, deadline),
  ]);
  return { answer, answered: answeredAt - t0, page: page - t0, summary: summary - t0 };
}

// ---- Alertmanager's notifications, hand-built ---------------------------------------------------

interface BenchAlert {
  readonly instance: string;
  readonly summary: string;
  readonly startsAt: string;
}

/** A webhook v4 notification for the group of alerts named `name`: every alert firing. */
function notification(name: string, alerts: readonly BenchAlert[]) {
  const labels = (a: BenchAlert) => ({ alertname: name, severity: 'page', environment: 'production', instance: a.instance });
  return {
    version: '4',
    groupKey: `{}:{alertname="${name}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'herald',
    groupLabels: { alertname: name },
    commonLabels: alerts.length === 1 ? labels(alerts[0]!) : { alertname: name, severity: 'page', environment: 'production' },
    commonAnnotations: alerts.length === 1 ? { summary: alerts[0]!.summary } : {},
    externalURL: 'http://127.0.0.1:9093',
    alerts: alerts.map((a) => ({
      status: 'firing',
      labels: labels(a),
      annotations: { summary: a.summary },
      startsAt: a.startsAt,
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://127.0.0.1:9090/graph',
      fingerprint: `${name}:${a.instance}`.split('').reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7).toString(16).padStart(16, '0'),
    })),
  };
}

// ---- the run ------------------------------------------------------------------------------------

interface Herald {
  readonly child: Child;
  readonly base: string;
  readonly admin: string;
  readonly sender: string;
}

async function startHeraldWithRule(dir: string): Promise<Herald> {
  const port = await freePort();
  const env = { PORT: String(port), HERALD_DATA_DIR: path.join(dir, 'data'), PUBLIC_URL: `http://127.0.0.1:${port}` };
  const token = async (name: string, scopes: string) => {
    const made = await runHerald(['token:create', '--local', '--name', name, '--scopes', scopes], env);
    if (made.code !== 0) throw new Error(`token:create failed: ${made.stderr}`);
    return made.stdout.trim();
  };
  const admin = await token('bench', 'admin');
  const sender = await token('alertmanager', 'alerts:write');
  const child = await startHerald(env);
  const base = `http://127.0.0.1:${port}`;
  await jsonRequest('POST', `${base}/api/v1/alert-rules`, admin, { name: 'Paging alerts', matchers: 'severity="page"', component_label: 'environment' });
  return { child, base, admin, sender };
}

/** CPU over a window, in % of one core: Herald's, this process's, and everything else's (other processes, steal). */
function cpuWindow(pid: number) {
  const t0 = performance.now();
  const herald0 = cpuMs(pid);
  const self0 = process.cpuUsage();
  const busy0 = machineBusyMs();
  return () => {
    const wall = performance.now() - t0;
    const herald = cpuMs(pid) - herald0;
    const own = process.cpuUsage(self0);
    const self = (own.user + own.system) / 1000;
    const others = Math.max(0, machineBusyMs() - busy0 - herald - self);
    const pct = (x: number) => `${((x / wall) * 100).toFixed(0)} %`;
    return `Herald ${pct(herald)}, this process (posts, polls) ${pct(self)}, other processes and steal ${pct(others)} over ${(wall / 1000).toFixed(1)} s`;
  };
}

const stats = (xs: readonly number[]) => {
  const ok = Float64Array.from(xs.filter((x) => Number.isFinite(x))).sort();
  return { n: ok.length, missing: xs.length - ok.length, p50: percentile(ok, 50), p90: percentile(ok, 90), max: ok.length ? ok[ok.length - 1]! : NaN };
};
type Stats = ReturnType<typeof stats>;
const row = (what: string, s: Stats) => [what, `${s.n}${s.missing ? ` (+${s.missing} NEVER)` : ''}`, ms(s.p50), ms(s.p90), ms(s.max)];
const ratio = (what: string, a: Stats, b: Stats) => [what, '', `${(a.p50 / b.p50).toFixed(2)}×`, `${(a.p90 / b.p90).toFixed(2)}×`, `${(a.max / b.max).toFixed(2)}×`];
const HEAD = ['ms from the POST sent', 'n', 'p50', 'p90', 'max'];

/** Intake and commander writes in turns, BENCH_GAP_MS apart; each write's times. */
async function inTurns(n: number, intake: (i: number) => Promise<Timed>, commander: (i: number) => Promise<Timed>) {
  const times = { intake: [] as Timed[], commander: [] as Timed[] };
  for (let i = 0; i < n; i++) {
    const order = i % 2 === 0 ? (['intake', 'commander'] as const) : (['commander', 'intake'] as const);
    for (const which of order) {
      times[which].push(await (which === 'intake' ? intake(i) : commander(i)));
      await sleep(GAP_MS);
    }
  }
  return times;
}

function report(title: string, times: { intake: Timed[]; commander: Timed[] }, intakeLabel: string, commanderLabel: string) {
  const s = (xs: Timed[], k: keyof Timed) => stats(xs.map((x) => x[k]));
  const rows = {
    ia: s(times.intake, 'answered'),
    ip: s(times.intake, 'page'),
    is: s(times.intake, 'summary'),
    ca: s(times.commander, 'answered'),
    cp: s(times.commander, 'page'),
    cs: s(times.commander, 'summary'),
  };
  say(title);
  say(
    table(HEAD, [
      row(`${intakeLabel}: answered`, rows.ia),
      row(`${intakeLabel}: on /`, rows.ip),
      row(`${intakeLabel}: in summary.json`, rows.is),
      row(`${commanderLabel}: answered`, rows.ca),
      row(`${commanderLabel}: on /`, rows.cp),
      row(`${commanderLabel}: in summary.json`, rows.cs),
      ratio('intake / commander: answered', rows.ia, rows.ca),
      ratio('intake / commander: on /', rows.ip, rows.cp),
      ratio('intake / commander: in summary.json', rows.is, rows.cs),
    ]),
  );
  return rows;
}

async function main(dir: string): Promise<void> {
  say(`# Alert intake: from Alertmanager's notification to the status page, on the embedded database`);
  say(`run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  say(`before: ${machineLine()}`);
  let t = performance.now();
  const herald = await startHeraldWithRule(dir);
  say(`server: herald serve pid ${herald.child.pid} on a fresh embedded database (${((performance.now() - t) / 1000).toFixed(1)} s); rule: severity="page", component from label environment, status red`);
  say(`polling: / and /api/v2/summary.json, one keep-alive connection each, ${POLL_MS} ms between GETs; writes ${GAP_MS} ms apart, intake and commander in turns`);
  const agents = (): Watchers => ({ page: new http.Agent({ keepAlive: true, maxSockets: 1 }), summary: new http.Agent({ keepAlive: true, maxSockets: 1 }) });
  const watchers = agents();
  const problems: string[] = [];
  const post = (p: string, token: string, body: unknown) => apiRequest('POST', `${herald.base}${p}`, token, body);
  // Warm both write paths and both pages, unmeasured.
  await post('/api/v1/alerts/alertmanager', herald.sender, notification('WarmUp', [{ instance: 'warm', summary: 'warm-up', startsAt: new Date().toISOString() }]));
  await post('/api/v1/incidents', herald.admin, { title: 'Warm-up', message: 'warm-up', statuses: { production: 'red' } });
  for (let i = 0; i < 5; i++) await Promise.all([rawGet(`${herald.base}/`, {}, watchers.page), rawGet(`${herald.base}/api/v2/summary.json`, {}, watchers.summary)]);
  say();

  // ---- 1. opening ----
  const cpu1 = cpuWindow(herald.child.pid);
  const commanderIds: number[] = [];
  const alertStarts: string[] = [];
  const opens = await inTurns(
    OPENS,
    async (i) => {
      const name = `BenchAlert${String(i).padStart(3, '0')}`;
      alertStarts[i] = new Date().toISOString();
      const r = await timeWrite(herald.base, watchers, { page: `>${name}</a>`, summary: `"name":"${name}"` }, () =>
        post('/api/v1/alerts/alertmanager', herald.sender, notification(name, [{ instance: 'db-1', summary: `Primary database ${i} is not answering`, startsAt: alertStarts[i]! }])),
      );
      const answer = r.answer as { status: number; json: { outcome?: string } };
      if (answer.status !== 200 || answer.json.outcome !== 'opened') problems.push(`${name}: ${answer.status} ${JSON.stringify(answer.json)}`);
      return r;
    },
    async (i) => {
      const title = `BenchCommander${String(i).padStart(3, '0')}`;
      const r = await timeWrite(herald.base, watchers, { page: `>${title}</a>`, summary: `"name":"${title}"` }, () =>
        post('/api/v1/incidents', herald.admin, { title, message: `Our database ${i} is not answering. We are investigating.`, statuses: { production: 'red' } }),
      );
      const answer = r.answer as { status: number; json: { id?: number } };
      if (answer.status !== 201) problems.push(`${title}: ${answer.status} ${JSON.stringify(answer.json)}`);
      commanderIds[i] = answer.json.id!;
      return r;
    },
  );
  const cpuOpens = cpu1();
  const o = report(`## 1. Opening: ${OPENS} notifications, each a new group → incident opened; baseline: ${OPENS} × POST /api/v1/incidents`, opens, 'intake (opened)', 'commander (create)');
  say(`CPU in % of one core (2 cores = 200 %): ${cpuOpens}`);
  say();

  // ---- 2. updating ----
  const cpu2 = cpuWindow(herald.child.pid);
  const updates = await inTurns(
    UPDATES,
    async (i) => {
      const name = `BenchAlert${String(i).padStart(3, '0')}`;
      const token = `intake-more-${String(i).padStart(3, '0')}`;
      const r = await timeWrite(herald.base, watchers, { page: token, summary: token }, () =>
        post(
          '/api/v1/alerts/alertmanager',
          herald.sender,
          notification(name, [
            { instance: 'db-1', summary: `Primary database ${i} is not answering`, startsAt: alertStarts[i]! },
            { instance: 'db-2', summary: `Replica too: ${token}`, startsAt: new Date().toISOString() },
          ]),
        ),
      );
      const answer = r.answer as { status: number; json: { outcome?: string } };
      if (answer.status !== 200 || answer.json.outcome !== 'updated') problems.push(`${name} (more): ${answer.status} ${JSON.stringify(answer.json)}`);
      return r;
    },
    async (i) => {
      const token = `commander-more-${String(i).padStart(3, '0')}`;
      const r = await timeWrite(herald.base, watchers, { page: token, summary: token }, () =>
        post(`/api/v1/incidents/${commanderIds[i]}/updates`, herald.admin, { message: `The replica is down too: ${token}` }),
      );
      const answer = r.answer as { status: number; json: unknown };
      if (answer.status !== 201 && answer.status !== 200) problems.push(`update of ${commanderIds[i]}: ${answer.status} ${JSON.stringify(answer.json)}`);
      return r;
    },
  );
  const cpuUpdates = cpu2();
  const u = report(`## 2. Updating: ${UPDATES} notifications adding an alert to an open group → update posted; baseline: ${UPDATES} × POST /api/v1/incidents/:id/updates`, updates, 'intake (updated)', 'commander (update)');
  say(`CPU in % of one core: ${cpuUpdates}`);
  say();

  // ---- 3. a real Alertmanager ----
  const real = await realAlertmanager(dir, herald, agents(), problems, { page: o.ip, summary: o.is });
  say();

  // ---- summary ----
  say('## Summary');
  const worst = (...s: Stats[]) => Math.max(...s.map((x) => x.max));
  const intakeWorst = worst(o.ip, o.is, u.ip, u.is);
  const never = [o.ip, o.is, u.ip, u.is, o.cp, o.cs, u.cp, u.cs].reduce((n, s) => n + s.missing, 0) + real.never;
  say(
    table(
      ['what', 'measured (p50 / p90 / max)', 'baseline, same run (p50 / p90 / max)', 'ratio (p50)'],
      [
        ['incident opened by intake, on /', `${ms(o.ip.p50)} / ${ms(o.ip.p90)} / ${ms(o.ip.max)} ms`, `commander: ${ms(o.cp.p50)} / ${ms(o.cp.p90)} / ${ms(o.cp.max)} ms`, `${(o.ip.p50 / o.cp.p50).toFixed(2)}×`],
        ['incident opened by intake, in summary.json', `${ms(o.is.p50)} / ${ms(o.is.p90)} / ${ms(o.is.max)} ms`, `commander: ${ms(o.cs.p50)} / ${ms(o.cs.p90)} / ${ms(o.cs.max)} ms`, `${(o.is.p50 / o.cs.p50).toFixed(2)}×`],
        ['update posted by intake, on /', `${ms(u.ip.p50)} / ${ms(u.ip.p90)} / ${ms(u.ip.max)} ms`, `commander: ${ms(u.cp.p50)} / ${ms(u.cp.p90)} / ${ms(u.cp.max)} ms`, `${(u.ip.p50 / u.cp.p50).toFixed(2)}×`],
        ['update posted by intake, in summary.json', `${ms(u.is.p50)} / ${ms(u.is.p90)} / ${ms(u.is.max)} ms`, `commander: ${ms(u.cs.p50)} / ${ms(u.cs.p90)} / ${ms(u.cs.max)} ms`, `${(u.is.p50 / u.cs.p50).toFixed(2)}×`],
        ...real.rows,
      ],
    ),
  );
  const met = never === 0 && intakeWorst < TARGET_MS && real.worst < TARGET_MS;
  say(
    `verdict: target "< ${TARGET_MS} ms after the webhook arrives" ${met ? 'MET' : 'NOT MET'}: of ${OPENS + UPDATES} hand-built notifications, the slowest was on both / and summary.json ${ms(intakeWorst)} ms after its POST was sent` +
      `${Number.isFinite(real.worst) ? `; of the real Alertmanager's, ${ms(real.worst)} ms after it arrived` : ''}` +
      `${never ? `; ${never} never showed within ${VISIBLE_TIMEOUT_MS / 1000} s` : ''}`,
  );
  if (problems.length) say(`PROBLEMS: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` and ${problems.length - 5} more` : ''}`);
  say(`after:  ${machineLine()}`);
  if (problems.length || never) process.exitCode = 1;

  for (const a of Object.values(watchers)) a.destroy();
  const t0 = performance.now();
  await herald.child.stop();
  say(`server stopped in ${((performance.now() - t0) / 1000).toFixed(1)} s${BENCH_KEEP ? `; kept ${dir}` : ''}`);
}

// ---- 3. a real Alertmanager -------------------------------------------------------------------

function onPath(name: string): string | null {
  for (const d of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!d) continue;
    try {
      accessSync(path.join(d, name), constants.X_OK);
      return path.join(d, name);
    } catch {
      // not here
    }
  }
  return null;
}

let alertmanager: ChildProcess | undefined;

/** SIGTERM to Alertmanager's process group, SIGKILL after 5 s (or at once); resolves once it has exited. */
async function stopAlertmanager(sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const am = alertmanager;
  if (!am?.pid || am.exitCode !== null || am.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => am.once('exit', () => resolve()));
  const kill = (s: NodeJS.Signals) => {
    try {
      process.kill(-am.pid!, s);
    } catch {
      // the group is gone
    }
  };
  kill(sig);
  const timer = setTimeout(() => kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** The summary's rows for the real Alertmanager, or one row saying why there are none. */
async function realAlertmanager(dir: string, herald: Herald, watchers: Watchers, problems: string[], handBuilt: { page: Stats; summary: Stats }): Promise<{ rows: string[][]; worst: number; never: number }> {
  const bin = onPath('alertmanager') ?? onPath('prometheus-alertmanager');
  const amtool = onPath('amtool');
  say(`## 3. A real Alertmanager: ${AM_ALERTS} alerts per group_wait (${GROUP_WAITS.join(', ')}), each its own group, sent with amtool alert add`);
  if (!bin || !amtool) {
    say("skipped: alertmanager (Debian: prometheus-alertmanager) or amtool not on PATH; apt-get install prometheus-alertmanager");
    return { rows: [['real Alertmanager', 'not run (not installed)', '', '']], worst: -Infinity, never: 0 };
  }
  const port = await freePort();
  const am = `http://127.0.0.1:${port}`;
  const amDir = path.join(dir, 'alertmanager');
  mkdirSync(amDir);
  const config = path.join(amDir, 'alertmanager.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  resolve_timeout: 10m',
      'route:',
      '  receiver: herald',
      '  group_by: [alertname]',
      '  group_wait: 1s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      '  routes:',
      ...GROUP_WAITS.flatMap((w) => [`    - matchers: ['bench_wait="${w}"']`, `      group_wait: ${w}`]),
      'receivers:',
      '  - name: herald',
      '    webhook_configs:',
      `      - url: ${herald.base}/api/v1/alerts/alertmanager`,
      '        http_config:',
      '          authorization:',
      `            credentials: ${herald.sender}`,
      '',
    ].join('\n'),
  );
  let log = '';
  alertmanager = spawn(bin, [`--config.file=${config}`, `--storage.path=${path.join(amDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  alertmanager.stdout!.on('data', (d) => (log += d));
  alertmanager.stderr!.on('data', (d) => (log += d));
  const version = await new Promise<string>((resolve) => execFile(bin, ['--version'], (_e, out, err) => resolve(`${out}${err}`.split('\n')[0]!)));
  for (let i = 0; ; i++) {
    if (alertmanager.exitCode !== null) throw new Error(`alertmanager exited with ${alertmanager.exitCode}:\n${log}`);
    if (i > 300) throw new Error(`alertmanager not ready in 30 s:\n${log}`);
    const ready = await fetch(`${am}/-/ready`).then((r) => r.status === 200, () => false);
    if (ready) break;
    await sleep(100);
  }
  say(`${version}, pid ${alertmanager.pid} (own process group), 127.0.0.1:${port}, clustering off; webhook to Herald with the alerts:write token as Bearer credentials`);

  const rows: string[][] = [];
  const lines: string[][] = [];
  let worst = -Infinity;
  let never = 0;
  for (const wait of GROUP_WAITS) {
    const times: { fromTool: Timed; arrival: number; fromArrival: { page: number; summary: number } }[] = [];
    for (let i = 0; i < AM_ALERTS; i++) {
      const name = `AmBench${wait}${String(i).padStart(2, '0')}`;
      const args = ['alert', 'add', `--alertmanager.url=${am}`, `alertname=${name}`, 'severity=page', 'environment=production', `bench_wait=${wait}`, `--annotation=summary=${name} fired by amtool`];
      const wallAt0 = Date.now();
      const r = await timeWrite(herald.base, watchers, { page: `>${name}</a>`, summary: `"name":"${name}"` }, () =>
        new Promise<void>((resolve, reject) => execFile(amtool, args, { timeout: 30_000 }, (e, _o, err) => (e ? reject(new Error(`amtool failed: ${err}`)) : resolve()))),
      );
      const inbox = (await jsonRequest('GET', `${herald.base}/api/v1/alerts/inbox?limit=50`, herald.admin)) as { group_key: string | null; received_at: string; outcome: string }[];
      const entry = inbox.find((e) => e.group_key?.includes(`alertname="${name}"`));
      if (!entry || entry.outcome !== 'opened') problems.push(`${name}: inbox ${JSON.stringify(entry ?? null)}`);
      // From amtool's start to arrival, on the wall clock Herald stamps received_at with.
      const arrival = entry ? Date.parse(entry.received_at) - wallAt0 : NaN;
      times.push({ fromTool: r, arrival, fromArrival: { page: r.page - arrival, summary: r.summary - arrival } });
      await sleep(GAP_MS);
    }
    const tool = { page: stats(times.map((x) => x.fromTool.page)), summary: stats(times.map((x) => x.fromTool.summary)), arrival: stats(times.map((x) => x.arrival)) };
    const after = { page: stats(times.map((x) => x.fromArrival.page)), summary: stats(times.map((x) => x.fromArrival.summary)) };
    worst = Math.max(worst, after.page.max, after.summary.max);
    never += after.page.missing + after.summary.missing;
    lines.push(
      row(`group_wait ${wait}: amtool started → notification arrived`, tool.arrival),
      row(`group_wait ${wait}: amtool started → on /`, tool.page),
      row(`group_wait ${wait}: amtool started → in summary.json`, tool.summary),
      row(`group_wait ${wait}: arrived → on /`, after.page),
      row(`group_wait ${wait}: arrived → in summary.json`, after.summary),
    );
    rows.push(
      [
        `real Alertmanager, group_wait ${wait}: arrived → on /`,
        `${ms(after.page.p50)} / ${ms(after.page.p90)} / ${ms(after.page.max)} ms`,
        `hand-built, from sent: ${ms(handBuilt.page.p50)} / ${ms(handBuilt.page.p90)} / ${ms(handBuilt.page.max)} ms`,
        `${(after.page.p50 / handBuilt.page.p50).toFixed(2)}×`,
      ],
      [
        `real Alertmanager, group_wait ${wait}: arrived → in summary.json`,
        `${ms(after.summary.p50)} / ${ms(after.summary.p90)} / ${ms(after.summary.max)} ms`,
        `hand-built, from sent: ${ms(handBuilt.summary.p50)} / ${ms(handBuilt.summary.p90)} / ${ms(handBuilt.summary.max)} ms`,
        `${(after.summary.p50 / handBuilt.summary.p50).toFixed(2)}×`,
      ],
      [`real Alertmanager, group_wait ${wait}: amtool started → on /`, `${ms(tool.page.p50)} / ${ms(tool.page.p90)} / ${ms(tool.page.max)} ms`, '', ''],
    );
  }
  say(table(['ms', 'n', 'p50', 'p90', 'max'], lines));
  say('"arrived": the inbox row\'s received_at (Herald\'s clock, taken once the token is checked) against this process\'s wall clock; ms resolution');
  await stopAlertmanager();
  return { rows, worst, never };
}

// ---- the way out --------------------------------------------------------------------------------

const BENCH_KEEP = process.env.BENCH_KEEP === '1';
const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-alerts-'));
const removeDir = () => {
  if (!BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
};
const killAlertmanager = () => {
  if (alertmanager?.pid && alertmanager.exitCode === null && alertmanager.signalCode === null) {
    try {
      process.kill(-alertmanager.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
};
// The last resort (an exit nobody planned): processes.ts SIGKILLs Herald on 'exit' too.
process.on('exit', () => {
  killAlertmanager();
  removeDir();
});

let leaving = false;
/** SIGKILLs every child, waits (up to 10 s) until none runs, removes the temp dir, exits. */
async function leave(code: number): Promise<never> {
  if (!leaving) {
    leaving = true;
    killChildren();
    killAlertmanager();
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
  process.stderr.write(`bench:alerts failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  await leave(1);
}
