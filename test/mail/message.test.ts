import { HtmlValidate } from 'html-validate';
import { simpleParser, type ParsedMail } from 'mailparser';
import { describe, expect, it } from 'vitest';
import type { Notice, NoticeIncident, NoticeUpdate } from '../../src/delivery/notice.ts';
import { confirmationMail, MAIL_EVENTS, updateMail, type MailSite, type MailSubscriber, type OutgoingMail } from '../../src/mail/message.ts';
import { rawMessage } from '../../src/mail/transport.ts';
import { XSS_CORPUS } from '../support/xss-corpus.ts';

/**
 * The mails of src/mail/message.ts, built to raw RFC 5322 bytes by nodemailer (as they would be
 * sent) and read back by an independent MIME parser (mailparser): what a mail client would see.
 */

const SITE: MailSite = { name: 'Acme Status', publicUrl: 'https://status.acme.test', from: 'status@acme.test' };

const subscriber = (n: number): MailSubscriber => ({
  email: `jane.doe${n}@example.org`,
  manageUrl: `https://status.acme.test/subscriptions/manage/tok-m${n}`,
  unsubscribeUrl: `https://status.acme.test/subscriptions/unsubscribe/tok-u${n}`,
  oneClickUrl: `https://status.acme.test/subscriptions/one-click/tok-o${n}`,
});
const JANE = subscriber(1);

const PAGE: Notice['page'] = { id: 'pg_1', name: 'Acme Status', url: 'https://status.acme.test', status: { indicator: 'minor', description: 'Minor Service Outage' } };

function incident(over: Partial<NoticeIncident> = {}): NoticeIncident {
  return {
    id: 12,
    kind: 'incident',
    title: 'API errors',
    state: 'investigating',
    impact: 'major',
    url: 'https://status.acme.test/incidents/12',
    started_at: '2024-03-05T10:00:00.000Z',
    resolved_at: null,
    updated_at: '2024-03-05T10:00:00.000Z',
    scheduled_for: null,
    scheduled_until: null,
    components: [
      { slug: 'api', name: 'API', status: 'orange' },
      { slug: 'web', name: 'Website', status: 'yellow' },
    ],
    postmortem_published_at: null,
    ...over,
  };
}

function update(over: Partial<NoticeUpdate> = {}): NoticeUpdate {
  return { id: 34, state: 'investigating', message: 'We are **investigating** elevated error rates.\nSee [the runbook](https://docs.acme.test/rb?a=1&b=2).', at: '2024-03-05T10:00:00.000Z', author: 'alice', ...over };
}

const maintenance = (state: NoticeIncident['state']) =>
  incident({ id: 51, kind: 'maintenance', title: 'Database upgrade', state, impact: 'none', url: 'https://status.acme.test/maintenance/51', scheduled_for: '2024-03-05T22:00:00.000Z', scheduled_until: '2024-03-05T23:30:00.000Z', components: [{ slug: 'db', name: 'Database', status: 'blue' }] });

const OPENED: Notice = { type: 'incident.opened', occurred_at: '2024-03-05T10:00:02.000Z', page: PAGE, incident: incident(), update: update() };
const UPDATED: Notice = { type: 'incident.updated', occurred_at: '2024-03-05T10:20:01.000Z', page: PAGE, incident: incident({ state: 'identified' }), update: update({ id: 35, state: 'identified', message: 'A bad deploy; rolling back.', at: '2024-03-05T10:20:00.000Z' }) };

async function parse(mail: OutgoingMail): Promise<ParsedMail> {
  return simpleParser(await rawMessage(mail));
}

/** A header's value as written, unfolded (names are case-insensitive: nodemailer writes List-ID). */
function header(parsed: ParsedMail, name: string): string | undefined {
  const line = parsed.headerLines.find((h) => h.key === name.toLowerCase())?.line;
  return line?.replace(/\r?\n(?=[ \t])/g, '').slice(name.length + 1).trim();
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decode = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : (ENTITIES[e] ?? whole),
  );

