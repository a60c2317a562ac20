import ICAL from 'ical.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';

// The calendar is read back by ical.js (Mozilla's iCalendar parser), independent of Herald's writer.

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const BASE = 'https://status.example.com';

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let admin: string;

beforeEach(async () => {
  handle = await freshDatabase();
  t = await testApp(handle);
  admin = await t.token(['admin']);
});
afterEach(async () => handle.close());

async function schedule(body: Record<string, unknown>): Promise<number> {
  const r = await t.call('POST', '/api/v1/maintenances', { token: admin, body: { title: 'Database upgrade', message: 'We are upgrading the database.', ...body } });
  expect(r.status).toBe(201);
  return r.body.id;
}

async function write(method: string, path: string, body: Record<string, unknown> = {}) {
  const r = await t.call(method, path, { token: admin, body });
  expect(r.status, `${method} ${path}`).toBeLessThan(300);
}

async function calendar() {
  const res = await t.app.request('/maintenance.ics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
  const text = await res.text();
  return { text, events: eventsOf(text) };
}

/** Every VEVENT as ical.js reads it. */
function eventsOf(text: string) {
  const root = new ICAL.Component(ICAL.parse(text) as any[]);
  return root.getAllSubcomponents('vevent').map((v) => {
    const time = (name: string) => (v.getFirstPropertyValue(name) as ICAL.Time).toJSDate().toISOString();
    return {
      uid: v.getFirstPropertyValue('uid'),
      sequence: v.getFirstPropertyValue('sequence'),
      start: time('dtstart'),
      end: time('dtend'),
      stamp: time('dtstamp'),
      lastModified: time('last-modified'),
      summary: v.getFirstPropertyValue('summary'),
      description: v.getFirstPropertyValue('description'),
      url: v.getFirstPropertyValue('url'),
      status: v.getFirstPropertyValue('status'),
    };
  });
}

describe('GET /maintenance.ics', () => {
  it('when no maintenance exists, the answer is an empty VCALENDAR with CRLF line endings', async () => {
    const { text } = await calendar();
    expect(text).toBe(
      'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Herald//Maintenance calendar//EN\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Herald maintenance\r\nEND:VCALENDAR\r\n',
    );
    expect(new ICAL.Component(ICAL.parse(text) as any[]).getAllSubcomponents('vevent')).toEqual([]);
  });

  it('when a maintenance is scheduled, it is one VEVENT with its planned window, every line exact', async () => {
    const id = await schedule({ scheduled_for: '2026-03-03T10:00:00Z', scheduled_until: '2026-03-03T12:00:00Z' });
    const { text, events } = await calendar();
    expect(text).toContain(
      [
        'BEGIN:VEVENT',
        `UID:maintenance-${id}@status.example.com`,
        'SEQUENCE:0',
        'DTSTAMP:20260301T100000Z',
        'LAST-MODIFIED:20260301T100000Z',
        'DTSTART:20260303T100000Z',
        'DTEND:20260303T120000Z',
        'SUMMARY:Database upgrade',
        'DESCRIPTION:Status: Scheduled\\n\\nWe are upgrading the database.',
        `URL:${BASE}/incidents/${id}`,
        'STATUS:CONFIRMED',
        'TRANSP:TRANSPARENT',
        'END:VEVENT',
      ].join('\r\n'),
    );
    expect(events).toEqual([
      {
        uid: `maintenance-${id}@status.example.com`,
        sequence: 0,
        start: '2026-03-03T10:00:00.000Z',
        end: '2026-03-03T12:00:00.000Z',
        stamp: '2026-03-01T10:00:00.000Z',
        lastModified: '2026-03-01T10:00:00.000Z',
        summary: 'Database upgrade',
        description: 'Status: Scheduled\n\nWe are upgrading the database.',
        url: `${BASE}/incidents/${id}`,
        status: 'CONFIRMED',
      },
    ]);
  });

  it('when a maintenance is rescheduled twice, its UID stays and SEQUENCE goes 0, 1, 2; a change that moves no time does not bump it', async () => {
    const id = await schedule({ scheduled_for: '2026-03-03T10:00:00Z', scheduled_until: '2026-03-03T12:00:00Z' });
    const uid = `maintenance-${id}@status.example.com`;
    expect((await calendar()).events.map((e) => [e.uid, e.sequence, e.start, e.end])).toEqual([[uid, 0, '2026-03-03T10:00:00.000Z', '2026-03-03T12:00:00.000Z']]);

    t.clock.set(at(HOUR)); // 11:00
    await write('PATCH', `/api/v1/maintenances/${id}`, { scheduled_for: '2026-03-04T10:00:00Z', scheduled_until: '2026-03-04T13:00:00Z' });
    const once = (await calendar()).events;
    expect(once.map((e) => [e.uid, e.sequence, e.start, e.end, e.lastModified, e.status])).toEqual([
      [uid, 1, '2026-03-04T10:00:00.000Z', '2026-03-04T13:00:00.000Z', '2026-03-01T11:00:00.000Z', 'CONFIRMED'],
    ]);

    t.clock.set(at(2 * HOUR)); // 12:00: only auto_start changes; calendars have nothing to take over
    await write('PATCH', `/api/v1/maintenances/${id}`, { auto_start: false });
    expect((await calendar()).events.map((e) => [e.sequence, e.start, e.end])).toEqual([[1, '2026-03-04T10:00:00.000Z', '2026-03-04T13:00:00.000Z']]);

    t.clock.set(at(3 * HOUR)); // 13:00: only the end moves
    await write('PATCH', `/api/v1/maintenances/${id}`, { scheduled_until: '2026-03-04T14:00:00Z' });
    expect((await calendar()).events.map((e) => [e.uid, e.sequence, e.start, e.end, e.stamp])).toEqual([
      [uid, 2, '2026-03-04T10:00:00.000Z', '2026-03-04T14:00:00.000Z', '2026-03-01T13:00:00.000Z'],
    ]);
  });

  it('when a rescheduled maintenance is cancelled, it stays with STATUS:CANCELLED, SEQUENCE one higher and the cancellation message', async () => {
    const id = await schedule({ scheduled_for: '2026-03-03T10:00:00Z', scheduled_until: '2026-03-03T12:00:00Z' });
    const other = await schedule({ title: 'Cache resize', scheduled_for: '2026-03-05T10:00:00Z', scheduled_until: '2026-03-05T11:00:00Z' });
    await write('PATCH', `/api/v1/maintenances/${id}`, { scheduled_for: '2026-03-03T14:00:00Z', scheduled_until: '2026-03-03T16:00:00Z' });
    t.clock.set(at(30 * MIN));
    await write('POST', `/api/v1/maintenances/${id}/cancel`, { message: 'Postponed, no new date yet.' });
    const { text, events } = await calendar();
    expect(events.map((e) => [e.uid, e.sequence, e.status, e.start, e.end, e.lastModified, e.description])).toEqual([
      [`maintenance-${other}@status.example.com`, 0, 'CONFIRMED', '2026-03-05T10:00:00.000Z', '2026-03-05T11:00:00.000Z', '2026-03-01T10:00:00.000Z', 'Status: Scheduled\n\nWe are upgrading the database.'],
      [`maintenance-${id}@status.example.com`, 2, 'CANCELLED', '2026-03-03T14:00:00.000Z', '2026-03-03T16:00:00.000Z', '2026-03-01T10:30:00.000Z', 'Status: Cancelled\n\nPostponed, no new date yet.'],
    ]);
    expect(text).toContain('DESCRIPTION:Status: Cancelled\\n\\nPostponed\\, no new date yet.\r\n');
  });

  it('when a title is long and holds commas, semicolons, a backslash, a newline and CJK, it is escaped and folded at 75 octets, and reads back exactly', async () => {
    const title = 'Database upgrade, phase 1; replicas, then the primary\n(step "A" \\ step B) — Zürich 東京 東京 東京 東京 東京 東京 東京 東京 東京 東京 done';
    const id = await schedule({ title, message: 'Line one;\r\nline two, with a comma.', scheduled_for: '2026-03-03T10:00:00Z', scheduled_until: '2026-03-03T11:00:00Z' });
    const { text, events } = await calendar();
    expect(text.endsWith('\r\n')).toBe(true);
    const lines = text.slice(0, -2).split('\r\n');
    expect(lines.filter((l) => l.includes('\n') || l.includes('\r'))).toEqual([]);
    for (const line of lines) {
      const bytes = new TextEncoder().encode(line);
      expect(bytes.length, line).toBeLessThanOrEqual(75);
      // A fold never falls inside a UTF-8 sequence: each line decodes on its own.
      expect(new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toBe(line);
    }
    const summaryAt = lines.findIndex((l) => l.startsWith('SUMMARY:'));
    // 8 octets of "SUMMARY:" and the first 67 of the escaped title make the first line's 75.
    expect(lines[summaryAt]).toBe('SUMMARY:Database upgrade\\, phase 1\\; replicas\\, then the primary\\n(step "A"');
    expect(lines[summaryAt + 1]!.startsWith(' ')).toBe(true);
    const unfolded = text.replace(/\r\n /g, '');
    expect(unfolded).toContain('\r\nSUMMARY:Database upgrade\\, phase 1\\; replicas\\, then the primary\\n(step "A" \\\\ step B) — Zürich 東京 東京 東京 東京 東京 東京 東京 東京 東京 東京 done\r\n');
    expect(events.map((e) => [e.uid, e.summary, e.description, e.start, e.end])).toEqual([
      [`maintenance-${id}@status.example.com`, title, 'Status: Scheduled\n\nLine one;\nline two, with a comma.', '2026-03-03T10:00:00.000Z', '2026-03-03T11:00:00.000Z'],
    ]);
  });

  it('when maintenance has run, it shows when it started and completed; once it ended more than 90 days ago it leaves the calendar', async () => {
    const old = await schedule({ title: 'Old upgrade', scheduled_for: '2026-03-03T10:00:00Z', scheduled_until: '2026-03-03T12:00:00Z' });
    t.clock.set('2026-03-03T10:05:00.000Z');
    await write('POST', `/api/v1/maintenances/${old}/run`, { message: 'Started.' });
    t.clock.set('2026-03-03T11:30:00.000Z');
    await write('POST', `/api/v1/incidents/${old}/updates`, { state: 'completed', message: 'All done.' });
    expect((await calendar()).events.map((e) => [e.summary, e.sequence, e.status, e.start, e.end, e.description])).toEqual([
      ['Old upgrade', 0, 'CONFIRMED', '2026-03-03T10:00:00.000Z', '2026-03-03T12:00:00.000Z', 'Status: Completed\nStarted: 2026-03-03T10:05:00.000Z\nCompleted: 2026-03-03T11:30:00.000Z\n\nAll done.'],
    ]);

    t.clock.set(at(80 * DAY)); // 2026-05-20T10:00
    const recent = await schedule({ title: 'Recent upgrade', scheduled_for: '2026-05-21T10:00:00Z', scheduled_until: '2026-05-21T11:00:00Z' });
    t.clock.set('2026-05-21T10:00:00.000Z');
    await write('POST', `/api/v1/maintenances/${recent}/run`);
    expect((await calendar()).events.map((e) => [e.summary, e.description])).toEqual([
      ['Recent upgrade', 'Status: In progress\nStarted: 2026-05-21T10:00:00.000Z\n\nMaintenance has started.'],
      ['Old upgrade', 'Status: Completed\nStarted: 2026-03-03T10:05:00.000Z\nCompleted: 2026-03-03T11:30:00.000Z\n\nAll done.'],
    ]);

    // 2026-06-02T10:00: 91 days after the old one's last change and planned end; the next write rebuilds.
    t.clock.set('2026-06-02T10:00:00.000Z');
    await write('POST', `/api/v1/incidents/${recent}/updates`, { state: 'completed', message: 'Done.' });
    expect((await calendar()).events.map((e) => e.summary)).toEqual(['Recent upgrade']);
  });
});
