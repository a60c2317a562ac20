import { describe, expect, it } from 'vitest';
import { Snapshot } from '../../src/cache/snapshot.ts';
import { fixedClock } from '../../src/clock.ts';

function counter() {
  let builds = 0;
  let fail = false;
  return {
    build: async () => {
      builds++;
      if (fail) throw new Error('database down');
      return { n: builds };
    },
    get builds() {
      return builds;
    },
    setFail(v: boolean) {
      fail = v;
    },
  };
}

describe('Snapshot', () => {
  it('when nothing changed and the data is young, requests share one build', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const c = counter();
    const s = new Snapshot(c.build, { clock, maxAgeMs: 30_000 });
    const results = await Promise.all(Array.from({ length: 20 }, () => s.current()));
    expect(c.builds).toBe(1);
    expect(new Set(results.map((r) => r.version))).toEqual(new Set([1]));
    clock.advance(29_000);
    expect((await s.current()).version).toBe(1);
    expect(c.builds).toBe(1);
  });

  it('when invalidated, the very next request gets rebuilt data', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const c = counter();
    const s = new Snapshot(c.build, { clock });
    expect((await s.current()).data).toEqual({ n: 1 });
    s.invalidate();
    expect((await s.current()).data).toEqual({ n: 2 });
    expect((await s.current()).data).toEqual({ n: 2 });
  });

  it('when the data is older than maxAge, it is served at once and rebuilt behind the request', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const c = counter();
    const s = new Snapshot(c.build, { clock, maxAgeMs: 30_000 });
    await s.current();
    clock.advance(31_000);
    expect((await s.current()).version).toBe(1); // served the old one
    await new Promise((r) => setTimeout(r, 0));
    expect(c.builds).toBe(2);
    expect((await s.current()).version).toBe(2);
  });

  it('when a rebuild fails, the last good data keeps being served at once, marked stale, and retried behind requests at most every retryMs', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const c = counter();
    const s = new Snapshot(c.build, { clock, maxAgeMs: 30_000, retryMs: 1_000 });
    await s.current();
    c.setFail(true);
    s.invalidate();
    const stale = await s.current();
    expect(stale.data).toEqual({ n: 1 });
    expect(stale.staleSince?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    const builds = c.builds;
    await s.current();
    await s.current();
    expect(c.builds).toBe(builds); // no retry within a second
    clock.advance(1_000);
    c.setFail(false);
    expect((await s.current()).staleSince).not.toBeNull(); // this request does not wait for the retry
    await new Promise((r) => setTimeout(r, 0));
    const fresh = await s.current();
    expect(fresh.staleSince).toBeNull();
    expect(fresh.data).toEqual({ n: builds + 1 });
  });

  it('when a change is announced while failing, the next request tries again at once instead of waiting out retryMs', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const c = counter();
    const s = new Snapshot(c.build, { clock, retryMs: 60_000 });
    await s.current();
    c.setFail(true);
    s.invalidate();
    await s.current();
    c.setFail(false);
    s.invalidate(); // e.g. a write landed as soon as the database came back
    const next = await s.current();
    expect(next.staleSince).toBeNull();
    expect(next.data).toEqual({ n: 3 });
  });

  it('when a change lands while a rebuild is already running, the next request waits for a rebuild that starts after it', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    let value = 'old';
    let release!: () => void;
    let gate = Promise.resolve();
    const s = new Snapshot(async () => {
      const seen = value;
      await gate;
      return seen;
    }, { clock, maxAgeMs: 0 });
    await s.current();
    gate = new Promise<void>((r) => (release = r));
    clock.advance(1);
    await s.current(); // starts a background rebuild that reads "old" and then blocks
    value = 'new';
    s.invalidate();
    const pending = s.current();
    release();
    expect((await pending).data).toBe('new');
  });

  it('when a rebuild after a change hangs, the request gets the previous data after waitMs', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    let hang = false;
    const s = new Snapshot(async () => (hang ? new Promise<{ n: number }>(() => {}) : { n: 1 }), { clock, waitMs: 50 });
    await s.current();
    hang = true;
    s.invalidate();
    const started = Date.now();
    expect((await s.current()).data).toEqual({ n: 1 });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('when many requests arrive during the very first build, they all wait for it', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = new Snapshot(async () => {
      await gate;
      return { n: 1 };
    }, { clock });
    const all = Promise.all(Array.from({ length: 6 }, () => s.current()));
    release();
    expect((await all).map((r) => r.data)).toEqual(Array(6).fill({ n: 1 }));
  });

  it('when the very first build fails, the error reaches the caller', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const s = new Snapshot(async () => {
      throw new Error('no database');
    }, { clock });
    await expect(s.current()).rejects.toThrow('no database');
  });

  it('when a rendered response is asked for twice in one version, it is made once; a failing remake serves the previous version', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const c = counter();
    const s = new Snapshot(c.build, { clock });
    let makes = 0;
    const make = async () => {
      makes++;
      return { body: new TextEncoder().encode(`v${makes}`), type: 'text/plain', status: 200, etag: `"${makes}"` };
    };
    await s.rendered('k', make);
    await s.rendered('k', make);
    expect(makes).toBe(1);
    s.invalidate();
    const failing = async () => {
      throw new Error('query failed');
    };
    const r = await s.rendered('k', failing);
    expect(new TextDecoder().decode(r.rendered.body)).toBe('v1');
    await expect(s.rendered('other', failing)).rejects.toThrow('query failed');
  });
});
