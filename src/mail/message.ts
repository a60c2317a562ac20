import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { chatMessage, STATUS_LABEL, TEST_BANNER, TEST_NOTE } from '../delivery/formats/chat-message.ts';
import type { Notice, WebhookEvent } from '../delivery/notice.ts';
import type { Status } from '../domain/vocabulary.ts';
import { renderMarkdown } from '../render/markdown.ts';

/**
 * The mails Herald sends, as plain data that nodemailer's `sendMail` accepts as it is: an update
 * of an incident or maintenance to one subscriber, and the double opt-in confirmation. No I/O:
 * transport.ts turns a mail into bytes.
 *
 * Every mail of one incident names the same root id in `References` and `In-Reply-To`
 * (`<herald.incident-12@status.acme.test>`), so mail clients file its updates as one thread;
 * that root is never sent itself, because a subscriber may join in the middle of an incident.
 */

/** The notices that are mailed: what a commander posts about an incident or a maintenance. */
export const MAIL_EVENTS = [
  'incident.opened',
  'incident.updated',
  'incident.resolved',
  'maintenance.scheduled',
  'maintenance.started',
  'maintenance.completed',
  'maintenance.cancelled',
] as const satisfies readonly WebhookEvent[];
export type MailEvent = (typeof MAIL_EVENTS)[number];

export const isMailEvent = (type: WebhookEvent): type is MailEvent => (MAIL_EVENTS as readonly string[]).includes(type);

/** Who sends: the status page. */
export interface MailSite {
  /** The page's name, "Acme Status": in brackets in every subject. */
  readonly name: string;
  /** The status page's address; its host names the thread and the list. */
  readonly publicUrl: string;
  /** MAIL_FROM: a bare address (the page's name is then shown as the sender) or `Name <address>`. */
  readonly from: string;
}

/** Who receives, and the links only they may use (each holds an unguessable token). */
export interface MailSubscriber {
  readonly email: string;
  readonly manageUrl: string;
  readonly unsubscribeUrl: string;
  /** Takes the RFC 8058 one-click POST (`List-Unsubscribe=One-Click`) and unsubscribes. */
  readonly oneClickUrl: string;
  /** A `mailto:` URL that unsubscribes, for clients without one-click; left out of the header when absent. */
  readonly unsubscribeMailto?: string | undefined;
}

export interface OutgoingMail {
  readonly from: string | { readonly name: string; readonly address: string };
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly headers: Readonly<Record<string, string>>;
  /** `<…@host>`: the same on every retry, so a duplicate sent after a crash can be recognised. */
  readonly messageId: string;
  readonly references?: string | undefined;
  readonly inReplyTo?: string | undefined;
  /** When the update happened; the transport's clock when absent. */
  readonly date?: Date | undefined;
}

/** How long a confirmation link stays valid, as the confirmation mail says it. */
export const CONFIRMATION_VALID_DAYS = 7;

/**
 * One update to one subscriber. Subject `[Acme Status] Investigating: API errors`; the HTML part
 * holds the update rendered by the page's own sanitizing renderer and everything else escaped,
 * the text part the Markdown as the commander typed it.
 */
