import { Hono } from 'hono';
import type { Deps } from '../services/deps.ts';
import type { Compressor, PublicSnapshot } from './cached.ts';

/** GET /feed.rss — being built (see test/feed.test.ts). */
export function feedRoutes(_deps: Deps, _snapshot: PublicSnapshot, _compress?: Compressor) {
  return new Hono();
}
