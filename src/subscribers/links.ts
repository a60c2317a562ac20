import type { Kysely } from 'kysely';
import { findKey, findOrCreateKey } from '../db/queries/sessions.ts';
import type { Database } from '../db/schema.ts';
import { constantTimeEqual, randomSecret } from '../services/tokens.ts';

/**
 * The tokens in subscribers' links: `<handle>.<purpose>[.<expiry>].<mac>`, where the handle is
 * a random name for the subscriber (never its id), the purpose what the link may do, and the
 * MAC an HMAC-SHA256 over the rest with a key kept in herald_keys. Nothing secret is stored per
 * subscriber, so a database dump alone forges no link; a link for one purpose does nothing for
 * another; every instance of Herald checks the links of every other. Web Crypto only (Node and
 * Workers alike).
 */

export type LinkPurpose = 'confirm' | 'manage' | 'unsubscribe';

const CODES: Readonly<Record<LinkPurpose, string>> = { confirm: 'c', manage: 'm', unsubscribe: 'u' };
const KEY_NAME = 'subscriber-links';
const encoder = new TextEncoder();

/** A new subscriber's handle: 128 random bits, URL-safe. */
export function newHandle(): string {
  return randomSecret().slice(0, 22);
}

/** The key, per database handle: it never changes once made, and a mail pass mints thousands of links. */
const keys = new WeakMap<Kysely<Database>, Promise<CryptoKey>>();

function keyOf(db: Kysely<Database>, now: Date): Promise<CryptoKey> {
  let key = keys.get(db);
  if (!key) {
    key = (async () => {
      const secret = (await findKey(db, KEY_NAME)) ?? (await findOrCreateKey(db, KEY_NAME, randomSecret(), now));
      return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    })();
    // A failure (the database is down) is not remembered.
    key.catch(() => keys.delete(db));
    keys.set(db, key);
  }
  return key;
}

async function mac(key: CryptoKey, message: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(`herald-subscriber:${message}`)));
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Mints links for one subscriber; `expiresAt` for the purposes that expire (confirm). */
export async function linkToken(db: Kysely<Database>, now: Date, handle: string, purpose: LinkPurpose, expiresAt?: Date): Promise<string> {
  const body = expiresAt ? `${handle}.${CODES[purpose]}.${Math.floor(expiresAt.getTime() / 1000)}` : `${handle}.${CODES[purpose]}`;
  return `${body}.${await mac(await keyOf(db, now), body)}`;
}

/** The handle a token names, if it is genuine, for this purpose, and not expired; else undefined. */
export async function readLinkToken(db: Kysely<Database>, now: Date, token: string, purpose: LinkPurpose): Promise<string | undefined> {
  const m = /^([A-Za-z0-9_-]{22})\.([cmu])(?:\.(\d{1,12}))?\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m || m[2] !== CODES[purpose]) return undefined;
  const [, handle, , expiry, given] = m;
  if ((purpose === 'confirm') !== (expiry !== undefined)) return undefined;
  const body = expiry === undefined ? `${handle}.${m[2]}` : `${handle}.${m[2]}.${expiry}`;
  const expected = await mac(await keyOf(db, now), body);
  if (!constantTimeEqual(expected, given!)) return undefined;
  if (expiry !== undefined && Number(expiry) * 1000 <= now.getTime()) return undefined;
  return handle;
}

/** A keyed hash (HMAC with the links' key) of `text`: rate limits count addresses without storing them. */
export async function keyedHash(db: Kysely<Database>, now: Date, text: string): Promise<string> {
  return mac(await keyOf(db, now), `hash:${text}`);
}
