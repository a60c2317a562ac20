import type { Context } from 'hono';
import type { Rendered, Snapshot, SnapshotState } from '../cache/snapshot.ts';
import type { PublicData } from '../services/public-data.ts';

/** Compresses a body; given by the runtime (node:zlib on Node). Absent: bodies go uncompressed. */
export type Compressor = (data: Uint8Array, encoding: 'br' | 'gzip') => Promise<Uint8Array>;

export type PublicSnapshot = Snapshot<PublicData>;

export interface Made {
  readonly body: string;
  readonly type: string;
  readonly status?: number;
}

/**
 * Shared caches may keep a page briefly, serve it while refetching, and keep serving it for a day
 * if Herald errors: a status page must stay up when its origin is struggling.
 */
export const PUBLIC_CACHE_CONTROL = 'public, max-age=5, stale-while-revalidate=30, stale-if-error=86400';

async function etagOf(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return `"${Array.from(digest.slice(0, 16), (b) => b.toString(16).padStart(2, '0')).join('')}"`;
}

/**
 * Loads and compiles, ahead of the first visitor, what making a response would otherwise do on
 * the visitor's time: WebCrypto (loaded on first use), the compressors, and whatever makes
 * `sample` (the page layout, the Markdown renderer). Nothing is cached or served from it.
 */
export async function warmRendering(sample: () => string, compress?: Compressor): Promise<void> {
  const body = new TextEncoder().encode(sample());
  await Promise.all([etagOf(body), compress?.(body, 'br'), compress?.(body, 'gzip')]);
}

/**
 * A strong ETag names one sequence of bytes, so each coding of a body has its own: the identity
 * body's hash, and that hash with the coding appended for the compressed forms. Derived from the
 * identity hash (not hashed again), so it costs nothing per request, is known before the body is
 * compressed (a 304 never compresses), and instances agree on it. That rests on one compressor
 * giving one output for one input, as node:zlib does for a given Node build.
 */
export function etagFor(identity: string, encoding: 'br' | 'gzip' | undefined): string {
  return encoding ? `${identity.slice(0, -1)}-${encoding}"` : identity;
}

export function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

export function pickEncoding(accept: string | undefined, compress: Compressor | undefined): 'br' | 'gzip' | undefined {
  if (!compress || !accept) return undefined;
  const offered = new Map<string, number>();
  for (const part of accept.toLowerCase().split(',')) {
    const [name = '', ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)?.[1]).find(Boolean);
    offered.set(name.trim(), q === undefined ? 1 : Number(q));
  }
  const ok = (e: string) => (offered.get(e) ?? offered.get('*') ?? 0) > 0;
  return ok('br') ? 'br' : ok('gzip') ? 'gzip' : undefined;
}

/** Bodies this small go uncompressed: the coding would cost more than it saves. */
export const COMPRESS_ABOVE_BYTES = 512;

/** The coding a request gets for `rendered`, given its Accept-Encoding. */
export function encodingFor(rendered: Rendered, acceptEncoding: string | undefined, compress: Compressor | undefined): 'br' | 'gzip' | undefined {
  return rendered.body.byteLength > COMPRESS_ABOVE_BYTES ? pickEncoding(acceptEncoding, compress) : undefined;
}

/**
 * What `sendCached` answered a request with, by request: the Node fast path
 * (src/entry/fast-path.ts) records it with the final headers and replays it while it is current.
 */
export interface CachedAnswer {
  readonly key: string;
  readonly rendered: Rendered;
  readonly staleSince: Date | null;
  readonly encoding: 'br' | 'gzip' | undefined;
  readonly notModified: boolean;
  /** The bytes sent (encoded when `encoding` is set); empty for a 304. */
  readonly body: Uint8Array;
}
export const cachedAnswers = new WeakMap<Request, CachedAnswer>();

/** Takes each cached answer with the final response the app made of it (Node's fast path). */
export interface AnswerRecorder {
  attach(snapshot: PublicSnapshot): void;
  /** `env` is the runtime's (on Node, @hono/node-server's `{ incoming, outgoing }`). */
  record(env: unknown, answer: CachedAnswer, res: Response): void;
}

/**
 * Serves a public GET from the snapshot: the body is made once per snapshot version and key,
 * compressed once per encoding, and answered with a strong ETag per encoding (304 when
 * If-None-Match holds the ETag of the representation this request would get).
 */
export async function sendCached(
  c: Context,
  snapshot: PublicSnapshot,
  key: string,
  make: (state: SnapshotState<PublicData>) => Promise<Made> | Made,
  compress?: Compressor,
): Promise<Response> {
  const { rendered, state } = await snapshot.rendered(key, async (s) => {
    const made = await make(s);
    const body = new TextEncoder().encode(made.body);
    return { body, type: made.type, status: made.status ?? 200, etag: await etagOf(body) };
  });
  const encoding = encodingFor(rendered, c.req.header('accept-encoding'), compress);
  const etag = etagFor(rendered.etag, encoding);
  const headers = new Headers({
    'Content-Type': rendered.type,
    ETag: etag,
    'Cache-Control': rendered.status === 200 ? PUBLIC_CACHE_CONTROL : 'public, max-age=5',
    Vary: 'Accept-Encoding',
    'X-Herald-Snapshot': state.staleSince ? `stale; since=${state.staleSince.toISOString()}` : 'fresh',
  });
  if (rendered.status === 200 && matches(c.req.header('if-none-match'), etag)) {
    headers.delete('Content-Type');
    cachedAnswers.set(c.req.raw, { key, rendered, staleSince: state.staleSince, encoding, notModified: true, body: new Uint8Array(0) });
    return new Response(null, { status: 304, headers });
  }
  let body: Uint8Array = rendered.body;
  if (encoding && compress) {
    let encoded = rendered.encoded.get(encoding);
    if (!encoded) {
      encoded = compress(rendered.body, encoding);
      (rendered as Rendered).encoded.set(encoding, encoded);
    }
    body = await encoded;
    headers.set('Content-Encoding', encoding);
  }
  headers.set('Content-Length', String(body.byteLength));
  cachedAnswers.set(c.req.raw, { key, rendered, staleSince: state.staleSince, encoding, notModified: false, body });
  return new Response(c.req.method === 'HEAD' ? null : (body as Uint8Array<ArrayBuffer>), { status: rendered.status, headers });
}
