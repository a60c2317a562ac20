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

  it('when a write is announced while a request waits for an earlier one (the same write heard again as a NOTIFY), that request gets the data built for the earlier one as fresh, and the next request waits for the newer', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const gates: (() => void)[] = [];
    let builds = 0;
    const s = new Snapshot(
      async () => {
        const n = ++builds;
        if (n > 1) await new Promise<void>((r) => gates.push(r));
        return { n };
      },
      { clock },
    );
    await s.current();
    s.invalidate(); // the write, acknowledged to its client
    const owed = s.current(); // the client's next page: waits for build 2
    await new Promise((r) => setTimeout(r, 0));
    s.invalidate(); // heard again (NOTIFY) while build 2 runs
    gates.shift()!(); // build 2 finishes; build 3 starts behind it
    const page = await owed;
    expect(page.data).toEqual({ n: 2 });
    expect(page.staleSince).toBeNull();
    const next = s.current(); // started after the second announcement: owed build 3
    await new Promise((r) => setTimeout(r, 0));
    gates.shift()!();
    expect(await next).toMatchObject({ data: { n: 3 }, staleSince: null });
  });

  it('when writes keep coming while each rebuild runs, a request waits from the oldest write its data lacks, not from the first of the stream', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const gates: (() => void)[] = [];
    let builds = 0;
    const s = new Snapshot(
      async () => {
        const n = ++builds;
        if (n > 1) await new Promise<void>((r) => gates.push(r));
        return { n };
      },
      { clock, waitMs: 50 },
    );
    await s.current();
    s.invalidate(); // write 1: build 2 starts
    await new Promise((r) => setTimeout(r, 80)); // longer than waitMs
    s.invalidate(); // write 2, while build 2 runs
    gates.shift()!(); // build 2 (holds write 1) ends; build 3 starts for write 2
    await new Promise((r) => setTimeout(r, 0));
    const page = s.current(); // owed write 2, announced 0 ms ago: waits for build 3
    setTimeout(() => gates.shift()!(), 10);
    expect(await page).toMatchObject({ data: { n: 3 }, staleSince: null });
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

  it('when the very first build began before a write, a request made after the write waits for data holding it', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    let written = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let builds = 0;
    const s = new Snapshot(async () => {
      const seen = written; // what the database holds when the build reads it
      if (builds++ === 0) await gate;
      return { n: seen };
    }, { clock, waitMs: 5_000 });
    s.invalidate(); // the first build starts, and reads before the write below
    written = 1;
    s.invalidate(); // the write, announced while the first build runs
    const request = s.current();
    release();
    const state = await request;
    expect(state.data).toEqual({ n: 1 });
    expect(state.staleSince).toBeNull();
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

  it('when a write is not in the data by waitMs after it was announced, the data served is marked stale, never fresh', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    let hang = false;
    const s = new Snapshot(async () => (hang ? new Promise<{ n: number }>(() => {}) : { n: 1 }), { clock, waitMs: 30 });
    expect((await s.current()).staleSince).toBeNull();
    hang = true;
    s.invalidate('write');
    const served = await s.current();
    expect(served.data).toEqual({ n: 1 });
    expect(served.staleSince?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('when a rebuild has already outlived the wait for a write, later requests do not wait on it again', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    let hang = false;
    const s = new Snapshot(async () => (hang ? new Promise<{ n: number }>(() => {}) : { n: 1 }), { clock, waitMs: 100 });
    await s.current();
    hang = true;
    s.invalidate('write');
    await s.current(); // waits out the 100 ms
    const started = performance.now();
    for (let i = 0; i < 5; i++) expect((await s.current()).staleSince).not.toBeNull();
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('when notifications may have been missed (a gap), a rebuild starts but nobody waits for it', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    let builds = 0;
    let hang = false;
    const s = new Snapshot(async () => {
      builds++;
      return hang ? new Promise<{ n: number }>(() => {}) : { n: builds };
    }, { clock, waitMs: 5_000 });
    await s.current();
    hang = true;
    s.invalidate('gap');
    expect(builds).toBe(2); // started at once
    const started = performance.now();
    const served = await s.current();
    expect(performance.now() - started).toBeLessThan(50);
    expect(served.data).toEqual({ n: 1 });
  });

  it('when a rebuild hangs past buildTimeoutMs, it counts as failed and its late result is dropped', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    let release: ((v: { n: number }) => void) | undefined;
    let first = true;
    const s = new Snapshot(async () => {
      if (first) {
        first = false;
        return { n: 1 };
      }
      return new Promise<{ n: number }>((r) => (release = r));
    }, { clock, waitMs: 10, buildTimeoutMs: 40 });
    await s.current();
    s.invalidate('write');
    await new Promise((r) => setTimeout(r, 80));
    expect(s.failingSince).not.toBeNull();
    expect(String(s.lastError)).toMatch(/not rebuilt within 40 ms/);
    release!({ n: 99 });
    await new Promise((r) => setTimeout(r, 10));
    expect((await s.current()).data).toEqual({ n: 1 });
  });

  it('when rebuilds keep failing, retries back off exponentially up to maxRetryMs', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const c = counter();
    const s = new Snapshot(c.build, { clock, retryMs: 1_000, maxRetryMs: 4_000 });
    await s.current();
    c.setFail(true);
    s.invalidate('gap');
    await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    // After failure k the next retry is due between 0.5 and 1 × min(4000, 1000 × 2^(k-1)) ms.
    const gaps: number[] = [];
    for (let k = 1; k <= 5; k++) {
      const before = c.builds;
      let waited = 0;
      while (c.builds === before) {
        clock.advance(100);
        waited += 100;
        await s.current();
        await new Promise((r) => setTimeout(r, 0));
        if (waited > 10_000) throw new Error('no retry within 10 s of clock time');
      }
      gaps.push(waited);
    }
    const ceilings = [1_000, 2_000, 4_000, 4_000, 4_000];
    gaps.forEach((g, i) => {
      expect(g).toBeGreaterThanOrEqual(ceilings[i]! / 2);
      expect(g).toBeLessThanOrEqual(ceilings[i]! + 100);
    });
  });

  it('when writers and readers interleave, every read that starts after a write was acknowledged sees it', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    // The "database": a committed counter; reading it takes a random while, and sees commits
    // made before the read reaches it (as a query does).
    let committed = 0;
    const jitter = () => new Promise((r) => setTimeout(r, Math.random() * 3));
    const s = new Snapshot(async () => {
      await jitter();
      const seen = committed;
      await jitter();
      return seen;
    }, { clock, maxAgeMs: 0 });
    await s.current();
    const violations: string[] = [];
    const writer = async () => {
      for (let i = 0; i < 40; i++) {
        await jitter();
        const mine = ++committed; // commit
        s.invalidate('write'); // the write path announces before it answers
        await jitter();
        const read = await s.current(); // a read that starts after the acknowledgement
        if (read.data < mine && read.staleSince === null) violations.push(`write ${mine} acknowledged, read fresh ${read.data}`);
        if (read.data < mine) violations.push(`write ${mine} missing (stale) on a healthy database`);
      }
    };
    const reader = async () => {
      for (let i = 0; i < 80; i++) {
        const acknowledged = committed;
        const read = await s.current();
        if (read.data < acknowledged) violations.push(`read after ${acknowledged} acknowledged got ${read.data}`);
        await jitter();
      }
    };
    await Promise.all([writer(), writer(), writer(), reader(), reader(), reader(), reader()]);
    expect(violations).toEqual([]);
  });
  it('when the data a page fetches for a new version is slow, visitors get the last page made within renderWaitMs, marked stale, and the new one once it is there', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const c = counter();
    const s = new Snapshot(c.build, { clock, renderWaitMs: 30 });
    let finish!: (v: string) => void;
    let fetch = async () => 'v1';
    const make = async (state: Parameters<Parameters<typeof s.rendered>[1]>[0]) => {
      const text = await s.remember('data', state, () => fetch());
      return { body: new TextEncoder().encode(text), type: 'text/plain', status: 200, etag: `"${text}"` };
    };
    await s.rendered('k', make);
    s.invalidate('write');
    fetch = () => new Promise<string>((r) => (finish = r));
    const started = performance.now();
    const during = await s.rendered('k', make);
    expect(performance.now() - started).toBeLessThan(500);
    expect(new TextDecoder().decode(during.rendered.body)).toBe('v1');
    expect(during.state.staleSince).not.toBeNull();
    finish('v2');
    await new Promise((r) => setTimeout(r, 0));
    const after = await s.rendered('k', make);
    expect(new TextDecoder().decode(after.rendered.body)).toBe('v2');
    expect(after.state.staleSince).toBeNull();
  });

  it('when one visitor has already waited out renderWaitMs for slow data, the next ones get the last page made at once', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const c = counter();
    const s = new Snapshot(c.build, { clock, renderWaitMs: 50 });
    let fetch = async () => 'v1';
    let fetches = 0;
    const make = async (state: Parameters<Parameters<typeof s.rendered>[1]>[0]) => {
      const text = await s.remember('data', state, () => {
        fetches++;
        return fetch();
      });
      return { body: new TextEncoder().encode(text), type: 'text/plain', status: 200, etag: `"${text}"` };
    };
    await s.rendered('k', make);
    s.invalidate('write');
    fetch = () => new Promise<string>(() => {});
    await s.rendered('k', make); // waits the 50 ms
    const started = performance.now();
    for (let i = 0; i < 5; i++) {
      const r = await s.rendered('k', make);
      expect(new TextDecoder().decode(r.rendered.body)).toBe('v1');
      expect(r.state.staleSince).not.toBeNull();
    }
    expect(performance.now() - started).toBeLessThan(40);
    expect(fetches).toBe(2); // one for v1, one (still hanging) for the new version
  });

  it('when a page is slow to make on a busy machine but needs no database, visitors wait for it: a write is never hidden by a slow render', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const c = counter();
    const s = new Snapshot(c.build, { clock, renderWaitMs: 10 });
    const page = (text: string) => ({ body: new TextEncoder().encode(text), type: 'text/plain', status: 200, etag: `"${text}"` });
    await s.rendered('k', async (state) => page(`n${state.data.n}`));
    s.invalidate('write');
    const r = await s.rendered('k', async (state) => {
      await new Promise((done) => setTimeout(done, 60));
      return page(`n${state.data.n}`);
    });
    expect(new TextDecoder().decode(r.rendered.body)).toBe('n2');
    expect(r.state.staleSince).toBeNull();
  });

  describe('restored from data an earlier process built', () => {
    it('serves it at once, stale since it was built, and the first request starts the rebuild that replaces it with fresh data', async () => {
      const clock = fixedClock('2026-01-01T00:10:00Z');
      const c = counter();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const s = new Snapshot(async () => {
        await gate;
        return c.build();
      }, { clock });
      const builtAt = new Date('2026-01-01T00:00:00Z');
      s.restore({ n: 0 }, builtAt);
      const first = await s.current();
      expect(first.data).toEqual({ n: 0 });
      expect(first.staleSince).toEqual(builtAt);
      expect(c.builds).toBe(0); // not waited for: the build is held at the gate
      release();
      await s.refresh();
      const next = await s.current();
      expect(next.data).toEqual({ n: 1 });
      expect(next.staleSince).toBeNull();
      expect(next.version).toBeGreaterThan(first.version);
    });

    it('keeps serving it, still stale since it was built, while rebuilds fail', async () => {
      const clock = fixedClock('2026-01-01T00:10:00Z');
      const c = counter();
      c.setFail(true);
      const s = new Snapshot(c.build, { clock, retryMs: 0 });
      const builtAt = new Date('2026-01-01T00:00:00Z');
      s.restore({ n: 0 }, builtAt);
      expect(await s.refresh()).toBe(false);
      for (let i = 0; i < 3; i++) {
        const state = await s.current();
        expect(state.data).toEqual({ n: 0 });
        expect(state.staleSince).toEqual(builtAt);
      }
      expect(c.builds).toBeGreaterThanOrEqual(1);
    });

    it('is ignored once data has been built, and each build is told to onBuilt', async () => {
      const clock = fixedClock('2026-01-01T00:10:00Z');
      const c = counter();
      const told: unknown[] = [];
      const s = new Snapshot(c.build, { clock, onBuilt: (state) => told.push(state.data) });
      await s.current();
      s.restore({ n: 0 }, new Date('2026-01-01T00:00:00Z'));
      const state = await s.current();
      expect(state.data).toEqual({ n: 1 });
      expect(state.staleSince).toBeNull();
      s.invalidate();
      await s.current();
      expect(told).toEqual([{ n: 1 }, { n: 2 }]);
    });
  });
});
