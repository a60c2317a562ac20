import type { Pass } from './dispatcher.ts';

/** What the loop runs: the webhook dispatcher, the mail dispatcher. */
export interface Passes {
  /**
   * `stopping()`: send nothing more. `cut`: aborted when the process will not wait any longer for
   * the sends under way; the pass then records nothing of them and hands them back, due.
   */
  pass(stopping: () => boolean, cut?: AbortSignal): Promise<Pass>;
}

/** What `untilCut` gives when the cut came first. */
export const CUT = Symbol('cut');

/** The work's value, or CUT as soon as `cut` is aborted (the work itself runs on, unheard). */
export function untilCut<T>(work: Promise<T>, cut: AbortSignal | undefined): Promise<T | typeof CUT> {
  if (!cut) return work;
  if (cut.aborted) return Promise.resolve(CUT);
  let onCut = () => {};
  const cutting = new Promise<typeof CUT>((resolve) => {
    onCut = () => resolve(CUT);
    cut.addEventListener('abort', onCut, { once: true });
  });
  return Promise.race([work, cutting]).finally(() => cut.removeEventListener('abort', onCut));
}

/** How long a stop waits for the sends under way before it cuts them (see stop()). */
export const STOP_GRACE_MS = 3_000;

export interface DispatchLoopOptions {
  /**
   * The longest it sleeps between passes. It sleeps until the next thing queued falls due (a
   * retry, a lease's end); writes wake it sooner. This catches what nothing woke it for: a row
   * written in SQL, a notification lost with its connection.
   */
  readonly pollMs?: number;
  /** The first pause after a pass that failed (the database is down), doubling up to maxBackoffMs. */
  readonly retryMs?: number;
  readonly maxBackoffMs?: number;
  readonly onPass?: (pass: Pass) => void;
  /** Told once when passes start failing, and once when they work again. */
  readonly onTrouble?: (error: unknown | null) => void;
}

/**
 * Runs the dispatcher in a long-lived process: one pass at a time, again at once when woken
 * during a pass (a write committed), otherwise when the next queued thing falls due (at most
 * `pollMs` later), so an idle server does not ask its database every second. A pass that fails
 * (a database outage) never ends the process: the loop waits longer each time and goes on.
 */
export class DispatchLoop {
  readonly #dispatcher: Passes;
  readonly #pollMs: number;
  readonly #retryMs: number;
  readonly #maxBackoffMs: number;
  readonly #options: DispatchLoopOptions;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #dueInMs: number | null = null;
  #stopped = false;
  readonly #cut = new AbortController();

  constructor(dispatcher: Passes, options: DispatchLoopOptions = {}) {
    this.#dispatcher = dispatcher;
    this.#pollMs = options.pollMs ?? 60_000;
    this.#retryMs = Math.min(this.#pollMs, options.retryMs ?? 1_000);
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
      this.#timer = setTimeout(() => this.wake(), this.#delay());
      this.#timer.unref?.();
    });
  }

  /**
   * After a pass: until what is queued falls due, or `pollMs`. Something due already that the
   * pass did not take (another instance holds it, or it fell due meanwhile) is looked at again
   * in `retryMs`, not at once. After failures: doubling from `retryMs`.
   */
  #delay(): number {
    if (this.#failures > 0) return Math.min(this.#maxBackoffMs, this.#retryMs * 2 ** this.#failures);
    const due = this.#dueInMs;
    if (due === null) return this.#pollMs;
    return Math.min(this.#pollMs, due > 0 ? due : this.#retryMs);
  }

  async #run(): Promise<void> {
    try {
      const pass = await this.#dispatcher.pass(() => this.#stopped, this.#cut.signal);
      if (this.#failures > 0) this.#options.onTrouble?.(null);
      this.#failures = 0;
      this.#dueInMs = pass.dueInMs;
      if (pass.fannedOut || pass.attempted) this.#options.onPass?.(pass);
    } catch (error) {
      if (this.#failures === 0) this.#options.onTrouble?.(error);
      this.#failures++;
    }
  }

  /**
   * Sends nothing more and waits for the sends under way, `graceMs` at most: a receiver that
   * takes its time (up to the send's own 10 s timeout, or an SMTP server's 60 s) must not hold a
   * deploy. Past it they are cut: nothing is recorded of them, and they are due again at the next
   * start or on another instance (a receiver may so get one twice, with the same id: at least
   * once). What else is due stays in the outbox likewise.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const running = this.#running;
    if (!running) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const inTime = await Promise.race([running.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)))]);
    clearTimeout(timer);
    if (inTime) return;
    this.#cut.abort();
    await running;
  }
}
