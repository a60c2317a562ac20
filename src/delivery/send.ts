import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import {
  answerFailure,
  BodyExcerpt,
  connectionFailure,
  outgoingHeaders,
  timeoutWords,
  vetDestination,
  type Attempt,
  type Destination,
  type Resolver,
  type SendPolicy,
  type Vetted,
} from './address-policy.ts';

/**
 * One POST of a webhook from Node, vetted at the moment it is sent (a subscription's host may
 * resolve elsewhere since it was created) and sent to the very address that was vetted.
 */

export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  parseAllowList,
  type AllowList,
  type Attempt,
  type Destination,
  type Resolver,
  type SendPolicy,
} from './address-policy.ts';

/** The system's resolver, /etc/hosts included, every address it has. */
export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** Null when a webhook may go to `url`; else why not, in words (for a 400 when subscribing). */
export async function checkDestination(url: string, policy: Pick<SendPolicy, 'allow'>, resolve: Resolver = systemResolver): Promise<string | null> {
  const vetted = await vetDestination(url, policy.allow, resolve);
  return typeof vetted === 'string' ? vetted : null;
}

/** Sends once. Never throws: every failure is an Attempt with `ok: false` and the reason. */
export async function send(dest: Destination, policy: SendPolicy, resolve: Resolver = systemResolver): Promise<Attempt> {
  const started = performance.now();
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), policy.timeoutMs);
  try {
    const vetted = await beforeDeadline(vetDestination(dest.url, policy.allow, resolve), deadline.signal);
    const answer =
      vetted === null ? { status: null, excerpt: '', error: timeoutWords(policy.timeoutMs) }
      : typeof vetted === 'string' ? { status: null, excerpt: '', error: vetted }
      : await post(vetted, dest, policy, deadline.signal);
    return { ok: answer.error === null, ...answer, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, status: null, excerpt: '', error: connectionFailure(error), latencyMs: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

/** The promise's value, or null if the deadline passes first. */
function beforeDeadline<T>(work: Promise<T>, deadline: AbortSignal): Promise<T | null> {
  if (deadline.aborted) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(null);
    deadline.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => deadline.removeEventListener('abort', onAbort));
  });
}

type Answer = Pick<Attempt, 'status' | 'excerpt' | 'error'>;

/**
 * The request goes out with the URL's host name (Host header, TLS name and certificate check),
 * but its connection's lookup answers with the vetted address, whatever DNS says now. Its own
 * socket (no agent): nothing pooled outlives the attempt, and hanging up harms no other.
 */
function post(vetted: Vetted, dest: Destination, policy: SendPolicy, deadline: AbortSignal): Promise<Answer> {
  const { url, address } = vetted;
  const family = isIP(address);
  const pinned: LookupFunction = (_host, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const body = Buffer.from(dest.body, 'utf8');
  const headers = { ...outgoingHeaders(dest.headers), 'content-length': String(body.length), connection: 'close' };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;

  return new Promise<Answer>((resolve) => {
    let status: number | null = null;
    let location: string | null = null;
    const excerpt = new BodyExcerpt();
    let settled = false;
    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      deadline.removeEventListener('abort', onDeadline);
      req.destroy();
      resolve({ status, excerpt: excerpt.text(), error });
    };
    // Once the status is in, the receiver has said what it did with the message: an answer
    // that stops at the cap or the deadline is judged by its status, not retried as lost.
    const judged = () => (status === null ? null : answerFailure(status, location));
    const onDeadline = () => finish(status === null ? timeoutWords(policy.timeoutMs) : judged());

    const req = request(
      url,
      { method: 'POST', headers, lookup: pinned, agent: false },
      (res: IncomingMessage) => {
        status = res.statusCode ?? null;
        location = typeof res.headers.location === 'string' ? res.headers.location : null;
        res.on('data', (chunk: Buffer) => {
          if (excerpt.take(chunk, policy.maxResponseBytes)) finish(judged());
        });
        res.on('end', () => finish(judged()));
        // Cut off mid-body: the status still stands.
        res.on('error', () => finish(judged()));
        res.on('close', () => finish(judged()));
      },
    );
    req.on('error', (error) => finish(status === null ? connectionFailure(error) : judged()));
    if (deadline.aborted) return onDeadline();
    deadline.addEventListener('abort', onDeadline, { once: true });
    req.end(body);
  });
}