export async function updateMail(notice: Notice, subscriber: MailSubscriber, site: MailSite): Promise<OutgoingMail> {
  if (!isMailEvent(notice.type) || !notice.incident) throw new Error(`no mail is sent for a ${notice.type} notice`);
  const { incident, update } = notice;
  const m = chatMessage(notice);
  const host = mailHost(site.publicUrl);
  const subject = oneLine(`${notice.test ? '[Test] ' : ''}[${site.name}] ${m.state}: ${m.title}`);
  const root = `<herald.incident-${incident.id}@${host}>`;
  const which = update ? `update-${update.id}` : `${notice.type.replace('.', '-')}-${Date.parse(notice.occurred_at)}`;
  const messageId = `<herald.incident-${incident.id}.${which}.sub-${await subscriberKey(subscriber)}@${host}>`;
  const posted = `Posted ${minuteUtc(m.at)}`;

  const text = [
    ...(m.test ? [`${TEST_BANNER}: ${TEST_NOTE}`, ''] : []),
    `${m.state}: ${m.title}`,
    ...(m.detail ? [`Window: ${m.detail}`] : []),
    '',
    ...(m.message ? [m.message, ''] : []),
    posted,
    ...(m.components.length ? ['', 'Components:', ...m.components.map((c) => `- ${c.name}: ${STATUS_LABEL[c.status]}`)] : []),
    '',
    `${m.link.label}: ${m.link.url}`,
    '',
    '-- ',
    `You receive this because you subscribed to updates from ${site.name}.`,
    `Manage your subscription: ${subscriber.manageUrl}`,
    `Unsubscribe: ${subscriber.unsubscribeUrl}`,
    '',
  ].join('\n');

  const tone = TONE_COLOUR[m.tone];
  // Sanitized by renderMarkdown, as on the status page: the one piece of HTML inserted raw.
  const message = m.message ? raw(absoluteLinks(renderMarkdown(m.message), site.publicUrl)) : null;
  const banner = m.test ? html`<p style="margin:0 0 12px;padding:8px 12px;background:#fff8c5;border-radius:6px"><strong>${TEST_BANNER}</strong>: ${TEST_NOTE}</p>` : '';
  const body = html`${banner}<div style="background:#ffffff;border:1px solid ${LINE};border-left:6px solid ${tone};border-radius:6px;padding:16px 20px">
      <p style="margin:0;font-weight:600;color:${tone}">${m.state}${m.detail ? html`<span style="font-weight:400;color:${MUTED}"> &middot; ${m.detail}</span>` : ''}</p>
      <h1 style="margin:4px 0 12px;font-size:20px;line-height:1.3">${m.title}</h1>
      ${message ? html`<div style="overflow-wrap:anywhere">${message}</div>` : ''}<p style="margin:12px 0 0;font-size:14px;color:${MUTED}">${posted}</p>
      ${m.components.length ? componentTable(m.components) : ''}<p style="margin:16px 0 0"><a href="${m.link.url}" style="color:${LINK};font-weight:600">${m.link.label}</a></p>
    </div>`;
  const footer = html`You receive this because you subscribed to updates from ${site.name}.<br>
    <a href="${subscriber.manageUrl}" style="color:${MUTED}">Manage your subscription</a> &middot; <a href="${subscriber.unsubscribeUrl}" style="color:${MUTED}">Unsubscribe</a>`;

  return {
    from: sender(site),
    to: subscriber.email,
    subject,
    text,
    html: page(subject, site.name, body, footer),
    headers: {
      'List-Unsubscribe': [subscriber.oneClickUrl, subscriber.unsubscribeMailto].filter(Boolean).map((u) => `<${u}>`).join(', '),
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': `<${listHost(host)}>`,
      ...AUTOMATED,
    },
    messageId,
    references: root,
    inReplyTo: root,
    date: new Date(notice.occurred_at),
  };
}

/**
 * The double opt-in mail: what the address was subscribed to, the link that confirms it, and that
 * nothing more comes if they ignore it. `components` are the names followed; null (or none) is
 * the whole page. The Message-ID follows from the link, so a resend of one request is one message.
 */
export async function confirmationMail(email: string, confirmUrl: string, components: readonly string[] | null, site: MailSite): Promise<OutgoingMail> {
  const host = mailHost(site.publicUrl);
  const subject = oneLine(`[${site.name}] Confirm your subscription`);
  const listed = components && components.length ? components : null;
  const scope = listed ? `these components: ${listed.join(', ')}` : 'every component';
  const validity = `The link is valid for ${CONFIRMATION_VALID_DAYS} days.`;
  const ignore = 'If you did not ask for this, ignore this mail: nothing more will be sent to this address.';

  const text = [
    `Someone, hopefully you, asked for this address to receive status updates from ${site.name} about ${scope}.`,
    '',
    'To confirm, open this link:',
    confirmUrl,
    '',
    validity,
    ignore,
    '',
    `${site.name}: ${site.publicUrl}`,
    '',
  ].join('\n');

  const body = html`<div style="background:#ffffff;border:1px solid ${LINE};border-radius:6px;padding:16px 20px">
      <h1 style="margin:0 0 12px;font-size:20px;line-height:1.3">Confirm your subscription</h1>
      <p style="margin:0 0 12px">Someone, hopefully you, asked for this address to receive status updates from ${site.name} about ${listed ? 'these components:' : 'every component.'}</p>
      ${listed ? html`<ul style="margin:0 0 12px">${listed.map((c) => html`<li>${c}</li>`)}</ul>` : ''}<p style="margin:16px 0"><a href="${confirmUrl}" style="display:inline-block;padding:10px 16px;background:${LINK};color:#ffffff;border-radius:6px;text-decoration:none;font-weight:600">Confirm my subscription</a></p>
      <p style="margin:0 0 12px;font-size:14px;color:${MUTED}">Or paste this link into your browser: <span style="overflow-wrap:anywhere">${confirmUrl}</span></p>
      <p style="margin:0 0 12px">${validity}</p>
      <p style="margin:0">${ignore}</p>
    </div>`;
  const footer = html`<a href="${site.publicUrl}" style="color:${MUTED}">${site.name}</a>`;

  return {
    from: sender(site),
    to: email,
    subject,
    text,
    html: page(subject, site.name, body, footer),
    headers: { ...AUTOMATED },
    messageId: `<herald.confirm.${(await sha256Hex(confirmUrl)).slice(0, 32)}@${host}>`,
  };
}

/**
 * The answer to a sign-up for an address already subscribed: nothing changed, and here is the
 * link to change it (the page that took the sign-up never says which happened).
 */
