import { describe, expect, it } from 'vitest';
import { allowList, inRange, parseAddress, parseRange } from '../../src/gate/cidr.ts';
import { withPlatformGate } from '../../src/gate/fetch.ts';

const refused = (cidr: string) => `"${cidr}" is not an IP address or CIDR range`;

describe('allow-list ranges', () => {
  it('when an IPv6 address has nine groups (1:2:3:4:5:6:7:8::), it is refused', () => {
    expect(() => parseRange('1:2:3:4:5:6:7:8::')).toThrow(refused('1:2:3:4:5:6:7:8::'));
    expect(() => parseRange('1:2:3:4:5:6:7:8::/64')).toThrow(refused('1:2:3:4:5:6:7:8::/64'));
    expect(parseAddress('1:2:3:4:5:6:7:8::')).toBeNull();
  });

  it('when a range has a second prefix length (10.0.0.0/8/9), it is refused instead of reading /8', () => {
    expect(() => parseRange('10.0.0.0/8/9')).toThrow(refused('10.0.0.0/8/9'));
    expect(() => parseRange('10.0.0.0/')).toThrow(refused('10.0.0.0/'));
    expect(() => parseRange('10.0.0.0/33')).toThrow(refused('10.0.0.0/33'));
    expect(() => parseRange('2001:db8::/129')).toThrow(refused('2001:db8::/129'));
  });

  it('when an IPv4-mapped range is given (::ffff:10.0.0.0/104), it is the IPv4 range 10.0.0.0/8', () => {
    const mapped = parseRange('::ffff:10.0.0.0/104');
    expect(mapped).toEqual(parseRange('10.0.0.0/8'));
    expect(inRange(mapped, '10.200.0.1')).toBe(true);
    expect(inRange(mapped, '::ffff:10.200.0.1')).toBe(true);
    expect(inRange(mapped, '11.0.0.1')).toBe(false);
    expect(inRange(parseRange('::ffff:0:0/96'), '192.0.2.1')).toBe(true);
  });

  it('when an IPv4 part has a leading zero (010.0.0.1), it is refused rather than read as octal 8.0.0.1', () => {
    expect(() => parseRange('010.0.0.0/8')).toThrow(refused('010.0.0.0/8'));
    expect(() => parseRange('::ffff:010.0.0.1')).toThrow(refused('::ffff:010.0.0.1'));
    expect(parseAddress('010.0.0.1')).toBeNull();
    expect(parseAddress('10.1')).toBeNull(); // inet_aton's short form, not an address here
    expect(parseAddress('0x0a.0.0.1')).toBeNull();
    expect(inRange(parseRange('8.0.0.0/8'), '010.0.0.1')).toBe(false);
  });

  it('when a client address carries a zone (fe80::1%eth0), the zone is ignored; in a range it is refused', () => {
    expect(inRange(parseRange('fe80::/10'), 'fe80::1%eth0')).toBe(true);
    expect(() => parseRange('fe80::%eth0/64')).toThrow(refused('fe80::%eth0/64'));
  });

  it('when the console keys sign-in failures, an IPv4-mapped client is its IPv4 address', () => {
    expect(parseAddress('::ffff:192.0.2.7')).toEqual({ family: 4, value: 0xc0000207n });
    expect(parseAddress('192.0.2.7')).toEqual({ family: 4, value: 0xc0000207n });
    expect(parseAddress('2001:db8::1')).toEqual({ family: 6, value: (0x20010db8n << 96n) | 1n });
  });

  it('when an allow-list is built, a bad entry throws at once and the list matches any of its ranges', () => {
    expect(() => allowList(['10.0.0.0/8', '10.0.0.0/8/9'])).toThrow(refused('10.0.0.0/8/9'));
    const allowed = allowList(['10.0.0.0/8', '2001:db8::/32']);
    expect(allowed('10.1.2.3')).toBe(true);
    expect(allowed('2001:db8:ffff::1')).toBe(true);
    expect(allowed('192.0.2.1')).toBe(false);
    expect(allowed(undefined)).toBe(false);
    expect(allowed('not-an-ip')).toBe(false);
  });

  it('when a gate allows ::ffff:10.0.0.0/104, an IPv4 client in 10/8 passes maintenance and one outside does not', async () => {
    let ip = '10.9.8.7';
    const gated = withPlatformGate(() => new Response('ok'), {
      role: 'web',
      modes: { state: () => ({ mode: 'maintenance', retryAfter: null, reason: null, stale: false }) },
      statusPageUrl: 'https://status.example.com',
      allowIps: ['::ffff:10.0.0.0/104'],
      clientIp: () => ip,
      log: () => {},
    });
    expect((await gated(new Request('http://localhost/apps'))).status).toBe(200);
    ip = '192.0.2.1';
    expect((await gated(new Request('http://localhost/apps'))).status).toBe(503);
  });
});
