/**
 * What the embedded database costs under V8's baseline wasm compiler alone (Liftoff, as
 * `herald serve` runs it: src/entry/embedded.ts) against V8's default (Liftoff first, then
 * TurboFan for the functions that get hot). `npx tsx scripts/bench/wasm-tiers.ts`.
 *
 Each mode runs in node processes of their own (`node [--liftoff-only] --import tsx`), the modes
 * taking turns ROUNDS times, doing what Herald does with PGlite and timing each step:
 *
 *   1. in one process, initdb and the migrations on a fresh data directory in a temp dir (what
 *      `herald prepare` does);
 *   2. in another (as `herald serve` after the copy: no initdb in it), open that directory;
 *   3. writes through the use cases (test/support/seed.ts): 36 resolved incidents over 88 days with
 *      2 to 4 updates each and 3 open ones, much as `npm run bench` seeds them (about 150 writes);
 *   4. `buildPublicData` (src/services/public-data.ts: what every announced write costs the
 *      public pages) BUILDS times in a row;
 *
 * then VmRSS and VmHWM of the second process. Knobs: BENCH_ROUNDS (2), BENCH_BUILDS (300).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, memoryKb } from './processes.ts';
import { machineLine, mib, ms, percentile, say, table } from './report.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BUILDS = Number(process.env.BENCH_BUILDS ?? 300);
const SELF = fileURLToPath(import.meta.url);

interface Run {
  readonly mode: string;
  readonly initdbMs: number;
  readonly migrateMs: number;
  readonly openMs: number;
  readonly writes: number;
  readonly writeMedianMs: number;
  readonly writesTotalMs: number;
  readonly buildFirstMs: number;
  readonly buildEarlyMedianMs: number;
  readonly buildLateMedianMs: number;
  readonly buildP90Ms: number;
  readonly rssKb: number;
  readonly peakKb: number;
}

const MODES = [
  { mode: 'default (Liftoff, then TurboFan)', flags: [] as string[] },
  { mode: 'Liftoff only', flags: ['--liftoff-only'] },
];

async function prepareChild(dataDir: string): Promise<Pick<Run, 'initdbMs' | 'migrateMs'>> {
  const [{ connectPGlite }, { migrate }] = await Promise.all([import('../../src/db/connect.ts'), import('../../src/db/migrator.ts')]);
  let t = performance.now();
  const handle = await connectPGlite({ dataDir });
  const initdbMs = performance.now() - t;
  t = performance.now();
  await migrate(handle.db);
  const migrateMs = performance.now() - t;
  await handle.close();
  return { initdbMs, migrateMs };
}

async function loadChild(dataDir: string): Promise<Omit<Run, 'mode' | 'initdbMs' | 'migrateMs'>> {
  const [{ connectPGlite }, { seeder }, { buildPublicData }, { parseConfig }] = await Promise.all([
    import('../../src/db/connect.ts'),
    import('../../test/support/seed.ts'),
    import('../../src/services/public-data.ts'),
    import('../../src/config.ts'),
  ]);
  const t = performance.now();
  const handle = await connectPGlite({ dataDir });
  const openMs = performance.now() - t;
  const config = parseConfig({});
  const s = seeder(handle.db, { config });
  const { actor } = await s.token(['admin']);
  const writeTimes: number[] = [];
  const timed = async <T>(f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const value = await f();
    writeTimes.push(performance.now() - t0);
    return value;
  };
  const DAY = 86_400_000;
  const MINUTE = 60_000;
  const now = Date.now();
  const iso = (x: number) => new Date(x).toISOString();
  const message = (i: number, state: string) =>
    `We are **${state}** the errors on component ${i} in \`eu-west\`.\n\n- Affected: API\n- Not affected: running dynos\n\nFollow [the incident page](https://status.example.com/incidents/${i}).`;
  for (let i = 0; i < 36; i++) {
    const start = now - 88 * DAY + i * ((86 * DAY) / 36);
    const env = i % 4 === 3 ? 'development' : 'production';
    const incident = await timed(() =>
      s.incident(actor, { title: `Incident ${i}`, message: message(i, 'investigating'), statuses: { [env]: i % 3 === 2 ? 'red' : 'yellow' }, ...(i % 6 === 0 ? { modes: { web: 'read_only' } } : {}), at: iso(start) }),
    );
    const id = (incident as { id: number }).id;
    const steps = ['identified', ...(i % 2 ? ['monitoring'] : []), ...(i % 3 === 0 ? ['monitoring'] : []), 'resolved'];
    let at = start;
    for (const state of steps) {
      at += (20 + ((i * 13) % 50)) * MINUTE;
      await timed(() => s.update(actor, id, { state, message: message(i, state), ...(state === 'resolved' && i % 6 === 0 ? { modes: { web: 'full' } } : {}), at: iso(at) }));
    }
  }
  for (let n = 0; n < 3; n++) {
    let at = now - (3 - n) * 3_600_000;
    const incident = await timed(() => s.incident(actor, { title: `Open ${n}`, message: message(100 + n, 'investigating'), statuses: { production: 'yellow' }, at: iso(at) }));
    for (const state of ['investigating', 'identified', 'monitoring']) {
      at += 20 * MINUTE;
      await timed(() => s.update(actor, (incident as { id: number }).id, { state, message: message(100 + n, state), at: iso(at) }));
    }
  }

  const builds: number[] = [];
  for (let i = 0; i < BUILDS; i++) {
    const t0 = performance.now();
    await buildPublicData(handle.db, config, new Date());
    builds.push(performance.now() - t0);
  }
  await handle.close();
  const sorted = (xs: number[]) => Float64Array.from(xs).sort();
  const mem = memoryKb(process.pid);
  return {
    openMs,
    writes: writeTimes.length,
    writeMedianMs: percentile(sorted(writeTimes), 50),
    writesTotalMs: writeTimes.reduce((a, b) => a + b, 0),
    buildFirstMs: builds[0]!,
    buildEarlyMedianMs: percentile(sorted(builds.slice(0, 20)), 50),
    buildLateMedianMs: percentile(sorted(builds.slice(-100)), 50),
    buildP90Ms: percentile(sorted(builds), 90),
    rssKb: mem.rss,
    peakKb: mem.peak,
  };
}

function runChild<T>(flags: readonly string[], args: readonly string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [...flags, '--import', 'tsx', SELF, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as T) : reject(new Error(`${args.join(' ')}: exit ${code}\n${out}`))));
  });
}

async function run(mode: (typeof MODES)[number]): Promise<Run> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-tiers-'));
  try {
    const dataDir = path.join(dir, 'data');
    const prepared = await runChild<Pick<Run, 'initdbMs' | 'migrateMs'>>(mode.flags, ['--prepare', dataDir]);
    const loaded = await runChild<Omit<Run, 'mode' | 'initdbMs' | 'migrateMs'>>(mode.flags, ['--load', dataDir]);
    return { mode: mode.mode, ...prepared, ...loaded };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  say('# The embedded database under Liftoff only vs V8 default wasm tiering');
  say(machineLine());
  say(`each run: initdb + migrations in one process; in another: open, ~150 writes through the use cases, buildPublicData × ${BUILDS}; ${ROUNDS} rounds, modes alternating, each run its own process`);
  const runs: Run[] = [];
  for (let r = 0; r < ROUNDS; r++) for (const m of MODES) runs.push(await run(m));
  say();
  say(
    table(
      ['mode', 'initdb', 'migrate', 'open', 'write p50', 'writes total', 'build #1', 'build p50 1-20', `build p50 last 100`, 'build p90', 'RSS', 'peak'],
      runs.map((r) => [
        r.mode,
        `${ms(r.initdbMs)} ms`,
        `${ms(r.migrateMs)} ms`,
        `${ms(r.openMs)} ms`,
        `${ms(r.writeMedianMs)} ms`,
        `${ms(r.writesTotalMs)} ms`,
        `${ms(r.buildFirstMs)} ms`,
        `${ms(r.buildEarlyMedianMs)} ms`,
        `${ms(r.buildLateMedianMs)} ms`,
        `${ms(r.buildP90Ms)} ms`,
        mib(r.rssKb),
        mib(r.peakKb),
      ]),
    ),
  );
}

if (process.argv[2] === '--prepare') {
  process.stdout.write(`${JSON.stringify(await prepareChild(process.argv[3]!))}\n`);
} else if (process.argv[2] === '--load') {
  process.stdout.write(`${JSON.stringify(await loadChild(process.argv[3]!))}\n`);
} else {
  await main();
}
