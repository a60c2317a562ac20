/**
 * The processes a benchmark starts (Herald, the servers it compares Herald with), each in its own
 * node process on 127.0.0.1, and what /proc says about them and about the machine.
 *
 * Every child is tracked: on exit this process SIGKILLs the ones still running, and a script
 * that calls `killChildrenOnSignals()` does the same on Ctrl-C / SIGTERM (exit code 130).
 * A child started with `{ group: true }` leads a process group of its own (`npm start` and the
 * server it runs), and it is signalled as a group: stopped, killed, waited for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const HERALD_BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));

const CLK_TCK = 100; // Linux USER_HZ; /proc counts CPU time in these ticks

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

// ---- tracking -----------------------------------------------------------------------------------

const children = new Set<ChildProcess>();
/** Children being stopped on purpose: their exit is not news. */
const stopping = new WeakSet<ChildProcess>();
/** Children that lead a process group of their own, and the groups still to be killed on exit. */
const leaders = new WeakSet<ChildProcess>();
const groups = new Set<number>();

export interface SpawnOptions {
  /** Its own process group, signalled whole (the default signals the child alone). */
  readonly group?: boolean;
}

function spawnTracked(argv: readonly string[], env: Record<string, string>, stdout: 'pipe' | 'ignore', options: SpawnOptions = {}): ChildProcess {
  const child = spawn(process.execPath, argv, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production', ...env },
    stdio: ['ignore', stdout, 'pipe'],
    detached: options.group === true,
  });
  children.add(child);
  if (options.group && child.pid) {
    leaders.add(child);
    groups.add(child.pid);
  }
  child.on('exit', () => children.delete(child));
  return child;
}

/** Sends `signal` to the child, or to its whole group; false if nothing was there to get it. */
function signal(child: ChildProcess, sig: NodeJS.Signals | 0): boolean {
  if (!leaders.has(child)) return sig === 0 ? child.exitCode === null && child.signalCode === null : child.kill(sig);
  try {
    process.kill(-child.pid!, sig);
    return true;
  } catch {
    return false; // ESRCH: the group is empty
  }
}

/** Kills (by pid, or by process group) every child this process started and has not stopped yet. */
export function killChildren(): void {
  for (const c of children) {
    stopping.add(c);
    c.kill('SIGKILL');
  }
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already empty
    }
  }
  groups.clear();
}
process.on('exit', killChildren);

/**
 * On Ctrl-C or SIGTERM: kill every child, then exit with 130 (so 'exit' handlers run). Called by
 * a benchmark's main script, not by the processes it starts: those stop gracefully on SIGTERM.
 */
export function killChildrenOnSignals(): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killChildren();
      process.exit(130);
    });
  }
}

/**
 * SIGTERM, then SIGKILL after 10 s; resolves once it has exited. A group leader's whole group
 * gets the signals, and it resolves once the group is empty.
 */
function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    stopping.add(child);
    const deadline = Date.now() + 10_000;
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => signal(child, 'SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        signal(child, 'SIGTERM');
      });
    }
    if (!leaders.has(child)) return;
    // The leader (npm) is gone; what it started may still be closing the database.
    while (signal(child, 0)) {
      if (Date.now() > deadline) signal(child, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 20));
    }
    groups.delete(child.pid!);
  };
}

// ---- servers ------------------------------------------------------------------------------------

export interface Child {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  /** What it logged: its stderr, or stdout and stderr together when it announces itself on both. */
  readonly stderr: () => string;
  stop(): Promise<void>;
}

export interface Readiness {
  /** Where it says it listens; on 'both', stdout and stderr are read as one log. */
  readonly on: 'stdout' | 'stderr' | 'both';
  /** Tested on everything read so far; a first capture group is the port. */
  readonly when: RegExp;
  /** The port, when `when` captures none. */
  readonly port?: number;
  readonly timeoutSeconds: number;
  /** Keep only about this many characters of the log (a server that logs every refusal). */
  readonly keepTail?: number;
}

/** `node ARGV` as a server on 127.0.0.1; resolves once it says it is ready. */
export async function startNode(name: string, argv: readonly string[], env: Record<string, string>, ready: Readiness, options: SpawnOptions = {}): Promise<Child> {
  const child = spawnTracked(argv, env, ready.on === 'stderr' ? 'ignore' : 'pipe', options);
  let log = '';
  const keep = (d: Buffer) => {
    log += d;
    if (ready.keepTail !== undefined && log.length > 2 * ready.keepTail) log = log.slice(-ready.keepTail);
  };
  child.stderr!.on('data', keep);
  if (ready.on === 'both') child.stdout!.on('data', keep);
  const port = await new Promise<number | undefined>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in ${ready.timeoutSeconds} s:\n${log}`)), ready.timeoutSeconds * 1000);
    const check = (text: string) => {
      const m = ready.when.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] === undefined ? ready.port : Number(m[1]));
      }
    };
    if (ready.on === 'stdout') {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => check((out += d)));
    } else {
      child.stderr!.on('data', () => check(log));
      if (ready.on === 'both') child.stdout!.on('data', () => check(log));
    }
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${log}`));
    });
  });
  return { name, child, pid: child.pid!, url: `http://127.0.0.1:${port}`, stderr: () => log, stop: stopper(child) };
}

/**
 * `herald serve` (env.PORT) in its own process; says so on stderr if it dies before it is stopped.
 * Without HERALD_DATA_DIR it gets a temp data dir, removed when it exits (nothing is written into
 * the checkout's ./data).
 */
export async function startHerald(env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<Child> {
  const own = env.HERALD_DATA_DIR ? undefined : mkdtempSync(path.join(os.tmpdir(), 'herald-bench-serve-'));
  const herald = await startNode('herald serve', [...nodeArgs, HERALD_BIN, 'serve'], { ...(own ? { HERALD_DATA_DIR: own } : {}), ...env }, { on: 'stderr', when: /msg=listening/, port: Number(env.PORT), timeoutSeconds: 60 }).catch((error: unknown) => {
    if (own) rmSync(own, { recursive: true, force: true });
    throw error;
  });
  if (own) herald.child.once('exit', () => rmSync(own, { recursive: true, force: true }));
  herald.child.once('exit', (code, signal) => {
    if (!stopping.has(herald.child)) process.stderr.write(`\n!! herald serve (pid ${herald.pid}) exited unexpectedly: code ${code}, signal ${signal}; its last log lines:\n${herald.stderr().split('\n').slice(-15).join('\n')}\n`);
  });
  return herald;
}

// ---- commands -----------------------------------------------------------------------------------

/** Runs `node ARGV` to completion. */
export function runNode(argv: readonly string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(argv, env, 'pipe');
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `herald ARGS` to completion. */
export function runHerald(args: readonly string[], env: Record<string, string>) {
  return runNode([HERALD_BIN, ...args], env);
}

// ---- /proc --------------------------------------------------------------------------------------

/** User + system CPU time of a process, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** VmRSS and VmHWM (peak RSS) of a process, in kB. */
export function memoryKb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** Busy CPU time of the whole machine (all cores, steal included), in ms. */
export function machineBusyMs(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return ((user + nice + system + irq + softirq + steal) * 1000) / CLK_TCK;
}

/** This process's children that have not ended (a zombie has: all its threads are gone). */
export function childrenRunning(): number[] {
  const running: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && state !== 'Z') running.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return running;
}
