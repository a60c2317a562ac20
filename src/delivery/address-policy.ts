import ipaddr from 'ipaddr.js';
import { inRange, parseRange, type Range } from '../gate/cidr.ts';

/**
 * Where a webhook may be sent, and what both senders (Node's, send.ts; the Workers' one,
 * send-fetch.ts) make of an answer. No I/O and no Node imports: this runs on Workers too.
 *
 * A subscriber chooses the URL, so without a policy Herald would POST wherever it is told: to
 * its own admin port, a database on the private network, or the cloud's metadata service at
 * 169.254.169.254. Only public unicast addresses are reached, unless an operator allows more
 * with HERALD_WEBHOOK_ALLOW (a receiver on the same host or network is a legitimate choice).
 */

/** What HERALD_WEBHOOK_ALLOW lets through besides public addresses. */
export interface AllowList {
  readonly ranges: readonly Range[];
  /** Lower case, without a trailing dot. */
  readonly hosts: ReadonlySet<string>;
}

export interface Destination {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface Attempt {
  /** A 2xx answer. */
  readonly ok: boolean;
  /** HTTP status, null when none came. */
  readonly status: number | null;
  readonly latencyMs: number;
  /** The first 1,024 bytes of the answer body, as UTF-8 (lossy). */
  readonly excerpt: string;
  /** Why it failed, in words for the console; null when ok. */
  readonly error: string | null;
}

export interface SendPolicy {
  readonly allow: AllowList;
  /** The whole attempt: DNS, connect, answer. */
  readonly timeoutMs: number;
  /** Read at most this much of the answer, then hang up. */
  readonly maxResponseBytes: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 65_536;
export const EXCERPT_BYTES = 1_024;

/** The host's addresses, as DNS gives them. */
export type Resolver = (host: string) => Promise<readonly string[]>;

// ---- the allow list

/**
 * "127.0.0.1, ::1, 10.0.0.0/8, hooks.internal.example": addresses and CIDR ranges (strict, as the
 * gate's: `0177.0.0.1` is refused rather than read as octal) and host names, matched exactly.
 * An entry whose last label is a number is taken for an address, since a URL reads it so
 * (`http://10.1/` is 10.0.0.1); it must then be written plainly.
 */
export function parseAllowList(setting: string | undefined): AllowList {
  const ranges: Range[] = [];
  const hosts = new Set<string>();
  for (const raw of (setting ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (looksLikeAddress(entry)) {
      try {
        ranges.push(parseRange(entry));
      } catch {
        throw new Error(`HERALD_WEBHOOK_ALLOW: "${entry}" is not an IP address or CIDR range (write addresses as four decimal parts, IPv6 without brackets)`);
      }
    } else {
      const host = bareName(entry.toLowerCase());
      if (!isHostName(host)) throw new Error(`HERALD_WEBHOOK_ALLOW: "${entry}" is not an IP address, CIDR range or host name`);
      hosts.add(host);
    }
  }
  return { ranges, hosts };
}

function looksLikeAddress(entry: string): boolean {
  if (entry.includes(':') || entry.includes('/') || entry.startsWith('[')) return true;
  const labels = bareName(entry).split('.');
  return /^(\d+|0x[0-9a-f]*)$/i.test(labels[labels.length - 1] ?? '');
}

function isHostName(host: string): boolean {
  return host.length <= 253 && host.split('.').every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label));
}

function bareName(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

function addressAllowed(ip: string, allow: AllowList): boolean {
  return allow.ranges.some((range) => inRange(range, ip));
}

function hostAllowed(hostname: string, allow: AllowList): boolean {
  return allow.hosts.has(bareName(hostname.toLowerCase()));
}

// ---- addresses

const IPV4_WORDS: Readonly<Record<string, string>> = {
  unspecified: 'an unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT address',
  private: 'a private address',
};

const IPV6_WORDS: Readonly<Record<string, string>> = {
  unspecified: 'an unspecified address',
  linkLocal: 'a link-local address',
  multicast: 'a multicast address',
  loopback: 'a loopback address',
  uniqueLocal: 'a unique-local address',
  deprecatedSiteLocal: 'a site-local address',
  rfc6052: 'a local-use NAT64 address',
};

/**
 * Why an address is no place to send a webhook ("a private address"), or null for a public
 * unicast one. IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo) are
 * judged by the IPv4 address they lead to; any other IPv6 address outside 2000::/3, the only
 * block handed out for global unicast, is refused.
 */
export function addressRefusal(ip: string): string | null {
  if (!ipaddr.isValid(ip)) return 'not an IP address';
  const address = ipaddr.parse(ip);
  if (address.kind() === 'ipv4') {
    const range = address.range();
    return range === 'unicast' ? null : (IPV4_WORDS[range] ?? 'a reserved address');
  }
  const v6 = address as ipaddr.IPv6;
  const bytes = v6.toByteArray();
  const range = v6.range();
  const embedded = embeddedIPv4(range, bytes);
  if (embedded) {
    const words = addressRefusal(embedded.ipv4);
    if (words === null) return null;
    return embedded.form === 'IPv4-mapped' ? words : `a ${embedded.form} address for ${embedded.ipv4}, ${words}`;
  }
  if (range !== 'unicast' || (bytes[0]! & 0xe0) !== 0x20) return IPV6_WORDS[range] ?? 'a reserved address';
  return null;
}

function embeddedIPv4(range: string, bytes: readonly number[]): { readonly form: string; readonly ipv4: string } | null {
  const v4 = (from: number, flip = 0) => bytes.slice(from, from + 4).map((b) => b ^ flip).join('.');
  switch (range) {
    case 'ipv4Mapped':
    case 'rfc6145':
      return { form: 'IPv4-mapped', ipv4: v4(12) };
    case 'rfc6052':
      // 64:ff9b::/96 is the well-known NAT64 prefix; 64:ff9b:1::/48 is for local use only.
      return bytes[4] === 0 && bytes[5] === 0 ? { form: 'NAT64', ipv4: v4(12) } : null;
    case '6to4':
      return { form: '6to4', ipv4: v4(2) };
    case 'teredo': {
      // The client's address is stored inverted; the server's is plain. Both must be public.
      const server = v4(4);
      return addressRefusal(server) === null ? { form: 'Teredo', ipv4: v4(12, 0xff) } : { form: 'Teredo', ipv4: server };
    }
    default:
      return null;
  }
}

// ---- destinations

/** The URL's host as an address, when it is one (the WHATWG parser has already normalised it). */
export function literalAddress(url: URL): string | null {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return ipaddr.IPv6.isValid(host) || ipaddr.IPv4.isValidFourPartDecimal(host) ? host : null;
}

/** The URL, or why no webhook goes there whatever its host. */
export function parseDestinationUrl(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'refused: not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `refused: only http and https URLs can receive webhooks, not ${url.protocol}`;
  if (url.username !== '' || url.password !== '') return 'refused: a URL with a user name or password is not accepted';
  return url;
}

/** A destination that passed the policy, and the one address to connect to. */
export interface Vetted {
  readonly url: URL;
  readonly address: string;
}

/**
 * Resolves the URL's host and vets every address it has: any one of them could be the one a
 * connection reaches. An address or host name on the allow list passes. The caller connects to
 * `address` and no other, so DNS cannot answer differently between the check and the connection.
 */
export async function vetDestination(text: string, allow: AllowList, resolve: Resolver): Promise<Vetted | string> {
  const url = parseDestinationUrl(text);
  if (typeof url === 'string') return url;
  const literal = literalAddress(url);
  if (literal !== null) {
    const words = addressAllowed(literal, allow) ? null : addressRefusal(literal);
    return words === null ? { url, address: literal } : `refused: ${literal} is ${words}`;
  }
  const host = url.hostname;
  let addresses: readonly string[];
  try {
    addresses = await resolve(host);
  } catch (error) {
    return resolutionFailure(host, error);
  }
  const first = addresses[0];
  if (first === undefined) return `host ${host} not found`;
  if (hostAllowed(host, allow)) return { url, address: first };
  for (const address of addresses) {
    const words = addressAllowed(address, allow) ? null : addressRefusal(address);
    if (words !== null) return `refused: ${host} resolves to ${address}, ${words}`;
  }
  return { url, address: first };
}

function resolutionFailure(host: string, error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOTFOUND' || code === 'ENODATA') return `host ${host} not found`;
  if (code === 'EAI_AGAIN') return `DNS lookup for ${host} failed for now (EAI_AGAIN)`;
  return `DNS lookup for ${host} failed: ${error instanceof Error ? error.message : String(error)}`;
}

/** Suffixes that name hosts on a private network or this machine, never on the internet. */
const PRIVATE_SUFFIXES = ['.localhost', '.local', '.localdomain', '.internal', '.home.arpa', '.lan', '.intranet', '.corp', '.private'];

/**
 * For a runtime with no DNS (Workers): judges the URL by what it says. An address literal must
 * be public, and a name must look like an internet one: `localhost`, a single label (an
 * intranet name) or a private-use suffix is refused unless the allow list names it. Weaker than
 * `vetDestination`, which sees the addresses; it leans on the runtime's own egress rules.
 */
export function checkDestinationName(text: string, allow: AllowList): string | null {
  const url = parseDestinationUrl(text);
  if (typeof url === 'string') return url;
  const literal = literalAddress(url);
  if (literal !== null) {
    const words = addressAllowed(literal, allow) ? null : addressRefusal(literal);
    return words === null ? null : `refused: ${literal} is ${words}`;
  }
  if (hostAllowed(url.hostname, allow)) return null;
  const host = `.${bareName(url.hostname)}`;
  if (host === '.localhost' || !host.slice(1).includes('.') || PRIVATE_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    return `refused: ${url.hostname} is not a public host name`;
  }
  return null;
}

// ---- the attempt: what both senders send and make of the answer

/** The caller's headers over ours; Host and Content-Length are the sender's to set. */
export function outgoingHeaders(given: Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': 'Herald-Webhooks/1', 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(given)) {
    const key = name.toLowerCase();
    if (key !== 'host' && key !== 'content-length' && key !== 'transfer-encoding' && key !== 'connection') headers[key] = value;
  }
  return headers;
}

export function timeoutWords(timeoutMs: number): string {
  return `timed out after ${timeoutMs / 1000} s`;
}

/** The verdict on an answer that came: a 2xx is ok; a redirect is named, not followed. */
export function answerFailure(status: number, location: string | null): string | null {
  if (status >= 200 && status < 300) return null;
  if (status >= 300 && status < 400) return location ? `redirect to ${location} not followed` : `HTTP ${status} redirect not followed`;
  return `HTTP ${status}`;
}

/** Why a connection failed, from a Node error code where there is one. */
export function connectionFailure(error: unknown): string {
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return message === 'socket hang up' ? 'connection closed before an answer' : 'connection reset by the receiver';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ENOTFOUND':
      return 'host not found';
    case 'UND_ERR_SOCKET':
      return 'connection closed before an answer';
  }
  if (code.startsWith('HPE_')) return `malformed HTTP answer (${code})`;
  if (code === 'EPROTO' || code.startsWith('ERR_SSL')) return 'TLS handshake failed (does the receiver speak https on that port?)';
  if (code.includes('CERT') || code.startsWith('ERR_TLS')) return `TLS certificate not accepted: ${message}`;
  return message;
}

