/** CPU profiles (V8 .cpuprofile, or the inspector's Profiler.stop) read as self time by category and by function. */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const CATEGORIES: [RegExp, string][] = [
  [/node_modules\/(pg|pg-protocol|pg-types|postgres-date|postgres-array|postgres-interval|postgres-bytea|pg-pool)\//, 'pg driver (protocol, row and type parsing)'],
  [/node_modules\/@electric-sql\/pglite\//, 'PGlite (embedded Postgres, WASM)'],
  [/node_modules\/kysely\//, 'kysely'],
  [/node_modules\/marked\//, 'marked (Markdown)'],
  [/node_modules\/(xss|cssfilter)\//, 'xss (sanitizer)'],
  [/node_modules\/@hono\/node-server\//, '@hono/node-server (Request/Response ↔ node:http)'],
  [/node_modules\/hono\/dist\/.*(middleware|secure-headers|cors)/, 'hono middleware (secureHeaders, cors, …)'],
  [/node_modules\/hono\/dist\/.*jsx/, 'hono/jsx (render)'],
  [/node_modules\/hono\//, 'hono (routing, context)'],
  [/node_modules\/tsx\//, 'tsx (loader)'],
  [/\/src\/domain\//, 'src/domain (segments, bars, replay)'],
  [/\/src\/services\//, 'src/services (read model)'],
  [/\/src\/cache\//, 'src/cache (snapshot)'],
  [/\/src\/routes\//, 'src/routes (view models, sendCached)'],
  [/\/src\//, 'src (other)'],
  [/\/templates\//, 'templates'],
  [/^node:/, 'node internals (http, streams, buffers, timers)'],
  [/^$/, 'V8 builtins / native'],
];

const maps = new Map<string, SourceMap | undefined>();

/**
 * `herald serve` runs the bundles in dist/: a frame there is named by the source it came from
 * (its .js.map, which bin/build.js writes), so that it falls in the categories above.
 */
function original(frame: { url: string; lineNumber: number; columnNumber?: number }): { url: string; lineNumber: number } {
  if (!/\/dist\/[^/]+\.js$/.test(frame.url)) return frame;
  if (!maps.has(frame.url)) {
    try {
      maps.set(frame.url, new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(frame.url)}.map`, 'utf8'))));
    } catch {
      maps.set(frame.url, undefined);
    }
  }
  const entry = maps.get(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber ?? 0);
  if (!entry || !('originalSource' in entry)) return frame;
  return { url: new URL(entry.originalSource, frame.url).href, lineNumber: entry.originalLine };
}

export interface ProfileSummary {
  /** Sampled time in the window, ms. */
  readonly totalMs: number;
  readonly categories: readonly [string, number][];
  readonly top: readonly [string, number][];
}

/**
 * Self time by category and by function, divided by `per` (e.g. pages or requests), for the
 * samples whose time (µs, the profile's clock) falls in [from, to].
 */
export function summarizeProfile(profile: CpuProfile, per = 1, window?: { from: number; to: number }): ProfileSummary {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = profile.startTime;
  let total = 0;
  profile.samples.forEach((id, i) => {
    const d = profile.timeDeltas[i] ?? 0;
    t += d;
    if (window && (t < window.from || t > window.to)) return;
    self.set(id, (self.get(id) ?? 0) + d / 1000);
    total += d / 1000;
  });
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, msSelf] of self) {
    const { functionName } = byNode.get(id)!.callFrame;
    const { url, lineNumber } = original(byNode.get(id)!.callFrame);
    const special = /^\((idle|program|garbage collector|root)\)$/.test(functionName);
    // An in-process Profiler.stop runs (and is sampled) in "dispatch", the inspector's native entry point.
    const profiler = functionName === 'dispatch' && !url;
    const category = profiler
      ? '(the profiler itself)'
      : special
        ? functionName === '(idle)'
          ? '(idle: waiting for I/O)'
          : functionName
        : (CATEGORIES.find(([re]) => re.test(url))?.[1] ?? 'other JS');
    categories.set(category, (categories.get(category) ?? 0) + msSelf / per);
    const where = url ? `${url.replace(/^.*\/(node_modules\/(@[^/]+\/)?[^/]+|src|templates)\//, '$1/').replace(/^file:\/\//, '')}:${lineNumber + 1}` : '';
    const key = profiler ? '(the profiler itself)' : `${functionName || '(anonymous)'} ${where}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + msSelf / per);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: total,
    categories: sorted(categories),
    top: sorted(functions)
      .filter(([k]) => !/^\((idle|program|root|the profiler itself)\)/.test(k))
      .slice(0, 15),
  };
}
