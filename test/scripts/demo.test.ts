import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSummary } from '../../scripts/demo.ts';
import { parseConfig } from '../../src/config.ts';
import { connectPGlite, type DatabaseHandle } from '../../src/db/connect.ts';
import { auditOf } from '../../src/db/queries/audit.ts';
import { countIncidents, listIncidents } from '../../src/db/queries/incidents.ts';
import { modeHistory } from '../../src/db/queries/modes.ts';
import { buildPublicData } from '../../src/services/public-data.ts';
import { incidentById } from '../../src/services/read-model.ts';
import { freshDatabase } from '../support/db.ts';

/** A fixed "now": the demo's days below are counted back from 2026-05-20 (UTC). */
const NOW = new Date('2026-05-20T09:30:00.000Z');
const MIN = 60;
const config = parseConfig({ PUBLIC_URL: 'https://status.example.com' });

let handle: DatabaseHandle;
let demo: DemoSummary;

beforeAll(async () => {
  handle = await freshDatabase();
  demo = await seedDemo(handle.db, NOW, { config });
});
afterAll(async () => handle.close());

const view = async (id: number) => {
  const v = await incidentById(handle.db, config, id, NOW);
  if (!v) throw new Error(`incident ${id} is missing`);
  return v;
};

describe('the demo history (seedDemo)', () => {
  it('when seeded, there are 8 incidents and 2 maintenance, and exactly one incident is open: degraded Development builds', async () => {
    expect(await countIncidents(handle.db)).toBe(10);
    expect(await listIncidents(handle.db, { limit: 100, kind: 'incident' })).toHaveLength(8);
    expect(await listIncidents(handle.db, { limit: 100, kind: 'maintenance' })).toHaveLength(2);
    const open = await listIncidents(handle.db, { limit: 100, kind: 'incident', state: 'open' });
    expect(open.map((r) => r.id)).toEqual([demo.openIncidentId]);

    const live = await view(demo.openIncidentId);
    expect(live.state).toBe('identified');
    expect(live.statuses).toEqual({ development: 'yellow' });
    expect(live.started_at).toBe('2026-05-20T08:38:00.000Z'); // 52 minutes before now
    expect(live.scope_of_impact.environments.find((e) => e.environment === 'development')?.yellow_seconds).toBe(52 * MIN);
  });

  it('when the big outage is read back, both environments were red, web was read-only and in maintenance, worker in maintenance', async () => {
    const outage = await view(demo.bigOutageId);
    expect(outage.state).toBe('resolved');
    expect(outage.started_at).toBe('2026-04-16T14:02:00.000Z');
    expect(outage.resolved_at).toBe('2026-04-16T18:10:00.000Z');
    expect(outage.updates.map((u) => u.state).reverse()).toEqual([
      'investigating', 'investigating', 'identified', 'identified', 'identified', 'monitoring', 'monitoring', 'resolved',
    ]);
    // production: red 14:02–16:40, yellow 16:40–18:10. development: yellow 14:02–14:19, red 14:19–16:40, yellow 16:40–17:25.
    expect(outage.scope_of_impact.environments).toEqual([
      { environment: 'production', impaired_seconds: 248 * MIN, impaired: '4 hours 8 minutes', yellow_seconds: 90 * MIN, orange_seconds: 0, red_seconds: 158 * MIN, blue_seconds: 0 },
      { environment: 'development', impaired_seconds: 203 * MIN, impaired: '3 hours 23 minutes', yellow_seconds: 62 * MIN, orange_seconds: 0, red_seconds: 141 * MIN, blue_seconds: 0 },
    ]);
    // web: read-only 14:19–14:48 and 16:40–17:25, maintenance 14:48–16:40. worker: maintenance 14:48–16:40.
    expect(outage.scope_of_impact.roles).toEqual([
      { role: 'web', read_only_seconds: 74 * MIN, maintenance_seconds: 112 * MIN, read_only: '1 hour 14 minutes', maintenance: '1 hour 52 minutes' },
      { role: 'worker', read_only_seconds: 0, maintenance_seconds: 112 * MIN, read_only: '0 seconds', maintenance: '1 hour 52 minutes' },
    ]);
  });

  it('when the big outage is read back, its postmortem is published in Markdown with headings, a list, a code span and a link', async () => {
    const outage = await view(demo.bigOutageId);
    expect(outage.postmortem?.published_at).toBe('2026-04-20T16:00:00.000Z');
    const md = outage.postmortem?.markdown ?? '';
    expect(md).toMatch(/^### Summary$/m);
    expect(md).toMatch(/^- \*\*Production\*\*: outage for 2 hours 38 minutes/m);
    expect(md).toContain('`api-db-3`');
    expect(md).toMatch(/\]\(https:\/\/www\.postgresql\.org\/[^)]+\)/);
  });

  it('when the smaller incidents are read back, one was Development-only and one was reopened and resolved again', async () => {
    const dev = await view(demo.developmentOnlyId);
    expect(dev.scope_of_impact.environments.map((e) => [e.environment, e.red_seconds, e.yellow_seconds])).toEqual([
      ['production', 0, 0],
      ['development', 25 * MIN, 40 * MIN],
    ]);
    const reopened = await view(demo.reopenedId);
    expect(reopened.state).toBe('resolved');
    expect(reopened.updates.map((u) => u.state).reverse()).toEqual(['investigating', 'identified', 'monitoring', 'resolved', 'investigating', 'monitoring', 'resolved']);
    expect(reopened.resolved_at).toBe('2026-04-29T13:45:00.000Z');
    // yellow 09:12–10:50, then again 12:31–13:45 after reopening
    expect(reopened.scope_of_impact.environments[0]).toMatchObject({ environment: 'production', yellow_seconds: 172 * MIN, impaired: '2 hours 52 minutes' });
  });

  it('when the maintenance is read back, one completed in its window with production blue and one is scheduled four days ahead', async () => {
    const done = await view(demo.completedMaintenanceId);
    expect(done.kind).toBe('maintenance');
    expect(done.state).toBe('completed');
    expect(done.updates.map((u) => u.state).reverse()).toEqual(['scheduled', 'scheduled', 'in_progress', 'in_progress', 'completed']);
    expect([done.scheduled_for, done.scheduled_until]).toEqual(['2026-03-23T06:00:00.000Z', '2026-03-23T08:00:00.000Z']);
    expect([done.started_at, done.resolved_at]).toEqual(['2026-03-16T14:00:00.000Z', '2026-03-23T07:35:00.000Z']);
    // in progress 06:00–07:35: only that counts, not the week it was announced
    expect(done.scope_of_impact.environments[0]).toMatchObject({ environment: 'production', blue_seconds: 95 * MIN, yellow_seconds: 0, red_seconds: 0 });
    expect(done.scope_of_impact.roles).toMatchObject([
      { role: 'web', read_only_seconds: 95 * MIN, maintenance_seconds: 0 },
      { role: 'worker', read_only_seconds: 0, maintenance_seconds: 95 * MIN },
    ]);

    const next = await view(demo.upcomingMaintenanceId);
    expect(next.state).toBe('scheduled');
    expect(next.open).toBe(true);
    expect([next.scheduled_for, next.scheduled_until]).toEqual(['2026-05-24T06:00:00.000Z', '2026-05-24T09:00:00.000Z']);
    expect(next.scope_of_impact.environments.every((e) => e.impaired_seconds === 0)).toBe(true);
  });

  it('when every update is read back, none is in the future and every one is written by the demo token', async () => {
    const all = await listIncidents(handle.db, { limit: 100 });
    const views = await Promise.all(all.map((r) => view(r.id)));
    const updates = views.flatMap((v) => v.updates);
    expect(updates).toHaveLength(41);
    expect(updates.every((u) => u.at <= NOW.toISOString() && u.author === 'demo')).toBe(true);
    expect(demo.tokenId).toBeGreaterThan(0);
  });

  it('when the history is read back, every write was made as of the moment it describes: audit rows and mode changes carry those times', async () => {
    const audit = await auditOf(handle.db, `incident:${demo.bigOutageId}`);
    expect(audit.map((a) => [a.action, a.at.toISOString()])).toEqual([
      ['incident.create', '2026-04-16T14:02:00.000Z'],
      ...['14:19', '14:48', '15:31', '16:15', '16:40', '17:25', '18:10'].map((t) => ['update.create', `2026-04-16T${t}:00.000Z`]),
      ['postmortem.write', '2026-04-19T10:00:00.000Z'],
      ['postmortem.publish', '2026-04-20T16:00:00.000Z'],
    ]);
    const changes = async (role: string) => (await modeHistory(handle.db, role)).reverse().map((c) => `${c.at.toISOString()} ${c.from_mode}→${c.to_mode}`);
    // the database upgrade (maintenance, 23 March), then the outage (16 April); nothing holds a mode now
    expect(await changes('web')).toEqual([
      '2026-03-23T06:00:00.000Z full→read_only',
      '2026-03-23T07:35:00.000Z read_only→full',
      '2026-04-16T14:19:00.000Z full→read_only',
      '2026-04-16T14:48:00.000Z read_only→maintenance',
      '2026-04-16T16:40:00.000Z maintenance→read_only',
      '2026-04-16T17:25:00.000Z read_only→full',
    ]);
    expect(await changes('worker')).toEqual([
      '2026-03-23T06:00:00.000Z full→maintenance',
      '2026-03-23T07:35:00.000Z maintenance→full',
      '2026-04-16T14:48:00.000Z full→maintenance',
      '2026-04-16T16:40:00.000Z maintenance→full',
    ]);
  });

  it('when the public data is built, production shows 7 non-green days of 90 and Development is degraded now', async () => {
    const data = await buildPublicData(handle.db, config, NOW);
    const nonGreen = (slug: string) =>
      data.bars.find((b) => b.slug === slug)!.days.filter((d) => d.status !== 'green').map((d) => `${d.date} ${d.status}`);
    expect(data.bars.find((b) => b.slug === 'production')!.days).toHaveLength(90);
    expect(nonGreen('production')).toEqual([
      '2026-02-26 yellow',
      '2026-03-23 blue',
      '2026-04-05 yellow',
      '2026-04-16 red',
      '2026-04-29 yellow',
      '2026-05-11 yellow',
      '2026-05-17 yellow',
    ]);
    expect(nonGreen('development')).toEqual(['2026-03-10 red', '2026-04-16 red', '2026-05-11 yellow', '2026-05-20 yellow']);
    expect(data.status.environments.map((e) => [e.slug, e.status])).toEqual([
      ['production', 'green'],
      ['development', 'yellow'],
    ]);
    expect(data.status.incidents.map((i) => i.id)).toEqual([demo.openIncidentId]);
    expect(data.status.scheduled.map((i) => i.id)).toEqual([demo.upcomingMaintenanceId]);
    expect(data.recent).toHaveLength(5);
  });
});

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX_CLI = join(ROOT, 'node_modules/tsx/dist/cli.mjs');

