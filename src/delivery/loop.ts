import type { Pass } from './dispatcher.ts';

/** What the loop runs: the webhook dispatcher, the mail dispatcher. */
export interface Passes {
  pass(stopping: () => boolean): Promise<Pass>;
}

export interface DispatchLoopOptions {
  /** How often it looks for due retries and other instances' notices (NOTIFY wakes it sooner). */
  readonly pollMs?: number;
  /** The longest pause after passes that failed (the database is down): doubling from pollMs. */
  readonly maxBackoffMs?: number;
  readonly onPass?: (pass: Pass) => void;
  /** Told once when passes start failing, and once when they work again. */
  readonly onTrouble?: (error: unknown | null) => void;
}

/**
 * Runs the dispatcher in a long-lived process: one pass at a time, again at once when woken
 * during a pass (a write committed), otherwise every `pollMs`. A pass that fails (a database
 * outage) never ends the process: the loop waits longer each time and goes on.
 */
export class DispatchLoop {
  readonly #dispatcher: Passes;
  readonly #pollMs: number;
  readonly #maxBackoffMs: number;
  readonly #options: DispatchLoopOptions;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #stopped = false;

  constructor(dispatcher: Passes, options: DispatchLoopOptions = {}) {
    this.#dispatcher = dispatcher;
    this.#pollMs = options.pollMs ?? 1_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#options = options;
  }

  start(): void {
    this.wake();
  }

  /** Something may be due: run a pass now, or right after the current one. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.#run().finally(() => {
      this.#running = undefined;
      if (this.#stopped) return;
      if (this.#again && this.#failures === 0) {
        this.#again = false;
        this.wake();
        return;
      }
      this.#again = false;
      const delay = this.#failures === 0 ? this.#pollMs : Math.min(this.#maxBackoffMs, this.#pollMs * 2 ** this.#failures);
      this.#timer = setTimeout(() => this.wake(), delay);
      this.#timer.unref?.();
    });
  }

  async #run(): Promise<void> {
    try {
      const pass = await this.#dispatcher.pass(() => this.#stopped);
      if (this.#failures > 0) this.#options.onTrouble?.(null);
      this.#failures = 0;
      if (pass.fannedOut || pass.attempted) this.#options.onPass?.(pass);
    } catch (error) {
      if (this.#failures === 0) this.#options.onTrouble?.(error);
      this.#failures++;
    }
  }

  /**
   * Stops after the delivery under way (its attempt is recorded by then); what else is due stays
   * in the outbox for the next start or another instance.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
