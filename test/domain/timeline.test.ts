import { describe, expect, it } from 'vitest';
import { replay, scopeOfImpact, stateProblems } from '../../src/domain/timeline.ts';
import type { TimelineEntry } from '../../src/domain/timeline.ts';
import type { Mode, State, Status } from '../../src/domain/vocabulary.ts';

/** A time on 2024-03-05 (UTC): at('10:00'), at('13:41:30'). */
function at(hhmm: string): Date {
  const [h = '00', m = '00', s = '00'] = hhmm.split(':');
  return new Date(`2024-03-05T${h.padStart(2, '0')}:${m}:${s}.000Z`);
}

function u(
  id: number,
  time: string,
  state: State,
  statuses: Record<string, Status> = {},
  modes: Record<string, Mode> = {},
): TimelineEntry {
  return { id, at: at(time), state, statuses, modes };
}

const ENVIRONMENTS = ['production', 'staging', 'development'] as const;
const ROLES = ['web', 'worker', 'api'] as const;

/** Milliseconds, for comparing against the raw per-status totals. */
const H = 3600 * 1000;
const M = 60 * 1000;
const S = 1000;

describe('replay: incidents', () => {
  it('when an incident is still open, red time counts up to now', () => {
    const r = replay('incident', [u(1, '10:00', 'investigating', { production: 'red' })], at('13:41'));
    expect(r.environments.production).toEqual({ yellow: 0, orange: 0, red: 3 * H + 41 * M, blue: 0 });
    expect(r.open).toBe(true);
    expect(r.state).toBe('investigating');
    expect(r.startedAt).toEqual(at('10:00'));
    expect(r.resolvedAt).toBeNull();
    expect(r.lastUpdateAt).toEqual(at('10:00'));
    expect(r.statuses).toEqual({ production: 'red' });

    const scope = scopeOfImpact(r, ENVIRONMENTS, ROLES);
    expect(scope.environments[0]).toEqual({
      environment: 'production',
      impaired_seconds: 3 * 3600 + 41 * 60,
      impaired: '3 hours 41 minutes',
      yellow_seconds: 0,
      orange_seconds: 0,
      red_seconds: 3 * 3600 + 41 * 60,
      blue_seconds: 0,
    });
  });

  it('when an open incident has several updates, each status counts until the next update and the last until now', () => {
    const r = replay(
      'incident',
      [
        u(1, '10:00', 'investigating', { production: 'yellow' }),
        u(2, '10:30', 'identified', { production: 'red' }),
        u(3, '11:15', 'monitoring', { production: 'yellow' }),
      ],
      at('12:00'),
    );
    // yellow 10:00–10:30 (30 m) + 11:15–12:00 (45 m) = 75 m; red 10:30–11:15 = 45 m
    expect(r.environments.production).toEqual({ yellow: 75 * M, orange: 0, red: 45 * M, blue: 0 });
    expect(r.state).toBe('monitoring');
    expect(r.open).toBe(true);
    expect(r.lastUpdateAt).toEqual(at('11:15'));
  });

  it('when an incident is resolved, time stops at the resolving update and now does not matter', () => {
    const entries = [
      u(1, '10:00', 'investigating', { production: 'red' }, { web: 'read_only' }),
      u(2, '13:41', 'resolved'),
    ];
    const r = replay('incident', entries, at('23:00'));
    expect(r.environments.production).toEqual({ yellow: 0, orange: 0, red: 3 * H + 41 * M, blue: 0 });
    expect(r.roles.web).toEqual({ read_only: 3 * H + 41 * M, maintenance: 0 });
    expect(r.state).toBe('resolved');
    expect(r.open).toBe(false);
    expect(r.startedAt).toEqual(at('10:00'));
    expect(r.resolvedAt).toEqual(at('13:41'));
    expect(r.lastUpdateAt).toEqual(at('13:41'));
    // closed → everything it named is back to green / full
    expect(r.statuses).toEqual({ production: 'green' });
    expect(r.modes).toEqual({ web: 'full' });

    const later = replay('incident', entries, at('13:41'));
    expect(later.environments.production).toEqual({ yellow: 0, orange: 0, red: 3 * H + 41 * M, blue: 0 });
  });

  it('when an incident is resolved with a further resolved update, resolvedAt stays at the first one that closed it', () => {
    const r = replay(
      'incident',
      [u(1, '10:00', 'investigating', { production: 'red' }), u(2, '11:00', 'resolved'), u(3, '11:30', 'resolved')],
      at('12:00'),
    );
    expect(r.resolvedAt).toEqual(at('11:00'));
    expect(r.lastUpdateAt).toEqual(at('11:30'));
    expect(r.environments.production).toEqual({ yellow: 0, orange: 0, red: 1 * H, blue: 0 });
  });

  it('when an incident is reopened without naming statuses, the closed gap does not count and it starts again from green / full', () => {
    const r = replay(
      'incident',
      [
        u(1, '10:00', 'investigating', { production: 'red' }, { web: 'maintenance' }),
        u(2, '11:00', 'resolved'),
        u(3, '12:00', 'investigating'),
      ],
      at('13:00'),
    );
    // red / maintenance only 10:00–11:00; 11:00–12:00 closed; from 12:00 everything is green / full
    expect(r.environments.production).toEqual({ yellow: 0, orange: 0, red: 1 * H, blue: 0 });
    expect(r.roles.web).toEqual({ read_only: 0, maintenance: 1 * H });
    expect(r.state).toBe('investigating');
    expect(r.open).toBe(true);
    expect(r.resolvedAt).toBeNull();
    expect(r.startedAt).toEqual(at('10:00'));
    expect(r.statuses).toEqual({ production: 'green' });
    expect(r.modes).toEqual({ web: 'full' });
  });

  it('when an incident is reopened with statuses, only the named ones count again from the reopening', () => {
    const r = replay(
      'incident',
      [
        u(1, '10:00', 'investigating', { production: 'red', staging: 'yellow' }, { web: 'read_only' }),
        u(2, '11:00', 'resolved'),
        u(3, '12:00', 'investigating', { production: 'yellow' }, { worker: 'read_only' }),
      ],
      at('12:30'),
    );
    // production: red 10:00–11:00 (1 h), yellow 12:00–12:30 (30 m)
    expect(r.environments.production).toEqual({ yellow: 30 * M, orange: 0, red: 1 * H, blue: 0 });
    // staging: yellow 10:00–11:00 only, not re-declared after reopening
    expect(r.environments.staging).toEqual({ yellow: 1 * H, orange: 0, red: 0, blue: 0 });
    expect(r.roles.web).toEqual({ read_only: 1 * H, maintenance: 0 });
    expect(r.roles.worker).toEqual({ read_only: 30 * M, maintenance: 0 });
    expect(r.statuses).toEqual({ production: 'yellow', staging: 'green' });
    expect(r.modes).toEqual({ web: 'full', worker: 'read_only' });
  });

  it('when a reopened incident is resolved again, resolvedAt is the second resolving update', () => {
    const r = replay(
      'incident',
      [
        u(1, '10:00', 'investigating', { production: 'red' }),
        u(2, '11:00', 'resolved'),
        u(3, '12:00', 'investigating', { production: 'red' }),
        u(4, '12:20', 'resolved'),
      ],
      at('15:00'),
    );
    // red 10:00–11:00 (60 m) + 12:00–12:20 (20 m) = 80 m
    expect(r.environments.production).toEqual({ yellow: 0, orange: 0, red: 80 * M, blue: 0 });
    expect(r.resolvedAt).toEqual(at('12:20'));
    expect(r.open).toBe(false);
  });

  it('when an update names only some environments and roles, the others keep their previous status and mode', () => {
    const r = replay(
      'incident',
      [
        u(1, '10:00', 'investigating', { production: 'red', staging: 'yellow' }, { web: 'read_only', worker: 'maintenance' }),
        u(2, '10:40', 'identified', { production: 'blue' }, { web: 'full' }),
        u(3, '11:10', 'monitoring', { staging: 'green' }),
      ],
      at('11:30'),
    );
    // production: red 10:00–10:40 (40 m), blue 10:40–11:30 (50 m)
    expect(r.environments.production).toEqual({ yellow: 0, orange: 0, red: 40 * M, blue: 50 * M });
    // staging: yellow 10:00–11:10 (70 m), then green
    expect(r.environments.staging).toEqual({ yellow: 70 * M, orange: 0, red: 0, blue: 0 });
    // web: read_only 10:00–10:40 (40 m), then full
    expect(r.roles.web).toEqual({ read_only: 40 * M, maintenance: 0 });
    // worker: maintenance 10:00–11:30 (90 m), never re-named
    expect(r.roles.worker).toEqual({ read_only: 0, maintenance: 90 * M });
    expect(r.statuses).toEqual({ production: 'blue', staging: 'green' });
    expect(r.modes).toEqual({ web: 'full', worker: 'maintenance' });
  });

  it('when a role goes read_only then maintenance then read_only, each mode gets its own time', () => {
    const r = replay(
      'incident',
      [
        u(1, '09:00', 'investigating', {}, { api: 'read_only' }),
        u(2, '09:15', 'identified', {}, { api: 'maintenance' }),
        u(3, '10:00', 'monitoring', {}, { api: 'read_only' }),
        u(4, '10:05', 'resolved'),
      ],
      at('12:00'),
    );
    // read_only 09:00–09:15 (15 m) + 10:00–10:05 (5 m) = 20 m; maintenance 09:15–10:00 = 45 m
    expect(r.roles.api).toEqual({ read_only: 20 * M, maintenance: 45 * M });
    expect(r.environments).toEqual({});
  });

  it('when updates are inserted out of order (backdated), the result equals the one from entries in time order', () => {
    const sorted = [
      u(1, '10:00', 'investigating', { production: 'yellow' }),
      u(3, '10:20', 'identified', { production: 'red' }, { web: 'read_only' }),
      u(2, '11:00', 'monitoring', { production: 'yellow' }),
      u(4, '11:30', 'resolved'),
    ];
    // insertion order by id: 1, 2, 3 (backdated to 10:20), 4
    const inserted = [sorted[0]!, sorted[2]!, sorted[1]!, sorted[3]!];
    const r = replay('incident', inserted, at('12:00'));
    // yellow 10:00–10:20 (20 m) + 11:00–11:30 (30 m) = 50 m; red 10:20–11:00 = 40 m
    expect(r.environments.production).toEqual({ yellow: 50 * M, orange: 0, red: 40 * M, blue: 0 });
    // read_only 10:20–11:30 = 70 m
    expect(r.roles.web).toEqual({ read_only: 70 * M, maintenance: 0 });
    expect(r.startedAt).toEqual(at('10:00'));
    expect(r.resolvedAt).toEqual(at('11:30'));
    expect(r.lastUpdateAt).toEqual(at('11:30'));
    expect(r.state).toBe('resolved');

    const fromSorted = replay('incident', sorted, at('12:00'));
    expect(r).toEqual(fromSorted);
  });

  it('when a backdated update is inserted last but lands first, startedAt is its time and lastUpdateAt the latest time', () => {
    const r = replay(
      'incident',
      [u(1, '10:00', 'identified', { production: 'red' }), u(2, '09:30', 'investigating', { production: 'yellow' })],
      at('10:30'),
    );
    // yellow 09:30–10:00 (30 m), red 10:00–10:30 (30 m)
    expect(r.environments.production).toEqual({ yellow: 30 * M, orange: 0, red: 30 * M, blue: 0 });
    expect(r.startedAt).toEqual(at('09:30'));
    expect(r.lastUpdateAt).toEqual(at('10:00'));
    expect(r.state).toBe('identified');
    expect(r.statuses).toEqual({ production: 'red' });
  });

  it('when a backdated resolved update lands before a later update, the incident is open again from that later update', () => {
    const r = replay(
      'incident',
      [
        u(1, '10:00', 'investigating', { production: 'red' }),
        u(2, '12:00', 'monitoring', { production: 'yellow' }),
        u(3, '11:00', 'resolved'),
      ],
      at('12:30'),
    );
    // red 10:00–11:00 (1 h); closed 11:00–12:00; yellow 12:00–12:30 (30 m)
    expect(r.environments.production).toEqual({ yellow: 30 * M, orange: 0, red: 1 * H, blue: 0 });
    expect(r.state).toBe('monitoring');
    expect(r.open).toBe(true);
    expect(r.resolvedAt).toBeNull();
  });

  it('when two updates have the same at, the one with the higher id comes later whatever the input order', () => {
    const a = u(5, '10:00', 'investigating', { production: 'yellow' });
    const b = u(6, '10:00', 'identified', { production: 'red' });
    for (const entries of [
      [a, b],
      [b, a],
    ]) {
      const r = replay('incident', entries, at('11:00'));
      // id 6 wins at 10:00, so red 10:00–11:00; the zero-length yellow adds nothing
      expect(r.environments.production).toEqual({ yellow: 0, orange: 0, red: 1 * H, blue: 0 });
      expect(r.state).toBe('identified');
      expect(r.statuses).toEqual({ production: 'red' });
    }
  });

  it('when a resolved update and an investigating update share the same at, id order decides whether it is open', () => {
    const start = u(1, '10:00', 'investigating', { production: 'red' });
    const resolved = u(2, '11:00', 'resolved');
    const reopened = u(3, '11:00', 'investigating', { production: 'yellow' });
    const r = replay('incident', [start, reopened, resolved], at('11:30'));
    // id 2 (resolved) then id 3 (investigating): open, yellow 11:00–11:30
    expect(r.state).toBe('investigating');
    expect(r.open).toBe(true);
    expect(r.resolvedAt).toBeNull();
    expect(r.environments.production).toEqual({ yellow: 30 * M, orange: 0, red: 1 * H, blue: 0 });
  });

  it('when now is before the last update, the last update adds no time', () => {
    const r = replay(
      'incident',
      [u(1, '10:00', 'investigating', { production: 'red' }), u(2, '11:00', 'identified', { production: 'yellow' })],
      at('10:30'),
    );
    // red 10:00–11:00 counts between updates; yellow from 11:00 to now (earlier) counts nothing
    expect(r.environments.production).toEqual({ yellow: 0, orange: 0, red: 1 * H, blue: 0 });
  });

  it('when there are no updates, replay throws', () => {
    expect(() => replay('incident', [], at('10:00'))).toThrow('an event has at least one update');
  });
});

