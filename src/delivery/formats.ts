/**
 * A notice written out for one subscription's receiver. Pure and deterministic (no clock, no
 * locale, no I/O), so every retry of a delivery sends the same bytes and it runs on Node and
 * Workers alike. docs/webhook-formats.md shows each format with a real example.
 */
import { discordMessage } from './formats/discord.ts';
import { heraldPayload } from './formats/herald.ts';
import { slackMessage } from './formats/slack.ts';
import { statuspagePayload } from './formats/statuspage.ts';
import type { Notice, WebhookFormat } from './notice.ts';

export interface DeliveryContext {
  /** This delivery's id: the same on every retry, so receivers can drop repeats. */
  readonly deliveryId: string;
  /** Where the subscriber manages or cancels the subscription. */
  readonly manageUrl: string;
}

export interface RenderedNotice {
  readonly contentType: 'application/json';
  readonly body: string;
}

const PAYLOAD: Readonly<Record<WebhookFormat, (notice: Notice, ctx: DeliveryContext) => unknown>> = {
  herald: heraldPayload,
  statuspage: statuspagePayload,
  slack: slackMessage,
  discord: discordMessage,
};

/** Throws when a notice lacks what its type promises (an incident.* notice without its incident). */
export function renderNotice(format: WebhookFormat, notice: Notice, ctx: DeliveryContext): RenderedNotice {
  return { contentType: 'application/json', body: JSON.stringify(PAYLOAD[format](notice, ctx)) };
}
