import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/**
 * `herald serve`'s heap settings, made at run time (no flag on its command line needed).
 *
 * V8's defaults grow the old generation by large steps under a burst of writes (a factor of up to
 * 4 after each mark-compact) and keep the pages. `--heap-growing-percent` fixes that factor
 * instead: each step is OLD_GENERATION_GROWING_PERCENT % of what survived. It used to be
 * `--optimize-for-size`, which grows the heap by small steps too, but also trades speed for size
 * elsewhere. Three embedded servers seeded alike (npm run bench's seed), then 4 cached routes with
 * and without compression under 50 connections, twice, taking turns (2026-12-02): CPU per request
 * 123 µs with optimize-for-size, 108 µs with heap-growing-percent=20, 116 µs with V8's defaults;
 * peak RSS 171, 173 and 239 MB.
 * The young generation is capped besides (capYoungGeneration).
 */
export function leanHeap(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWING_PERCENT}`);
  capYoungGeneration(YOUNG_GENERATION_CAP_BYTES);
}

/** How much the old generation may grow after a mark-compact, in % of what survived it. */
const OLD_GENERATION_GROWING_PERCENT = 20;

/** Where the young generation stops growing (new space, both semi-spaces): see capYoungGeneration. */
export const YOUNG_GENERATION_CAP_BYTES = 16 * 1024 * 1024;

/**
 * Under sustained load V8 doubles the young generation after scavenges until it reaches its
 * maximum (32 MB of new space on 64-bit), and keeps it. The flag that sets that maximum
 * (`--max-semi-space-size`) is only read when the process starts, so it would have to be on
 * every command line that runs `herald serve`. The growth factor, though, is read at each growth:
 * after every collection (its performance entry, observed between tasks) it is set to 1 (no
 * growth) while new space is at `cap` or above, and to V8's 2 below it, so new space still grows
 * to `cap` under load and shrinks when idle, but stops there. (A single task allocating many
 * megabytes could grow it one step past before the observer runs; request handlers do not.)
 * Measured on Postgres (the bench's seeding, then every cached route under load; 2026-12-01): new
 * space 32 MB without the cap, 16 MB with it, and ~16 MB less peak RSS. An 8 MB cap saved 8 MB more
 * but cost ~5 µs of CPU per cached request (scavenging twice as often); at 16 MB the difference
 * was within the noise. Held at its first size (the factor 1 from the start), it costs 3-5 µs
 * more again, the price of scavenging every megabyte.
 */
export function capYoungGeneration(cap: number): void {
  let frozen = false;
  const observer = new PerformanceObserver(() => {
    const atCap = (v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) >= cap;
    if (atCap === frozen) return;
    frozen = atCap;
    v8.setFlagsFromString(`--semi-space-growth-factor=${atCap ? 1 : 2}`);
  });
  observer.observe({ entryTypes: ['gc'] });
}
