/** IPv4/IPv6 addresses and CIDR ranges, for the gate's allow-list. No I/O, runs anywhere. */

function parseV4(ip: string): bigint | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function parseV6(ip: string): bigint | null {
  let s = ip.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  // an embedded IPv4 tail (::ffff:1.2.3.4)
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const tail = parseV4(v4[2]!);
    if (tail === null) return null;
    s = `${v4[1]}${((tail >> 16n) & 0xffffn).toString(16)}:${(tail & 0xffffn).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return n;
}

export interface Address {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/** Parses an address; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is treated as the IPv4 one. */
export function parseAddress(ip: string): Address | null {
  const v4 = parseV4(ip);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseV6(ip);
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

export interface Range {
  readonly family: 4 | 6;
  readonly base: bigint;
  readonly bits: number;
}

/** "10.0.0.0/8", "2001:db8::/32", or a single address. Throws on nonsense, naming it. */
export function parseRange(cidr: string): Range {
  const [ip = '', bitsText] = cidr.trim().split('/');
  const address = parseAddress(ip);
  const max = address?.family === 4 ? 32 : 128;
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (!address || !Number.isInteger(bits) || bits < 0 || bits > max || (bitsText !== undefined && !/^\d+$/.test(bitsText))) {
    throw new Error(`"${cidr}" is not an IP address or CIDR range`);
  }
  const shift = BigInt(max - bits);
  return { family: address.family, base: (address.value >> shift) << shift, bits };
}

export function inRange(range: Range, ip: string): boolean {
  const a = parseAddress(ip);
  if (!a || a.family !== range.family) return false;
  const shift = BigInt((a.family === 4 ? 32 : 128) - range.bits);
  return (a.value >> shift) << shift === range.base;
}
