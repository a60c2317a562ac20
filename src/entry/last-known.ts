import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import v8 from 'node:v8';
import type { SnapshotState } from '../cache/snapshot.ts';
import { ROOT } from '../root.ts';
import type { PublicData } from '../services/public-data.ts';

/**
 * The last public data `herald serve` built, kept on disk so that the next start can serve the
 * status page before its database answers: at once on a restart (the embedded database takes
 * ~0.5 s to open), and for as long as it takes when the database is down at start. It is served
 * marked stale since it was built, and replaced by the first build.
 *
 * One file in the data dir, written with v8.serialize (PublicData is plain data: objects, arrays,
 * strings, numbers, Dates), under a temporary name and renamed, at most once a second. It holds
 * only what the public pages show. It is read only under the key it was written with (`keepKey`: this build of Herald,
 * and this database): another version may shape the data differently, and then starts without it.
 */
export const LAST_KNOWN_FILE = 'herald-public-data.bin';

/** Written at most this often (the newest build wins); closing writes what is left at once. */
const WRITE_EVERY_MS = 1_000;

const FORMAT = 1;

interface Stored {
  readonly format: number;
  readonly key: string;
  readonly builtAt: Date;
  readonly data: PublicData;
}

export interface LastKnown {
  readonly data: PublicData;
  readonly builtAt: Date;
}

/**
 * What identifies this build of Herald: a hash of the chunk names in dist/build-stamp.json (each
 * names its content's hash), or undefined when there is no build to name (then nothing is kept).
 */
export function buildKey(): string | undefined {
  try {
    const stamp = JSON.parse(readFileSync(new URL('dist/build-stamp.json', ROOT), 'utf8')) as { files?: unknown };
    if (!Array.isArray(stamp.files) || stamp.files.length === 0) return undefined;
    return createHash('sha256').update(JSON.stringify(stamp.files)).digest('hex').slice(0, 16);
  } catch {
    return undefined;
  }
}

/**
 * The key data is kept under: this build (buildKey) and which database it came from (the
 * embedded one in its data dir, or a Postgres URL without its password), so that a data dir
 * shared by servers of different databases never serves one's pages for another's. Undefined:
 * nothing is kept.
 */
export function keepKey(databaseUrl: string | undefined): string | undefined {
  const build = buildKey();
  if (!build) return undefined;
  let source = 'embedded';
  if (databaseUrl) {
    let named = databaseUrl;
    try {
      const url = new URL(databaseUrl);
      url.password = '';
      named = url.href;
    } catch {
      // not a URL (a key=value string): hashed whole, never stored or logged
    }
    source = createHash('sha256').update(named).digest('hex').slice(0, 16);
  }
  return `${build}:${source}`;
}

/** The kept data, if there is a file this build wrote; anything else (none, another build's, unreadable) is undefined. */
export async function readLastKnown(dir: string, key: string): Promise<LastKnown | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, LAST_KNOWN_FILE));
  } catch {
    return undefined;
  }
  try {
    const stored = v8.deserialize(bytes) as Partial<Stored> | null;
    if (stored?.format !== FORMAT || stored.key !== key || !(stored.builtAt instanceof Date) || typeof stored.data !== 'object' || stored.data === null) return undefined;
    return { data: stored.data, builtAt: stored.builtAt };
  } catch {
    return undefined;
  }
}

/**
 * Keeps the newest built state on disk: `offer` each build (cheap: it only notes it), and the
 * newest is written at most once per second, off the request path. A failed write is reported
 * to `onError` (once until a write succeeds again) and never thrown: the file is a convenience.
 */
export class LastKnownWriter {
  readonly #dir: string;
  readonly #key: string;
  readonly #onError: (error: unknown) => void;
  #next: SnapshotState<PublicData> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> = Promise.resolve();
  #failing = false;
  #closed = false;
  #swept = false;

  constructor(dir: string, key: string, onError: (error: unknown) => void) {
    // Absolute, as of the start: Node's recursive mkdir of a relative path whose working
    // directory was deleted meanwhile loops forever in the thread pool (mkdir "./data": ENOENT;
    // mkdir ".": EEXIST; again), and the write it waits for kept SIGTERM from ever ending the
    // process. Resolved, the directory is made again where it was.
    this.#dir = resolve(dir);
    this.#key = key;
    this.#onError = onError;
  }

  offer(state: SnapshotState<PublicData>): void {
    if (this.#closed) return;
    this.#next = state;
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, WRITE_EVERY_MS);
    this.#timer.unref();
  }

  /** Writes what was offered and not yet written, then takes no more. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#flush();
  }

  #flush(): Promise<void> {
    this.#writing = this.#writing.then(async () => {
      const state = this.#next;
      if (!state) return;
      this.#next = undefined;
      const file = join(this.#dir, LAST_KNOWN_FILE);
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        const stored: Stored = { format: FORMAT, key: this.#key, builtAt: state.builtAt, data: state.data };
        await mkdir(this.#dir, { recursive: true });
        if (!this.#swept) await sweepLeftovers(this.#dir);
        this.#swept = true;
        await writeFile(tmp, v8.serialize(stored));
        await rename(tmp, file);
        this.#failing = false;
      } catch (error) {
        await rm(tmp, { force: true }).catch(() => {});
        if (!this.#failing) this.#onError(error);
        this.#failing = true;
      }
    });
    return this.#writing;
  }
}

/**
 * Removes temporary files that processes which are gone left behind (killed while writing): each
 * names its writer's pid, and a live writer's file is left alone (it is renamed in a moment).
 */
async function sweepLeftovers(dir: string): Promise<void> {
  const pattern = new RegExp(`^${LAST_KNOWN_FILE.replaceAll('.', '\\.')}\\.(\\d+)\\.tmp$`);
  for (const name of await readdir(dir).catch(() => [])) {
    const pid = Number(pattern.exec(name)?.[1]);
    if (pid && !alive(pid)) await rm(join(dir, name), { force: true }).catch(() => {});
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
