/** How the benchmarks print: lines, aligned tables, figures, percentiles, and the machine they ran on. */
import os from 'node:os';

export const say = (line = '') => process.stdout.write(`${line}\n`);

/** Columns padded to their widest cell; by default the first is left-aligned and the rest right-aligned. */
export function table(head: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const pad = (s: string, i: number) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? s.padEnd(widths[i]!) : s.padStart(widths[i]!));
  const line = (cells: readonly string[]) => cells.map((c, i) => pad(c, i)).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Three significant figures or so: 123, 45.6, 7.89. */
export const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
export const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
export const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
export const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** The nearest-rank percentile `p` of ascending values (NaN when there are none). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** What else is running: a benchmark on a shared 2-core machine must say how loaded it was. */
export function machineLine(): string {
  const [l1, l5] = os.loadavg();
  return `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? '?'}), load average ${l1!.toFixed(2)} / ${l5!.toFixed(2)} (1 / 5 min), node ${process.version}`;
}
