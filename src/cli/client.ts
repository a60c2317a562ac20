import { randomUUID } from 'node:crypto';

/** The command line is wrong (exit 2): a missing flag, a malformed value, no server configured. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/**
 * The command could not be done (exit 1): the server refused it or could not be reached. Each
 * line is one problem, printed as `herald: <line>`.
 */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
  constructor(
    readonly lines: readonly string[],
    readonly status?: number,
    readonly body?: unknown,
  ) {
    super(lines.join('; '));
  }
}

export interface Target {
  /** Base URL without a trailing slash, e.g. https://status.example.com */
  readonly url: string;
  readonly token: string | undefined;
}

/** --url / --token override HERALD_URL / HERALD_TOKEN. */
export function resolveTarget(flags: { url?: string | undefined; token?: string | undefined }, env: Readonly<Record<string, string | undefined>>): Target {
  const raw = flags.url ?? (env.HERALD_URL || undefined);
  if (raw === undefined) throw new CliUsageError('no Herald server given: set HERALD_URL or pass --url URL (e.g. http://localhost:3000)');
  if (!/^https?:\/\/[^/]/.test(raw) || !URL.canParse(raw)) {
    throw new CliUsageError(`${flags.url !== undefined ? '--url' : 'HERALD_URL'} must be an absolute http(s) URL (got ${JSON.stringify(raw)})`);
  }
  const token = (flags.token ?? env.HERALD_TOKEN ?? '').trim() || undefined;
  return { url: raw.replace(/\/+$/, ''), token };
}

interface ErrorBody {
  id?: unknown;
  message?: unknown;
  errors?: { path?: unknown; message?: unknown }[];
}

/** One line per problem: each field of a 400 on its own line, else the server's sentence. */
export function problemLines(status: number, statusText: string, body: unknown): string[] {
  const b = (body ?? {}) as ErrorBody;
  if (Array.isArray(b.errors) && b.errors.length > 0) {
    return b.errors.map((e) => {
      const path = typeof e.path === 'string' ? e.path : '';
      const message = String(e.message);
      // "title: title must not be empty" says it twice; the server's sentence already names it
      if (!path || path === '(body)' || message.startsWith(`${path.split('.').at(-1)} `)) return message;
      return `${path}: ${message}`;
    });
  }
  if (typeof b.message === 'string' && b.message) return [b.message];
  return [`the server answered ${status}${statusText ? ` ${statusText}` : ''}`];
}

/** The code of a failed connection (ECONNREFUSED, ENOTFOUND, …) from fetch's nested causes. */
function networkCode(error: unknown): string {
  const seen: unknown[] = [];
  const visit = (e: unknown, depth: number): string | undefined => {
    if (!e || typeof e !== 'object' || depth > 5 || seen.includes(e)) return undefined;
    seen.push(e);
    const o = e as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof o.code === 'string' && !o.code.startsWith('ERR_INVALID')) return o.code;
    for (const inner of Array.isArray(o.errors) ? o.errors : []) {
      const code = visit(inner, depth + 1);
      if (code) return code;
    }
    return visit(o.cause, depth + 1);
  };
  const code = visit(error, 0);
  if (code) return code;
  if ((error as { name?: unknown })?.name === 'TimeoutError') return 'TimeoutError';
  // fetch refuses some ports outright ("bad port"): say what it said
  let e = error as { message?: unknown; cause?: unknown } | undefined;
  while (e?.cause && typeof e.cause === 'object') e = e.cause as typeof e;
  return typeof e?.message === 'string' && e.message ? e.message : 'unknown error';
}

/** Connection failures where the request may have reached the server: retried only with a key. */
const MAYBE_SENT = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ETIMEDOUT']);

export interface RequestOptions {
  readonly body?: unknown;
  /** A body sent as it is, with its own type (a CSV import), instead of `body` as JSON. */
  readonly text?: { readonly body: string; readonly contentType: string };
  /** The answer is CSV (an export), handed back as it came; a refusal is still read as JSON. */
  readonly answer?: 'json' | 'csv';
  readonly query?: Record<string, string | undefined>;
  /** Send the token (writes; reads are public). */
  readonly auth?: boolean;
  /**
   * Idempotency-Key for a write: the same key on every attempt of this invocation, so a retry
   * after a lost response is answered from the first write instead of writing twice.
   */
  readonly idempotencyKey?: string;
}

