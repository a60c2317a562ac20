import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Pass } from '../../src/delivery/dispatcher.ts';
import { DispatchLoop } from '../../src/delivery/loop.ts';

/**
 * When the loop runs its passes, on a fake timer: it sleeps until what is queued falls due, not
 * on a fixed poll, so an idle server leaves its database alone.
 */

/** A dispatcher whose passes answer `dueInMs` from the list (the last one repeated), or throw. */
function passes(answers: readonly (number | null | Error)[]) {
  const at: number[] = [];
  return {
    at,
    dispatcher: {
      async pass(): Promise<Pass> {
        const answer = answers[Math.min(at.length, answers.length - 1)]!;
        at.push(Date.now());
        if (answer instanceof Error) throw answer;
        return { fannedOut: 0, attempted: 0, delivered: 0, dueInMs: answer };
      },
    },
  };
}

describe('the delivery loop', () => {
  beforeEach(() => void vi.useFakeTimers({ now: 0 }));
  afterEach(() => void vi.useRealTimers());

  it('with nothing queued, makes no pass until pollMs has passed', async () => {
    const p = passes([null]);
    const loop = new DispatchLoop(p.dispatcher, { pollMs: 60_000 });
    loop.start();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(p.at).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(p.at).toEqual([0, 60_000]);
    await loop.stop();
  });

  it('sleeps until the next retry falls due, however far from a second it is', async () => {
    const p = passes([4_321, 250, null]);
    const loop = new DispatchLoop(p.dispatcher, { pollMs: 60_000 });
    loop.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(p.at).toEqual([0, 4_321, 4_571]);
    await loop.stop();
  });

  it('never sleeps past pollMs, even when the next retry is hours away', async () => {
    const p = passes([3_600_000]);
    const loop = new DispatchLoop(p.dispatcher, { pollMs: 60_000 });
    loop.start();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(p.at).toEqual([0, 60_000, 120_000]);
    await loop.stop();
  });

  it('something due that a pass left (another instance holds it) is looked at again after retryMs, not at once', async () => {
    const p = passes([0, -50, null]);
    const loop = new DispatchLoop(p.dispatcher, { pollMs: 60_000, retryMs: 1_000 });
    loop.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(p.at).toEqual([0, 1_000, 2_000]);
    await loop.stop();
  });

  it('a wake runs a pass at once, whatever the sleep', async () => {
    const p = passes([null]);
    const loop = new DispatchLoop(p.dispatcher, { pollMs: 60_000 });
    loop.start();
    await vi.advanceTimersByTimeAsync(7_000);
    loop.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(p.at).toEqual([0, 7_000]);
    // and the next sleep counts from that pass
    await vi.advanceTimersByTimeAsync(59_999);
    expect(p.at).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(p.at).toEqual([0, 7_000, 67_000]);
    await loop.stop();
  });

  it('after failed passes, waits doubling from retryMs up to maxBackoffMs, and says so once each way', async () => {
    const down = new Error('database down');
    const p = passes([down, down, down, down, down, null]);
    const trouble: (unknown | null)[] = [];
    const loop = new DispatchLoop(p.dispatcher, { pollMs: 60_000, retryMs: 1_000, maxBackoffMs: 10_000, onTrouble: (e) => trouble.push(e) });
    loop.start();
    await vi.advanceTimersByTimeAsync(40_000);
    // waits 2, 4, 8, 10 (capped), 10 s, then the pass works and nothing is queued
    expect(p.at).toEqual([0, 2_000, 6_000, 14_000, 24_000, 34_000]);
    expect(trouble).toEqual([down, null]);
    await loop.stop();
  });

  it('makes no pass once stopped', async () => {
    const p = passes([100]);
    const loop = new DispatchLoop(p.dispatcher, { pollMs: 60_000 });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    await loop.stop();
    loop.wake();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(p.at).toEqual([0]);
  });

  it('a stop waits for the pass under way when it ends within the grace, and cuts nothing', async () => {
    let cut: AbortSignal | undefined;
    const loop = new DispatchLoop({
      async pass(_stopping, signal) {
        cut = signal;
        await new Promise((r) => setTimeout(r, 2_000));
        return { fannedOut: 0, attempted: 1, delivered: 1, dueInMs: null };
      },
    });
    loop.start();
    let stopped = false;
    void loop.stop(3_000).then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(stopped).toBe(true);
    expect(cut?.aborted).toBe(false);
  });

  it('past the grace, a stop cuts the sends under way and returns once the pass has let go', async () => {
    let stopping: (() => boolean) | undefined;
    const loop = new DispatchLoop({
      async pass(isStopping, cut) {
        stopping = isStopping;
        // a receiver that never answers: only the cut ends this pass
        await new Promise((resolve) => cut!.addEventListener('abort', resolve));
        return { fannedOut: 0, attempted: 1, delivered: 0, dueInMs: null };
      },
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    void loop.stop(3_000).then(() => (stopped = true));
    expect(stopping!()).toBe(true); // nothing more is started at once
    await vi.advanceTimersByTimeAsync(2_999);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(stopped).toBe(true);
  });
});
