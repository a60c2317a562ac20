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

export interface SnapshotOptions {
  readonly clock: Clock;
  /** Rebuild in the background once the data is this old (durations of open incidents grow). */
  readonly maxAgeMs: number;
  /** After a failed rebuild, try again at most this often. */
  readonly retryMs: number;
  /** How long a request waits for a rebuild after a change before it gets the previous data. */
  readonly waitMs: number;
  /** How many rendered responses to keep (incident pages, history pages, feed variants). */
  readonly maxEntries: number;
}

const DEFAULTS: Omit<SnapshotOptions, 'clock'> = { maxAgeMs: 30_000, retryMs: 1_000, waitMs: 5_000, maxEntries: 2_000 };

/**
 * What the public pages show, held in memory and rebuilt when data changes.
 *
 * - A change (`invalidate`, called after every committed write) makes the next request wait for
 *   a rebuild that starts after it, so an update posted is on the very next page load.
 * - Age alone only triggers a rebuild in the background; requests keep getting the current data.
 * - If a rebuild fails (database down), requests keep getting the last good data, marked stale,
 *   without waiting, and a rebuild is retried behind them at most every `retryMs`: when the
 *   database returns, so does fresh data.
 * - One rebuild at a time, however many requests arrive.
 */
export class Snapshot<T> {
  readonly #build: () => Promise<T>;
  readonly #options: SnapshotOptions;
  #state: SnapshotState<T> | undefined;
  /** A change was announced that the current data may not hold yet. */
  #changed = true;
  #rebuilding: Promise<void> | undefined;
  #lastAttempt = -Infinity;
  #lastError: unknown;
  readonly #rendered = new Map<string, { version: number; stale: boolean; value: Promise<Rendered> }>();
  readonly #remembered = new Map<string, { version: number; value: unknown }>();

  constructor(build: () => Promise<T>, options: Partial<SnapshotOptions> & { clock: Clock }) {
    this.#build = build;
    this.#options = { ...DEFAULTS, ...options };
  }

  /** A change happened: the next request waits for data that holds it (and retries at once). */
  invalidate(): void {
    this.#changed = true;
    this.#lastAttempt = -Infinity;
  }

  get lastError(): unknown {
    return this.#lastError;
  }

  /** The current state, rebuilt first if a change is pending (and the database answers in time). */
  async current(): Promise<SnapshotState<T>> {
    if (!this.#state) {
      await this.#fresh();
      if (!this.#state) throw this.#lastError ?? new Error('the public data could not be built');
      return this.#state;
    }
    if (this.#changed) {
      const timedOut = new Promise<void>((resolve) => setTimeout(resolve, this.#options.waitMs).unref?.());
      await Promise.race([this.#fresh(), timedOut]);
      return this.#state;
    }
    const state = this.#state;
    const now = this.#options.clock.now().getTime();
    // Retries after a failure and refreshes by age happen behind the request: nobody waits on them.
    const failing = state.staleSince !== null;
    if (failing ? now - this.#lastAttempt >= this.#options.retryMs : now - state.builtAt.getTime() >= this.#options.maxAgeMs) {
      void this.#rebuild();
    }
    return state;
  }

  /** Rebuilds until the data is at least as new as the last announced change (or a build fails). */
  async #fresh(): Promise<void> {
    // also wait out a first build someone else started (there is no data to fall back on yet)
    while (this.#changed || (!this.#state && this.#rebuilding)) {
      if (this.#rebuilding) {
        await this.#rebuilding; // it may have started before the change: loop and look again
        continue;
      }
      await this.#rebuild();
      if (this.#lastError !== undefined) return;
    }
  }

  #rebuild(): Promise<void> {
    this.#rebuilding ??= (async () => {
      this.#lastAttempt = this.#options.clock.now().getTime();
      this.#changed = false;
      try {
        const data = await this.#build();
        this.#state = { data, version: (this.#state?.version ?? 0) + 1, builtAt: this.#options.clock.now(), staleSince: null };
        this.#lastError = undefined;
      } catch (error) {
        this.#lastError = error;
        if (this.#state && !this.#state.staleSince) this.#state = { ...this.#state, staleSince: this.#options.clock.now() };
      } finally {
        this.#rebuilding = undefined;
      }
    })();
    return this.#rebuilding;
  }

  /**
   * Data a page needs beyond the snapshot (one incident, a history page), fetched once per
   * version. While the snapshot is stale (database down) the last value is used without asking
   * the database again; only data never fetched before fails.
   */
  async remember<R>(key: string, state: SnapshotState<T>, fetch: () => Promise<R>): Promise<R> {
    const previous = this.#remembered.get(key);
    if (previous && (previous.version === state.version || state.staleSince)) return previous.value as R;
    try {
      const value = await fetch();
      this.#remembered.delete(key);
      this.#remembered.set(key, { version: state.version, value });
      if (this.#remembered.size > this.#options.maxEntries) this.#remembered.delete(this.#remembered.keys().next().value!);
      return value;
    } catch (error) {
      if (previous) return previous.value as R;
      throw error;
    }
  }

  /**
   * A response rendered from the current state, made once per version, key and staleness (a
   * page says when it could not be refreshed). If making it fails, the last one made of the same
   * key is served instead; only a key never made before fails.
   */
  async rendered(key: string, make: (state: SnapshotState<T>) => Promise<Omit<Rendered, 'encoded'>>): Promise<{ rendered: Rendered; state: SnapshotState<T> }> {
    const state = await this.current();
    const stale = state.staleSince !== null;
    const entry = this.#rendered.get(key);
    if (entry && entry.version === state.version && entry.stale === stale) return { rendered: await entry.value, state };
    const value = make(state).then((r) => ({ ...r, encoded: new Map() }));
    this.#remember(key, { version: state.version, stale, value });
    try {
      return { rendered: await value, state };
    } catch (error) {
      if (entry) {
        this.#remember(key, entry);
        return { rendered: await entry.value, state };
      }
      this.#rendered.delete(key);
      throw error;
    }
  }

  #remember(key: string, entry: { version: number; stale: boolean; value: Promise<Rendered> }) {
    this.#rendered.delete(key);
    this.#rendered.set(key, entry);
    if (this.#rendered.size > this.#options.maxEntries) {
      const oldest = this.#rendered.keys().next().value;
      if (oldest !== undefined) this.#rendered.delete(oldest);
    }
  }
}
