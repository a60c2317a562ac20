import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A Postgres cluster of its own for one test file: initdb in a temporary directory, trust auth,
 * listening on 127.0.0.1 on a free port with its socket inside the directory. It can be stopped
 * (as a crash or a clean shutdown) and started again on the same port, which is what resilience
 * tests need and what a shared TEST_DATABASE_URL server cannot give.
 *
 * Needs the Debian server binaries (/usr/lib/postgresql/<v>/bin); CI installs them. As root the
 * cluster runs as user `postgres` (initdb refuses root), otherwise as the current user.
 */
export interface ThrowawayPostgres {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The directory holding data/, sock/ and server.log; removed by destroy(). */
  readonly dir: string;
  /** Server version, e.g. "15.14". */
  readonly version: string;
  /** A connection URL for `database` (default `postgres`), as user postgres with an optional password (ignored: trust auth). */
  url(database?: string, password?: string): string;
  /** Creates a database (the cluster must be running). */
  createDatabase(name: string): Promise<void>;
  /**
   * Starts the server (again) on the same port; resolves once it accepts connections, or at once
   * with `{ wait: false }` (for a test that polls by itself; stop() and destroy() still wait for it).
   */
  start(options?: { wait?: boolean }): Promise<void>;
  /** Stops the server: `immediate` is a crash (no checkpoint), `fast` a clean shutdown that ends sessions. */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  /** stop() then start(), same port. */
  restart(mode?: 'immediate' | 'fast'): Promise<void>;
  /**
   * Freezes the server and every backend (SIGSTOP): connections stay open and new ones are
   * accepted by the kernel, but nothing answers, as with a database host that hangs. thaw() resumes.
   */
  freeze(): void;
  thaw(): void;
  readonly running: boolean;
  readonly frozen: boolean;
  /** The server's log so far (for failure messages). */
  log(): Promise<string>;
  /** Thaws and stops the server if it runs, and removes the directory. Safe to call twice. */
  destroy(): Promise<void>;
}

/** The newest /usr/lib/postgresql/<v>/bin that holds initdb, pg_ctl and postgres. */
export function findPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (['initdb', 'pg_ctl', 'postgres'].every((tool) => existsSync(join(bin, tool)))) return bin;
  }
  throw new Error(
    'throwaway Postgres: initdb/pg_ctl/postgres not found under /usr/lib/postgresql/*/bin. ' +
      'Install the server (Debian: apt-get install postgresql; CI does this in .ci/run).',
  );
}

/** A port nobody listens on at 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

const isRoot = () => process.getuid?.() === 0;

/** The postmaster's pid (first line of postmaster.pid) and its children's, from /proc. */
function serverPids(data: string): number[] {
  let text: string;
  try {
    text = readFileSync(join(data, 'postmaster.pid'), 'utf8');
  } catch {
    return [];
  }
  const postmaster = Number(text.split('\n')[0]);
  if (!Number.isInteger(postmaster) || postmaster <= 0) return [];
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return [postmaster, ...children];
}

