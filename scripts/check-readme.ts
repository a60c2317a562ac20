// npm run check:readme — runs the README's ```console examples as pasted and compares what Herald
// prints with what the README shows, by shape (times, secrets, ids of the run, pids, ports,
// durations and column widths may differ; JSON is compared by keys and value types).
//
// Each example runs in a throwaway setting, never the checkout: a fresh temp directory as the
// working directory, HERALD_DATA_DIR inside it, PORT (and every other port the README names) a
// free port, and the checkout's bin/herald.js on PATH as `herald` (`npx herald`, `npm start` and
// `npm run migrate` are rewritten to it). The commands of consecutive blocks share one bash
// session (so `export HERALD_TOKEN=$(…)` carries over) until a block says `fresh`. Servers
// (`npm start`, `herald serve`, `herald gate`, anything ending in `&`) run in the background and
// are stopped with their whole session at the end, also on failure, SIGINT and SIGTERM.
//
// Directives, as an HTML comment right before a block (see scripts/readme-check-lib.ts):
//   <!-- readme-check: skip (why it cannot run here) -->
//   <!-- readme-check: fresh -->                  a new session: new temp dir, nothing running
//   <!-- readme-check: before: COMMAND -->        a hidden setup command, output not compared
//   <!-- readme-check: file NAME -->              (on a non-console block) write it to NAME first
//   <!-- readme-check: pause SECONDS (reason) --> wait that long before each command after the first
//
// Knobs: README_CHECK_VERBOSE=1 prints every command's raw output; README_CHECK_KEEP=1 keeps the
// temp directory.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './bench/processes.ts';
import {
  compareOutput,
  extractBlocks,
  isBackground,
  lineDiff,
  portsIn,
  promptAnswer,
  rewriteCommand,
  unmapActual,
} from './readme-check-lib.ts';

const checkout = resolve(fileURLToPath(new URL('..', import.meta.url)));
const COMMAND_TIMEOUT_MS = 120_000;
const SERVER_OUTPUT_WAIT_MS = 30_000;
const verbose = process.env.README_CHECK_VERBOSE === '1';
const keep = process.env.README_CHECK_KEEP === '1';

// ---- cleanup: every session's process group and the temp directory, however we end ----------------
const sessions = new Set<Session>();
let root = '';
let cleanedUp = false;

function cleanupSync(): void {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const s of sessions) s.killSync('SIGKILL');
  sessions.clear();
  if (root && !keep) rmSync(root, { recursive: true, force: true });
}

async function cleanup(): Promise<void> {
  await Promise.all([...sessions].map((s) => s.stop()));
  cleanupSync();
}

let interrupted: NodeJS.Signals | undefined;
process.on('exit', cleanupSync);
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.on(signal, () => {
    if (interrupted) return; // (tsx passes a Ctrl-C on to us too: one is enough)
    interrupted = signal;
    console.error(`\nreadme-check: ${signal}: stopping every session and removing ${root || 'the temp directory'}`);
    void cleanup().finally(() => process.exit(code));
  });
}

// ---- a bash session ----------------------------------------------------------------------------
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}


function sessionEnv(dir: string, binDir: string, port: number, ports: ReadonlyMap<number, number>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // A fresh terminal: nothing of this checkout's Herald settings, npm's script environment or colour forcing.
    if (/^(HERALD_|npm_)/.test(k) || ['DATABASE_URL', 'TEST_DATABASE_URL', 'PUBLIC_URL', 'PORT', 'FORCE_COLOR', 'NO_COLOR', 'MAINTENANCE_PAGE_URL', 'INIT_CWD'].includes(k)) continue;
    env[k] = v;
  }
  const path = (process.env.PATH ?? '').split(':').filter((p) => p !== '' && !p.includes('node_modules/.bin'));
  env.PATH = [binDir, ...path].join(':');
  env.HERALD_DATA_DIR = join(dir, 'data');
  env.PORT = String(port);
  env.PWD = dir;
  for (const [readme, chosen] of ports) env[`README_PORT_${readme}`] = String(chosen);
  return env;
}

interface RunResult {
  output: string;
  rc: number | undefined;
  timedOut: boolean;
}

class Session {
  readonly child: ChildProcess;
  private stdout = '';
  private readonly log: string[] = [];
  private seq = 0;
  private readonly nonce = Math.random().toString(36).slice(2);
  exited = false;

