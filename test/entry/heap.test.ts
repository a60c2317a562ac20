import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const HEAP = fileURLToPath(new URL('../../src/entry/heap.ts', import.meta.url));

/**
 * A fresh node process that churns through short-lived objects with some survivors, a little per
 * task as a server's request handlers do (the cap is applied after a collection, between tasks),
 * and prints the largest new space it saw. `cap`: capYoungGeneration(cap) first; none: V8 as it comes.
 */
function largestNewSpace(cap: number | null): number {
  const script = `
    import v8 from 'node:v8';
    ${cap === null ? '' : `const { capYoungGeneration } = await import(${JSON.stringify(HEAP)}); capYoungGeneration(${cap});`}
    const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    let largest = newSpace();
    let kept = [];
    for (let batch = 0; batch < 3000; batch++) {
      for (let i = 0; i < 1000; i++) {
        kept.push({ at: i, text: 'request ' + i + ' of batch ' + batch });
        if (kept.length > 60000) kept = kept.slice(30000);
      }
      largest = Math.max(largest, newSpace());
      await new Promise((resolve) => setImmediate(resolve));
    }
    process.stdout.write(String(largest));
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(run.stderr);
  return Number(run.stdout);
}

describe('capYoungGeneration', () => {
  it('lets new space grow under churn up to the cap and no further, where V8 alone grows it past', () => {
    const MB = 1024 * 1024;
    const alone = largestNewSpace(null);
    const capped = largestNewSpace(8 * MB);
    expect(alone).toBeGreaterThan(8 * MB);
    expect(capped).toBeLessThanOrEqual(8 * MB);
    expect(capped).toBeGreaterThanOrEqual(4 * MB);
  });
});