function run(cmd: string, args: string[], options: { timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  const [file, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: options.timeoutMs ?? 60_000, cwd: '/' }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(new Error(`${cmd} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`), { stdout, stderr }));
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Creates and starts a cluster. Call destroy() when done (also done at process exit if forgotten). */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = findPostgresBin();
  if (isRoot()) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error('throwaway Postgres: running as root but there is no user "postgres" to run the server as');
  }
  // As root, under /tmp: the server runs as postgres, which must be able to reach the directory.
  const dir = await mkdtemp(join(isRoot() ? '/tmp' : tmpdir(), 'herald-pg-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  await mkdir(sock);
  if (isRoot()) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
    chownSync(sock, uid, gid);
  }
  const logFile = join(dir, 'server.log');
  const port = await freePort();
  let running = false;
  let frozen = false;
  let destroyed = false;

  const signal = (sig: 'SIGSTOP' | 'SIGCONT') => {
    for (const pid of serverPids(data)) {
      try {
        process.kill(pid, sig);
      } catch {
        // exited meanwhile
      }
    }
  };
  const thaw = () => {
    if (!frozen) return;
    signal('SIGCONT');
    frozen = false;
  };

  const stopSync = () => {
    thaw();
    if (!running) return;
    const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
    if (isRoot()) spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args], { stdio: 'ignore' });
    else spawnSync(join(bin, 'pg_ctl'), args, { stdio: 'ignore' });
    running = false;
  };
  // A test that dies before destroy() must not leave a server running.
  const onExit = () => stopSync();
  process.once('exit', onExit);

  try {
    await run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'], { timeoutMs: 120_000 });
  } catch (error) {
    process.off('exit', onExit);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const versionLine = (await run(join(bin, 'postgres'), ['--version'])).stdout;
  const version = /\d+(\.\d+)+/.exec(versionLine)?.[0] ?? versionLine.trim();

  const log = () => readFile(logFile, 'utf8').catch(() => '');

  /** A start still under way (after start({ wait: false })). */
  let starting: Promise<void> | undefined;

  const launch = async () => {
    const options = [
      `-p ${port}`,
      `-k ${sock}`,
      '-c listen_addresses=127.0.0.1',
      // fsync=off is safe here: stop('immediate') kills Postgres, not the machine, so what reached
      // the OS survives. synchronous_commit stays on: with it off, a crash loses commits already
      // acknowledged to clients, which a real crash of a real server does not.
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c max_connections=100',
    ].join(' ');
    try {
      await run(join(bin, 'pg_ctl'), ['-D', data, '-l', logFile, '-w', '-t', '60', '-o', options, 'start'], { timeoutMs: 90_000 });
    } catch (error) {
      running = false;
      throw new Error(`${(error as Error).message}\nserver log:\n${await log()}`);
    }
  };

  const start = async ({ wait = true }: { wait?: boolean } = {}) => {
    if (destroyed) throw new Error('throwaway Postgres: already destroyed');
    if (starting) await starting;
    if (running) return;
    running = true;
    const launched = launch().finally(() => {
      if (starting === launched) starting = undefined;
    });
    starting = launched;
    if (wait) await launched;
    else launched.catch(() => {}); // the caller polls; a failed start shows there (and in log())
  };

  const stop = async (mode: 'immediate' | 'fast' = 'immediate') => {
    thaw();
    if (starting) await starting.catch(() => {});
    if (!running) return;
    await run(join(bin, 'pg_ctl'), ['-D', data, '-m', mode, '-w', '-t', '60', 'stop'], { timeoutMs: 90_000 });
    running = false;
  };

  const pg: ThrowawayPostgres = {
    host: '127.0.0.1',
    port,
    dir,
    version,
    url: (database = 'postgres', password) =>
      `postgres://postgres${password ? `:${encodeURIComponent(password)}` : ''}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    async createDatabase(name) {
      const { default: Pg } = await import('pg');
      const client = new Pg.Client({ connectionString: pg.url() });
      await client.connect();
      try {
        await client.query(`create database "${name.replace(/"/g, '""')}"`);
      } finally {
        await client.end();
      }
    },
    start,
    stop,
    async restart(mode) {
      await stop(mode);
      await start();
    },
    freeze() {
      if (!running) throw new Error('throwaway Postgres: freeze() needs a running server');
      if (frozen) return;
      frozen = true;
      signal('SIGSTOP');
      signal('SIGSTOP'); // again: a backend forked while the first pass ran
    },
    thaw,
    get running() {
      return running;
    },
    get frozen() {
      return frozen;
    },
    log,
    async destroy() {
      if (destroyed) return;
      try {
        await stop('immediate');
      } catch {
        stopSync();
      }
      destroyed = true;
      process.off('exit', onExit);
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    await start();
  } catch (error) {
    await pg.destroy();
    throw error;
  }
  return pg;
}