export async function manageMail(email: string, manageUrl: string, site: MailSite, sentAt: Date): Promise<OutgoingMail> {
  const host = mailHost(site.publicUrl);
  const subject = oneLine(`[${site.name}] You are already subscribed`);
  const ignore = 'If you did not ask, ignore this mail: nothing was changed.';
  const text = [
    `Someone, hopefully you, asked for this address to receive status updates from ${site.name}. It already does.`,
    '',
    'To change which components you follow, or to unsubscribe, open this link:',
    manageUrl,
    '',
    ignore,
    '',
    `${site.name}: ${site.publicUrl}`,
    '',
  ].join('\n');
  const body = html`<div style="background:#ffffff;border:1px solid ${LINE};border-radius:6px;padding:16px 20px">
      <h1 style="margin:0 0 12px;font-size:20px;line-height:1.3">You are already subscribed</h1>
      <p style="margin:0 0 12px">Someone, hopefully you, asked for this address to receive status updates from ${site.name}. It already does.</p>
      <p style="margin:16px 0"><a href="${manageUrl}" style="display:inline-block;padding:10px 16px;background:${LINK};color:#ffffff;border-radius:6px;text-decoration:none;font-weight:600">Manage my subscription</a></p>
      <p style="margin:0">${ignore}</p>
    </div>`;
  const footer = html`<a href="${site.publicUrl}" style="color:${MUTED}">${site.name}</a>`;
  return {
    from: sender(site),
    to: email,
    subject,
    text,
    html: page(subject, site.name, body, footer),
    headers: { ...AUTOMATED },
    messageId: `<herald.manage.${(await sha256Hex(`${manageUrl}:${sentAt.toISOString()}`)).slice(0, 32)}@${host}>`,
  };
}

// ---- the parts

/** RFC 3834: made by a machine, so auto-responders stay quiet (Exchange reads the second). */
const AUTOMATED = { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'OOF, AutoReply' } as const;

/** Herald's light-theme colours (templates/assets.ts): mail clients drop stylesheets, so inline. */
const TONE_COLOUR: Readonly<Record<Status, string>> = { green: '#116329', yellow: '#7d4e00', orange: '#953800', red: '#a40e26', blue: '#0a4fa6' };
const MUTED = '#57606a';
const LINE = '#d0d7de';
const LINK = '#0a4fa6';

function page(subject: string, siteName: string, body: HtmlEscapedString | Promise<HtmlEscapedString>, footer: HtmlEscapedString | Promise<HtmlEscapedString>): string {
  return settled(html`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${subject}</title></head>
<body style="margin:0;padding:0;background:#f6f8fa;color:#1b1d21;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5">
  <div style="max-width:600px;margin:0 auto;padding:24px 16px">
    <p style="margin:0 0 16px;font-size:14px;font-weight:600;color:${MUTED}">${siteName}</p>
    ${body}
    <p style="margin:16px 0 0;font-size:13px;color:${MUTED}">${footer}</p>
  </div>
</body>
</html>
`);
}

function componentTable(components: readonly { readonly name: string; readonly status: Status }[]) {
  return html`<table role="presentation" style="margin:16px 0 0;border-collapse:collapse;font-size:14px"><tbody>
        ${components.map((c) => html`<tr><td style="padding:2px 16px 2px 0">${c.name}</td><td style="padding:2px 0;color:${TONE_COLOUR[c.status]};font-weight:600">${STATUS_LABEL[c.status]}</td></tr>`)}
      </tbody></table>`;
}

/**
 * hono's `html` escapes every interpolated string (`& < > " '`), and `raw` marks the one that is
 * HTML already. With no async values inside, its result is a finished string.
 */
function settled(markup: HtmlEscapedString | Promise<HtmlEscapedString>): string {
  if (markup instanceof Promise) throw new Error('mail markup is never asynchronous');
  return markup.toString();
}

/**
 * The sanitizer keeps same-site links (`/incidents/3`), which mean nothing in a mail client:
 * they are made absolute against the status page. Every `href="/` in its output is one it wrote.
 */
function absoluteLinks(sanitized: string, publicUrl: string): string {
  const origin = settled(html`${new URL(publicUrl).origin}`);
  return sanitized.replace(/ href="\/(?![/\\])/g, () => ` href="${origin}/`);
}

/** The page's name shown as the sender unless MAIL_FROM names one itself. */
function sender(site: MailSite): OutgoingMail['from'] {
  return site.from.includes('<') ? site.from : { name: site.name, address: site.from.trim() };
}

/** The status page's host, the right-hand side of every Message-ID ("[::1]" stays a domain literal). */
function mailHost(publicUrl: string): string {
  return new URL(publicUrl).hostname;
}

/** List-Id wants a dot-atom: an IPv6 literal is spelled with dashes. */
function listHost(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1).replace(/:/g, '-') : host;
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

const minuteUtc = (iso: string) => `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * A subscriber's part of a Message-ID: unique, stable, and naming nobody. It is hashed from their
 * links, which hold an unguessable token, so it cannot be turned back into the address by hashing
 * guesses (a hash of the address alone could), though Message-IDs end up in mail servers' logs.
 */
async function subscriberKey(subscriber: MailSubscriber): Promise<string> {
  return (await sha256Hex(`${subscriber.email}\n${subscriber.oneClickUrl}\n${subscriber.manageUrl}`)).slice(0, 24);
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
