/**
 * `npm run bench:start`: how fast `herald serve` starts on the embedded database (first start on
 * a fresh data dir, restart; `npm start` and `node bin/herald.js serve`) and its RSS then; see
 * scripts/bench/startup.ts. Knobs: BENCH_RUNS (5), BENCH_BURST (400 GETs). Exits 0 when a target
 * is missed (that is a result); non-zero only when the benchmark itself failed.
 */
import { killChildrenOnSignals } from './bench/processes.ts';
import { say } from './bench/report.ts';
import { benchStartup } from './bench/startup.ts';

killChildrenOnSignals();
const result = await benchStartup({
  runs: Number(process.env.BENCH_RUNS ?? 5),
  burst: Number(process.env.BENCH_BURST ?? 400),
  progress: (line) => process.stderr.write(`${line}\n`),
});
say(result.table);
