/**
 * The operator's way through a closed gate, as Laravel's `down --secret`: visiting the secret
 * path grants a cookie holding an expiry signed with HMAC-SHA256; the gate lets its bearer
 * through until it expires. Web Crypto only, so it runs on Node and Workers alike.
 */

const encoder = new TextEncoder();

async function hmac(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const sig = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(message)));
  return Array.from(sig, (b) => b.toString(16).padStart(2, '0')).join('');
}

function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

export async function signBypass(secret: string, expiresAt: Date): Promise<string> {
  const exp = String(Math.floor(expiresAt.getTime() / 1000));
  return `${exp}.${await hmac(secret, `herald-bypass:${exp}`)}`;
}

export async function verifyBypass(secret: string, value: string | undefined, now: Date): Promise<boolean> {
  const m = /^(\d{1,12})\.([0-9a-f]{64})$/.exec(value ?? '');
  if (!m) return false;
  const expected = await hmac(secret, `herald-bypass:${m[1]}`);
  return constantTimeEqual(expected, m[2]!) && Number(m[1]) * 1000 > now.getTime();
}
