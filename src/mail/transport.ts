import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import nodemailer, { type NodemailerError } from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import { systemClock, type Clock } from '../clock.ts';
import { connectionFailure } from '../delivery/address-policy.ts';
import type { OutgoingMail } from './message.ts';

/**
 * Where mail goes, on Node: an SMTP server (SMTP_URL), or `.eml` files in a directory when there
 * is none, so a newcomer sees what would have been sent. Both answer every send with a value and
 * never throw; the delivery engine retries what is not `permanent`.
 *
 * Error strings go to logs and the attempt log, so no address is ever in one: the recipient,
 * and anything else shaped like an address that a server echoed, reads `[address]`.
 */

export type SendResult =
  | { readonly ok: true; readonly response: string }
  /**
   * `permanent`: the server refused the recipient for good at RCPT TO (a hard bounce), so the
   * address should get no more mail. Everything else is worth another try.
   */
  | { readonly ok: false; readonly permanent: boolean; readonly error: string };

export interface MailTransport {
  /** One attempt at one mail. */
  send(mail: OutgoingMail): Promise<SendResult>;
  /** Ends open connections; sends after it fail. */
  close(): Promise<void>;
}

export interface SmtpOptions {
  /** Each wait: the connection, the greeting, any silence of the server once talking. */
  readonly timeoutMs?: number;
  /**
   * The whole attempt, which a server that drips its replies would otherwise stretch without
   * limit. It counts from the call, so any wait for a free connection of the pool is in it.
   */
  readonly deadlineMs?: number;
  /** Connections kept open and reused, so a mail to many subscribers is not a handshake each. */
  readonly maxConnections?: number;
}

export const DEFAULT_SMTP_TIMEOUT_MS = 10_000;
export const DEFAULT_SMTP_DEADLINE_MS = 60_000;
export const DEFAULT_SMTP_CONNECTIONS = 5;

/**
 * `smtp://user:pass@mail.acme.test:587` (STARTTLS when the server offers it, certificates
 * checked) or `smtps://…:465` (TLS from the start). Query parameters are nodemailer's options
 * (`?requireTLS=true`, `?tls.rejectUnauthorized=false`). Throws on a URL of another scheme.
 */
export function smtpTransport(url: string, options: SmtpOptions = {}): MailTransport {
  const parsed = new URL(url);
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') throw new Error(`SMTP_URL must start with smtp:// or smtps://, not ${parsed.protocol}//`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS;
  const deadlineMs = options.deadlineMs ?? DEFAULT_SMTP_DEADLINE_MS;
  const transporter = nodemailer.createTransport({
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    ...parseConnectionUrl(url),
    pool: true,
    maxConnections: options.maxConnections ?? DEFAULT_SMTP_CONNECTIONS,
    // nodemailer's own log would write every recipient: never, whatever the URL asks
    logger: false,
    debug: false,
  });
  const target = `${parsed.protocol}//${parsed.host}`;

  return {
    async send(mail) {
      try {
        const info = await transporter.sendMail({ ...mail, signal: AbortSignal.timeout(deadlineMs) });
        return { ok: true, response: redact(String(info.response), mail.to) };
      } catch (error) {
        const e = (error ?? {}) as NodemailerError;
        return { ok: false, permanent: isHardBounce(e), error: redact(smtpFailure(e, { timeoutMs, deadlineMs, target }), mail.to) };
      }
    },
    async close() {
      transporter.close();
    },
  };
}

/**
 * Each mail becomes `<time>-<message id>.eml` in `dir` (made when first needed): the raw RFC 5322
 * message, CRLF line ends, as an SMTP server would have received it. Any mail client opens one.
 */
export function fileTransport(relative: string, options: { readonly clock?: Clock } = {}): MailTransport {
  const clock = options.clock ?? systemClock;
  // Absolute, as of the start: a recursive mkdir relative to a deleted working directory never
  // ends (src/entry/last-known.ts).
  const dir = resolve(relative);
  return {
    async send(mail) {
      try {
        const bytes = await rawMessage(mail);
        const name = `${clock.now().toISOString().replace(/:/g, '-')}-${fileSafe(mail.messageId)}.eml`;
        await mkdir(dir, { recursive: true });
        // Under another name first: whoever watches the folder never opens half a message.
        await writeFile(join(dir, `.${name}.tmp`), bytes);
        await rename(join(dir, `.${name}.tmp`), join(dir, name));
        return { ok: true, response: `written to ${name}` };
      } catch (error) {
        return { ok: false, permanent: false, error: redact(error instanceof Error ? error.message : String(error), mail.to) };
      }
    },
    async close() {},
  };
}

const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

/** A mail's raw RFC 5322 bytes, built by the same composer as an SMTP send. */
export async function rawMessage(mail: OutgoingMail): Promise<Buffer> {
  const { message } = await composer.sendMail({ ...mail });
  if (!Buffer.isBuffer(message)) throw new Error('the stream transport returns a buffer when asked');
  return message;
}

// ---- what a failure means

/**
 * A hard bounce: a 5xx reply to RCPT TO (503 excepted, "bad sequence": the session, not the
 * address). Policy refusals (enhanced status 5.7.x: relaying denied, authentication required,
 * the sender's reputation) are not: they say something about Herald's relay, and would
 * otherwise strike every subscriber off at once.
 */
function isHardBounce(e: NodemailerError): boolean {
  const code = e.responseCode;
  if (e.command !== 'RCPT TO' || code === undefined || code < 500 || code > 599 || code === 503) return false;
  return !/^\d{3}[ -]5\.7\.\d{1,3}\b/.test(e.response ?? '');
}

/** Why an attempt failed, in words for the attempt log. */
function smtpFailure(e: NodemailerError, context: { readonly timeoutMs: number; readonly deadlineMs: number; readonly target: string }): string {
  const seconds = (ms: number) => `${ms / 1000} s`;
  if (e.code === 'EABORT') return `gave up after ${seconds(context.deadlineMs)} (${context.target})`;
  if (e.code === 'ETIMEDOUT') {
    return e.timeoutType === 'CONNECT_TIMEOUT'
      ? `connection timed out after ${seconds(context.timeoutMs)} (${context.target})`
      : `no answer from ${context.target} within ${seconds(context.timeoutMs)}`;
  }
  if (e.responseCode) return `${e.command ?? 'the server'} refused: ${(e.response ?? '').trim()}`;
  if (e.code === 'ESOCKET' || e.code === 'ECONNECTION' || e.code === 'EDNS') {
    return `${connectionFailure({ code: e.originalCode ?? e.code, message: e.message })} (${context.target})`;
  }
  return e.message ?? String(e);
}

/** Anything shaped like a mail address, the recipient first (a server may echo it in any case). */
function redact(text: string, recipient: string): string {
  const exact = recipient ? new RegExp(recipient.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi') : null;
  return (exact ? text.replace(exact, '[address]') : text).replace(/[^\s<>()[\]\\,;:"'@]+@[^\s<>()[\]\\,;:"'@]+/g, '[address]');
}

function fileSafe(messageId: string): string {
  return messageId.replace(/^<|>$/g, '').replace(/[^A-Za-z0-9._@-]+/g, '_').slice(0, 160);
}
