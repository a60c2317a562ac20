import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORDING } from '../../src/intake/wording.ts';
import { runHerald, startHerald, stopChild } from '../support/process.ts';
import { freePort, waitFor } from '../support/upstream.ts';

/**
 * The real sender: Debian's Alertmanager 0.25 (package `prometheus-alertmanager`, whose server
 * binary is /usr/bin/prometheus-alertmanager, and amtool) posts its webhook notifications to a
 * real `herald serve` with a token of scope alerts:write, as an operator would set it up from
 * docs/alerts.md. amtool fires an alert and then ends it; Herald opens an incident on the page
 * and later posts the recovery, both written by `alertmanager`.
 *
 * Without the binaries the suite is skipped, saying so; .ci/run installs the package and sets
 * HERALD_REQUIRE_ALERTMANAGER=1, under which a missing binary fails instead.
 */

const PACKAGE = 'prometheus-alertmanager';
const ALERTMANAGER = onPath('alertmanager') ?? onPath('prometheus-alertmanager');
const AMTOOL = onPath('amtool');
const missing = [ALERTMANAGER ? null : 'alertmanager (or prometheus-alertmanager)', AMTOOL ? null : 'amtool'].filter((m) => m !== null);
const required = process.env.HERALD_REQUIRE_ALERTMANAGER === '1';
const skip = missing.length > 0 && !required;
if (skip) {
  console.warn(`test/intake/real-alertmanager.test.ts: SKIPPED: ${missing.join(' and ')} not on PATH; install Debian's ${PACKAGE} (apt-get install ${PACKAGE}), as .ci/run does`);
}

/** The absolute path of an executable named `name` on PATH, or null. */
function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** Seconds precision, as amtool reads its --start and --end (RFC 3339). */
const rfc3339 = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

interface Running {
  dir: string;
  herald?: Awaited<ReturnType<typeof startHerald>>;
  alertmanager?: ChildProcess;
  alertmanagerLog: string;
}

