import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ReceivedNotification } from '../../src/intake/alert.ts';
import { readAlertmanager, readGrafana, verifyGrafanaSignature } from '../../src/intake/payloads.ts';

/**
 * The fixtures under fixtures/ are hand-written from the documented payload shapes
 * (Alertmanager's webhook_config "version 4" payload; Grafana's webhook contact point payload,
 * version "1"), not captured from a running Alertmanager or Grafana. Each call reads a fresh
 * copy, so a test may change it.
 */
function fixture(name: string): any {
  return JSON.parse(readFileSync(new URL(`fixtures/${name}.json`, import.meta.url), 'utf8'));
}

function notificationOf(reading: ReturnType<typeof readAlertmanager>): ReceivedNotification {
  if (!reading.ok) throw new Error(`refused: ${JSON.stringify(reading.problems)}`);
  return reading.notification;
}

function alerts(n: number) {
  const one = fixture('alertmanager-firing').alerts[0];
  return Array.from({ length: n }, (_, i) => ({ ...one, fingerprint: `f${i}` }));
}

describe('readAlertmanager', () => {
  it('reads a firing notification into the shared shape', () => {
    expect(notificationOf(readAlertmanager(fixture('alertmanager-firing')))).toEqual({
      source: 'alertmanager',
      groupKey: '{}/{team="checkout"}:{alertname="HighLatency", env="prod"}',
      status: 'firing',
      receiver: 'herald',
      groupLabels: { alertname: 'HighLatency', env: 'prod' },
      commonLabels: { alertname: 'HighLatency', env: 'prod', job: 'checkout-api', severity: 'page', team: 'checkout' },
      commonAnnotations: { runbook_url: 'https://runbooks.example.com/checkout/high-latency' },
      externalURL: 'http://alertmanager.example.com:9093',
      truncatedAlerts: 0,
      alerts: [
        {
          fingerprint: '5c0b8a9e3f1d2a47',
          status: 'firing',
          labels: { alertname: 'HighLatency', env: 'prod', instance: 'checkout-api-1:8080', job: 'checkout-api', severity: 'page', team: 'checkout' },
          annotations: { runbook_url: 'https://runbooks.example.com/checkout/high-latency', summary: 'p99 latency is 2.4s on checkout-api-1:8080' },
          startsAt: new Date('2024-05-14T09:58:30.123Z'),
          endsAt: null,
          generatorURL: expect.stringMatching(/^http:\/\/prometheus\.example\.com:9090\/graph\?g0\.expr=/),
        },
        {
          fingerprint: 'a81f3c27d94be610',
          status: 'firing',
          labels: { alertname: 'HighLatency', env: 'prod', instance: 'checkout-api-2:8080', job: 'checkout-api', severity: 'page', team: 'checkout' },
          annotations: { runbook_url: 'https://runbooks.example.com/checkout/high-latency', summary: 'p99 latency is 3.1s on checkout-api-2:8080' },
          startsAt: new Date('2024-05-14T09:59:00.500Z'),
          endsAt: null,
          generatorURL: expect.stringMatching(/^http:\/\/prometheus\.example\.com:9090\/graph\?g0\.expr=/),
        },
      ],
    });
  });

  it('reads a resolved notification with the end of each alert', () => {
    const n = notificationOf(readAlertmanager(fixture('alertmanager-resolved')));
    expect([n.status, n.alerts.map((a) => [a.status, a.endsAt])]).toEqual([
      'resolved',
      [
        ['resolved', new Date('2024-05-14T10:21:30.987Z')],
        ['resolved', new Date('2024-05-14T10:20:45Z')],
      ],
    ]);
  });

  it("reads Go's zero time in endsAt as no end, however it is written", () => {
    const body = fixture('alertmanager-firing');
    body.alerts[1].endsAt = '0001-01-01T00:00:00.000000000Z';
    expect(notificationOf(readAlertmanager(body)).alerts.map((a) => a.endsAt)).toEqual([null, null]);
  });

  it('reads an empty generatorURL and externalURL as null', () => {
    const body = fixture('alertmanager-firing');
    body.externalURL = '';
    body.alerts[0].generatorURL = '';
    const n = notificationOf(readAlertmanager(body));
    expect([n.externalURL, n.alerts[0]?.generatorURL]).toEqual([null, null]);
  });

  it('accepts fields it does not know and keeps them out of the notification', () => {
    const body = fixture('alertmanager-firing');
    body.futureField = { added: 'in a later Alertmanager' };
    body.alerts[0].silenceURL = 'http://alertmanager.example.com:9093/#/silences/new';
    expect(notificationOf(readAlertmanager(body))).toStrictEqual(notificationOf(readAlertmanager(fixture('alertmanager-firing'))));
  });

  it('accepts a notification without truncatedAlerts, as older Alertmanagers send it', () => {
    const body = fixture('alertmanager-firing');
    delete body.truncatedAlerts;
    expect(readAlertmanager(body).ok).toBe(true);
  });

  it('accepts exactly 1,000 alerts', () => {
    const body = fixture('alertmanager-firing');
    body.alerts = alerts(1000);
    expect(notificationOf(readAlertmanager(body)).alerts).toHaveLength(1000);
  });

  it('refuses 1,001 alerts with one problem, without reading each', () => {
    const body = fixture('alertmanager-firing');
    body.alerts = [...alerts(1000), { not: 'an alert' }];
    expect(readAlertmanager(body)).toEqual({
      ok: false,
      problems: [{ path: 'alerts', message: 'holds 1,001 alerts; Herald reads at most 1,000 in one notification' }],
    });
  });

  it('refuses another payload version, with that one problem', () => {
    const body = fixture('alertmanager-firing');
    body.version = '5';
    delete body.groupKey;
    expect(readAlertmanager(body)).toEqual({
      ok: false,
      problems: [{ path: 'version', message: 'is "5"; Herald reads Alertmanager payload version "4" only' }],
    });
  });

  it('refuses a version given as a number, saying so', () => {
    const body = fixture('alertmanager-firing');
    body.version = 4;
    expect(readAlertmanager(body)).toEqual({
      ok: false,
      problems: [{ path: 'version', message: 'is 4; Herald reads Alertmanager payload version "4" only' }],
    });
  });

  it('lists a missing version among the other problems', () => {
    const body = fixture('alertmanager-firing');
    delete body.version;
    delete body.receiver;
    expect(readAlertmanager(body)).toEqual({
      ok: false,
      problems: [
        { path: 'version', message: 'is required' },
        { path: 'receiver', message: 'is required' },
      ],
    });
  });

  it('lists every problem, each at its path', () => {
    const body = fixture('alertmanager-firing');
    delete body.groupKey;
    body.status = 'pending';
    body.truncatedAlerts = -1;
    body.commonLabels = 'env=prod';
    body.groupLabels.env = 5;
    body.alerts[0].labels.instance = null;
    body.alerts[0].startsAt = 'yesterday';
    delete body.alerts[1].fingerprint;
    body.alerts[1].status = 'FIRING';
    body.alerts[1].endsAt = '2024-05-14 10:00:00';
    expect(readAlertmanager(body)).toEqual({
      ok: false,
      problems: [
        { path: 'groupKey', message: 'is required' },
        { path: 'truncatedAlerts', message: 'must not be negative' },
        { path: 'status', message: 'must be "firing" or "resolved"' },
        { path: 'groupLabels.env', message: 'must be a string' },
        { path: 'commonLabels', message: 'must be an object of strings' },
        { path: 'alerts.0.labels.instance', message: 'must be a string' },
        { path: 'alerts.0.startsAt', message: 'must be an RFC 3339 time such as 2024-05-14T09:58:30Z' },
        { path: 'alerts.1.status', message: 'must be "firing" or "resolved"' },
        { path: 'alerts.1.endsAt', message: 'must be an RFC 3339 time such as 2024-05-14T09:58:30Z' },
        { path: 'alerts.1.fingerprint', message: 'is required' },
      ],
    });
  });

  it('refuses alerts that are not an array', () => {
    const body = fixture('alertmanager-firing');
    body.alerts = { 0: body.alerts[0] };
    expect(readAlertmanager(body)).toEqual({ ok: false, problems: [{ path: 'alerts', message: 'must be an array of alerts' }] });
  });

  it('refuses an empty fingerprint, the identity of an alert', () => {
    const body = fixture('alertmanager-firing');
    body.alerts[0].fingerprint = '';
    expect(readAlertmanager(body)).toEqual({ ok: false, problems: [{ path: 'alerts.0.fingerprint', message: 'must not be empty' }] });
  });

  it.each([
    ['null', null],
    ['an array', []],
    ['a string', '{"version":"4"}'],
    ['a number', 4],
  ])('refuses a body that is %s', (_, body) => {
    expect(readAlertmanager(body)).toEqual({ ok: false, problems: [{ path: '(body)', message: 'must be a JSON object' }] });
  });

  it('reports every missing field of an empty object', () => {
    const reading = readAlertmanager({});
    expect(reading.ok ? [] : reading.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'version: is required',
      'groupKey: is required',
      'status: is required',
      'receiver: is required',
      'groupLabels: is required',
      'commonLabels: is required',
      'commonAnnotations: is required',
      'externalURL: is required',
      'alerts: is required',
    ]);
  });
});

