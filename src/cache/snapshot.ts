import type { Clock } from '../clock.ts';

/** A response body rendered once per snapshot version, with its compressed forms made on demand. */
export interface Rendered {
  readonly body: Uint8Array;
  readonly type: string;
  readonly etag: string;
  readonly status: number;
  readonly encoded: Map<string, Promise<Uint8Array>>;
}

export interface SnapshotState<T> {
  readonly data: T;
  readonly version: number;
  readonly builtAt: Date;
  /** Set while the last rebuild failed: the data is older than it should be. */
  readonly staleSince: Date | null;
}

interface RenderedEntry {
  readonly version: number;
  readonly stale: boolean;
  readonly value: Promise<Rendered>;
  settled?: Rendered;
}

interface Fetching {
  readonly version: number;
  /** performance.now() when the fetch began: visitors wait for it until renderWaitMs after that. */
  readonly startedAt: number;
  readonly value: Promise<unknown>;
}

/** From `remember`: the data is slow or failing and an older page exists; serve that one. */
export class NotYet extends Error {
  constructor(readonly ready: Promise<void>) {
    super('the data for this page is not there yet');
  }
}

export interface SnapshotOptions<T = unknown> {
  readonly clock: Clock;
  /** Rebuild in the background once the data is this old (durations of open incidents grow). */
  readonly maxAgeMs: number;
  /** After a failed rebuild, the first retry waits this long; each further failure doubles it. */
  readonly retryMs: number;
  /** The longest wait between retries while the database stays away. */
  readonly maxRetryMs: number;
  /**
   * How long after a write was announced requests still wait for a rebuild that holds it. Past
   * that (a database that hangs right after a commit) they get the previous data, marked stale.
   */
  readonly waitMs: number;
  /** A rebuild that has not finished after this long counts as failed (its result is dropped). */
  readonly buildTimeoutMs: number;
  /** How long visitors wait for data a page fetches beyond the snapshot, once an older copy exists. */
  readonly renderWaitMs: number;
  /** How many rendered responses to keep (incident pages, history pages, feed variants). */
  readonly maxEntries: number;
  /**
   * Told when a request is served older data than it should get, and why: a write's rebuild took
   * longer than `waitMs`, or making a response failed and the last one made was served instead.
   */
  readonly onLate?: (late: Late) => void;
  /** Told of each successful rebuild's state; must not throw (Node keeps the last one on disk: src/entry/last-known.ts). */
  readonly onBuilt?: (state: SnapshotState<T>) => void;
}

export type Late =
  | { readonly reason: 'write not rebuilt in time'; readonly waitedMs: number; readonly rebuilding: boolean }
  | { readonly reason: 'page not made'; readonly key: string; readonly error: unknown };

/** How many writes not yet in the data are remembered one by one (see #pending). */
const MAX_PENDING = 1_000;

const DEFAULTS: Omit<SnapshotOptions, 'clock'> = {
  maxAgeMs: 30_000,
  retryMs: 500,
  maxRetryMs: 15_000,
  waitMs: 2_000,
  buildTimeoutMs: 10_000,
  renderWaitMs: 200,
  maxEntries: 2_000,
};

/**
 * What a change announcement means for readers.
 * - `write`: a write committed (here, or on another instance: NOTIFY). Whoever was told it
 *   succeeded must see it on the next page, so requests wait for a rebuild that holds it.
 * - `gap`: changes may have been missed (the notification connection dropped or came back).
 *   Rebuild soon, but nobody waits for it: the database may well be the thing that is down.
 */
export type ChangeKind = 'write' | 'gap';

/**
 * What the public pages show, held in memory and rebuilt when data changes.
 *
 * Versions, not flags: every announced change takes the next number, and a rebuild records the
 * number that was current when it started. Data built for number n holds every change up to n,
 * so a rebuild that began before a change can never be taken as fresh for it.
 *
 * - After a `write`, requests wait (at most `waitMs` from the announcement) for data built for
 *   it, so an update acknowledged to a client is on the very next page load.
 * - Requests never wait on a database known to be failing: after a failed rebuild they get the
 *   last good data at once, marked stale since the failure, and one rebuild is retried behind
 *   them with exponential backoff (`retryMs` doubling to `maxRetryMs`, with jitter).
 * - Data that misses an announced write is always marked stale, never fresh.
 * - Age alone only triggers a rebuild in the background; a rebuild that hangs is given up after
 *   `buildTimeoutMs`. One rebuild at a time, however many requests arrive.
 */