describe.skipIf(skip)('a real Alertmanager posting to a real Herald', () => {
  let run: Running;

  beforeEach(async () => {
    run = { dir: await mkdtemp(join(tmpdir(), 'herald-real-am-')), alertmanagerLog: '' };
  });

  afterEach(async () => {
    const am = run.alertmanager;
    if (am?.pid !== undefined && am.exitCode === null && am.signalCode === null) {
      const exited = new Promise<void>((resolve) => am.once('exit', () => resolve()));
      try {
        process.kill(-am.pid, 'SIGKILL'); // its own process group
      } catch {
        // the group is already gone
      }
      await exited;
    }
    if (run.herald) await stopChild(run.herald.child);
    await rm(run.dir, { recursive: true, force: true });
  });

  /** `herald token:create --local` on the test's data dir; the token. */
  async function token(env: Record<string, string>, name: string, scopes: string): Promise<string> {
    const made = await runHerald(['token:create', '--local', '--name', name, '--scopes', scopes], env);
    expect(made.code, made.stderr).toBe(0);
    return made.stdout.trim();
  }

  /** Starts Alertmanager in a process group of its own; resolves once /-/ready answers 200. */
  async function startAlertmanager(config: string): Promise<string> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(
      ALERTMANAGER!,
      [`--config.file=${config}`, `--storage.path=${join(run.dir, 'am-data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=debug'],
      { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    run.alertmanager = child;
    child.stdout!.on('data', (d) => (run.alertmanagerLog += d));
    child.stderr!.on('data', (d) => (run.alertmanagerLog += d));
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`alertmanager exited with ${child.exitCode}:\n${run.alertmanagerLog}`);
      return (await fetch(`${url}/-/ready`)).status === 200;
    }, 30_000, 100);
    return url;
  }

  function amtool(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(AMTOOL!, args, { env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`amtool ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
  }

  it(
    'when Alertmanager fires an alert a rule matches, Herald shows an incident on / and in summary.json; when the alert ends, Alertmanager\'s resolved notification posts the recovery, both by "alertmanager"',
    async () => {
      if (missing.length > 0) throw new Error(`HERALD_REQUIRE_ALERTMANAGER=1 but ${missing.join(' and ')} not on PATH: install Debian's ${PACKAGE}`);

      // ---- Herald, with a rule for paging alerts placed by their environment label ----
      const env = { HERALD_DATA_DIR: join(run.dir, 'data'), PORT: String(await freePort()) };
      const admin = await token(env, 'ops', 'admin');
      const sender = await token(env, 'alertmanager', 'alerts:write');
      run.herald = await startHerald(env);
      const herald = `http://127.0.0.1:${env.PORT}`;
      const api = async (path: string, init: RequestInit = {}) => {
        const res = await fetch(`${herald}${path}`, { ...init, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', ...init.headers } });
        return { status: res.status, body: (await res.json()) as any };
      };
      const rule = await api('/api/v1/alert-rules', { method: 'POST', body: JSON.stringify({ name: 'Paging alerts', matchers: 'severity="page"', component_label: 'environment' }) });
      expect(rule.status, JSON.stringify(rule.body)).toBe(201);

      // ---- Alertmanager: the README's receiver as pasted, pointed at this Herald ----
      // Only what a reader changes is changed: the URL, the token file, and (for the test's speed)
      // group_wait and group_interval. resolve_timeout is long on purpose: the recovery below must
      // come from ending the alert, not from Alertmanager timing it out.
      const tokenFile = join(run.dir, 'herald-token');
      await writeFile(tokenFile, sender);
      const config = join(run.dir, 'alertmanager.yml');
      await writeFile(config, `global:\n  resolve_timeout: 10m\n${readmeAlertmanagerYml(herald, tokenFile)}`);
      const am = await startAlertmanager(config);

      // ---- fire ----
      // --start is given (and given again when ending) so that the end falls inside the alert
      // Alertmanager holds and is merged into it, whatever the second in which it fired.
      const startsAt = rfc3339(Date.now() - 1000);
      const labels = ['alertname=DatabaseDown', 'severity=page', 'environment=production'];
      const summary = 'Primary database is not answering';
      await amtool(['alert', 'add', `--alertmanager.url=${am}`, ...labels, `--annotation=summary=${summary}`, `--start=${startsAt}`]);

      const timing = { timeoutMs: 45_000, everyMs: 200 };
      const summaryJson = async () => (await (await fetch(`${herald}/api/v2/summary.json`)).json()) as any;
      const opened = await waitFor(async () => {
        const s = await summaryJson();
        return s.incidents.find((i: { name: string }) => i.name === 'DatabaseDown') ? s : null;
      }, timing.timeoutMs, timing.everyMs).catch((error: Error) => {
        throw new Error(`${error.message}\nalertmanager's log:\n${run.alertmanagerLog}\nherald's log:\n${run.herald!.stderr()}`);
      });
      const production = opened.value.components.find((c: { id: string }) => c.id === 'production');
      expect(production.status).not.toBe('operational');
      expect(production.status).toBe('major_outage'); // the rule's default status, red
      const incidentId = Number(opened.value.incidents.find((i: { name: string }) => i.name === 'DatabaseDown').id);

      const page = await (await fetch(`${herald}/`)).text();
      expect(page).toContain(`href="/incidents/${incidentId}">DatabaseDown</a>`);

      const first = await api(`/api/v1/incidents/${incidentId}`);
      expect(first.body.updates).toHaveLength(1);
      expect(first.body.updates[0]).toMatchObject({ author: 'alertmanager', state: 'investigating', statuses: { production: 'red' } });
      expect(first.body.updates[0].message).toContain(`- DatabaseDown (production): ${summary}`);

      // ---- end the alert: endsAt in the past makes it resolved; send_resolved tells Herald ----
      await amtool(['alert', 'add', `--alertmanager.url=${am}`, ...labels, `--annotation=summary=${summary}`, `--start=${startsAt}`, `--end=${rfc3339(Date.now())}`]);
      const recovered = await waitFor(async () => {
        const { body } = await api(`/api/v1/incidents/${incidentId}`);
        return body.updates.length >= 2 ? body : null;
      }, timing.timeoutMs, timing.everyMs).catch((error: Error) => {
        throw new Error(`${error.message}\nalertmanager's log:\n${run.alertmanagerLog}\nherald's log:\n${run.herald!.stderr()}`);
      });
      expect(recovered.value.updates).toHaveLength(2);
      const recovery = recovered.value.updates.find((u: { id: number }) => u.id !== first.body.updates[0].id);
      expect(recovery).toMatchObject({ author: 'alertmanager', message: DEFAULT_WORDING.recovered, statuses: { production: 'green' } });
      expect(recovery.message).toContain('Our automated systems see recovery');
      expect(recovered.value.open).toBe(true); // auto_resolve is off: a commander confirms
      expect((await summaryJson()).components.find((c: { id: string }) => c.id === 'production').status).toBe('operational');

      // ---- the inbox: what each of Alertmanager's notifications did, newest first ----
      const inbox = (await api('/api/v1/alerts/inbox')).body as { source: string; status: string; outcome: string; incident_id: number | null }[];
      expect(inbox.every((e) => e.source === 'alertmanager')).toBe(true);
      const changes = inbox.filter((e) => e.outcome !== 'ignored').reverse();
      expect(changes.map((e) => [e.status, e.outcome, e.incident_id])).toEqual([
        ['firing', 'opened', incidentId],
        ['resolved', 'recovered', incidentId],
      ]);
    },
    120_000,
  );
});

/** The README's alertmanager.yml, with the public URL, the token file and the waits replaced; each must be there. */
function readmeAlertmanagerYml(heraldUrl: string, tokenFile: string): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = /<!-- readme-check: file alertmanager\.yml -->\n```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no alertmanager.yml block');
  let yml = block;
  for (const [from, to] of [
    ['https://status.example.com', heraldUrl],
    ['credentials_file: /etc/alertmanager/herald-token', `credentials_file: ${tokenFile}`],
    ['group_wait: 30s', 'group_wait: 1s'],
    ['group_interval: 1m', 'group_interval: 1s'],
  ] as const) {
    if (!yml.includes(from)) throw new Error(`README.md's alertmanager.yml no longer holds "${from}"`);
    yml = yml.replace(from, to);
  }
  return yml;
}
