/**
 * iCalendar (RFC 5545) for the maintenance calendar: a pure function from events to text. Written
 * by hand: it is a handful of properties, and the rules that matter (escaping, folding, CRLF) are
 * easier to see here than behind a library's options.
 */

export interface CalendarEvent {
  /** Stable for the life of the maintenance: calendars match updates to events by it. */
  readonly uid: string;
  /** Raised on each change a calendar should take over its copy (a new time, a cancellation). */
  readonly sequence: number;
  readonly start: Date;
  readonly end: Date;
  /** Plain text. */
  readonly summary: string;
  /** Plain text; may span lines. */
  readonly description: string;
  readonly url: string;
  readonly stamp: Date;
  readonly lastModified: Date;
  readonly status: 'CONFIRMED' | 'CANCELLED';
}

export interface Calendar {
  /** X-WR-CALNAME: the name calendar apps show for a subscription. */
  readonly name: string;
  readonly events: readonly CalendarEvent[];
}

/** A line is at most 75 octets without its CRLF (RFC 5545 §3.1). */
const LINE_OCTETS = 75;

/**
 * TEXT values (§3.3.11): backslash, semicolon and comma escaped, every line break as "\n".
 * Control characters other than tab are not allowed in a value at all, so they are dropped.
 */
export function escapeText(s: string): string {
  return s
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '')
    .replace(/[\\;,\n]/g, (ch) => (ch === '\n' ? '\\n' : `\\${ch}`));
}

/**
 * Folds a content line (§3.1): after 75 octets, CRLF and one space, the space counting towards
 * the next line's 75. Splits fall between characters, never inside a UTF-8 sequence.
 */
export function foldLine(line: string): string {
  const encoder = new TextEncoder();
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  for (const ch of line) {
    const size = encoder.encode(ch).length;
    if (octets + size > LINE_OCTETS) {
      parts.push(current);
      current = ' ';
      octets = 1;
    }
    current += ch;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n');
}

/** UTC date-time, form #2 of §3.3.5: 20261201T081500Z. */
export const icalDate = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');

export function icalText(calendar: Calendar): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Herald//Maintenance calendar//EN', 'CALSCALE:GREGORIAN', 'METHOD:PUBLISH', `X-WR-CALNAME:${escapeText(calendar.name)}`];
  for (const e of calendar.events) {
    lines.push(
      'BEGIN:VEVENT',
      `UID:${escapeText(e.uid)}`,
      `SEQUENCE:${e.sequence}`,
      `DTSTAMP:${icalDate(e.stamp)}`,
      `LAST-MODIFIED:${icalDate(e.lastModified)}`,
      `DTSTART:${icalDate(e.start)}`,
      `DTEND:${icalDate(e.end)}`,
      `SUMMARY:${escapeText(e.summary)}`,
      `DESCRIPTION:${escapeText(e.description)}`,
      // URI values are not TEXT: no escaping, and the URL is Herald's own.
      `URL:${e.url}`,
      `STATUS:${e.status}`,
      // Shown, but not as the subscriber's own busy time.
      'TRANSP:TRANSPARENT',
      'END:VEVENT',
    );
  }
  lines.push('END:VCALENDAR');
  return lines.map(foldLine).join('\r\n') + '\r\n';
}
