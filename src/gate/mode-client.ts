import type { Mode } from '../domain/vocabulary.ts';
import { createLogger, type Logger } from '../log.ts';
import type { GateState, ModeSource } from './core.ts';
import { EventStreamParser } from './event-stream.ts';

interface RoleDoc {
  readonly role: string;
  readonly mode: Mode;
  readonly retry_after: string | null;
  /** Absent from a Herald older than the override's `refresh`. */
  readonly refresh?: number | null;
  readonly sources: readonly { readonly title: string }[];
}

export interface ModeClientOptions {
  /** Herald's base URL, e.g. https://status.example.com */
  readonly heraldUrl: string;
  /** `events`: follow the server-sent event stream (default); `poll`: GET with If-None-Match. */
  readonly transport?: 'events' | 'poll';
  readonly pollIntervalMs?: number;
  /** Reconnect delay after a failure (doubles up to maxBackoffMs). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Reconnect when the stream is silent this long (heartbeats come every 15 s). */
  readonly silenceMs?: number;
  /** The mode assumed before Herald has ever answered. */
  readonly initialMode?: Mode;
  /** Where log lines go, one at a time, in Herald's log format (src/log.ts); none without it. */
  readonly log?: (line: string) => void;
  readonly fetch?: typeof fetch;
}

type Listener = (role: string, state: GateState, previous: GateState) => void;

/**
 * Follows Herald's platform modes for worker processes and gates. Fail-static: when Herald is
 * unreachable it keeps the last mode it knew, marks it stale, logs that once, and catches up
 * when Herald is back.
 *
 *   const modes = new ModeClient({ heraldUrl }); await modes.ready();
 *   await modes.whenRunnable('worker'); // waits while the worker role is in maintenance
 */
export class ModeClient implements ModeSource {
  readonly #options: Required<Omit<ModeClientOptions, 'log' | 'fetch'>> & Pick<ModeClientOptions, 'log' | 'fetch'>;
  readonly #roles = new Map<string, GateState>();
  readonly #listeners = new Set<Listener>();
  readonly #log: Logger;
  #stale = true;
  #stopped = false;
  #abort: AbortController | undefined;
  #firstContact: Promise<void>;
  #resolveFirst!: () => void;
  #etag: string | undefined;

  constructor(options: ModeClientOptions) {
    this.#options = {
      transport: 'events',
      pollIntervalMs: 2000,
      backoffMs: 250,
      maxBackoffMs: 5000,
      silenceMs: 45_000,
      initialMode: 'full',
      ...options,
      heraldUrl: options.heraldUrl.replace(/\/+$/, ''),
    };
    this.#log = createLogger(options.log ?? (() => {}));
    this.#firstContact = new Promise((resolve) => (this.#resolveFirst = resolve));
    void this.#run();
  }

  /** Resolves once Herald has answered (or after `timeoutMs`, acting on the initial mode). */
  ready(timeoutMs = 5000): Promise<void> {
    return Promise.race([this.#firstContact, new Promise<void>((r) => setTimeout(r, timeoutMs).unref?.())]);
  }

  state(role: string): GateState {
    const known = this.#roles.get(role);
    return known ? { ...known, stale: this.#stale } : { mode: this.#options.initialMode, retryAfter: null, reason: null, stale: this.#stale };
  }

  mode(role: string): Mode {
    return this.state(role).mode;
  }

  get stale(): boolean {
    return this.#stale;
  }

  /** Called with (role, state, previous) whenever a role's mode changes. Returns an unsubscribe. */
  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves at once unless `role` is in maintenance; otherwise when it leaves maintenance. */
  whenRunnable(role: string, signal?: AbortSignal): Promise<void> {
    if (this.mode(role) !== 'maintenance') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.onChange((r, s) => {
        if (r === role && s.mode !== 'maintenance') {
          off();
          resolve();
        }
      });
      signal?.addEventListener('abort', () => {
        off();
        reject(signal.reason);
      });
    });
  }

  close(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }

  #apply(doc: { roles: readonly RoleDoc[] }) {
    const wasStale = this.#stale;
    this.#stale = false;
    if (wasStale) this.#log.info('in contact with Herald', { url: this.#options.heraldUrl });
    for (const r of doc.roles) {
      const previous = this.state(r.role);
      const next: GateState = { mode: r.mode, retryAfter: r.retry_after, reason: r.sources.map((s) => s.title).join('; ') || null, stale: false, ...(r.refresh ? { refresh: r.refresh } : {}) };
      this.#roles.set(r.role, next);
      if (previous.mode !== next.mode) for (const l of this.#listeners) l(r.role, next, previous);
    }
    this.#resolveFirst();
  }

  #lost(error: unknown) {
    if (!this.#stale) {
      this.#stale = true;
      const modes = [...this.#roles].map(([role, s]) => `${role}:${s.mode}`).join(',');
      this.#log.warn('lost contact with Herald; keeping the last known modes', { modes: modes || 'none', error: String(error) });
    }
  }

  async #run(): Promise<void> {
    let backoff = this.#options.backoffMs;
    while (!this.#stopped) {
      this.#abort = new AbortController();
      try {
        if (this.#options.transport === 'poll') await this.#poll(this.#abort.signal);
        else await this.#follow(this.#abort.signal);
        backoff = this.#options.backoffMs;
      } catch (error) {
        if (this.#stopped) return;
        this.#lost(error);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, this.#options.maxBackoffMs);
      }
    }
  }

  async #poll(signal: AbortSignal): Promise<void> {
    const f = this.#options.fetch ?? fetch;
    while (!this.#stopped) {
      const res = await f(`${this.#options.heraldUrl}/api/v1/platform`, { signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]), headers: this.#etag ? { 'If-None-Match': this.#etag } : {} });
      if (res.status === 200) {
        this.#etag = res.headers.get('etag') ?? undefined;
        this.#apply((await res.json()) as { roles: RoleDoc[] });
      } else if (res.status === 304) {
        this.#apply({ roles: [] });
      } else {
        throw new Error(`Herald answered ${res.status}`);
      }
      await new Promise((r) => setTimeout(r, this.#options.pollIntervalMs));
    }
  }

  /** Reads the event stream until it ends, fails, or falls silent. */
  async #follow(signal: AbortSignal): Promise<void> {
    const f = this.#options.fetch ?? fetch;
    const res = await f(`${this.#options.heraldUrl}/api/v1/platform/events`, { signal, headers: { Accept: 'text/event-stream' } });
    if (!res.ok || !res.body) throw new Error(`Herald answered ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new EventStreamParser((event) => {
      if (event.data) this.#apply(JSON.parse(event.data) as { roles: RoleDoc[] });
    });
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => this.#abort?.abort(new Error('event stream fell silent')), this.#options.silenceMs);
      watchdog.unref?.();
    };
    arm();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error('event stream ended');
        arm();
        parser.push(value);
      }
    } finally {
      clearTimeout(watchdog);
    }
  }
}
