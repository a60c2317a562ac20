import * as z from 'zod';
import type { FieldProblem } from '../errors.ts';
import type { AlertSource, ReceivedAlert, ReceivedNotification } from './alert.ts';

/**
 * Reading what Alertmanager (webhook payload version 4) and Grafana's webhook contact point
 * (unified alerting, payload version 1) post into one ReceivedNotification (issue 17).
 *
 * Only the fields Herald reads are checked: both senders add fields over time (Grafana's
 * silenceURL, values, title…), and a field Herald ignores is no reason to refuse an alert.
 */

/** Alertmanager truncates at its receiver's max_alerts; a notification past this is not one. */
export const MAX_ALERTS = 1_000;

export type NotificationReading =
  | { readonly ok: true; readonly notification: ReceivedNotification }
  | { readonly ok: false; readonly problems: FieldProblem[] };

export function readAlertmanager(body: unknown): NotificationReading {
  return readNotification(body, ALERTMANAGER);
}

export function readGrafana(body: unknown): NotificationReading {
  return readNotification(body, GRAFANA);
}

/**
 * Grafana's HMAC option (as grafana/alerting signs): the hex HMAC-SHA256 of the body, or of
 * `timestamp:body` when a timestamp header is configured, the timestamp in Unix seconds. Needs
 * the body exactly as received. A timestamp further than the tolerance from now is refused, so
 * a captured request cannot be replayed later.
 */
export async function verifyGrafanaSignature(input: {
  secret: string;
  body: string;
  signature: string | undefined;
  timestamp: string | undefined;
  now: Date;
  toleranceSeconds?: number;
}): Promise<boolean> {
  const { secret, body, signature, timestamp, now, toleranceSeconds = 300 } = input;
  if (secret === '' || signature === undefined) return false;
  const mac = hexBytes(signature.trim());
  if (mac === null || mac.length !== 32) return false;
  if (timestamp !== undefined) {
    if (!/^\d{1,15}$/.test(timestamp)) return false;
    if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  }
  const signed = timestamp === undefined ? body : `${timestamp}:${body}`;
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  // verify compares in constant time, unlike comparing hex strings.
  return crypto.subtle.verify('HMAC', key, mac, encoder.encode(signed));
}

function hexBytes(hex: string): Uint8Array<ArrayBuffer> | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

interface Sender {
  readonly source: AlertSource;
  readonly name: string;
  readonly version: string;
  readonly schema: ReturnType<typeof notificationSchema>;
}

/** Go's zero time.Time: how both senders write "no end yet" for a firing alert. */
const ZERO_TIME = Date.parse('0001-01-01T00:00:00Z');

const requiredOr = (expected: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${expected}`);

const text = () => z.string({ error: requiredOr('a string') });

const labelSet = () => z.record(z.string(), z.string({ error: 'must be a string' }), { error: requiredOr('an object of strings') });

const status = () => z.enum(['firing', 'resolved'], { error: requiredOr('"firing" or "resolved"') });

/** RFC 3339 as Go writes it: nanoseconds, and Grafana's local offsets (`+02:00`). */
const time = () => z.iso.datetime({ offset: true, error: requiredOr('an RFC 3339 time such as 2024-05-14T09:58:30Z') });

const alertSchema = z.object({
  status: status(),
  labels: labelSet(),
  annotations: labelSet(),
  startsAt: time(),
  endsAt: time(),
  generatorURL: text(),
  fingerprint: text().min(1, 'must not be empty'),
});

function notificationSchema(version: string) {
  return z.object({
    version: z.literal(version, { error: requiredOr(`"${version}"`) }),
    groupKey: text(),
    truncatedAlerts: z.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' }).min(0, 'must not be negative').optional(),
    status: status(),
    receiver: text(),
    groupLabels: labelSet(),
    commonLabels: labelSet(),
    commonAnnotations: labelSet(),
    externalURL: text(),
    // The count first, so a flood of alerts is refused without reading each one.
    alerts: z
      .array(z.unknown(), { error: requiredOr('an array of alerts') })
      .max(MAX_ALERTS, { error: (issue) => `holds ${countOf(issue.input)} alerts; Herald reads at most ${MAX_ALERTS.toLocaleString('en')} in one notification` })
      .pipe(z.array(alertSchema)),
  });
}

const ALERTMANAGER: Sender = { source: 'alertmanager', name: 'Alertmanager', version: '4', schema: notificationSchema('4') };
const GRAFANA: Sender = { source: 'grafana', name: "Grafana's webhook contact point", version: '1', schema: notificationSchema('1') };

function readNotification(body: unknown, sender: Sender): NotificationReading {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, problems: [{ path: '(body)', message: 'must be a JSON object' }] };
  }
  // Another version is another shape: its other differences would only bury this one.
  if ('version' in body && body.version !== undefined && body.version !== sender.version) {
    const message = `is ${describe(body.version)}; Herald reads ${sender.name} payload version "${sender.version}" only`;
    return { ok: false, problems: [{ path: 'version', message }] };
  }
  const result = sender.schema.safeParse(body);
  if (!result.success) {
    return { ok: false, problems: result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message })) };
  }
  const n = result.data;
  const notification: ReceivedNotification = {
    source: sender.source,
    groupKey: n.groupKey,
    status: n.status,
    receiver: n.receiver,
    groupLabels: n.groupLabels,
    commonLabels: n.commonLabels,
    commonAnnotations: n.commonAnnotations,
    externalURL: n.externalURL || null,
    truncatedAlerts: n.truncatedAlerts ?? 0,
    alerts: n.alerts.map(
      (a): ReceivedAlert => ({
        fingerprint: a.fingerprint,
        status: a.status,
        labels: a.labels,
        annotations: a.annotations,
        startsAt: new Date(a.startsAt),
        endsAt: endOf(a.endsAt),
        generatorURL: a.generatorURL || null,
      }),
    ),
  };
  return { ok: true, notification };
}

function endOf(time: string): Date | null {
  const end = new Date(time);
  return end.getTime() === ZERO_TIME ? null : end;
}

function countOf(input: unknown): string {
  return Array.isArray(input) ? input.length.toLocaleString('en') : 'too many';
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return `a${Array.isArray(value) ? 'n array' : 'n object'}`;
}