describe('replay: maintenance', () => {
  it('when statuses are declared while scheduled, they take effect only once it is in_progress', () => {
    const r = replay(
      'maintenance',
      [
        u(1, '08:00', 'scheduled', { production: 'blue' }, { web: 'maintenance' }),
        u(2, '10:00', 'in_progress'),
        u(3, '10:45', 'verifying'),
        u(4, '11:00', 'completed'),
      ],
      at('12:00'),
    );
    // 08:00–10:00 scheduled: nothing counts; in_progress + verifying 10:00–11:00 = 1 h
    expect(r.environments.production).toEqual({ yellow: 0, orange: 0, red: 0, blue: 1 * H });
    expect(r.roles.web).toEqual({ read_only: 0, maintenance: 1 * H });
    expect(r.state).toBe('completed');
    expect(r.open).toBe(false);
    expect(r.startedAt).toEqual(at('08:00'));
    expect(r.resolvedAt).toEqual(at('11:00'));
    expect(r.statuses).toEqual({ production: 'green' });
    expect(r.modes).toEqual({ web: 'full' });
  });

  it('when a maintenance is still scheduled, no time counts and its declared statuses are not in force', () => {
    const r = replay('maintenance', [u(1, '08:00', 'scheduled', { production: 'blue' }, { worker: 'read_only' })], at('12:00'));
    expect(r.environments).toEqual({});
    expect(r.roles).toEqual({});
    expect(r.state).toBe('scheduled');
    expect(r.open).toBe(true);
    expect(r.resolvedAt).toBeNull();
    expect(r.statuses).toEqual({ production: 'green' });
    expect(r.modes).toEqual({ worker: 'full' });
  });

  it('when a maintenance is in progress, time counts up to now and its statuses are in force', () => {
    const r = replay(
      'maintenance',
      [u(1, '08:00', 'scheduled', { production: 'blue' }, { worker: 'read_only' }), u(2, '09:00', 'in_progress')],
      at('09:25:30'),
    );
    // 09:00–09:25:30 = 25 m 30 s
    expect(r.environments.production).toEqual({ yellow: 0, orange: 0, red: 0, blue: 25 * M + 30 * S });
    expect(r.roles.worker).toEqual({ read_only: 25 * M + 30 * S, maintenance: 0 });
    expect(r.statuses).toEqual({ production: 'blue' });
    expect(r.modes).toEqual({ worker: 'read_only' });
    expect(r.open).toBe(true);

    const scope = scopeOfImpact(r, ['production'], ['worker']);
    expect(scope.environments[0]!.blue_seconds).toBe(25 * 60 + 30);
    expect(scope.environments[0]!.impaired).toBe('25 minutes');
    expect(scope.roles[0]!.read_only).toBe('25 minutes');
  });

  it('when a maintenance is verifying, time keeps counting up to now', () => {
    const r = replay(
      'maintenance',
      [u(1, '09:00', 'in_progress', {}, { web: 'maintenance' }), u(2, '09:40', 'verifying', {}, { web: 'read_only' })],
      at('10:00'),
    );
    // maintenance 09:00–09:40 (40 m), read_only 09:40–10:00 (20 m)
    expect(r.roles.web).toEqual({ read_only: 20 * M, maintenance: 40 * M });
    expect(r.state).toBe('verifying');
    expect(r.modes).toEqual({ web: 'read_only' });
  });

  it('when a maintenance is cancelled while scheduled, nothing counts', () => {
    const r = replay(
      'maintenance',
      [u(1, '08:00', 'scheduled', { production: 'blue' }), u(2, '09:00', 'cancelled')],
      at('12:00'),
    );
    expect(r.environments).toEqual({});
    expect(r.state).toBe('cancelled');
    expect(r.open).toBe(false);
    expect(r.resolvedAt).toEqual(at('09:00'));
    expect(r.statuses).toEqual({ production: 'green' });
  });

  it('when a maintenance is cancelled while in progress, time counts until the cancellation', () => {
    const r = replay(
      'maintenance',
      [u(1, '08:00', 'scheduled', { production: 'blue' }), u(2, '09:00', 'in_progress'), u(3, '09:10', 'cancelled')],
      at('12:00'),
    );
    expect(r.environments.production).toEqual({ yellow: 0, orange: 0, red: 0, blue: 10 * M });
    expect(r.resolvedAt).toEqual(at('09:10'));
  });
});

