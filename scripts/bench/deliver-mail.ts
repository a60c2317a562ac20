/**
 * The email part of `npm run bench:deliver` (issue 16): one incident update sent to
 * BENCH_MAIL_SUBSCRIBERS (10,000) confirmed subscribers through a local SMTP sink, against
 * baselines measured in the same run.
 *
 * One `herald serve` on a fresh embedded database, SMTP_URL pointing at the sink
 * (scripts/bench/smtp-sink.ts, smtp-server in a process of its own so its CPU is counted apart;
 * it counts messages and bytes per envelope sender and parses nothing). The subscribers are
 * imported through POST /api/v1/subscribers/import (confirmed at once), following production.
 * Two incidents are opened before the import, so their openings mail nobody: P on production,
 * which gets the update that is mailed, and D on development, which the commander keeps
 * updating; D's updates mail nobody (no subscriber follows development), so the only mail is P's.
 *
 * 1. Sending: one update posted to P; the time from the POST's answer until the sink has all the
 *    mails (its last arrival), mails/s, duplicates (recipients counted twice), Herald's CPU.
 *    Baseline: a bare mailer (scripts/bench/bare-mailer.ts, a process of its own, no database)
 *    composing the same mail with the same code and sending it over the same transport, 5 at
 *    once on a pool of 5 connections as the dispatcher does, to the same sink.
 * 2. Commander latency: updates posted to D, BENCH_MAIL_GAP_MS apart: BENCH_MAIL_POSTS of them
 *    before P's update (nothing pending), then from P's answer until the sink has every mail,
 *    then BENCH_MAIL_POSTS again once all is sent and the server is quiet again (it fans out
 *    D's notices posted meanwhile once the sending pass ends). Before and after are the
 *    baseline (same server, same database, same subscribers, on either side of the sending, so
 *    a drift of the machine's load shows as a gap between them).
 * 3. Memory: the server's VmRSS sampled every 100 ms while it sends (the peak), against its
 *    VmRSS just before P's update; VmHWM; the bare mailer's peak RSS.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Notice } from '../../src/delivery/notice.ts';
import { jsonRequest } from './http.ts';
import { cpuMs, freePort, machineBusyMs, memoryKb, runHerald, runNode, startHerald, startNode, type Child } from './processes.ts';
import { int, machineLine, mib, ms, percentile, say, table } from './report.ts';
import type { SenderTally } from './smtp-sink.ts';

const SINK = fileURLToPath(new URL('./smtp-sink.ts', import.meta.url));
const BARE_MAILER = fileURLToPath(new URL('./bare-mailer.ts', import.meta.url));
const HERALD_FROM = 'status@herald.bench.test';
const BARE_FROM = 'status@bare.bench.test';
/** Addresses per import request: the API takes bodies up to 256 KiB. */
const IMPORT_CHUNK = 2_000;
const now = () => performance.timeOrigin + performance.now();

export interface MailBenchOptions {
  readonly subscribers: number;
  /** Commander posts before and after the sending (each). */
  readonly posts: number;
  readonly gapMs: number;
  /** How long the sending may take before the bench gives up on the missing mails, s. */
  readonly timeoutS: number;
}

interface Sink {
  readonly child: Child;
  readonly smtpPort: number;
  tallies(): Promise<Record<string, SenderTally>>;
}

async function startSink(): Promise<Sink> {
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const child = await startNode('smtp sink', ['--import', 'tsx', SINK], { SMTP_PORT: String(smtpPort), HTTP_PORT: String(httpPort) }, { on: 'stderr', when: /listening/, port: httpPort, timeoutSeconds: 30 });
  return { child, smtpPort, tallies: async () => (await (await fetch(child.url)).json()) as Record<string, SenderTally> };
}

const NONE: SenderTally = { messages: 0, bytes: 0, recipients: 0, sessions: 0, firstAt: NaN, lastAt: NaN };

