/**
 * A Slack incoming-webhook message: `text` for notifications and screen readers, `blocks` for the
 * channel. Slack parses `&`, `<` and `>` in text as markup (`<!channel>` pings everyone,
 * `<url|label>` disguises a link), so everything a person wrote is escaped and only the links
 * Herald makes itself, and http(s) links from a message's Markdown, reach Slack as markup.
 */
import type { Status } from '../../domain/vocabulary.ts';
import type { Notice } from '../notice.ts';
import { chatMessage, STATUS_LABEL, TEST_BANNER, TEST_NOTE } from './chat-message.ts';
import { ELLIPSIS, truncateSlack } from './limits.ts';

/** Slack's limits: a header's text, and any other text object. */
const HEADER_MAX = 150;
const TEXT_MAX = 3000;

const EMOJI: Readonly<Record<Status, string>> = {
  red: ':red_circle:',
  orange: ':large_orange_circle:',
  yellow: ':large_yellow_circle:',
  blue: ':large_blue_circle:',
  green: ':large_green_circle:',
};

export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly object[];
}

export function slackMessage(notice: Notice): SlackMessage {
  const m = chatMessage(notice);
  const emoji = EMOJI[m.tone];
  const link = slackLink(m.link.url, m.link.label);
  const stateLine = [`${emoji} *${escapeSlack(m.state)}*`, m.detail && escapeSlack(m.detail), link].filter(Boolean).join(' · ');
  const blocks: object[] = [];
  if (m.test) blocks.push(section(`:test_tube: *${TEST_BANNER}*: ${TEST_NOTE}`));
  blocks.push({ type: 'header', text: { type: 'plain_text', text: truncateSlack(escapeSlack(m.title), HEADER_MAX), emoji: true } });
  blocks.push(section(truncateSlack(m.message ? `${stateLine}\n${slackMrkdwn(m.message)}` : stateLine, TEXT_MAX)));
  if (m.components.length) {
    const lines = m.components.map((c) => `${EMOJI[c.status]} ${escapeSlack(c.name)} — ${STATUS_LABEL[c.status]}`);
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: fitLines(lines, TEXT_MAX) }] });
  }
  const headline = `${emoji} ${escapeSlack(m.state)} — ${truncateSlack(escapeSlack(m.title), HEADER_MAX)}`;
  return { text: m.test ? `${TEST_BANNER} — ${headline}` : headline, blocks };
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

/** What Slack requires escaped in any text it is not to read as markup. */
const escapeSlack = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A Slack link, for http(s) only: another scheme (javascript:, slack:) is no link. `|` would end the address early. */
function slackLink(url: string, label: string): string | null {
  if (!/^https?:\/\//i.test(url)) return null;
  return `<${escapeSlack(url).replace(/\|/g, '%7C')}|${escapeSlack(label)}>`;
}

const MARKDOWN_LINK = /\[([^\]\n]+)\]\(([^()\s]+)\)/g;

/**
 * The common Markdown of an update as Slack mrkdwn: `**bold**` → `*bold*`, `[text](url)` →
 * `<url|text>` for http(s) urls; everything else stays as typed, escaped (a link to another
 * scheme stays visible Markdown text, not a link).
 */
function slackMrkdwn(markdown: string): string {
  let out = '';
  let last = 0;
  for (const match of markdown.matchAll(MARKDOWN_LINK)) {
    out += prose(markdown.slice(last, match.index));
    out += slackLink(match[2]!, match[1]!) ?? prose(match[0]);
    last = match.index + match[0].length;
  }
  return out + prose(markdown.slice(last));
}

const prose = (s: string) => escapeSlack(s).replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, '*$1*');

/** Whole lines up to `max`, the rest counted: "…and 3 more". */
function fitLines(lines: readonly string[], max: number): string {
  const joined = lines.join('\n');
  if (joined.length <= max) return joined;
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    const more = `${ELLIPSIS}and ${lines.length - kept.length} more`;
    if (used + line.length + 1 + more.length > max) return [...kept, more].join('\n');
    kept.push(line);
    used += line.length + 1;
  }
  return kept.join('\n');
}
