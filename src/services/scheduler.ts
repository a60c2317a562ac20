import * as q from '../db/queries/incidents.ts';
import * as mq from '../db/queries/maintenance.ts';
import { trySchedulerLock } from '../db/queries/system.ts';
import type { IncidentRow } from '../db/schema.ts';
import { SCHEDULER, type Deps } from './deps.ts';
import { appendUpdate } from './incidents.ts';
import { lockMaintenance } from './maintenance.ts';
import { inTransaction } from './unit-of-work.ts';

const MIN = 60_000;

/**
 * One pass of the scheduler (Node's timer, the Workers cron trigger): starts what is due and
 * completes what has run its time. Only one instance acts at a time (a transaction-scoped
 * advisory lock; the others skip this pass). After downtime it catches up once: each start and
 * end is applied in time order and recorded at its scheduled time, timeline and mode history
 * alike, and a row already moved on is not moved again.
 */
export async function schedulerTick(deps: Deps): Promise<{ acted: boolean; started: number[]; completed: number[] }> {
  const now = deps.clock.now();
  const { value } = await inTransaction(deps, { actor: SCHEDULER }, now, async (w) => {
    if (!(await trySchedulerLock(w.db))) return { acted: false, started: [], completed: [] };
    type Step = { readonly at: Date; readonly kind: 'start' | 'complete'; readonly m: IncidentRow };
    const steps: Step[] = [];
    for (const m of await mq.dueToComplete(w.db, now)) steps.push({ at: m.scheduled_until!, kind: 'complete', m });
    for (const m of await mq.dueToStart(w.db, now)) {
      steps.push({ at: m.scheduled_for!, kind: 'start', m });
      // missed whole: its end is due too
      if (m.auto_complete && m.scheduled_until && m.scheduled_until.getTime() <= now.getTime()) steps.push({ at: m.scheduled_until, kind: 'complete', m });
    }
    steps.sort((a, b) => a.at.getTime() - b.at.getTime() || (a.kind === b.kind ? 0 : a.kind === 'start' ? -1 : 1));

    const started: number[] = [];
    const completed: number[] = [];
    for (const { kind, m } of steps) {
      const row = await lockMaintenance(w, m.id);
      let at: Date;
      if (kind === 'start') {
        at = m.scheduled_for!;
        const late = now.getTime() - at.getTime() > 2 * MIN;
        const message = late ? `Maintenance has started (recorded at the scheduled time; Herald's scheduler caught up at ${now.toISOString()}).` : 'Maintenance has started.';
        await appendUpdate(w, row, { state: 'in_progress', at, message });
        started.push(m.id);
      } else {
        const until = m.scheduled_until!;
        const startedAt = (await q.visibleUpdatesOf(w.db, [m.id])).find((u) => u.state === 'in_progress')?.at;
        // never record the end before the start (a maintenance run by hand after its planned end)
        at = startedAt && startedAt > until ? now : until;
        await appendUpdate(w, row, { state: 'completed', at, message: 'Maintenance is complete.' });
        completed.push(m.id);
      }
      await w.settleModes(at);
    }
    return { acted: true, started, completed };
  }, { cause: 'maintenance scheduler' });
  return value;
}
