/** A realistic state for the benchmarks, written through Herald's HTTP API with a token. */
import { jsonRequest } from './http.ts';

// ---- a realistic state, through the API ---------------------------------------------------------

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const REGIONS = ['us-east', 'eu-west', 'ap-southeast'];
const COMPONENTS = ['Platform API', 'Dashboard', 'Build pipeline', 'Postgres add-on', 'Router', 'Log drains', 'Scheduler', 'Metrics'];

function message(n: number, state: string, component: string, region: string): string {
  const lines = {
    investigating: [
      `We are **investigating** elevated error rates on the ${component} in \`${region}\`. Some requests fail with \`H12\` or \`503\`.`,
      '',
      `- Affected: ${component} (${region})`,
      '- Not affected: running dynos keep serving traffic',
      '',
      `Follow along on [the incident page](https://status.example.com/incidents/${n}) or subscribe to the [RSS feed](https://status.example.com/feed.rss).`,
    ],
    identified: [
      `The cause is **identified**: a configuration change rolled out to the ${component} fleet at ${10 + (n % 12)}:${String((n * 7) % 60).padStart(2, '0')} UTC exhausted connection pools.`,
      '',
      '1. The change has been reverted.',
      '2. Pools are being recycled region by region.',
      '3. Queued work will be retried automatically; no action is needed.',
    ],
    monitoring: [
      `A fix is in place and we are *monitoring* the ${component}. Error rates in \`${region}\` are back to normal levels.`,
      '',
      '> If you still see failures, please retry; deploys queued during the incident are being processed in order.',
    ],
    resolved: [
      `This incident is **resolved**. The ${component} has been operating normally for 30 minutes.`,
      '',
      'A postmortem will follow once the review is complete.',
    ],
  } as Record<string, string[]>;
  return (lines[state] ?? lines.investigating!).join('\n');
}

const POSTMORTEM = (title: string) => `## Summary

${title}: for a little over an hour, part of the platform returned errors.

## Timeline

| time (UTC) | event |
| --- | --- |
| 10:02 | Alerts fire for elevated 5xx rates |
| 10:09 | Incident declared, investigation starts |
| 10:31 | Faulty configuration identified and reverted |
| 11:15 | Error rates back to baseline |

## What we are changing

- Configuration changes roll out to one region at a time, with automatic rollback on error-rate alerts.
- Connection pool limits are now checked in CI.
`;

export interface Seeded {
  readonly incidents: number;
  readonly updates: number;
  readonly open: number;
  /** The first open incident's id. */
  readonly openId: number;
}

export async function seed(base: string, token: string): Promise<Seeded> {
  const now = Date.now();
  const iso = (t: number) => new Date(t).toISOString();
  let incidents = 0;
  let updates = 0;
  const post = (p: string, body: unknown) => jsonRequest('POST', `${base}${p}`, token, body);

  // History: 36 resolved incidents over the last 88 days, 3-5 updates each, a few postmortems.
  for (let i = 0; i < 36; i++) {
    const start = now - 88 * DAY + i * (86 * DAY / 36) + (i % 5) * HOUR;
    const component = COMPONENTS[i % COMPONENTS.length]!;
    const region = REGIONS[i % REGIONS.length]!;
    const env = i % 4 === 3 ? 'development' : 'production';
    const title = `${component} ${i % 3 === 0 ? 'errors' : i % 3 === 1 ? 'degraded performance' : 'unavailable'} in ${region}`;
    const created = await post('/api/v1/incidents', {
      title,
      message: message(i, 'investigating', component, region),
      statuses: { [env]: i % 3 === 2 ? 'red' : 'yellow' },
      ...(i % 6 === 0 ? { modes: { web: 'read_only' } } : {}),
      at: iso(start),
    });
    const id = created.id as number;
    incidents++;
    updates++;
    const steps = ['identified', ...(i % 2 ? ['monitoring'] : []), ...(i % 3 === 0 ? ['monitoring'] : []), 'resolved'];
    let t = start;
    for (const state of steps) {
      t += (20 + ((i * 13) % 50)) * MINUTE;
      await post(`/api/v1/incidents/${id}/updates`, {
        state,
        message: message(i, state, component, region),
        ...(state === 'identified' ? { statuses: { [env]: 'yellow' } } : {}),
        ...(state === 'resolved' && i % 6 === 0 ? { modes: { web: 'full' } } : {}),
        at: iso(t),
      });
      updates++;
    }
    if (i % 7 === 0) {
      await jsonRequest('PUT', `${base}/api/v1/incidents/${id}/postmortem`, token, { markdown: POSTMORTEM(title) });
      await post(`/api/v1/incidents/${id}/postmortem/publish`, undefined);
    }
  }

  // Open now: three incidents with several Markdown updates each.
  const open = [
    { title: 'Elevated API error rates in eu-west', component: 'Platform API', region: 'eu-west', statuses: { production: 'red' }, modes: { web: 'read_only' }, states: ['investigating', 'investigating', 'identified', 'identified', 'monitoring', 'monitoring'] },
    { title: 'Delayed build logs', component: 'Build pipeline', region: 'us-east', statuses: { development: 'yellow' }, modes: {}, states: ['investigating', 'identified', 'identified', 'monitoring'] },
    { title: 'Intermittent dashboard timeouts', component: 'Dashboard', region: 'ap-southeast', statuses: { production: 'yellow' }, modes: {}, states: ['investigating', 'investigating', 'identified', 'monitoring', 'monitoring'] },
  ];
  let openId = 0;
  for (const [n, o] of open.entries()) {
    let t = now - (3 - n) * HOUR - o.states.length * 20 * MINUTE;
    const created = await post('/api/v1/incidents', {
      title: o.title,
      message: message(100 + n, 'investigating', o.component, o.region),
      statuses: o.statuses,
      ...(Object.keys(o.modes).length ? { modes: o.modes } : {}),
      at: iso(t),
    });
    openId ||= created.id as number;
    incidents++;
    updates++;
    for (const state of o.states.slice(1)) {
      t += 20 * MINUTE;
      await post(`/api/v1/incidents/${created.id}/updates`, { state, message: message(100 + n, state, o.component, o.region), at: iso(t) });
      updates++;
    }
  }
  // Maintenance: one running now, two coming up (so the maintenance feeds and APIs are not empty).
  const maintenances = [
    { title: 'Postgres add-on minor version upgrade', environments: ['development'], in: 1 * HOUR, hours: 2, run: true },
    { title: 'Router fleet kernel patching', environments: ['production'], in: 3 * DAY, hours: 1, run: false },
    { title: 'Build pipeline storage migration', environments: ['development'], in: 9 * DAY, hours: 4, run: false },
  ];
  for (const m of maintenances) {
    const created = await post('/api/v1/maintenances', {
      title: m.title,
      message: `We will perform **scheduled maintenance** on the ${m.title.split(' ').slice(0, 2).join(' ')}.\n\n- Expected impact: brief connection resets\n- No action is needed on your side`,
      environments: m.environments,
      scheduled_for: iso(now + m.in),
      scheduled_until: iso(now + m.in + m.hours * HOUR),
    });
    incidents++;
    updates++;
    if (m.run) {
      await post(`/api/v1/maintenances/${created.id}/run`, undefined);
      updates++;
    }
  }
  return { incidents, updates, open: open.length, openId };
}

