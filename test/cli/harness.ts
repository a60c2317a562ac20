import { spawn } from 'node:child_process';
import { parseConfig } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { startServer, type RunningServer } from '../../src/entry/node.ts';
import type { Scope } from '../../src/services/deps.ts';
import { seedToken } from '../support/seed.ts';
import { freshDatabase } from '../support/db.ts';
import { HERALD_BIN } from '../support/process.ts';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr split into lines, without the empty last one. */
  lines: string[];
  ms: number;
}

export interface RunOptions {
  env?: Record<string, string>;
  /** What stdin carries; `open` leaves the pipe open and never writes (a script that never answers). */
  input?: string | 'open';
  timeoutMs?: number;
  /** The working directory (default: this process's). */
  cwd?: string;
}

/**
 * `herald ARGS` as a real child process of the real binary, with stdin, stdout and stderr as
 * pipes (so not a terminal). Asynchronous: the server it talks to lives in this process.
 */
export function herald(args: string[], options: RunOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [HERALD_BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, lines: stderr.split('\n').filter((l, i, a) => l !== '' || i < a.length - 1), ms: Date.now() - started });
    });
    if (options.input === 'open') return; // never written, never closed
    child.stdin.end(options.input ?? '');
  });
}

export interface CliServer {
  readonly url: string;
  readonly handle: DatabaseHandle;
  readonly server: RunningServer;
  token(scopes?: Scope[], name?: string): Promise<string>;
  /** The environment a commander's shell would have. */
  env(token?: string, extra?: Record<string, string>): Record<string, string>;
  api(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export const PUBLIC_URL = 'https://status.example.com';
export const INSTANCE_NAME = 'Acme Cloud';

/** A real Herald (startServer on a fresh database, port 0, 127.0.0.1) for the CLI to talk to. */
export async function cliServer(): Promise<CliServer> {
  const handle = await freshDatabase();
  const config = { ...parseConfig({ PUBLIC_URL, HERALD_NAME: INSTANCE_NAME, HERALD_ENVIRONMENTS: 'production,development' }), port: 0 };
  const server = await startServer(config, { handle, hostname: '127.0.0.1' });
  // Warm the public snapshot with one request first. On Postgres, concurrent requests that arrive
  // while the very first snapshot is being built get an empty 500 (Snapshot.current() throws
  // `undefined` for every caller but the first; reported). The CLI tests fire reads in parallel.
  await fetch(`${server.url}/api/v1/status`).then((r) => r.arrayBuffer());
  return {
    url: server.url,
    handle,
    server,
    token: async (scopes = ['admin'], name = `cli-${scopes.join('-')}`) =>
      (await seedToken(handle.db, scopes, name)),
    env: (token, extra = {}) => ({ HERALD_URL: server.url, ...(token ? { HERALD_TOKEN: token } : {}), ...extra }),
    api: async (method, path, token, body) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: await res.json() };
    },
    close: async () => {
      await server.close();
      await handle.close();
    },
  };
}

// eslint-disable-next-line no-control-regex
export const ANSI = /\u001b\[/;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Is util-linux `script` here to give the CLI a real terminal? */
export async function haveScript(): Promise<boolean> {
  return new Promise((resolve) => {
    const c = spawn('script', ['--version'], { stdio: 'ignore' });
    c.on('error', () => resolve(false));
    c.on('close', (code) => resolve(code === 0));
  });
}

/**
 * `herald ARGS` on a pseudo-terminal (util-linux `script`): stdin, stdout and stderr are all the
 * terminal, so the output is both streams interleaved, with \r\n line ends. `input` is typed.
 */
export function heraldInTerminal(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, HERALD_BIN, ...args].map(quote).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', SHELL: '/bin/sh', TERM: 'xterm', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.replace(/\r\n/g, '\n') });
    });
    child.stdin.end(options.input ?? '');
  });
}
