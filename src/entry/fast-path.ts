import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Rendered } from '../cache/snapshot.ts';
import { COMPRESS_ABOVE_BYTES, etagFor, matches, pickEncoding, type AnswerRecorder, type CachedAnswer, type Compressor, type PublicSnapshot } from '../routes/cached.ts';

/** One response as the Hono app sent it: status, final headers (flat, as writeHead takes them), bytes. */
interface Recorded {
  readonly status: number;
  readonly headers: readonly string[];
  readonly body: Uint8Array;
}

/** What one URL answered from one rendered response: a recording per coding and per 304. */
interface Page {
  readonly key: string;
  readonly rendered: Rendered;
  readonly staleSince: number | null;
  readonly recorded: Map<string, Recorded>;
}

const variant = (encoding: 'br' | 'gzip' | undefined, notModified: boolean) => (notModified ? `${encoding ?? ''}:304` : (encoding ?? ''));

/**
 * Answers snapshot hits on Node before any Request object exists.
 *
 * The Hono app stays the only thing that decides what a response is: each time `sendCached`
 * answers a request, the app hands the answer and its final Response (after every middleware:
 * security headers, CORS, Cache-Control) to `record`, keyed by the request's raw URL. A later
 * GET/HEAD for that URL is answered here, with the recorded status, headers and bytes, as long as
 * the snapshot still holds that very rendered response (`Snapshot.peek`: same version, same
 * staleness, no write being waited for). Everything else (a new version, a coding or a 304 not
 * recorded yet, a write pending, any other method or path) falls through to the app, which
 * records what it answers. So the fast path can only repeat the app, never decide differently.
 */
export class FastPath implements AnswerRecorder {
  #snapshot: PublicSnapshot | undefined;
  readonly #pages = new Map<string, Page>();
  /** Accept-Encoding header → the coding it picks (a handful of distinct values in practice). */
  readonly #codings = new Map<string, 'br' | 'gzip' | undefined>();
  readonly #compress: Compressor | undefined;
  readonly #maxUrls: number;
  /** How many requests were answered here (tests and benchmarks read it). */
  served = 0;

  constructor(compress: Compressor | undefined, options: { maxUrls?: number } = {}) {
    this.#compress = compress;
    this.#maxUrls = options.maxUrls ?? 1_000;
  }

  attach(snapshot: PublicSnapshot): void {
    this.#snapshot = snapshot;
  }

  record(env: unknown, answer: CachedAnswer, res: Response): void {
    const url = (env as { incoming?: IncomingMessage } | undefined)?.incoming?.url;
    if (!url || res.headers.has('set-cookie')) return;
    const staleSince = answer.staleSince?.getTime() ?? null;
    let page = this.#pages.get(url);
    if (!page || page.rendered !== answer.rendered || page.staleSince !== staleSince || page.key !== answer.key) {
      page = { key: answer.key, rendered: answer.rendered, staleSince, recorded: new Map() };
      // Newest last; past the cap the oldest URL goes (query strings make URLs unbounded).
      this.#pages.delete(url);
      this.#pages.set(url, page);
      if (this.#pages.size > this.#maxUrls) this.#pages.delete(this.#pages.keys().next().value!);
    }
    const headers: string[] = [];
    for (const [name, value] of res.headers) headers.push(name, value);
    page.recorded.set(variant(answer.encoding, answer.notModified), { status: res.status, headers, body: answer.body });
  }

  /** Forgets every recording: the next request for each URL goes through the app again. */
  clear(): void {
    this.#pages.clear();
  }

  /** Answers `req` if it is a recorded snapshot hit; false means the app must answer it. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const method = req.method;
    if ((method !== 'GET' && method !== 'HEAD') || !this.#snapshot) return false;
    const page = this.#pages.get(req.url ?? '');
    if (!page) return false;
    const current = this.#snapshot.peek(page.key);
    if (!current || current.rendered !== page.rendered || (current.state.staleSince?.getTime() ?? null) !== page.staleSince) return false;
    const rendered = page.rendered;
    const encoding = rendered.body.byteLength > COMPRESS_ABOVE_BYTES ? this.#coding(req.headers['accept-encoding']) : undefined;
    const inm = req.headers['if-none-match'];
    const notModified = rendered.status === 200 && inm !== undefined && matches(inm, etagFor(rendered.etag, encoding));
    const recorded = page.recorded.get(variant(encoding, notModified));
    if (!recorded) return false;
    res.writeHead(recorded.status, recorded.headers as string[]);
    res.end(method === 'HEAD' || notModified ? undefined : recorded.body);
    this.served++;
    return true;
  }

  #coding(acceptEncoding: string | undefined): 'br' | 'gzip' | undefined {
    if (acceptEncoding === undefined) return undefined;
    if (this.#codings.has(acceptEncoding)) return this.#codings.get(acceptEncoding);
    const coding = pickEncoding(acceptEncoding, this.#compress);
    if (this.#codings.size < 256) this.#codings.set(acceptEncoding, coding);
    return coding;
  }
}
