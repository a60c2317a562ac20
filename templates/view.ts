/** View models: what templates receive. Plain data; Markdown arrives already rendered and sanitized. */
import type { DayBar } from '../src/domain/uptime.ts';
import type { State } from '../src/domain/vocabulary.ts';
import type { ScopeOfImpact } from '../src/domain/timeline.ts';

export type StatusColour = 'green' | 'yellow' | 'orange' | 'red' | 'blue';

export interface PageMeta {
  readonly siteName: string;
  /** ISO time the page's data was built, and when refreshing started failing (database down). */
  readonly builtAt: string;
  readonly staleSince: string | null;
  readonly lastChange: string | null;
  readonly now: string;
  readonly cssHref: string;
  readonly jsHref: string;
  /** Visitors may subscribe by email here (/subscribe). */
  readonly subscribe: boolean;
}

export interface UpdateVM {
  readonly id: number;
  readonly at: string;
  readonly state: State;
  /** Sanitized HTML of the Markdown message: safe to insert raw. */
  readonly html: string;
  readonly statuses: readonly { readonly name: string; readonly status: StatusColour }[];
  readonly modes: readonly { readonly role: string; readonly mode: string }[];
}

export interface IncidentVM {
  readonly id: number;
  readonly kind: 'incident' | 'maintenance';
  readonly title: string;
  readonly state: State;
  readonly open: boolean;
  readonly startedAt: string;
  readonly resolvedAt: string | null;
  readonly scheduledFor: string | null;
  readonly scheduledUntil: string | null;
  readonly updates: readonly UpdateVM[];
  /** The scope of impact, each role with its total restricted time already in words. */
  readonly scope: Omit<ScopeOfImpact, 'roles'> & { readonly roles: readonly (ScopeOfImpact['roles'][number] & { readonly restricted: string })[] };
  /** Display names for the scope's environment slugs. */
  readonly environmentNames: Readonly<Record<string, string>>;
  /** Sanitized HTML of the published postmortem. */
  readonly postmortemHtml: string | null;
  readonly postmortemPublishedAt: string | null;
}

/** One environment as the status page lists it. */
export interface EnvironmentVM {
  readonly slug: string;
  readonly name: string;
  readonly description: string | null;
  readonly status: StatusColour;
  readonly bars: { readonly uptime: number; readonly days: readonly DayBar[] } | undefined;
}

/** A top-level item of the list: a group (collapsible, open while a member is not operational) or an environment. */
export type EnvironmentItemVM =
  | { readonly group: { readonly slug: string; readonly name: string; readonly description: string | null; readonly status: StatusColour; readonly open: boolean }; readonly members: readonly EnvironmentVM[] }
  | { readonly environment: EnvironmentVM };

export interface StatusPageVM {
  readonly environments: readonly { readonly slug: string; readonly name: string; readonly status: StatusColour }[];
  /** What the list shows, in page order: environments marked only-show-if-degraded are left out while operational. */
  readonly items: readonly EnvironmentItemVM[];
  readonly modes: readonly { readonly role: string; readonly mode: string; readonly sources: readonly string[] }[];
  readonly open: readonly IncidentVM[];
  readonly scheduled: readonly IncidentVM[];
  readonly bars: readonly { readonly slug: string; readonly name: string; readonly uptime: number; readonly days: readonly DayBar[] }[];
  readonly recent: readonly IncidentVM[];
}

export interface HistoryMonthVM {
  /** YYYY-MM */
  readonly month: string;
  readonly incidents: readonly IncidentVM[];
}

export interface HistoryPageVM {
  readonly months: readonly HistoryMonthVM[];
  readonly page: number;
  readonly newer: string | null;
  readonly older: string | null;
}

/** What every console page knows: the site, who is signed in, and the session's CSRF token. */
export interface ConsoleMeta {
  readonly page: PageMeta;
  /** The signed-in token's name; null on the sign-in pages. */
  readonly actor: string | null;
  readonly csrf: string;
  readonly section?: 'incidents' | 'platform' | 'maintenance' | 'components' | 'webhooks' | 'alerts' | 'subscribers' | 'tokens';
  /** Scopes of the signed-in token (admin holds all). */
  readonly can: { readonly incidents: boolean; readonly maintenance: boolean; readonly admin: boolean };
  /** A one-line confirmation of what just happened ("Update posted."). */
  readonly notice?: string | undefined;
}