/** CPU time of each process over a window, in ms, and everything else on the machine's (other processes, steal). */
function cpuWindow(pids: readonly number[]) {
  const t0 = performance.now();
  const before = pids.map(cpuMs);
  const self0 = process.cpuUsage();
  const busy0 = machineBusyMs();
  return () => {
    const wallMs = performance.now() - t0;
    const used = pids.map((p, i) => cpuMs(p) - before[i]!);
    const own = process.cpuUsage(self0);
    const self = (own.user + own.system) / 1000;
    const others = Math.max(0, machineBusyMs() - busy0 - self - used.reduce((x, y) => x + y, 0));
    const pct = (x: number) => `${((x / wallMs) * 100).toFixed(0)} %`;
    return { wallMs, used, self, others, pct };
  };
}

/** Waits until the process uses under 10 % of a core over two seconds; how long that took, and whether it happened in `timeoutMs`. */
async function untilQuiet(pid: number, timeoutMs: number): Promise<{ ms: number; quiet: boolean }> {
  const t0 = performance.now();
  const samples = [cpuMs(pid)];
  while (performance.now() - t0 < timeoutMs) {
    await sleep(250);
    samples.push(cpuMs(pid));
    if (samples.length > 8 && samples.at(-1)! - samples.at(-9)! < 200) return { ms: performance.now() - t0 - 2_000, quiet: true };
  }
  return { ms: performance.now() - t0, quiet: false };
}

const stats = (xs: readonly number[]) => {
  const s = Float64Array.from(xs).sort();
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), max: s[s.length - 1] ?? NaN };
};