/**
 * Keeps the first EXCERPT_BYTES of a body and counts the rest, so a reader knows when it has
 * read its fill without holding more than the excerpt.
 */
export class BodyExcerpt {
  private readonly kept = new Uint8Array(EXCERPT_BYTES);
  private keptBytes = 0;
  private seen = 0;

  /** Takes a chunk; true once `cap` bytes have been read. */
  take(chunk: Uint8Array, cap: number): boolean {
    const room = EXCERPT_BYTES - this.keptBytes;
    if (room > 0) {
      const part = chunk.subarray(0, room);
      this.kept.set(part, this.keptBytes);
      this.keptBytes += part.length;
    }
    this.seen += chunk.length;
    return this.seen >= cap;
  }

  /**
   * As text, in at most EXCERPT_BYTES of UTF-8: a character cut at the end is dropped, and so is
   * NUL, which a Postgres text column refuses; bytes that are not UTF-8 become U+FFFD.
   */
  text(): string {
    const decoded = new TextDecoder('utf-8').decode(this.kept.subarray(0, this.keptBytes), { stream: true });
    const encoder = new TextEncoder();
    let text = '';
    let bytes = 0;
    for (const char of decoded.replaceAll('\u0000', '')) {
      bytes += encoder.encode(char).length;
      if (bytes > EXCERPT_BYTES) break;
      text += char;
    }
    return text;
  }
}
