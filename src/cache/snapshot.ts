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
 *   a rebuild, so an update posted is on the very next page load.
 * - Age alone only triggers a rebuild in the background; requests keep getting the current data.
 * - If a rebuild fails (database down), requests keep getting the last good data, marked stale,
 *   and a rebuild is retried at most every `retryMs`: when the database returns, so does fresh data.
 * - One rebuild at a time, however many requests arrive.
 */
export class Snapshot<T> {
  readonly #build: () => Promise<T>;
  readonly #options: SnapshotOptions;
  #state: SnapshotState<T> | undefined;
  #dirty = true;
  #rebuilding: Promise<void> | undefined;
  #lastAttempt = 0;
  #lastError: unknown;
  readonly #rendered = new Map<string, { version: number; value: Promise<Rendered> }>();

  constructor(build: () => Promise<T>, options: Partial<SnapshotOptions> & { clock: Clock }) {
    this.#build = build;
    this.#options = { ...DEFAULTS, ...options };
  }

  invalidate(): void {
    this.#dirty = true;
  }

  get lastError(): unknown {
    return this.#lastError;
  }

  /** The current state, rebuilt first if a change is pending (and the database answers in time). */
  async current(): Promise<SnapshotState<T>> {
    const now = this.#options.clock.now().getTime();
    const state = this.#state;
    const failing = state?.staleSince != null;
    const due = now - this.#lastAttempt >= (failing ? this.#options.retryMs : 0);
    if (!state) {
      await this.#rebuild();
      if (!this.#state) throw this.#lastError;
      return this.#state;
    }
    if (this.#dirty && due) {
      const rebuilt = this.#rebuild();
      const timedOut = new Promise<void>((resolve) => setTimeout(resolve, this.#options.waitMs).unref?.());
      await Promise.race([rebuilt, timedOut]);
      return this.#state!;
    }
    if (due && (failing || now - state.builtAt.getTime() >= this.#options.maxAgeMs)) void this.#rebuild();
    return state;
  }

  #rebuild(): Promise<void> {
    this.#rebuilding ??= (async () => {
      this.#lastAttempt = this.#options.clock.now().getTime();
      const wasDirty = this.#dirty;
      this.#dirty = false;
      try {
        const data = await this.#build();
        this.#state = { data, version: (this.#state?.version ?? 0) + 1, builtAt: this.#options.clock.now(), staleSince: null };
        this.#lastError = undefined;
      } catch (error) {
        this.#lastError = error;
        this.#dirty ||= wasDirty;
        if (this.#state && !this.#state.staleSince) this.#state = { ...this.#state, staleSince: this.#options.clock.now() };
      } finally {
        this.#rebuilding = undefined;
      }
    })();
    return this.#rebuilding;
  }

  /**
   * A response rendered from the current state, made once per version and key. If making it
   * fails (a page that needs a query while the database is down), the last version made of the
   * same key is served instead; only a key never made before fails.
   */
  async rendered(key: string, make: (state: SnapshotState<T>) => Promise<Omit<Rendered, 'encoded'>>): Promise<{ rendered: Rendered; state: SnapshotState<T> }> {
    const state = await this.current();
    const entry = this.#rendered.get(key);
    if (entry && entry.version === state.version) return { rendered: await entry.value, state };
    const value = make(state).then((r) => ({ ...r, encoded: new Map() }));
    this.#remember(key, { version: state.version, value });
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

  #remember(key: string, entry: { version: number; value: Promise<Rendered> }) {
    this.#rendered.delete(key);
    this.#rendered.set(key, entry);
    if (this.#rendered.size > this.#options.maxEntries) {
      const oldest = this.#rendered.keys().next().value;
      if (oldest !== undefined) this.#rendered.delete(oldest);
    }
  }
}