  constructor(
    readonly dir: string,
    readonly ports: ReadonlyMap<number, number>,
    env: NodeJS.ProcessEnv,
  ) {
    // detached: a process group of its own, holding bash and everything it starts (servers too),
    // so stopping the session is one kill of the group.
    this.child = spawn('bash', ['--norc', '--noprofile'], { cwd: dir, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => this.log.push(d));
    this.child.on('exit', () => (this.exited = true));
    this.child.stdin!.on('error', () => {});
    sessions.add(this);
  }

  bashLog(): string {
    return this.log.join('');
  }

  /** Runs one command line in the session; its stdout and stderr, merged, go to a file of their own. */
  async run(command: string, options: { background?: boolean; answer?: string | undefined } = {}): Promise<RunResult & { file: string }> {
    const n = ++this.seq;
    const file = join(this.dir, '..', `${this.dir.split('/').pop()}-out-${n}.txt`);
    writeFileSync(file, '');
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    let line: string;
    if (options.answer !== undefined) {
      // On a terminal (script(1)), typing the answer once the prompt is there.
      line =
        `{ for __i in $(seq 300); do grep -q '\\[y/N\\]' ${q(file)} && break; sleep 0.1; done; printf '%s\\r' ${q(options.answer)}; } ` +
        `| SHELL=/bin/bash script -qefc ${q(command)} /dev/null >${q(file)} 2>&1`;
    } else {
      const bg = options.background && !/[^&]&\s*$/.test(command.replace(/\s+#.*$/, '')) ? ' &' : '';
      line = `{ ${command}${bg}\n} </dev/null >${q(file)} 2>&1`;
    }
    const marker = `__readme_check_${this.nonce}_${n}_`;
    this.child.stdin!.write(`${line}\nprintf '\\n${marker}%s\\n' "$?"\n`);
    const deadline = Date.now() + COMMAND_TIMEOUT_MS;
    let rc: number | undefined;
    for (;;) {
      const m = new RegExp(`${marker}(\\d+)\\n`).exec(this.stdout);
      if (m) {
        rc = Number(m[1]);
        this.stdout = this.stdout.slice(m.index + m[0].length);
        break;
      }
      if (this.exited || Date.now() > deadline) {
        return { output: readFileSync(file, 'utf8'), rc: undefined, timedOut: !this.exited, file };
      }
      await sleep(20);
    }
    return { output: readFileSync(file, 'utf8'), rc, timedOut: false, file };
  }

  killSync(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // already gone
    }
  }

  private groupAlive(): boolean {
    try {
      process.kill(-this.child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Stops the whole process group: SIGTERM (servers shut down cleanly), SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (!sessions.has(this)) return;
    this.killSync('SIGTERM');
    for (let i = 0; i < 50 && this.groupAlive(); i++) await sleep(100);
    if (this.groupAlive()) this.killSync('SIGKILL');
    for (let i = 0; i < 20 && this.groupAlive(); i++) await sleep(100);
    sessions.delete(this);
  }
}

// ---- the check -----------------------------------------------------------------------------------
function requireTools(): void {
  const missing: string[] = [];
  for (const [tool, why] of [
    ['bash', 'runs the examples'],
    ['curl', 'the README calls the API with curl'],
    ['jq', 'the README pipes JSON through jq (apt-get install jq, brew install jq)'],
    ['script', 'runs an example that answers a [y/N] prompt on a terminal (util-linux)'],
  ] as const) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) missing.push(`  ${tool}: ${why}`);
  }
  if (missing.length > 0) {
    console.error(`readme-check: not installed:\n${missing.join('\n')}`);
    process.exit(1);
  }
}

function indent(text: string, prefix = '    '): string {
  return text === '' ? `${prefix}(nothing)` : text.split('\n').map((l) => prefix + l).join('\n');
}

async function main(): Promise<number> {
  requireTools();
  const readmePath = join(checkout, 'README.md');
  const blocks = extractBlocks(readFileSync(readmePath, 'utf8'));
  const consoleBlocks = blocks.filter((b) => b.lang === 'console');

  root = realpathSync(mkdtempSync(join(tmpdir(), 'herald-readme-')));
  const binDir = join(root, 'bin');
  mkdirSync(binDir);
  // `herald` on PATH: the checkout's bin/herald.js, as `npm link` would give it.
  const wrapper = join(binDir, 'herald');
  writeFileSync(wrapper, `#!/bin/sh\nexec node ${JSON.stringify(join(checkout, 'bin', 'herald.js'))} "$@"\n`);
  chmodSync(wrapper, 0o755);

  const readmePorts = new Set<number>();
  for (const b of consoleBlocks) {
    for (const c of b.commands) portsIn(c.command).forEach((p) => readmePorts.add(p));
    for (const d of b.directives) if (d.kind === 'before') portsIn(d.command).forEach((p) => readmePorts.add(p));
  }
  readmePorts.add(3000);

  console.log(`readme-check: ${consoleBlocks.length} console blocks in README.md; working in ${root}`);
  let session: Session | undefined;
  let sessionCount = 0;
  let pendingFiles: { name: string; body: string }[] = [];
  let passed = 0;
  const failures: string[] = [];
  const skipped: string[] = [];
  let sessionBroken = false;

  const newSession = async (): Promise<Session> => {
    if (session) await session.stop();
    const dir = join(root, `session-${++sessionCount}`);
    mkdirSync(dir);
    const ports = new Map<number, number>();
    for (const p of readmePorts) ports.set(p, await freePort());
    sessionBroken = false;
    return new Session(dir, ports, sessionEnv(dir, binDir, ports.get(3000)!, ports));
  };

  for (const block of blocks) {
    if (interrupted) return 1;
    const file = block.directives.find((d) => d.kind === 'file');
    if (block.lang !== 'console') {
      if (file) pendingFiles.push({ name: file.name, body: block.body.join('\n') + '\n' });
      continue;
    }
    const skip = block.directives.find((d) => d.kind === 'skip');
    if (skip) {
      skipped.push(`README.md:${block.line}: ${skip.reason}`);
      console.log(`\nskip README.md:${block.line} (${skip.reason})`);
      continue;
    }
    if (!session || block.directives.some((d) => d.kind === 'fresh')) session = await newSession();
    const s = session;
    console.log(`\nREADME.md:${block.line} (session ${sessionCount})`);
    for (const f of pendingFiles) writeFileSync(join(s.dir, f.name), f.body);
    pendingFiles = [];

    for (const d of block.directives) {
      if (d.kind !== 'before' || sessionBroken) continue;
      const rewritten = rewriteCommand(d.command, s.ports);
      const r = await s.run(rewritten);
      if (interrupted) return 1;
      if (r.timedOut || r.rc !== 0) {
        sessionBroken = true;
        failures.push(`README.md:${block.line} before: ${d.command}`);
        console.log(`  FAIL (setup) ${d.command}\n    ${r.timedOut ? 'timed out' : `exit ${r.rc}`}\n${indent(r.output)}`);
        if (s.bashLog()) console.log(`    the shell's own stderr:\n${indent(s.bashLog())}`);
      } else if (verbose) {
        console.log(`  (setup) ${d.command}\n${indent(r.output)}`);
      }
    }

    const pause = block.directives.find((d) => d.kind === 'pause');
    for (const [index, c] of block.commands.entries()) {
      const where = `README.md:${c.line}`;
      if (pause && index > 0) await sleep(pause.seconds * 1000);
      if (sessionBroken) {
        failures.push(`${where} $ ${c.command} (not run: the session broke earlier)`);
        console.log(`  not run  $ ${c.command}`);
        continue;
      }
      const rewritten = rewriteCommand(c.command, s.ports);
      const background = isBackground(rewritten);
      const answer = promptAnswer(c.expected);
      const expected = c.expected.join('\n');
      if (interrupted) return 1;
      let r = await s.run(rewritten, { background, answer });
      let output = r.output;
      let cmp = compareOutput(expected, unmapActual(output, s.ports, [s.dir]));
      if (background && !r.timedOut && c.expected.length > 0) {
        // A server: wait for its log to say what the README shows (or to stop growing).
        const until = Date.now() + SERVER_OUTPUT_WAIT_MS;
        let last = output;
        let stableSince = Date.now();
        while (!cmp.ok && Date.now() < until && !interrupted) {
          await sleep(100);
          output = readFileSync(r.file, 'utf8');
          if (output !== last) {
            last = output;
            stableSince = Date.now();
          }
          cmp = compareOutput(expected, unmapActual(output, s.ports, [s.dir]));
          const lines = output.split('\n').filter((l) => l.trim() !== '').length;
          if (lines >= c.expected.filter((l) => l.trim() !== '').length && Date.now() - stableSince > 3000) break;
        }
        r = { ...r, output };
      }
      if (interrupted) return 1;
      if (verbose) console.log(`  $ ${rewritten}\n${indent(output)}`);
      if (r.timedOut) {
        sessionBroken = true;
        failures.push(`${where} $ ${c.command} (timed out)`);
        console.log(`  FAIL ${where}  $ ${c.command}\n    timed out after ${COMMAND_TIMEOUT_MS / 1000} s; output so far:\n${indent(output)}`);
        if (s.bashLog()) console.log(`    the shell's own stderr:\n${indent(s.bashLog())}`);
        continue;
      }
      if (cmp.ok) {
        passed++;
        console.log(`  ok   $ ${c.command}`);
        continue;
      }
      failures.push(`${where} $ ${c.command}`);
      console.log(`  FAIL ${where}  $ ${c.command}`);
      console.log(`    ran: ${rewritten}${background ? ' (in the background)' : ''}; exit ${r.rc}; compared as ${cmp.mode}`);
      console.log(`    diff (- README, + actual; both normalized):`);
      console.log(indent(lineDiff(cmp.expected, cmp.actual).join('\n'), '      '));
      console.log(`    actual output, as printed (ports and temp dir mapped back):`);
      console.log(indent(unmapActual(output, s.ports, [s.dir]).replace(/\r/g, ''), '      | '));
    }
  }

  await cleanup();
  console.log(
    `\nreadme-check: ${passed} commands ok, ${failures.length} failed, ${skipped.length} block${skipped.length === 1 ? '' : 's'} skipped`,
  );
  for (const s of skipped) console.log(`  skipped ${s}`);
  for (const f of failures) console.log(`  FAILED  ${f}`);
  if (keep) console.log(`(kept ${root})`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    console.error(`readme-check: ${error instanceof Error ? error.message : String(error)}`);
    await cleanup();
    process.exitCode = 2;
  },
);
