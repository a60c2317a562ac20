import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/throwaway-postgres.ts';
import { cpuTicks, exitedWithin, startHerald, stopChild } from '../support/process.ts';

// `npm start` keeps its data under ./data, relative to where it was started. If that directory
// is deleted while the server runs (an old checkout removed, a volume gone), the server may lose
// what it writes there, but it must not spin, and SIGTERM must still end it.

let child: ChildProcess | undefined;
const dirs: string[] = [];
afterEach(async () => {
  if (child) await stopChild(child, 'SIGKILL');
  child = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('when the directory herald serve was started in is deleted under it', () => {
  it('it does not spin writing its public data there, and SIGTERM still ends it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'herald-deleted-cwd-'));
    dirs.push(cwd);
    const herald = await startHerald({ PORT: String(await freePort()) }, { cwd });
    child = herald.child;
    rmSync(cwd, { recursive: true, force: true });

    // /readyz rebuilds the public data, which is then kept on disk under ./data.
    await fetch(`${herald.url}/readyz`, { signal: AbortSignal.timeout(5000) });
    await new Promise((r) => setTimeout(r, 1500));
    const before = cpuTicks(herald.child.pid!);
    await new Promise((r) => setTimeout(r, 1000));
    expect(cpuTicks(herald.child.pid!) - before).toBeLessThan(50);

    herald.child.kill('SIGTERM');
    expect(await exitedWithin(herald.child, 10_000)).not.toBe('still running');
  });
});