export class Snapshot<T> {
  readonly #build: () => Promise<T>;
  readonly #options: SnapshotOptions<T>;
  #state: SnapshotState<T> | undefined;
  /** The number of the newest announced change (writes and gaps). */
  #announced = 0;
  /** The number of the newest announced write: requests must see data built for it. */
  #required = 0;
  /**
   * The writes not yet in the data, oldest first: their numbers and when each was announced
   * (performance.now(), and the clock's time). A build for n drops those up to n, so under a
   * steady stream of writes the oldest missing one is always the next after the data, never the
   * first of the stream (which would make every request give up waiting at once).
   */
  readonly #pending: { readonly n: number; readonly at: number; readonly since: Date }[] = [];
  /** False once a rebuild failed after the newest write was announced: nobody waits any more. */
  #worthWaiting = false;
  /** The announcement number current when the data in #state was built (-1: no data yet). */
  #builtFor = -1;
  #rebuilding: Promise<void> | undefined;
  /** Failed rebuilds in a row, and when the next retry may start (clock ms). */
  #failures = 0;
  #retryAt = -Infinity;
  #failedSince: Date | null = null;
  #lastError: unknown;
  readonly #rendered = new Map<string, RenderedEntry>();
  /** The last response made of each key, whatever its version: what is served while a new one is slow. */
  readonly #made = new Map<string, Rendered>();
  readonly #remembered = new Map<string, { version: number; value: unknown }>();
  readonly #fetching = new Map<string, Fetching>();

  constructor(build: () => Promise<T>, options: Partial<SnapshotOptions<T>> & { clock: Clock }) {
    this.#build = build;
    this.#options = { ...DEFAULTS, ...options };
  }