/** Runs `tsx scripts/demo.ts ARGS` as `npm run demo` does, in a clean environment. */
function runDemo(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [TSX_CLI, 'scripts/demo.ts', ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo (the real script)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-demo-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('when run on an empty data dir it seeds and exits 0; run again it refuses with exit 1 unless --force', { timeout: 180_000 }, async () => {
    const env = { HERALD_DATA_DIR: join(dir, 'data'), PORT: '3999' };
    const first = await runDemo([], env);
    expect(first.stderr).toContain('90-day demo history');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe('');
    expect(first.stderr).toContain('8 incidents, 1 open now');
    expect(first.stderr).toMatch(/npm start.*open http:\/\/localhost:3999\n/);
    // and a one-time link into the console as the demo token, unused so far
    expect(first.stderr).toMatch(/commander console, signed in as "demo" .*: http:\/\/localhost:3999\/console\/signin\/[A-Za-z0-9_-]{43}\n$/);

    const again = await runDemo([], env);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain(`the embedded database in ${env.HERALD_DATA_DIR} already has 10 incidents; refusing to add the demo history to it.`);
    expect(again.stderr).toContain('--force');

    const forced = await runDemo(['--force'], env);
    expect(forced.code).toBe(0);

    const db = await connectPGlite({ dataDir: env.HERALD_DATA_DIR });
    try {
      expect(await countIncidents(db.db)).toBe(20);
    } finally {
      await db.close();
    }
  });

  it('when given an unknown argument it exits 2 with usage and writes nothing', async () => {
    const r = await runDemo(['--frce'], { HERALD_DATA_DIR: join(dir, 'untouched') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown argument --frce');
    expect(r.stderr).toContain('Usage: npm run demo');
    expect(existsSync(join(dir, 'untouched'))).toBe(false);
  });
});
