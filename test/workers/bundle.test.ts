/**
 * The Worker bundle, as `wrangler deploy --dry-run` makes it (offline, nothing uploaded): no
 * filesystem, no code generation from strings, and a size kept in check.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('bundles for Workers without fs, eval or new Function, under 500 KiB gzip', async () => {
  const outdir = await mkdtemp(join(tmpdir(), 'herald-worker-bundle-'));
  try {
    const run = spawnSync(process.execPath, [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', CI: 'true' },
      timeout: 60_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const text = await readFile(join(outdir, 'worker.js'), 'utf8');
    expect(text).not.toMatch(/(from|require\()\s*["'](node:)?fs(\/promises)?["']/);
    expect(text).not.toMatch(/\bnew Function\s*\(/);
    expect(text).not.toMatch(/(^|[^\w.$])eval\s*\(/m);
    expect(gzipSync(text).length).toBeLessThan(500 * 1024);
    expect((await readdir(outdir)).filter((f) => f.endsWith('.js'))).toEqual(['worker.js']);
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}, 60_000);
