import { Hono } from 'hono';
import { StatusPage } from '../../templates/status-page.tsx';
import { currentStatus } from '../services/read-model.ts';
import type { Deps } from '../services/deps.ts';

export function pageRoutes(deps: Deps) {
  const app = new Hono();
  app.get('/', async (c) => {
    const status = await currentStatus(deps.db, deps.config, deps.clock.now());
    return c.html(<StatusPage name={deps.config.name} status={status} />);
  });
  return app;
}