/** The mail's own elements and the sanitizer's allow-list (src/render/markdown.ts): nothing else may appear. */
const ELEMENTS = new Set(['html', 'head', 'meta', 'title', 'body', 'div', 'p', 'span', 'a', 'table', 'tr', 'td', 'ul', 'li', 'br', 'strong', 'b', 'em', 'i', 'del', 's', 'code', 'pre', 'blockquote', 'ol', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'thead', 'tbody', 'th']);
const ATTRIBUTES = new Set(['lang', 'charset', 'name', 'content', 'style', 'href', 'title', 'rel', 'role', 'start', 'align']);

/**
 * What would make an HTML part run script or leave the page, found by reading it as a browser
 * tokenizes it: every `<` followed by a letter opens an element, and its attributes are read one
 * by one (so an escaped "onmouseover=" inside a title's value is text, as it is to a browser).
 */
function hazards(markup: string): string[] {
  const found: string[] = [];
  for (const [, name, rest] of markup.matchAll(/<([a-zA-Z][^\s/>]*)([^>]*)>/g)) {
    const tag = name!.toLowerCase();
    if (!ELEMENTS.has(tag)) found.push(`<${tag}> element`);
    for (const [, attr, dq, sq, bare] of rest!.matchAll(/([^\s=>"'/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
      const key = attr!.toLowerCase();
      const value = decode(dq ?? sq ?? bare ?? '');
      if (key.startsWith('on')) found.push(`${key}= on <${tag}>`);
      else if (!ATTRIBUTES.has(key)) found.push(`${key}= attribute on <${tag}>`);
      if (key === 'href' && !/^(https?:\/\/|mailto:|#|$)/.test(value)) found.push(`href="${value}"`);
      if (key === 'style' && /url\(|expression|javascript|behavior/i.test(value)) found.push(`style="${value}"`);
    }
  }
  if (/<script/i.test(markup)) found.push('<script');
  return found;
}

describe('an update mail', () => {
  it('when an incident opens, the subject names the page, the state and the incident; both parts are there', async () => {
    const parsed = await parse(await updateMail(OPENED, JANE, SITE));
    expect(parsed.subject).toBe('[Acme Status] Investigating: API errors');
    expect(parsed.to).toMatchObject({ value: [{ address: 'jane.doe1@example.org' }] });
    expect(parsed.from).toMatchObject({ value: [{ name: 'Acme Status', address: 'status@acme.test' }] });
    expect(parsed.date?.toISOString()).toBe('2024-03-05T10:00:02.000Z');
    expect(parsed.text).toBeTruthy();
    expect(parsed.html).toBeTruthy();
    expect(parsed.attachments).toEqual([]);
  });

  it.each([
    ['incident.updated', UPDATED, '[Acme Status] Identified: API errors'],
    ['incident.resolved', { ...OPENED, type: 'incident.resolved', incident: incident({ state: 'resolved' }), update: update({ state: 'resolved' }) }, '[Acme Status] Resolved: API errors'],
    ['maintenance.scheduled', { ...OPENED, type: 'maintenance.scheduled', incident: maintenance('scheduled'), update: update({ state: 'scheduled' }) }, '[Acme Status] Scheduled: Database upgrade'],
    ['maintenance.started', { ...OPENED, type: 'maintenance.started', incident: maintenance('in_progress'), update: update({ state: 'in_progress' }) }, '[Acme Status] In progress: Database upgrade'],
    ['maintenance.completed', { ...OPENED, type: 'maintenance.completed', incident: maintenance('completed'), update: update({ state: 'completed' }) }, '[Acme Status] Completed: Database upgrade'],
    ['maintenance.cancelled', { ...OPENED, type: 'maintenance.cancelled', incident: maintenance('cancelled'), update: update({ state: 'cancelled' }) }, '[Acme Status] Cancelled: Database upgrade'],
  ] satisfies [string, Notice, string][])('when the notice is %s, the subject is "%s"', async (_type, notice, subject) => {
    expect((await parse(await updateMail(notice, JANE, SITE))).subject).toBe(subject);
  });

  it('every mailed event has a subject; notices that are not mailed are refused, not half-written', async () => {
    expect(MAIL_EVENTS).toHaveLength(7);
    await expect(updateMail({ ...OPENED, type: 'component.status_changed' }, JANE, SITE)).rejects.toThrow(/no mail/);
    await expect(updateMail({ type: 'mode.changed', occurred_at: OPENED.occurred_at, page: PAGE }, JANE, SITE)).rejects.toThrow(/no mail/);
  });

  it('the text part has the Markdown as typed, the components in words, the incident link and the footer links', async () => {
    const { text } = await parse(await updateMail(OPENED, JANE, SITE));
    expect(text).toContain('We are **investigating** elevated error rates.\nSee [the runbook](https://docs.acme.test/rb?a=1&b=2).');
    expect(text).toContain('- API: Partial outage\n- Website: Degraded performance');
    expect(text).toContain('View incident: https://status.acme.test/incidents/12');
    expect(text).toContain('Posted 2024-03-05 10:00 UTC');
    expect(text).toContain(`Manage your subscription: ${JANE.manageUrl}`);
    expect(text).toContain(`Unsubscribe: ${JANE.unsubscribeUrl}`);
  });

  it('the HTML part has the update rendered as on the page, the components in words, the incident link and the footer links', async () => {
    const { html } = await parse(await updateMail(OPENED, JANE, SITE));
    expect(html).toContain('We are <strong>investigating</strong> elevated error rates.<br>');
    expect(html).toContain('<a rel="nofollow noopener noreferrer" href="https://docs.acme.test/rb?a=1&amp;b=2">the runbook</a>');
    expect(html).toMatch(/>API<\/td><td [^>]*>Partial outage</);
    expect(html).toMatch(/>Website<\/td><td [^>]*>Degraded performance</);
    expect(html).toMatch(/<a href="https:\/\/status\.acme\.test\/incidents\/12"[^>]*>View incident<\/a>/);
    expect(html).toMatch(new RegExp(`<a href="${JANE.manageUrl}"[^>]*>Manage your subscription</a>`));
    expect(html).toMatch(new RegExp(`<a href="${JANE.unsubscribeUrl}"[^>]*>Unsubscribe</a>`));
  });

  it('a maintenance says its window in both parts', async () => {
    const parsed = await parse(await updateMail({ ...OPENED, type: 'maintenance.scheduled', incident: maintenance('scheduled'), update: update({ state: 'scheduled' }) }, JANE, SITE));
    expect(parsed.text).toContain('Window: 2024-03-05 22:00–23:30 UTC');
    expect(parsed.html).toContain('2024-03-05 22:00–23:30 UTC');
    expect(parsed.text).toContain('- Database: Under maintenance');
  });

  it('when a message links a page of the site (/incidents/3), the mail links it absolutely, since a mail client has no site', async () => {
    const { html } = await parse(await updateMail({ ...OPENED, update: update({ message: 'Same as [incident 3](/incidents/3).' }) }, JANE, SITE));
    expect(html).toContain('href="https://status.acme.test/incidents/3"');
  });

  it('the HTML part is a whole document with inline styles only: no stylesheet, script, image or other resource to fetch', async () => {
    const { html } = await parse(await updateMail(OPENED, JANE, SITE));
    const markup = String(html);
    expect(markup).toMatch(/^<!DOCTYPE html>/);
    expect(markup).not.toMatch(/<(style|script|link|img|iframe)\b|src=|url\(/i);
    const validator = new HtmlValidate({ extends: ['html-validate:recommended'], rules: { 'no-inline-style': 'off' } });
    const report = await validator.validateString(markup);
    expect(report.results.flatMap((r) => r.messages.map((m) => `${m.ruleId}: ${m.message}`))).toEqual([]);
  });

  it('when the mail is sent again (a retry), it is the same mail, Message-ID and all', async () => {
    const [a, b] = [await updateMail(OPENED, JANE, SITE), await updateMail(OPENED, JANE, SITE)];
    expect(b).toEqual(a);
  });
});

describe('the XSS corpus in titles and messages', () => {
  it.each(XSS_CORPUS.map((p) => [p.id, p.payload]))('when %s is the title and the message, the HTML part stays inert and the title reads as typed', async (_id, payload) => {
    const notice: Notice = { ...OPENED, incident: incident({ title: payload }), update: update({ message: payload }) };
    const parsed = await parse(await updateMail(notice, JANE, SITE));
    const markup = String(parsed.html);
    expect(hazards(markup)).toEqual([]);
    const h1 = markup.match(/<h1[^>]*>([^<]*)<\/h1>/)?.[1];
    expect(decode(h1 ?? '')).toBe(payload);
    expect(parsed.text).toContain(payload);
  });

  it('the audit itself finds what it looks for (a check that cannot fail proves nothing)', () => {
    expect(hazards('<p><img src=x onerror="alert(1)"></p>')).toEqual(['<img> element', 'src= attribute on <img>', 'onerror= on <img>']);
    expect(hazards('<a href="jav&#x09;ascript:alert(1)">x</a>')).toContain('href="jav\tascript:alert(1)"');
    expect(hazards('<a href="/ok" onclick="x()">x</a>')).toEqual(['href="/ok"', 'onclick= on <a>']);
    expect(hazards('<p title="a&quot; onmouseover=&quot;x">ok</p>')).toEqual([]);
  });

  it('component names and the page name are escaped too', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const notice: Notice = { ...OPENED, incident: incident({ components: [{ slug: 'api', name: evil, status: 'red' }] }) };
    const parsed = await parse(await updateMail(notice, JANE, { ...SITE, name: `Acme ${evil}` }));
    expect(hazards(String(parsed.html))).toEqual([]);
    expect(parsed.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(parsed.subject).toBe(`[Acme ${evil}] Investigating: API errors`);
  });
});

describe('RFC 8058 and list headers', () => {
  it('List-Unsubscribe names the one-click URL, List-Unsubscribe-Post says One-Click, and the mail says it is automatic', async () => {
    const parsed = await parse(await updateMail(OPENED, JANE, SITE));
    expect(header(parsed, 'List-Unsubscribe')).toBe(`<${JANE.oneClickUrl}>`);
    expect(header(parsed, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(header(parsed, 'List-Id')).toBe('<status.acme.test>');
    expect(header(parsed, 'Auto-Submitted')).toBe('auto-generated');
  });

  it('when the subscriber has a mailto: unsubscribe, it follows the one-click URL', async () => {
    const mailto = 'mailto:unsubscribe@status.acme.test?subject=tok-x1';
    const parsed = await parse(await updateMail(OPENED, { ...JANE, unsubscribeMailto: mailto }, SITE));
    expect(header(parsed, 'List-Unsubscribe')).toBe(`<${JANE.oneClickUrl}>, <${mailto}>`);
  });

  it('a long one-click URL survives header folding whole', async () => {
    const oneClickUrl = `https://status.acme.test/subscriptions/one-click/${'t'.repeat(180)}`;
    const parsed = await parse(await updateMail(OPENED, { ...JANE, oneClickUrl }, SITE));
    expect(header(parsed, 'List-Unsubscribe')).toBe(`<${oneClickUrl}>`);
  });
});

describe('threading', () => {
  it('two updates of one incident point at the same root with References and In-Reply-To, under different Message-IDs', async () => {
    const [first, second] = [await parse(await updateMail(OPENED, JANE, SITE)), await parse(await updateMail(UPDATED, JANE, SITE))];
    for (const p of [first, second]) {
      expect(p.references).toBe('<herald.incident-12@status.acme.test>');
      expect(p.inReplyTo).toBe('<herald.incident-12@status.acme.test>');
    }
    expect(first.messageId).toMatch(/^<herald\.incident-12\.update-34\.sub-[0-9a-f]+@status\.acme\.test>$/);
    expect(second.messageId).toMatch(/^<herald\.incident-12\.update-35\.sub-[0-9a-f]+@status\.acme\.test>$/);
  });

  it('another incident has another root', async () => {
    const other = await parse(await updateMail({ ...OPENED, incident: incident({ id: 13 }) }, JANE, SITE));
    expect(other.references).toBe('<herald.incident-13@status.acme.test>');
  });

  it('each subscriber gets their own Message-ID for one update, and none names their address', async () => {
    const ids = await Promise.all([1, 2, 3].map(async (n) => (await parse(await updateMail(OPENED, subscriber(n), SITE))).messageId));
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).not.toMatch(/jane|example\.org/);
  });

  it('when a notice carries no update (a maintenance the scheduler started), its Message-ID still differs from every update of the incident', async () => {
    const notice: Notice = { ...OPENED, type: 'maintenance.started', incident: maintenance('in_progress'), update: undefined };
    const parsed = await parse(await updateMail(notice, JANE, SITE));
    expect(parsed.subject).toBe('[Acme Status] In progress: Database upgrade');
    expect(parsed.messageId).toMatch(/^<herald\.incident-51\.maintenance-started-\d+\.sub-[0-9a-f]+@status\.acme\.test>$/);
  });
});

describe('the confirmation mail', () => {
  const CONFIRM = 'https://status.acme.test/subscriptions/confirm/tok-c1';

  it('says what was asked for, links the confirmation, says how long it is valid and to ignore it if they did not ask', async () => {
    const parsed = await parse(await confirmationMail('jane@example.org', CONFIRM, ['API', 'Website'], SITE));
    expect(parsed.subject).toBe('[Acme Status] Confirm your subscription');
    expect(parsed.text).toContain('status updates from Acme Status about these components: API, Website.');
    expect(parsed.text).toContain(CONFIRM);
    expect(parsed.text).toContain('valid for 7 days');
    expect(parsed.text).toContain('If you did not ask for this, ignore this mail');
    expect(parsed.html).toMatch(new RegExp(`<a href="${CONFIRM}"[^>]*>Confirm my subscription</a>`));
    expect(parsed.html).toContain('<li>API</li><li>Website</li>');
    expect(header(parsed, 'Auto-Submitted')).toBe('auto-generated');
    expect(header(parsed, 'List-Unsubscribe')).toBeUndefined();
  });

  it('when no components are chosen, it says every component', async () => {
    const parsed = await parse(await confirmationMail('jane@example.org', CONFIRM, null, SITE));
    expect(parsed.text).toContain('about every component.');
    expect(parsed.html).toContain('about every component.');
  });

  it('component names are escaped, and a resend of one request is one Message-ID, another request another', async () => {
    const evil = '<script>alert(1)</script>';
    const mail = await confirmationMail('jane@example.org', CONFIRM, [evil], SITE);
    expect(hazards(String((await parse(mail)).html))).toEqual([]);
    expect((await confirmationMail('jane@example.org', CONFIRM, [evil], SITE)).messageId).toBe(mail.messageId);
    expect((await confirmationMail('jane@example.org', `${CONFIRM}2`, [evil], SITE)).messageId).not.toBe(mail.messageId);
  });

  it('when MAIL_FROM names its sender, that name is kept', async () => {
    const parsed = await parse(await confirmationMail('jane@example.org', CONFIRM, null, { ...SITE, from: 'Acme Ops <ops@acme.test>' }));
    expect(parsed.from).toMatchObject({ value: [{ name: 'Acme Ops', address: 'ops@acme.test' }] });
  });
});
