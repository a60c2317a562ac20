import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERALD_BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));

/** Runs `herald ARGS` to completion; returns its exit code, stdout and stderr. */
export function runHerald(args: string[], env: Record<string, string>, input?: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [HERALD_BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/**
 * Starts `herald serve` and resolves once it logs that it listens. Without HERALD_DATA_DIR (and
 * no `cwd`), it gets a temp data dir of its own, removed when it exits: nothing is written into
 * the checkout's ./data (on Postgres, the public data kept on disk and mail files go there).
 */
export async function startHerald(
  env: Record<string, string>,
  /** `ready`: the log line that means it serves, its first group the URL (default: the `listening` line). */
  options: { cwd?: string; timeoutMs?: number; ready?: RegExp } = {},
): Promise<{ child: ChildProcess; url: string; stderr: () => string; stop(): Promise<number | null> }> {
  const own = env.HERALD_DATA_DIR || options.cwd ? undefined : mkdtempSync(join(tmpdir(), 'herald-serve-'));
  const child = spawn(process.execPath, [HERALD_BIN, 'serve'], { env: { PATH: process.env.PATH ?? '', ...(own ? { HERALD_DATA_DIR: own } : {}), ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...(options.cwd ? { cwd: options.cwd } : {}) });
  if (own) child.once('exit', () => rmSync(own, { recursive: true, force: true }));
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`herald serve did not start:\n${stderr}`)), options.timeoutMs ?? 30_000);
    child.stderr!.on('data', (d) => {
      stderr += d;
      const m = (options.ready ?? /msg=listening url=(\S+)/).exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`herald serve exited with ${code}:\n${stderr}`)));
  });
  return {
    child,
    url,
    stderr: () => stderr,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Stops a child: `signal` (SIGTERM unless told), then SIGKILL if it is still running 5 s later.
 * Resolves once it has exited; at once if it already had.
 */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** Resolves with the exit code, or 'still running' after `ms`. */
export function exitedWithin(child: ChildProcess, ms: number): Promise<number | null | 'still running'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('still running'), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** CPU time the process has used, in clock ticks (Linux /proc): a spinning process gains ~100 a second. */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