  /**
   * Starts from data an earlier process built at `builtAt` (kept on disk) instead of from nothing:
   * it is served at once, marked stale since `builtAt`, and the first request starts a rebuild
   * (which, like any rebuild, replaces it). Ignored once any data is held.
   */
  restore(data: T, builtAt: Date): void {
    if (this.#state) return;
    this.#state = { data, version: 1, builtAt, staleSince: builtAt };
    this.#failedSince = builtAt;
    this.#retryAt = -Infinity;
  }

  /** A change happened (see ChangeKind). A rebuild starts behind it at once. */
  invalidate(kind: ChangeKind = 'write'): void {
    this.#announced++;
    if (kind === 'write') {
      this.#required = this.#announced;
      this.#pending.push({ n: this.#required, at: performance.now(), since: this.#options.clock.now() });
      // Bounded: past the cap the oldest stays (it decides) and the ones after it thin out.
      if (this.#pending.length > MAX_PENDING) this.#pending.splice(1, 1);
      this.#worthWaiting = true;
    }
    // A write proves the database answers; a gap may be it coming back. Either way, try now.
    this.#retryAt = -Infinity;
    void this.#rebuild();
  }

  get lastError(): unknown {
    return this.#lastError;
  }

  /** Whether the last rebuild failed, and since when rebuilds have been failing. */
  get failingSince(): Date | null {
    return this.#failedSince;
  }

  /**
   * Rebuilds now, whatever the backoff says, and tells whether the data is fresh afterwards.
   * For the readiness probe: it reports what visitors get, and brings them fresh data sooner.
   */
  async refresh(): Promise<boolean> {
    this.#retryAt = -Infinity;
    await this.#rebuild();
    if (this.#builtFor < this.#announced && this.#failedSince === null) await this.#rebuild();
    return this.#failedSince === null && this.#builtFor >= this.#required;
  }

  /**
   * The current state; first rebuilt if a write is pending and no rebuild has failed since it was
   * announced (a write that committed says the database answers; a failure says it stopped).
   */
  async current(): Promise<SnapshotState<T>> {
    // What this request is owed: the writes announced before it began. One announced while it
    // waits (another commander's, or this very write heard again as a NOTIFY) is the next
    // request's business: the data may lack it and still be fresh for this one.
    const owed = this.#required;
    if (!this.#state) {
      // No data to fall back on: wait for a first build (someone else's, or our own).
      while (!this.#state) {
        const failedBefore = this.#failures;
        await (this.#rebuilding ?? this.#rebuild());
        if (!this.#state && this.#failures > failedBefore) throw this.#lastError ?? new Error('the public data could not be built');
      }
      // A first build that began before this request's writes does not hold them: wait on below.
    }
    const oldest = this.#pending[0];
    if (this.#builtFor < owed && this.#worthWaiting && oldest !== undefined) {
      const deadline = oldest.at + this.#options.waitMs;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
      });
      await Promise.race([this.#catchUp(owed), timedOut]);
      clearTimeout(timer);
      const missing = this.#pending[0];
      if (this.#builtFor < owed && this.#worthWaiting && missing !== undefined) {
        this.#options.onLate?.({ reason: 'write not rebuilt in time', waitedMs: Math.round(performance.now() - missing.at), rebuilding: this.#rebuilding !== undefined });
      }
    } else {
      this.#kick();
    }
    return this.#view(owed);
  }

  /**
   * The response made for `key` from the current data, when a request may have it right now:
   * no announced write is being waited for, and it was made from this very version and
   * staleness. Starts a background rebuild when one is due, as `current` does. Synchronous: the
   * Node fast path asks this before any Request object exists.
   */
  peek(key: string): { rendered: Rendered; state: SnapshotState<T> } | undefined {
    if (!this.#state || (this.#builtFor < this.#required && this.#worthWaiting)) return undefined;
    this.#kick();
    const entry = this.#rendered.get(key);
    if (!entry?.settled) return undefined;
    const state = this.#view();
    if (entry.version !== state.version || entry.stale !== (state.staleSince !== null)) return undefined;
    return { rendered: entry.settled, state };
  }

  /** The state as a request owed the writes up to `owed` sees it: stale while a rebuild fails or one of those writes is missing. */
  #view(owed = this.#required): SnapshotState<T> {
    const state = this.#state!;
    const staleSince = this.#failedSince ?? (this.#builtFor < owed ? (this.#pending[0]?.since ?? null) : null);
    return staleSince === state.staleSince ? state : { ...state, staleSince };
  }

  /** Rebuilds until the data is built for `target`, or a rebuild that started after it fails. */
  async #catchUp(target: number): Promise<void> {
    while (this.#builtFor < target && this.#worthWaiting) await (this.#rebuilding ?? this.#rebuild());
  }

  /** Starts a background rebuild when the data is behind, old, or due for a retry. */
  #kick(): void {
    if (this.#rebuilding) return;
    const now = this.#options.clock.now().getTime();
    if (this.#failedSince !== null) {
      if (now >= this.#retryAt) void this.#rebuild();
      return;
    }
    const old = this.#state !== undefined && now - this.#state.builtAt.getTime() >= this.#options.maxAgeMs;
    if (old || this.#builtFor < this.#announced) void this.#rebuild();
  }

  #rebuild(): Promise<void> {
    this.#rebuilding ??= (async () => {
      const target = this.#announced;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the public data was not rebuilt within ${this.#options.buildTimeoutMs} ms`)), this.#options.buildTimeoutMs);
        });
        const data = await Promise.race([this.#build(), timeout]);
        const builtAt = this.#options.clock.now();
        this.#state = { data, version: (this.#state?.version ?? 0) + 1, builtAt, staleSince: null };
        this.#builtFor = target;
        while (this.#pending.length > 0 && this.#pending[0]!.n <= target) this.#pending.shift();
        this.#failures = 0;
        this.#failedSince = null;
        this.#lastError = undefined;
        this.#options.onBuilt?.(this.#state);
      } catch (error) {
        this.#lastError = error;
        // Only a rebuild that started after the newest write can say the write is out of reach.
        if (target >= this.#required) this.#worthWaiting = false;
        this.#failures++;
        this.#failedSince ??= this.#options.clock.now();
        const backoff = Math.min(this.#options.maxRetryMs, this.#options.retryMs * 2 ** (this.#failures - 1));
        this.#retryAt = this.#options.clock.now().getTime() + backoff * (0.5 + Math.random() / 2);
      } finally {
        clearTimeout(timer);
        this.#rebuilding = undefined;
      }
      // Changes announced during the build are not in it: go again while the database answers.
      // A rebuild that failed before a write was announced is retried at once: the write answered.
      if ((this.#failedSince === null || this.#worthWaiting) && this.#builtFor < this.#announced) void this.#rebuild();
    })();
    return this.#rebuilding;
  }

  /**
   * Data a page needs beyond the snapshot (an old incident, a history page), fetched once per
   * version. While the snapshot is stale (database down) the last value is used without asking
   * the database. When a value of an older version exists, a visitor waits for the fetch only
   * until `renderWaitMs` after it began (a database that hangs must not hold pages); past that,
   * or if it fails, `NotYet` tells `rendered` to serve the last page made, marked stale, and the
   * fetch goes on for the visitors after. Only data never fetched before waits for the database.
   */
  async remember<R>(key: string, state: SnapshotState<T>, fetch: () => Promise<R>): Promise<R> {
    const previous = this.#remembered.get(key);
    if (previous && (previous.version === state.version || state.staleSince)) return previous.value as R;
    let pending = this.#fetching.get(key);
    if (!pending || pending.version !== state.version) {
      const mine: Fetching = { version: state.version, startedAt: performance.now(), value: fetch() };
      this.#fetching.set(key, mine);
      mine.value.then(
        (value) => {
          if (this.#fetching.get(key) === mine) this.#fetching.delete(key);
          const kept = this.#remembered.get(key);
          if (kept && kept.version > mine.version) return;
          this.#remembered.delete(key);
          this.#remembered.set(key, { version: mine.version, value });
          if (this.#remembered.size > this.#options.maxEntries) this.#remembered.delete(this.#remembered.keys().next().value!);
        },
        () => {
          if (this.#fetching.get(key) === mine) this.#fetching.delete(key);
        },
      );
      pending = mine;
    }
    if (!previous) return pending.value as Promise<R>;
    const left = pending.startedAt + this.#options.renderWaitMs - performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const got =
      left <= 0
        ? undefined
        : await Promise.race([
            pending.value.then(
              (value) => ({ value }),
              () => undefined,
            ),
            new Promise<undefined>((resolve) => {
              timer = setTimeout(() => resolve(undefined), left);
            }),
          ]);
    clearTimeout(timer);
    if (got) return got.value as R;
    throw new NotYet(pending.value.then(() => undefined, () => undefined));
  }

  /**
   * A response rendered from the current state, made once per version, key and staleness (a
   * page says when it could not be refreshed). If making it fails, or its data is not there yet
   * (`remember`), the last one made of the same key is served, marked stale; only a key never
   * made before fails.
   */
  async rendered(key: string, make: (state: SnapshotState<T>) => Promise<Omit<Rendered, 'encoded'>>): Promise<{ rendered: Rendered; state: SnapshotState<T> }> {
    const state = await this.current();
    const stale = state.staleSince !== null;
    let entry = this.#rendered.get(key);
    if (!entry || entry.version !== state.version || entry.stale !== stale) {
      const made: RenderedEntry = { version: state.version, stale, value: make(state).then((r) => ({ ...r, encoded: new Map() })) };
      made.value.then(
        (r) => {
          made.settled = r;
          this.#made.delete(key);
          this.#made.set(key, r);
          if (this.#made.size > this.#options.maxEntries) this.#made.delete(this.#made.keys().next().value!);
        },
        () => {
          if (this.#rendered.get(key) === made) this.#rendered.delete(key);
        },
      );
      entry = made;
      this.#remember(key, entry);
    }
    if (entry.settled) return { rendered: entry.settled, state };
    try {
      return { rendered: await entry.value, state };
    } catch (error) {
      const previous = this.#made.get(key);
      if (previous) this.#options.onLate?.({ reason: 'page not made', key, error });
      if (previous) return { rendered: previous, state: stale ? state : { ...state, staleSince: this.#options.clock.now() } };
      if (error instanceof NotYet) {
        await error.ready; // no page to fall back on: wait for the data after all, then make it
        return this.rendered(key, make);
      }
      throw error;
    }
  }

  #remember(key: string, entry: RenderedEntry) {
    this.#rendered.delete(key);
    this.#rendered.set(key, entry);
    if (this.#rendered.size > this.#options.maxEntries) {
      const oldest = this.#rendered.keys().next().value;
      if (oldest !== undefined) this.#rendered.delete(oldest);
    }
  }
}