describe('readGrafana', () => {
  it('reads a firing notification into the shared shape', () => {
    const n = notificationOf(readGrafana(fixture('grafana-firing')));
    expect(n).toEqual({
      source: 'grafana',
      groupKey: '{}/{__grafana_receiver__="Herald"}:{alertname="DiskAlmostFull", grafana_folder="Storage"}',
      status: 'firing',
      receiver: 'Herald',
      groupLabels: { alertname: 'DiskAlmostFull', grafana_folder: 'Storage' },
      commonLabels: { alertname: 'DiskAlmostFull', grafana_folder: 'Storage', team: 'storage' },
      commonAnnotations: { runbook_url: 'https://runbooks.example.com/storage/disk-full' },
      externalURL: 'https://grafana.example.com/',
      truncatedAlerts: 0,
      alerts: [
        {
          fingerprint: 'c6eadffa33fcdf37',
          status: 'firing',
          labels: { alertname: 'DiskAlmostFull', grafana_folder: 'Storage', instance: 'db-1', team: 'storage' },
          annotations: {
            description: 'Disk /var/lib/postgresql on db-1 is 93% full',
            runbook_url: 'https://runbooks.example.com/storage/disk-full',
            summary: 'Disk almost full on db-1',
          },
          startsAt: new Date('2024-05-14T09:58:30.157Z'),
          endsAt: null,
          generatorURL: 'https://grafana.example.com/alerting/grafana/edt3x2hyp0h6ob/view?orgId=1',
        },
        {
          fingerprint: '1e4b6f0c2a9d8e73',
          status: 'firing',
          labels: { alertname: 'DiskAlmostFull', grafana_folder: 'Storage', instance: 'db-2', team: 'storage' },
          annotations: {
            description: 'Disk /var/lib/postgresql on db-2 is 91% full',
            runbook_url: 'https://runbooks.example.com/storage/disk-full',
            summary: 'Disk almost full on db-2',
          },
          startsAt: new Date('2024-05-14T09:59:30Z'),
          endsAt: null,
          generatorURL: 'https://grafana.example.com/alerting/grafana/edt3x2hyp0h6ob/view?orgId=1',
        },
      ],
    });
  });

  it('reads a resolved notification, its local-offset times in UTC', () => {
    const n = notificationOf(readGrafana(fixture('grafana-resolved')));
    expect([n.status, n.alerts.map((a) => [a.status, a.endsAt])]).toEqual([
      'resolved',
      [
        ['resolved', new Date('2024-05-14T10:31:30.157Z')],
        ['resolved', new Date('2024-05-14T10:30:30Z')],
      ],
    ]);
  });

  it("keeps Grafana's own fields (values, silenceURL, title…) out of the notification", () => {
    const n = notificationOf(readGrafana(fixture('grafana-firing')));
    expect([Object.keys(n).sort(), Object.keys(n.alerts[0]!).sort()]).toEqual([
      ['alerts', 'commonAnnotations', 'commonLabels', 'externalURL', 'groupKey', 'groupLabels', 'receiver', 'source', 'status', 'truncatedAlerts'],
      ['annotations', 'endsAt', 'fingerprint', 'generatorURL', 'labels', 'startsAt', 'status'],
    ]);
  });

  it('refuses an Alertmanager payload, by its version', () => {
    expect(readGrafana(fixture('alertmanager-firing'))).toEqual({
      ok: false,
      problems: [{ path: 'version', message: `is "4"; Herald reads Grafana's webhook contact point payload version "1" only` }],
    });
  });

  it('lists every problem, each at its path', () => {
    const body = fixture('grafana-firing');
    delete body.externalURL;
    body.alerts[0].annotations = ['summary'];
    body.alerts[1].generatorURL = 42;
    expect(readGrafana(body)).toEqual({
      ok: false,
      problems: [
        { path: 'externalURL', message: 'is required' },
        { path: 'alerts.0.annotations', message: 'must be an object of strings' },
        { path: 'alerts.1.generatorURL', message: 'must be a string' },
      ],
    });
  });

  it('refuses 1,001 alerts', () => {
    const body = fixture('grafana-firing');
    body.alerts = Array.from({ length: 1001 }, (_, i) => ({ ...body.alerts[0], fingerprint: `f${i}` }));
    expect(readGrafana(body)).toEqual({
      ok: false,
      problems: [{ path: 'alerts', message: 'holds 1,001 alerts; Herald reads at most 1,000 in one notification' }],
    });
  });
});