export interface Response<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface ClientOptions {
  readonly timeoutMs?: number;
  /** Delays before each retry (ms); its length is the number of retries. */
  readonly retryDelays?: readonly number[];
  /** Told before a retry, for a line on stderr. */
  readonly onRetry?: (reason: string, attempt: number, of: number) => void;
  readonly userAgent?: string;
}

export const newIdempotencyKey = () => `herald-cli-${randomUUID()}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A thin JSON client for Herald's API. Every failure becomes a CliFailure (or CliUsageError). */
export class HeraldClient {
  constructor(
    readonly target: Target,
    readonly options: ClientOptions = {},
  ) {}

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<Response<T>> {
    if (options.auth && !this.target.token) {
      throw new CliUsageError('this command needs an API token: set HERALD_TOKEN or pass --token (make one with `herald token:create`)');
    }
    const url = new URL(`${this.target.url}${path}`);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const csvAnswer = options.answer === 'csv';
    const headers: Record<string, string> = { accept: csvAnswer ? 'text/csv, application/json;q=0.5' : 'application/json', 'user-agent': this.options.userAgent ?? 'herald-cli' };
    if (this.target.token && options.auth) headers.authorization = `Bearer ${this.target.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.text !== undefined) headers['content-type'] = options.text.contentType;
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    const body = options.text !== undefined ? options.text.body : options.body !== undefined ? JSON.stringify(options.body) : undefined;
    // GETs are safe to repeat; writes only when they carry a key (the server then replays).
    const retryable = method === 'GET' || method === 'HEAD' || options.idempotencyKey !== undefined;
    const delays = retryable ? (this.options.retryDelays ?? [500, 1500]) : [];

    for (let attempt = 0; ; attempt++) {
      let res: globalThis.Response;
      try {
        res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000) });
      } catch (error) {
        const code = networkCode(error);
        if (code === 'TimeoutError') {
          throw new CliFailure([`Herald at ${this.target.url} did not answer within ${Math.round((this.options.timeoutMs ?? 30_000) / 1000)} s`]);
        }
        if (MAYBE_SENT.has(code) && attempt < delays.length) {
          this.options.onRetry?.(`the connection to Herald was lost (${code})`, attempt + 1, delays.length);
          await sleep(delays[attempt]!);
          continue;
        }
        if (MAYBE_SENT.has(code) && options.idempotencyKey !== undefined) {
          throw new CliFailure([
            `lost the connection to Herald at ${this.target.url} (${code}); the change may or may not have been made`,
            `run the same command again with --idempotency-key ${options.idempotencyKey} to make it exactly once`,
          ]);
        }
        throw new CliFailure([`cannot reach Herald at ${this.target.url} (${code})`]);
      }
      const text = await res.text();
      let parsed: unknown = undefined;
      let isJson = false;
      try {
        parsed = text === '' ? null : JSON.parse(text);
        isJson = true;
      } catch {
        /* not JSON */
      }
      if (res.status === 503 && attempt < delays.length) {
        this.options.onRetry?.(`Herald answered 503${isJson ? ` (${problemLines(503, res.statusText, parsed)[0]})` : ''}`, attempt + 1, delays.length);
        await sleep(delays[attempt]!);
        continue;
      }
      if (!res.ok) {
        const lines = isJson ? problemLines(res.status, res.statusText, parsed) : [`Herald at ${this.target.url} answered ${res.status} ${res.statusText} (not JSON: is HERALD_URL right?)`];
        throw new CliFailure(lines, res.status, parsed);
      }
      if (csvAnswer) {
        if (!/^text\/csv\b/i.test(res.headers.get('content-type') ?? '')) throw new CliFailure([`Herald at ${this.target.url} answered ${res.status} with something that is not CSV (is HERALD_URL right?)`], res.status);
        return { status: res.status, headers: res.headers, body: text as T };
      }
      if (!isJson) throw new CliFailure([`Herald at ${this.target.url} answered ${res.status} with something that is not JSON (is HERALD_URL right?)`], res.status);
      return { status: res.status, headers: res.headers, body: parsed as T };
    }
  }
}
