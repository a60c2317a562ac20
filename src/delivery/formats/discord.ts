/**
 * A Discord webhook message: one embed, coloured by status, the update as its description and
 * one inline field per component. Discord renders a message's Markdown itself, so it is passed as
 * written; `allowed_mentions: { parse: [] }` is what keeps `@everyone` or `<@id>` in a title or
 * message from pinging anyone.
 */
import type { Status } from '../../domain/vocabulary.ts';
import type { Notice } from '../notice.ts';
import { chatMessage, STATUS_LABEL, TEST_BANNER, TEST_NOTE } from './chat-message.ts';
import { ELLIPSIS, truncate } from './limits.ts';

/** Discord's limits; a message over any is refused whole. */
export const DISCORD_LIMITS = { title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024, footer: 2048, embed: 6000 } as const;

const COLOUR: Readonly<Record<Status, number>> = { red: 0xe74c3c, orange: 0xe67e22, yellow: 0xf1c40f, blue: 0x3498db, green: 0x2ecc71 };
const DOT: Readonly<Record<Status, string>> = { red: '🔴', orange: '🟠', yellow: '🟡', blue: '🔵', green: '🟢' };

interface Field {
  readonly name: string;
  readonly value: string;
  readonly inline: true;
}

export function discordMessage(notice: Notice) {
  const m = chatMessage(notice);
  const title = truncate(m.title, DISCORD_LIMITS.title);
  const footer = truncate(m.pageName, DISCORD_LIMITS.footer);
  const stateLine = `${DOT[m.tone]} **${m.state}**${m.detail ? ` · ${m.detail}` : ''}`;
  const description = [m.test ? `**${TEST_BANNER}**: ${TEST_NOTE}` : null, stateLine, m.message].filter((line) => line !== null).join('\n');
  // The update comes before the component list: the list gives way when both cannot fit.
  const wanted = Math.min(description.length, DISCORD_LIMITS.description);
  const fields = componentFields(m.components, DISCORD_LIMITS.embed - title.length - footer.length - wanted);
  const room = DISCORD_LIMITS.embed - title.length - footer.length - fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  return {
    content: null,
    embeds: [
      {
        title,
        url: m.link.url,
        description: truncate(description, Math.min(DISCORD_LIMITS.description, room)),
        color: COLOUR[m.tone],
        fields,
        timestamp: m.at,
        footer: { text: footer },
      },
    ],
    allowed_mentions: { parse: [] },
  };
}

/** One field per component, as many as fit in `room` characters and Discord's 25, the rest counted in a last field. */
function componentFields(components: readonly { readonly name: string; readonly status: Status }[], room: number): Field[] {
  const fields: Field[] = [];
  let used = 0;
  for (const [i, c] of components.entries()) {
    const field: Field = { name: truncate(c.name, DISCORD_LIMITS.fieldName), value: `${DOT[c.status]} ${STATUS_LABEL[c.status]}`, inline: true };
    const size = field.name.length + field.value.length;
    const last = i === components.length - 1;
    const atCap = fields.length === DISCORD_LIMITS.fields - 1 && !last;
    if (atCap || used + size + (last ? 0 : MORE_SIZE) > room) {
      fields.push({ name: ELLIPSIS, value: `and ${components.length - i} more`, inline: true });
      return fields;
    }
    fields.push(field);
    used += size;
  }
  return fields;
}

/** The most a "…and N more" field takes. */
const MORE_SIZE = ELLIPSIS.length + 'and 99999 more'.length;
