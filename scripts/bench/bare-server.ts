/**
 * The bare node:http server that benchmarks Herald against: it replays responses recorded from
 * Herald, byte for byte but for what node:http adds itself (Date, Connection, …).
 *
 * Runnable on its own: node --import tsx scripts/bench/bare-server.ts <fixtures.json> <port>
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startNode, type Child } from './processes.ts';

/** One recorded response: replayed for requests to `path` whose Accept-Encoding is `acceptEncoding`. */
export interface Fixture {
  readonly path: string;
  readonly acceptEncoding: string;
  readonly status: number;
  readonly headers: readonly [string, string][];
  /** base64 */
  readonly body: string;
}

/** Headers node:http adds by itself on every response; everything else is replayed as recorded. */
const NODE_ADDS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

export function replayable(headers: readonly [string, string][]): [string, string][] {
  return headers.filter(([k]) => !NODE_ADDS.has(k.toLowerCase()));
}

/** The bare server in its own process, replaying the recorded responses in `fixturesFile`. */
export function startBare(fixturesFile: string, port: number): Promise<Child> {
  const self = fileURLToPath(import.meta.url);
  return startNode('bare server', ['--import', 'tsx', self, fixturesFile, String(port)], {}, { on: 'both', when: /listening/, port, timeoutSeconds: 30 });
}

async function bareServer(fixturesFile: string, port: number): Promise<void> {
  const fixtures = JSON.parse(await readFile(fixturesFile, 'utf8')) as Fixture[];
  const table = new Map<string, { status: number; headers: string[]; body: Buffer }>();
  for (const f of fixtures) {
    table.set(`${f.path}\n${f.acceptEncoding}`, { status: f.status, headers: replayable(f.headers).flat(), body: Buffer.from(f.body, 'base64') });
  }
  const server = http.createServer((req, res) => {
    const hit = table.get(`${req.url}\n${req.headers['accept-encoding'] ?? ''}`);
    if (!hit) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no fixture');
      return;
    }
    res.writeHead(hit.status, hit.headers);
    res.end(hit.body);
  });
  // Same keep-alive behaviour as @hono/node-server (node:http defaults).
  server.listen(port, '127.0.0.1', () => process.stdout.write(`bare server listening on ${port}\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  await bareServer(process.argv[2]!, Number(process.argv[3]));
}
