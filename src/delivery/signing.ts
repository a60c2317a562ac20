/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): a receiver checks with any
 * of the spec's libraries that a message came from Herald, unaltered, and recently.
 *
 * Web Crypto only, no node:crypto: the same code signs on Cloudflare Workers.
 */

const PREFIX = 'whsec_';
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

export type SignatureHeaders = Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>;

/** A new signing secret: `whsec_` and 32 random bytes in base64. */
export function newSecret(): string {
  return PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * Whether a secret a user supplies can sign: `whsec_` and 24 to 64 bytes in canonical, padded
 * base64 (the spec's libraries decode leniently; a secret that only some of them read the same
 * way would break verification for some receivers).
 */
export function isSecret(s: string): boolean {
  return keyOf(s) !== null;
}

/**
 * The three headers of one message. One `v1,` signature per secret, in the order given: while a
 * secret is rotated the current one comes first and the previous one follows until its overlap
 * ends, so a receiver holding either verifies.
 */
export async function signatureHeaders(input: {
  readonly id: string;
  readonly timestamp: Date;
  readonly body: string;
  readonly secrets: readonly string[];
}): Promise<SignatureHeaders> {
  const seconds = Math.floor(input.timestamp.getTime() / 1000);
  if (!Number.isFinite(seconds)) throw new Error('signatureHeaders: the timestamp is not a valid date');
  if (input.secrets.length === 0) throw new Error('signatureHeaders: no secret to sign with');
  const content = new TextEncoder().encode(`${input.id}.${seconds}.${input.body}`);
  const signatures = await Promise.all(
    input.secrets.map(async (secret, i) => {
      const key = keyOf(secret);
      // The position, never the secret: this message may reach a log.
      if (key === null) throw new Error(`signatureHeaders: secret #${i + 1} is not whsec_ and 24 to 64 bytes of base64`);
      const hmac = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      return `v1,${toBase64(new Uint8Array(await crypto.subtle.sign('HMAC', hmac, content)))}`;
    }),
  );
  return { 'webhook-id': input.id, 'webhook-timestamp': String(seconds), 'webhook-signature': signatures.join(' ') };
}

function keyOf(secret: string): Uint8Array<ArrayBuffer> | null {
  if (!secret.startsWith(PREFIX)) return null;
  const encoded = secret.slice(PREFIX.length);
  if (encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) return null;
  const key = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES || toBase64(key) !== encoded) return null;
  return key;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}
