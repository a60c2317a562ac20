/**
 * The bare sender that `npm run bench:deliver` compares Herald's dispatcher with: it POSTs
 * recorded webhook requests to their receivers with no database behind it, sending the way
 * Herald's Node sender does (a socket of its own per request, `Connection: close`, the vetted
 * address already known) and as many subscriptions at once as the dispatcher (PARALLEL = 16),
 * each subscription's messages in order.
 *
 * Runnable on its own: node --import tsx scripts/bench/bare-sender.ts <requests.json> [parallel]
 * where requests.json is a list per subscription of { url, headers, body }. It prints one JSON
 * line: when it began and ended (epoch ms, performance.timeOrigin + now(), the receiver's clock
 * too), how many requests failed and the CPU time it spent sending (ms).
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { pathToFileURL } from 'node:url';

export interface RecordedRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function post(r: RecordedRequest): Promise<boolean> {
  const body = Buffer.from(r.body, 'utf8');
  return new Promise((resolve) => {
    const req = http.request(r.url, { method: 'POST', agent: false, headers: { ...r.headers, 'content-length': String(body.length), connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
      res.on('error', () => resolve(false));
    });
    req.on('error', () => resolve(false));
    req.end(body);
  });
}

async function bareSender(file: string, parallel: number): Promise<void> {
  const subscriptions = JSON.parse(await readFile(file, 'utf8')) as RecordedRequest[][];
  const now = () => performance.timeOrigin + performance.now();
  let next = 0;
  let failed = 0;
  const startedAt = now();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < subscriptions.length) {
        for (const r of subscriptions[next++]!) {
          // Like the dispatcher: a failure stops that subscription's queue.
          if (!(await post(r))) {
            failed++;
            break;
          }
        }
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`${JSON.stringify({ startedAt, endedAt: now(), failed, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  await bareSender(process.argv[2]!, Number(process.argv[3] ?? 16));
}