describe('scopeOfImpact', () => {
  it('when some environments and roles were never touched, they are listed in configured order with zeros', () => {
    const r = replay(
      'incident',
      [
        u(1, '10:00', 'investigating', { staging: 'yellow' }, { worker: 'read_only' }),
        u(2, '10:00:45', 'identified', { staging: 'red' }),
        u(3, '13:41:45', 'resolved'),
      ],
      at('20:00'),
    );
    const scope = scopeOfImpact(r, ENVIRONMENTS, ROLES);
    expect(scope).toEqual({
      environments: [
        { environment: 'production', impaired_seconds: 0, impaired: '0 seconds', yellow_seconds: 0, orange_seconds: 0, red_seconds: 0, blue_seconds: 0 },
        {
          environment: 'staging',
          // yellow 45 s + red 10:00:45–13:41:45 (3 h 41 m)
          impaired_seconds: 45 + 3 * 3600 + 41 * 60,
          impaired: '3 hours 41 minutes',
          yellow_seconds: 45,
          orange_seconds: 0,
          red_seconds: 3 * 3600 + 41 * 60,
          blue_seconds: 0,
        },
        { environment: 'development', impaired_seconds: 0, impaired: '0 seconds', yellow_seconds: 0, orange_seconds: 0, red_seconds: 0, blue_seconds: 0 },
      ],
      roles: [
        { role: 'web', read_only_seconds: 0, maintenance_seconds: 0, read_only: '0 seconds', maintenance: '0 seconds' },
        {
          role: 'worker',
          // 10:00–13:41:45 = 3 h 41 m 45 s
          read_only_seconds: 3 * 3600 + 41 * 60 + 45,
          maintenance_seconds: 0,
          read_only: '3 hours 41 minutes',
          maintenance: '0 seconds',
        },
        { role: 'api', read_only_seconds: 0, maintenance_seconds: 0, read_only: '0 seconds', maintenance: '0 seconds' },
      ],
    });
  });

  it('when the configured order differs from the order statuses were named, the configured order is kept', () => {
    const r = replay(
      'incident',
      [u(1, '10:00', 'investigating', { development: 'red', production: 'yellow' }, { api: 'maintenance', web: 'read_only' })],
      at('10:02'),
    );
    const scope = scopeOfImpact(r, ['production', 'development', 'staging'], ['web', 'api', 'worker']);
    expect(scope.environments.map((e) => e.environment)).toEqual(['production', 'development', 'staging']);
    expect(scope.environments.map((e) => e.impaired)).toEqual(['2 minutes', '2 minutes', '0 seconds']);
    expect(scope.roles.map((x) => x.role)).toEqual(['web', 'api', 'worker']);
    expect(scope.roles.map((x) => [x.read_only_seconds, x.maintenance_seconds])).toEqual([
      [120, 0],
      [0, 120],
      [0, 0],
    ]);
  });

  it('when an environment was yellow, red and blue, impaired is their sum and each colour keeps its own seconds', () => {
    const r = replay(
      'incident',
      [
        u(1, '10:00', 'investigating', { production: 'yellow' }),
        u(2, '10:20', 'identified', { production: 'red' }),
        u(3, '11:30', 'monitoring', { production: 'blue' }),
        u(4, '12:00', 'resolved'),
      ],
      at('12:00'),
    );
    const [production] = scopeOfImpact(r, ['production'], []).environments;
    expect(production).toEqual({
      environment: 'production',
      impaired_seconds: 20 * 60 + 70 * 60 + 30 * 60, // 2 h
      impaired: '2 hours',
      yellow_seconds: 20 * 60,
      orange_seconds: 0,
      red_seconds: 70 * 60,
      blue_seconds: 30 * 60,
    });
  });

  it('when durations include milliseconds, seconds are floored', () => {
    const r = replay(
      'incident',
      [{ id: 1, at: new Date('2024-03-05T10:00:00.000Z'), state: 'investigating', statuses: { production: 'red' }, modes: {} }],
      new Date('2024-03-05T10:00:59.999Z'),
    );
    const [production] = scopeOfImpact(r, ['production'], []).environments;
    expect(production!.red_seconds).toBe(59);
    expect(production!.impaired).toBe('59 seconds');
  });

  it('when there are no environments or roles configured, the lists are empty', () => {
    const r = replay('incident', [u(1, '10:00', 'investigating', { production: 'red' })], at('11:00'));
    expect(scopeOfImpact(r, [], [])).toEqual({ environments: [], roles: [] });
  });
});