export async function mailBench(dir: string, o: MailBenchOptions): Promise<boolean> {
  say(`# Email delivery: one update to ${int(o.subscribers)} confirmed subscribers on the embedded database, through a local SMTP sink`);
  say(`run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  say(`before: ${machineLine()}`);

  let t = performance.now();
  const sink = await startSink();
  const port = await freePort();
  const env = {
    PORT: String(port),
    HERALD_DATA_DIR: path.join(dir, 'mail', 'data'),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    SMTP_URL: `smtp://127.0.0.1:${sink.smtpPort}`,
    MAIL_FROM: `Herald Bench <${HERALD_FROM}>`,
  };
  const made = await runHerald(['token:create', '--local', '--name', 'bench', '--scopes', 'admin'], env);
  if (made.code !== 0) throw new Error(`token:create failed: ${made.stderr}`);
  const token = made.stdout.trim();
  const herald = await startHerald(env);
  const post = (p: string, body: unknown) => jsonRequest('POST', `${herald.url}${p}`, token, body);
  say(`server: herald serve pid ${herald.pid} on a fresh embedded database, SMTP_URL smtp://127.0.0.1:${sink.smtpPort} (${((performance.now() - t) / 1000).toFixed(1)} s); sink: smtp-server in its own process, pid ${sink.child.pid}`);

  // Both incidents before any subscriber: their openings mail nobody.
  const p = (await post('/api/v1/incidents', { title: 'Elevated API error rates', message: 'We are **investigating** elevated error rates on the API.', statuses: { production: 'red' } })) as { id: number };
  const d = (await post('/api/v1/incidents', { title: 'Slow builds on development', message: 'Builds on development are slower than usual.', statuses: { development: 'yellow' } })) as { id: number };
  await sleep(1_500);

  t = performance.now();
  let imported = 0;
  for (let from = 0; from < o.subscribers; from += IMPORT_CHUNK) {
    const subscribers = Array.from({ length: Math.min(IMPORT_CHUNK, o.subscribers - from) }, (_, i) => ({ email: `subscriber-${from + i}@bench.test`, components: ['production'] }));
    imported += ((await post('/api/v1/subscribers/import', { subscribers })) as { imported: number }).imported;
  }
  const importSeconds = (performance.now() - t) / 1000;
  say(`imported ${int(imported)} / ${int(o.subscribers)} confirmed subscribers (following production) in ${importSeconds.toFixed(1)} s, ${IMPORT_CHUNK} per request (${int(imported / importSeconds)}/s)`);
  if (imported !== o.subscribers) throw new Error(`the import took ${imported} of ${o.subscribers}`);
  say();

  // ---- commander's posts to D ----
  let posted = 0;
  const postToD = async (): Promise<number> => {
    const started = performance.now();
    await post(`/api/v1/incidents/${d.id}/updates`, { message: `Update ${++posted}: builds are still slower than usual; we are looking into it.` });
    return performance.now() - started;
  };
  const quietPosts = async () => {
    const times: number[] = [];
    for (let i = 0; i < o.posts; i++) {
      times.push(await postToD());
      await sleep(o.gapMs);
    }
    return times;
  };

  const before = await quietPosts();
  await sleep(1_000);
  const early = (await sink.tallies())[HERALD_FROM] ?? NONE;
  if (early.messages > 0) throw new Error(`the sink got ${early.messages} mails from Herald before the update: the openings or D's updates were mailed`);
  const rssIdle = memoryKb(herald.pid);

  // ---- 1. + 2. the sending, and the commander's posts meanwhile ----
  let rssPeak = rssIdle.rss;
  const sampler = setInterval(() => {
    try {
      rssPeak = Math.max(rssPeak, memoryKb(herald.pid).rss);
    } catch {
      // exited: said by startHerald
    }
  }, 100);
  const sendCpu = cpuWindow([herald.pid, sink.child.pid]);
  const postSent = now();
  await post(`/api/v1/incidents/${p.id}/updates`, { message: 'We have **identified** the cause: a bad deploy of the API. We are rolling it back.' });
  const answered = now();
  const during: number[] = [];
  /** When each post while sending began, in ms after P's answer. */
  const duringAt: number[] = [];
  let tally = NONE;
  const deadline = performance.now() + o.timeoutS * 1000;
  while (performance.now() < deadline) {
    tally = (await sink.tallies())[HERALD_FROM] ?? NONE;
    if (tally.messages >= o.subscribers) break;
    duringAt.push(now() - answered);
    during.push(await postToD());
    await sleep(o.gapMs);
  }
  const sent = sendCpu();
  clearInterval(sampler);
  const rssAfterSending = memoryKb(herald.pid);
  const done = tally.messages >= o.subscribers;
  const heraldMs = tally.lastAt - answered;

  // The pass that sent the mail fans out only what was due when it began: D's notices posted
  // meanwhile are fanned out (matched against every subscriber) once it ends. "After" waits for that.
  const settled = await untilQuiet(herald.pid, 60_000);
  const after = await quietPosts();
  await sleep(1_000); // anything sent twice, or D's updates mailed after all, would come now
  const heraldTally = (await sink.tallies())[HERALD_FROM] ?? NONE;
  const rssEnd = memoryKb(herald.pid);

  // ---- the baseline sender ----
  const noticeFile = path.join(dir, 'mail', 'notice.json');
  writeFileSync(noticeFile, JSON.stringify(noticeLike(p.id, env.PUBLIC_URL)));
  const bareCpu = cpuWindow([sink.child.pid]);
  const bareRun = await runNode(['--import', 'tsx', BARE_MAILER, env.SMTP_URL, String(o.subscribers), noticeFile, BARE_FROM], {});
  if (bareRun.code !== 0) throw new Error(`bare mailer failed (${bareRun.code}): ${bareRun.stderr}`);
  const bareSinkCpu = bareCpu();
  const bare = JSON.parse(bareRun.stdout.trim().split('\n').at(-1)!) as { startedAt: number; endedAt: number; failed: number; cpuMs: number; maxRssKb: number; composeUs: number };
  await sleep(200);
  const bareTally = (await sink.tallies())[BARE_FROM] ?? NONE;
  const bareMs = bareTally.lastAt - bare.startedAt;

  // ---- report ----
  const heraldCpu = sent.used[0]!;
  const perSec = (n: number, msTaken: number) => int(n / (msTaken / 1000));
  const ok = done && heraldTally.messages === o.subscribers && heraldTally.recipients === o.subscribers && bare.failed === 0;
  say(`## 1. Sending one update to ${int(o.subscribers)} subscribers`);
  say(
    table(
      ['sender', 'mails at the sink', 'distinct recipients', 'time to all, ms', 'mails/s', 'bytes/mail', 'SMTP sessions', 'sender CPU', 'µs CPU/mail', 'sink CPU'],
      [
        ['herald (from the POST answer)', `${int(heraldTally.messages)} / ${int(o.subscribers)}`, int(heraldTally.recipients), done ? ms(heraldMs) : `> ${int(o.timeoutS * 1000)} (gave up)`, perSec(tally.messages, heraldMs), int(heraldTally.bytes / heraldTally.messages), int(heraldTally.sessions), sent.pct(heraldCpu), int((heraldCpu * 1000) / tally.messages), sent.pct(sent.used[1]!)],
        ['bare mailer (from its first send)', `${int(bareTally.messages)} / ${int(o.subscribers)}`, int(bareTally.recipients), ms(bareMs), perSec(bareTally.messages, bareMs), int(bareTally.bytes / bareTally.messages), int(bareTally.sessions), `${((bare.cpuMs / (bare.endedAt - bare.startedAt)) * 100).toFixed(0)} %`, int((bare.cpuMs * 1000) / bareTally.messages), bareSinkCpu.pct(bareSinkCpu.used[0]!)],
        ['herald / bare', '', '', `${(heraldMs / bareMs).toFixed(2)}×`, '', '', '', '', `${((heraldCpu / tally.messages) / (bare.cpuMs / bareTally.messages)).toFixed(2)}×`, ''],
      ],
    ),
  );
  say(
    `POST of P's update answered in ${ms(answered - postSent)} ms; first mail at the sink ${ms(tally.firstAt - answered)} ms after the answer; ` +
      `Herald's mails after the sending (D's posts, duplicates): ${int(heraldTally.messages - tally.messages)}${bare.failed ? `; bare mailer failures: ${bare.failed}` : ''}`,
  );
  say(`after the last mail the server stayed busy for ${(settled.ms / 1000).toFixed(1)} s${settled.quiet ? '' : ' (and was still busy: the "after" posts were made anyway)'} before the "after" posts (below 10 % of a core for 2 s): the fan-out of D's ${int(during.length)} notices posted while it sent, deferred until the sending pass ended`);
  say(`bare mailer: the same updateMail() and smtpTransport() in a loop, 5 at once, no database; composing one mail alone takes it ${int(bare.composeUs)} µs`);
  say(`CPU in % of one core (2 cores = 200 %); during Herald's sending this process took ${sent.pct(sent.self)}, other processes and steal ${sent.pct(sent.others)}`);
  say();

  const sb = stats(before);
  const sd = stats(during);
  const sa = stats(after);
  const quiet = stats([...before, ...after]);
  const p90Ratio = sd.p90 / quiet.p90;
  say(`## 2. Commander latency: updates posted to D (mailed to nobody), ${o.gapMs} ms apart`);
  say(
    table(
      ['when', 'posts', 'p50 ms', 'p90 ms', 'max ms'],
      [
        ['before: nothing pending', int(sb.n), ms(sb.p50), ms(sb.p90), ms(sb.max)],
        [`while ${int(o.subscribers)} mails go out`, int(sd.n), ms(sd.p50), ms(sd.p90), ms(sd.max)],
        ['after: all sent', int(sa.n), ms(sa.p50), ms(sa.p90), ms(sa.max)],
        ['while / (before + after)', '', `${(sd.p50 / quiet.p50).toFixed(2)}×`, `${p90Ratio.toFixed(2)}×`, `${(sd.max / quiet.max).toFixed(2)}×`],
      ],
    ),
  );
  const slowest = during.map((took, i) => ({ took, at: duringAt[i]! })).sort((x, y) => y.took - x.took).slice(0, 3);
  say(`slowest posts while sending: ${slowest.map((x) => `${ms(x.took)} ms at +${(x.at / 1000).toFixed(1)} s`).join(', ')} (after P's answer: at +0 s the server is queueing the ${int(o.subscribers)} mails in one transaction)`);
  say();

  say('## 3. Memory (VmRSS of herald serve; VmHWM = its peak since it started, the import included)');
  say(
    table(
      ['when', 'VmRSS', 'vs idle', 'VmHWM'],
      [
        ['idle, subscribers imported, before the update', mib(rssIdle.rss), '1.00×', mib(rssIdle.peak)],
        ['peak while sending (sampled every 100 ms)', mib(rssPeak), `${(rssPeak / rssIdle.rss).toFixed(2)}×`, ''],
        ['once all was sent', mib(rssAfterSending.rss), `${(rssAfterSending.rss / rssIdle.rss).toFixed(2)}×`, mib(rssAfterSending.peak)],
        ['at the end', mib(rssEnd.rss), `${(rssEnd.rss / rssIdle.rss).toFixed(2)}×`, mib(rssEnd.peak)],
        ['bare mailer, its peak', mib(bare.maxRssKb), '', ''],
      ],
    ),
  );
  say();

  say('## Summary');
  const unchanged = p90Ratio < 1.5;
  say(
    table(
      ['what', 'measured', 'baseline (same run)', 'ratio'],
      [
        [`time to all ${int(o.subscribers)} delivered`, done ? `${ms(heraldMs / 1000)} s (${perSec(tally.messages, heraldMs)} mails/s)` : `not all in ${o.timeoutS} s (${int(tally.messages)})`, `bare mailer ${ms(bareMs / 1000)} s (${perSec(bareTally.messages, bareMs)}/s)`, `${(heraldMs / bareMs).toFixed(2)}×`],
        ['delivered / expected, duplicates', `${int(heraldTally.recipients)} / ${int(o.subscribers)}, ${int(heraldTally.messages - heraldTally.recipients)} dup${ok ? '' : ' (MISSING OR DUPLICATED)'}`, '', ''],
        ['server RSS, peak while sending', mib(rssPeak), `idle before the update ${mib(rssIdle.rss)}`, `${(rssPeak / rssIdle.rss).toFixed(2)}×`],
        ['commander POST, median / p90', `${ms(sd.p50)} / ${ms(sd.p90)} ms`, `nothing pending ${ms(quiet.p50)} / ${ms(quiet.p90)} ms`, `${(sd.p50 / quiet.p50).toFixed(2)}× / ${p90Ratio.toFixed(2)}×`],
      ],
    ),
  );
  say(`verdict: commander's POST latency unchanged while mailing (p90 ratio < 1.5): ${unchanged ? 'yes' : 'NO'} (${p90Ratio.toFixed(2)}×)`);
  say(`after:  ${machineLine()}`);

  const stopped = await Promise.all(
    [herald, sink.child].map(async (c) => {
      const t0 = performance.now();
      await c.stop();
      return `${c.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s${c.child.signalCode === 'SIGKILL' ? ' (SIGKILL)' : ''}`;
    }),
  );
  say(`stopped: ${stopped.join(', ')}`);
  return ok;
}

/** P's update as Herald's notice has it, near enough for the bare mailer to compose the same mail. */
function noticeLike(id: number, publicUrl: string): Notice {
  const at = new Date().toISOString();
  return {
    type: 'incident.updated',
    occurred_at: at,
    page: { id: 'herald', name: 'Herald', url: publicUrl, status: { indicator: 'critical', description: 'Major System Outage' } },
    incident: {
      id,
      kind: 'incident',
      title: 'Elevated API error rates',
      state: 'investigating',
      impact: 'critical',
      url: `${publicUrl}/incidents/${id}`,
      started_at: at,
      resolved_at: null,
      updated_at: at,
      scheduled_for: null,
      scheduled_until: null,
      components: [{ slug: 'production', name: 'Production', status: 'red' }],
      postmortem_published_at: null,
    },
    update: { id: id * 10, state: 'investigating', message: 'We have **identified** the cause: a bad deploy of the API. We are rolling it back.', at, author: 'bench' },
  };
}
