import type { Deps } from './deps.ts';
import { runScheduler } from './maintenance.ts';
import { runWrite } from './transaction.ts';

/**
 * One pass of the maintenance scheduler (Node's timer, the Workers cron trigger): starts and
 * completes what is due, in its own transaction with mode bookkeeping and change notification.
 */
export async function schedulerTick(deps: Deps): Promise<Awaited<ReturnType<typeof runScheduler>>> {
  const now = deps.clock.now();
  const { body } = await runWrite(deps, now, undefined, async (trx) => {
    const pass = await runScheduler(trx, deps.config, now);
    return { status: 200, body: pass, changed: pass.started.length + pass.completed.length > 0 };
  }, 'maintenance scheduler');
  return body as Awaited<ReturnType<typeof runScheduler>>;
}
