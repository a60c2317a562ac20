/**
 * `npm run build:worker`: bundles the Worker offline (`wrangler deploy --dry-run`, nothing is
 * uploaded), then checks the bundle: no node:fs, no eval / new Function, and prints its size.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const outdir = 'dist/worker';
const result = spawnSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir], {
  stdio: 'inherit',
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_API_TOKEN: process.env.CLOUDFLARE_API_TOKEN ?? '' },
});
if (result.status !== 0) process.exit(result.status ?? 1);

const files = readdirSync(outdir).filter((f) => /\.(m?js)$/.test(f));
let raw = 0;
let gz = 0;
const problems: string[] = [];
for (const f of files) {
  const text = readFileSync(join(outdir, f), 'utf8');
  raw += statSync(join(outdir, f)).size;
  gz += gzipSync(text, { level: 9 }).length;
  if (/(from|require\()\s*["'](node:)?fs(\/promises)?["']/.test(text)) problems.push(`${f} imports node:fs`);
  if (/\bnew Function\s*\(/.test(text)) problems.push(`${f} contains new Function(`);
  if (/(^|[^\w.$])eval\s*\(/.test(text)) problems.push(`${f} contains eval(`);
}
console.log(`worker bundle: ${files.join(', ')}: ${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzip`);
if (problems.length) {
  console.error(`worker bundle problems:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
