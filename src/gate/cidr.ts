import ipaddr from 'ipaddr.js';

/**
 * IPv4/IPv6 addresses and CIDR ranges, for the gate's allow-list and the console's rate limit.
 * No I/O, runs anywhere.
 *
 * The grammar is ipaddr.js's, made strict where it is lenient: an IPv4 address (alone or as the
 * tail of an IPv6 one) must be four decimal parts without leading zeros. ipaddr.js, like
 * inet_aton, reads `010.0.0.1` as octal (8.0.0.1) and `10.1` as 10.0.0.1; an allow-list entry
 * that means something other than it looks is refused instead.
 *
 * Every address lives in one 128-bit space: IPv4 as its IPv4-mapped IPv6 form (::ffff:a.b.c.d),
 * so `10.0.0.0/8` and `::ffff:10.0.0.0/104` are the same range and a client reaching a dual-stack
 * socket as `::ffff:10.1.2.3` is the client 10.1.2.3.
 */

const MAPPED = 0xffffn << 32n; // ::ffff:0:0/96, where IPv4 lives
const ALL = (1n << 128n) - 1n;

/** A host's address as written by a socket or a person, to 128 bits; null unless valid. */
function toBits(text: string, allowZone: boolean): { readonly bits: bigint; readonly v4: boolean } | null {
  if (!text.includes(':')) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
    return { bits: MAPPED | fromBytes(ipaddr.IPv4.parse(text).toByteArray()), v4: true };
  }
  // A zone (fe80::1%eth0) names the interface a link-local address was seen on, not the address.
  const zone = text.indexOf('%');
  if (zone >= 0 && !allowZone) return null;
  const bare = zone >= 0 ? text.slice(0, zone) : text;
  if (!ipaddr.IPv6.isValid(bare)) return null;
  const dotted = bare.lastIndexOf(':');
  if (bare.includes('.') && !ipaddr.IPv4.isValidFourPartDecimal(bare.slice(dotted + 1))) return null;
  return { bits: fromBytes(ipaddr.IPv6.parse(bare).toByteArray()), v4: false };
}

function fromBytes(bytes: readonly number[]): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

export interface Address {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/** Parses an address; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is treated as the IPv4 one. */
export function parseAddress(ip: string): Address | null {
  const a = toBits(ip, true);
  if (!a) return null;
  return (a.bits & ~0xffffffffn) === MAPPED ? { family: 4, value: a.bits & 0xffffffffn } : { family: 6, value: a.bits };
}

/** A range in the 128-bit space: an address is in it when `address & mask === base`. */
export interface Range {
  readonly base: bigint;
  readonly mask: bigint;
}

/**
 * "10.0.0.0/8", "2001:db8::/32", "::ffff:10.0.0.0/104", or a single address. Throws on anything
 * else, naming it: one slash at most, a prefix length in range for the address's family.
 */
export function parseRange(cidr: string): Range {
  const text = cidr.trim();
  const slash = text.indexOf('/');
  const address = toBits(slash < 0 ? text : text.slice(0, slash), false);
  const prefixText = slash < 0 ? undefined : text.slice(slash + 1);
  const max = address?.v4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!address || !(prefix >= 0 && prefix <= max)) throw new Error(`"${cidr}" is not an IP address or CIDR range`);
  const bits = address.v4 ? prefix + 96 : prefix;
  const mask = (ALL << BigInt(128 - bits)) & ALL;
  return { base: address.bits & mask, mask };
}

export function inRange(range: Range, ip: string): boolean {
  const a = toBits(ip, true);
  return a !== null && (a.bits & range.mask) === range.base;
}

/**
 * The gate's allow-list: ranges parsed once (throwing on a bad one, at startup), then a check
 * per request that parses the client's address once and compares numbers.
 */
export function allowList(cidrs: readonly string[]): (ip: string | undefined) => boolean {
  const ranges = cidrs.map(parseRange);
  if (ranges.length === 0) return () => false;
  return function allowed(ip) {
    const a = ip === undefined ? null : toBits(ip, true);
    return a !== null && ranges.some((r) => (a.bits & r.mask) === r.base);
  };
}