describe('stateProblems', () => {
  it('when an incident moves between its states in any order and reopens, there are no problems', () => {
    expect(
      stateProblems('incident', [
        u(1, '10:00', 'monitoring'),
        u(2, '10:10', 'investigating'),
        u(3, '10:20', 'resolved'),
        u(4, '10:30', 'identified'),
        u(5, '10:40', 'resolved'),
        u(6, '10:50', 'resolved'),
      ]),
    ).toEqual([]);
  });

  it('when an incident starts resolved, there are no problems', () => {
    expect(stateProblems('incident', [u(1, '10:00', 'resolved')])).toEqual([]);
  });

  it('when there are no updates, there are no problems', () => {
    expect(stateProblems('maintenance', [])).toEqual([]);
  });

  it('when a maintenance goes scheduled → in_progress ⇄ verifying → completed, there are no problems', () => {
    expect(
      stateProblems('maintenance', [
        u(1, '08:00', 'scheduled'),
        u(2, '08:30', 'scheduled'),
        u(3, '10:00', 'in_progress'),
        u(4, '10:10', 'in_progress'),
        u(5, '10:30', 'verifying'),
        u(6, '10:40', 'verifying'),
        u(7, '10:50', 'in_progress'),
        u(8, '11:00', 'verifying'),
        u(9, '11:10', 'completed'),
      ]),
    ).toEqual([]);
  });

  it('when a maintenance starts in_progress and completes straight from in_progress, there are no problems', () => {
    expect(stateProblems('maintenance', [u(1, '10:00', 'in_progress'), u(2, '11:00', 'completed')])).toEqual([]);
  });

  it('when a maintenance is cancelled while scheduled, in_progress or verifying, there are no problems', () => {
    expect(stateProblems('maintenance', [u(1, '08:00', 'scheduled'), u(2, '09:00', 'cancelled')])).toEqual([]);
    expect(stateProblems('maintenance', [u(1, '08:00', 'in_progress'), u(2, '09:00', 'cancelled')])).toEqual([]);
    expect(
      stateProblems('maintenance', [u(1, '08:00', 'in_progress'), u(2, '08:30', 'verifying'), u(3, '09:00', 'cancelled')]),
    ).toEqual([]);
  });

  it('when a maintenance starts as verifying, completed or cancelled, the first state is reported', () => {
    expect(stateProblems('maintenance', [u(1, '10:00', 'verifying')])).toEqual([
      'a maintenance starts as scheduled or in_progress, not verifying',
    ]);
    expect(stateProblems('maintenance', [u(1, '10:00', 'completed')])).toEqual([
      'a maintenance starts as scheduled or in_progress, not completed',
    ]);
    expect(stateProblems('maintenance', [u(1, '10:00', 'cancelled')])).toEqual([
      'a maintenance starts as scheduled or in_progress, not cancelled',
    ]);
  });

  it('when a maintenance skips from scheduled to verifying or completed, the transition is refused', () => {
    expect(stateProblems('maintenance', [u(1, '08:00', 'scheduled'), u(2, '09:00', 'verifying')])).toEqual([
      'a maintenance cannot go from scheduled to verifying (update at 2024-03-05T09:00:00.000Z)',
    ]);
    expect(stateProblems('maintenance', [u(1, '08:00', 'scheduled'), u(2, '09:00', 'completed')])).toEqual([
      'a maintenance cannot go from scheduled to completed (update at 2024-03-05T09:00:00.000Z)',
    ]);
  });

  it('when a running maintenance goes back to scheduled, the transition is refused', () => {
    expect(stateProblems('maintenance', [u(1, '08:00', 'in_progress'), u(2, '09:00', 'scheduled')])).toEqual([
      'a maintenance cannot go from in_progress to scheduled (update at 2024-03-05T09:00:00.000Z)',
    ]);
    expect(
      stateProblems('maintenance', [u(1, '08:00', 'in_progress'), u(2, '08:30', 'verifying'), u(3, '09:00', 'scheduled')]),
    ).toEqual(['a maintenance cannot go from verifying to scheduled (update at 2024-03-05T09:00:00.000Z)']);
  });

  it('when a maintenance has an update after it completed or was cancelled, it is reported', () => {
    expect(
      stateProblems('maintenance', [u(1, '08:00', 'in_progress'), u(2, '09:00', 'completed'), u(3, '09:30', 'in_progress')]),
    ).toEqual(['a maintenance takes no update after it is completed (update at 2024-03-05T09:30:00.000Z)']);
    expect(
      stateProblems('maintenance', [u(1, '08:00', 'scheduled'), u(2, '09:00', 'cancelled'), u(3, '09:30', 'cancelled')]),
    ).toEqual(['a maintenance takes no update after it is cancelled (update at 2024-03-05T09:30:00.000Z)']);
    expect(
      stateProblems('maintenance', [u(1, '08:00', 'in_progress'), u(2, '09:00', 'completed'), u(3, '09:30', 'completed')]),
    ).toEqual(['a maintenance takes no update after it is completed (update at 2024-03-05T09:30:00.000Z)']);
  });

  it('when a maintenance state is not a maintenance state, the transition to it is refused', () => {
    expect(stateProblems('maintenance', [u(1, '08:00', 'in_progress'), u(2, '09:00', 'resolved')])).toEqual([
      'a maintenance cannot go from in_progress to resolved (update at 2024-03-05T09:00:00.000Z)',
    ]);
  });

  it('when updates are inserted out of order but valid in at order, there are no problems', () => {
    expect(
      stateProblems('maintenance', [u(1, '08:00', 'scheduled'), u(3, '11:00', 'completed'), u(2, '10:00', 'in_progress')]),
    ).toEqual([]);
  });

  it('when a backdated update lands in an invalid place, it is reported where it lands', () => {
    // inserted last (id 3) but backdated to 08:30, between scheduled and in_progress: scheduled → verifying → in_progress
    expect(
      stateProblems('maintenance', [u(1, '08:00', 'scheduled'), u(2, '10:00', 'in_progress'), u(3, '08:30', 'verifying')]),
    ).toEqual(['a maintenance cannot go from scheduled to verifying (update at 2024-03-05T08:30:00.000Z)']);
  });

  it('when a backdated update lands before the first one, the new first state is checked', () => {
    expect(stateProblems('maintenance', [u(1, '10:00', 'in_progress'), u(2, '09:00', 'verifying')])).toEqual([
      'a maintenance starts as scheduled or in_progress, not verifying',
    ]);
  });

  it('when a backdated update lands before completed it is accepted, and when it lands after completed it is reported', () => {
    expect(
      stateProblems('maintenance', [u(1, '08:00', 'in_progress'), u(2, '09:00', 'completed'), u(3, '08:30', 'verifying')]),
    ).toEqual([]);
    expect(
      stateProblems('maintenance', [u(1, '08:00', 'in_progress'), u(2, '09:00', 'completed'), u(3, '09:05', 'verifying')]),
    ).toEqual(['a maintenance takes no update after it is completed (update at 2024-03-05T09:05:00.000Z)']);
  });

  it('when two maintenance updates share the same at, they are checked in id order', () => {
    // id 2 completed, id 3 in_progress at the same time: in_progress comes after completed
    expect(
      stateProblems('maintenance', [u(1, '08:00', 'scheduled'), u(3, '09:00', 'completed'), u(2, '09:00', 'in_progress')]),
    ).toEqual([]);
    expect(
      stateProblems('maintenance', [u(1, '08:00', 'in_progress'), u(3, '09:00', 'in_progress'), u(2, '09:00', 'completed')]),
    ).toEqual(['a maintenance takes no update after it is completed (update at 2024-03-05T09:00:00.000Z)']);
  });

  it('when several transitions are wrong, each is reported in at order', () => {
    expect(
      stateProblems('maintenance', [
        u(1, '08:00', 'verifying'),
        u(2, '09:00', 'scheduled'),
        u(3, '10:00', 'completed'),
        u(4, '11:00', 'in_progress'),
      ]),
    ).toEqual([
      'a maintenance starts as scheduled or in_progress, not verifying',
      'a maintenance cannot go from verifying to scheduled (update at 2024-03-05T09:00:00.000Z)',
      'a maintenance cannot go from scheduled to completed (update at 2024-03-05T10:00:00.000Z)',
      'a maintenance takes no update after it is completed (update at 2024-03-05T11:00:00.000Z)',
    ]);
  });
});