describe('verifyGrafanaSignature', () => {
  const secret = 'grafana-hmac-secret';
  const body = JSON.stringify(fixture('grafana-firing'));
  const now = new Date('2024-05-14T10:00:00Z');
  const nowSeconds = String(now.getTime() / 1000);
  const hmac = (key: string, message: string) => createHmac('sha256', key).update(message, 'utf8').digest('hex');

  it('accepts the hex HMAC-SHA256 of the body when no timestamp is sent', async () => {
    expect(await verifyGrafanaSignature({ secret, body, signature: hmac(secret, body), timestamp: undefined, now })).toBe(true);
  });

  it('accepts the HMAC of "timestamp:body" with a current timestamp', async () => {
    const signature = hmac(secret, `${nowSeconds}:${body}`);
    expect(await verifyGrafanaSignature({ secret, body, signature, timestamp: nowSeconds, now })).toBe(true);
  });

  it('accepts the signature in upper-case hex', async () => {
    expect(await verifyGrafanaSignature({ secret, body, signature: hmac(secret, body).toUpperCase(), timestamp: undefined, now })).toBe(true);
  });

  it('refuses a signature made with another secret', async () => {
    expect(await verifyGrafanaSignature({ secret, body, signature: hmac('another-secret', body), timestamp: undefined, now })).toBe(false);
  });

  it('refuses a tampered body', async () => {
    const signature = hmac(secret, `${nowSeconds}:${body}`);
    const tampered = body.replace('"firing"', '"resolved"');
    expect(await verifyGrafanaSignature({ secret, body: tampered, signature, timestamp: nowSeconds, now })).toBe(false);
  });

  it('refuses a tampered timestamp', async () => {
    const signature = hmac(secret, `${nowSeconds}:${body}`);
    expect(await verifyGrafanaSignature({ secret, body, signature, timestamp: String(Number(nowSeconds) + 1), now })).toBe(false);
  });

  it('refuses a body-only signature sent with a timestamp', async () => {
    expect(await verifyGrafanaSignature({ secret, body, signature: hmac(secret, body), timestamp: nowSeconds, now })).toBe(false);
  });

  it('accepts a timestamp exactly 300 seconds old, and refuses one 301 seconds old', async () => {
    const at = (age: number) => String(Number(nowSeconds) - age);
    const verify = (ts: string) => verifyGrafanaSignature({ secret, body, signature: hmac(secret, `${ts}:${body}`), timestamp: ts, now });
    expect([await verify(at(300)), await verify(at(301))]).toEqual([true, false]);
  });

  it('refuses a timestamp more than 300 seconds ahead', async () => {
    const ts = String(Number(nowSeconds) + 301);
    expect(await verifyGrafanaSignature({ secret, body, signature: hmac(secret, `${ts}:${body}`), timestamp: ts, now })).toBe(false);
  });

  it('honours a tolerance given in seconds', async () => {
    const ts = String(Number(nowSeconds) - 60);
    const verify = (toleranceSeconds: number) => verifyGrafanaSignature({ secret, body, signature: hmac(secret, `${ts}:${body}`), timestamp: ts, now, toleranceSeconds });
    expect([await verify(30), await verify(60)]).toEqual([false, true]);
  });

  it('refuses a timestamp that is not Unix seconds', async () => {
    const ts = now.toISOString();
    expect(await verifyGrafanaSignature({ secret, body, signature: hmac(secret, `${ts}:${body}`), timestamp: ts, now })).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['not hex', 'z'.repeat(64)],
    ['too short', 'ab'.repeat(31)],
  ])('refuses a signature that is %s', async (_, signature) => {
    expect(await verifyGrafanaSignature({ secret, body, signature, timestamp: undefined, now })).toBe(false);
  });

  it('refuses everything when the secret is empty', async () => {
    expect(await verifyGrafanaSignature({ secret: '', body, signature: hmac('', body), timestamp: undefined, now })).toBe(false);
  });
});
