/** HTTP as the benchmarks speak it: GETs that keep the bytes as sent, and calls to Herald's API. */
import http from 'node:http';

export interface RawResponse {
  readonly status: number;
  /** Header name/value pairs exactly as received. */
  readonly headers: readonly [string, string][];
  readonly body: Buffer;
  readonly ms: number;
}

/**
 * A GET that keeps the bytes as sent (no decompression, unlike fetch), on a new connection
 * unless an `agent` is given (a keep-alive one, to poll without reconnecting).
 */
export function rawGet(url: string, headers: Record<string, string> = {}, agent?: http.Agent): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(url, { headers, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const pairs: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
        resolve({ status: res.statusCode ?? 0, headers: pairs, body: Buffer.concat(chunks), ms: performance.now() - started });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

export const header = (r: RawResponse, name: string) => r.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

/** A call to Herald's API with a token; `json` is the parsed body (or its text when it is not JSON). */
export async function apiRequest(method: string, url: string, token: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** The same call, its parsed body returned; throws unless it answered 2xx. */
export async function jsonRequest(method: string, url: string, token: string, body?: unknown): Promise<any> {
  const { status, json } = await apiRequest(method, url, token, body);
  if (status < 200 || status > 299) throw new Error(`${method} ${url} → ${status}: ${typeof json === 'string' ? json : JSON.stringify(json)}`);
  return json;
}
