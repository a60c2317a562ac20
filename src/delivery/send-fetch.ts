import {
  answerFailure,
  BodyExcerpt,
  checkDestinationName,
  connectionFailure,
  outgoingHeaders,
  timeoutWords,
  type Attempt,
  type Destination,
  type SendPolicy,
} from './address-policy.ts';

/**
 * One POST of a webhook with `fetch`, for Cloudflare Workers: no DNS API there, so the URL is
 * judged by what it says (see checkDestinationName) and the platform's egress does the rest.
 * The same Attempt as the Node sender: redirects not followed, one deadline, a capped read.
 */

export { checkDestinationName } from './address-policy.ts';

/** Sends once. Never throws: every failure is an Attempt with `ok: false` and the reason. */
export async function fetchSend(dest: Destination, policy: SendPolicy): Promise<Attempt> {
  const started = performance.now();
  const attempt = (answer: Pick<Attempt, 'status' | 'excerpt' | 'error'>): Attempt => ({
    ok: answer.error === null,
    ...answer,
    latencyMs: Math.round(performance.now() - started),
  });
  const refused = checkDestinationName(dest.url, policy.allow);
  if (refused !== null) return attempt({ status: null, excerpt: '', error: refused });

  const deadline = AbortSignal.timeout(policy.timeoutMs);
  let response: Response;
  try {
    response = await fetch(dest.url, { method: 'POST', headers: outgoingHeaders(dest.headers), body: dest.body, redirect: 'manual', signal: deadline });
  } catch (error) {
    const cause = (error as { cause?: unknown } | null)?.cause;
    return attempt({ status: null, excerpt: '', error: deadline.aborted ? timeoutWords(policy.timeoutMs) : connectionFailure(cause ?? error) });
  }
  // A browser hides a manual redirect's status and Location; Workers and Node give them.
  if (response.type === 'opaqueredirect') return attempt({ status: null, excerpt: '', error: 'redirect not followed' });

  const excerpt = new BodyExcerpt();
  const reader = response.body?.getReader();
  try {
    // The status is in, so the answer is judged by it however the body ends: at its end, at
    // the cap, at the deadline, or cut off.
    while (reader) {
      const { done, value } = await reader.read();
      if (done || excerpt.take(value, policy.maxResponseBytes)) break;
    }
  } catch {
    // Judged by the status below.
  } finally {
    reader?.cancel().catch(() => {});
  }
  return attempt({ status: response.status, excerpt: excerpt.text(), error: answerFailure(response.status, response.headers.get('location')) });
}
