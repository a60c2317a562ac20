import * as z from 'zod';
import { parseAllowList, type AllowList } from './delivery/address-policy.ts';

/** One environment whose health the status page reports (Heroku calls these systems). */
export interface EnvironmentConfig {
  readonly slug: string;
  readonly name: string;
}

export interface Config {
  readonly port: number;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /**
   * Where `herald prepare` keeps the initialised, migrated embedded database that a first start
   * copies into an empty data dir (default: node_modules/.cache/herald in the checkout).
   */
  readonly templateDir: string | undefined;
  readonly publicUrl: string;
  readonly name: string;
  /**
   * The live environments in page order. Parsed from HERALD_ENVIRONMENTS, which only seeds the
   * first start; after that they are data, and reads and writes see the database's list
   * (`withCatalog`).
   */
  readonly environments: readonly EnvironmentConfig[];
  /** Retired environments, which history still names (empty until read from the database). */
  readonly retired?: readonly EnvironmentConfig[];
  readonly roles: readonly string[];
  /** How long a console session lasts from sign-in. */
  readonly sessionHours: number;
  /** Behind a reverse proxy: take the client's address from the last X-Forwarded-For entry. */
  readonly trustProxy: boolean;
  /** Webhook receivers allowed besides public addresses (HERALD_WEBHOOK_ALLOW: addresses, ranges, host names). */
  readonly webhookAllow: AllowList;
  /** Alert intake (docs/alerts.md): how many days the inbox keeps received notifications. */
  readonly alertInboxDays: number;
  /**
   * Grafana's HMAC option: the shared secret (HERALD_GRAFANA_SECRET), the header carrying the
   * signature, and the timestamp header if Grafana is set to send one (then it is required).
   */
  readonly grafana: { readonly secret: string | undefined; readonly signatureHeader: string; readonly timestampHeader: string | undefined };
  /**
   * Email subscribers (docs/subscribers.md). `enabled`: this runtime sends mail (Node; not
   * Workers). `smtpUrl` unset: mail is written as .eml files under the data directory.
   */
  readonly mail: { readonly enabled: boolean; readonly smtpUrl: string | undefined; readonly from: string };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const SLUG = /^[a-z][a-z0-9_-]{0,39}$/;

function titleCase(slug: string): string {
  return slug
    .split(/[-_]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

/**
 * "production:Production,staging:Staging EU" → ordered environments. The display name is
 * optional ("production,development" works too).
 */
const environmentList = z.string().transform((raw, ctx) => {
  const out: EnvironmentConfig[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [slug = '', ...rest] = item.split(':');
    const name = rest.join(':').trim() || titleCase(slug.trim());
    if (!SLUG.test(slug.trim())) {
      ctx.addIssue({ code: 'custom', message: `"${slug}" is not a valid slug (lowercase letters, digits, - or _, starting with a letter)` });
      return z.NEVER;
    }
    if (out.some((e) => e.slug === slug.trim())) {
      ctx.addIssue({ code: 'custom', message: `"${slug}" is listed twice` });
      return z.NEVER;
    }
    out.push({ slug: slug.trim(), name });
  }
  if (out.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'must list at least one environment' });
    return z.NEVER;
  }
  return out;
});

const roleList = z.string().transform((raw, ctx) => {
  const roles = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = roles.find((r) => !SLUG.test(r));
  if (bad !== undefined) {
    ctx.addIssue({ code: 'custom', message: `"${bad}" is not a valid role name (lowercase letters, digits, - or _)` });
    return z.NEVER;
  }
  if (roles.length === 0 || new Set(roles).size !== roles.length) {
    ctx.addIssue({ code: 'custom', message: 'must list at least one role, each once' });
    return z.NEVER;
  }
  return roles;
});

const absoluteHttpUrl = z
  .string()
  .refine((s) => /^https?:\/\/[^/]+/.test(s) && URL.canParse(s), 'must be an absolute http(s) URL')
  .transform((s) => s.replace(/\/+$/, ''));

const schema = z.object({
  PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be an integer between 1 and 65535')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 65535, 'must be an integer between 1 and 65535')
    .default(3000),
  DATABASE_URL: z
    .string()
    .refine((s) => /^postgres(ql)?:\/\//.test(s) && URL.canParse(s), 'must be a postgres:// or postgresql:// URL')
    .optional(),
  HERALD_DATA_DIR: z.string().min(1, 'must not be empty').default('./data'),
  HERALD_TEMPLATE_DIR: z.string().optional(),
  PUBLIC_URL: absoluteHttpUrl.optional(),
  HERALD_NAME: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters').default('Herald'),
  HERALD_ENVIRONMENTS: environmentList.default([
    { slug: 'production', name: 'Production' },
    { slug: 'development', name: 'Development' },
  ]),
  HERALD_ROLES: roleList.default(['web', 'worker']),
  HERALD_SESSION_HOURS: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be a number of hours between 0.25 and 168')
    .transform(Number)
    .refine((n) => n >= 0.25 && n <= 168, 'must be a number of hours between 0.25 and 168')
    .default(12),
  HERALD_WEBHOOK_ALLOW: z
    .string()
    .transform((s, ctx) => {
      try {
        return parseAllowList(s);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
        return z.NEVER;
      }
    })
    .optional(),
  HERALD_ALERT_INBOX_DAYS: z
    .string()
    .regex(/^\d{1,4}$/, 'must be a whole number of days between 1 and 3650')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 3650, 'must be a whole number of days between 1 and 3650')
    .default(14),
  HERALD_GRAFANA_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  HERALD_GRAFANA_SIGNATURE_HEADER: z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'must be an HTTP header name').default('X-Grafana-Alerting-Signature'),
  HERALD_GRAFANA_TIMESTAMP_HEADER: z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'must be an HTTP header name').optional(),
  SMTP_URL: z.string().refine((s) => /^smtps?:\/\//.test(s) && URL.canParse(s), 'must be an smtp:// or smtps:// URL').optional(),
  MAIL_FROM: z.string().trim().max(320, 'must be at most 320 characters').refine((s) => /^[^<>@\s]+@[^<>@\s]+$|^[^<>]*<[^<>@\s]+@[^<>@\s]+>$/.test(s), 'must be an address, or Name <address>').optional(),
  HERALD_TRUST_PROXY: z.enum(['true', 'false', '1', '0'], { message: 'must be true or false' }).transform((v) => v === 'true' || v === '1').default(false),
});

/** Variables whose value may hold a password: an error names them, never their value. */
const SECRET_VARIABLES = ['DATABASE_URL', 'SMTP_URL', 'HERALD_GRAFANA_SECRET'];

/**
 * Parses the environment once at start-up. Empty strings count as unset, so `PORT= npm start`
 * behaves like no PORT at all. Throws ConfigError with one line per bad variable.
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const key = String(i.path[0] ?? 'environment');
      const got = cleaned[key];
      return `${key} ${i.message}${got !== undefined && !SECRET_VARIABLES.includes(key) ? ` (got ${JSON.stringify(got)})` : ''}`;
    });
    throw new ConfigError(lines.join('\n'));
  }
  const e = result.data;
  return {
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.HERALD_DATA_DIR,
    templateDir: e.HERALD_TEMPLATE_DIR,
    publicUrl: e.PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    name: e.HERALD_NAME,
    environments: e.HERALD_ENVIRONMENTS,
    roles: e.HERALD_ROLES,
    sessionHours: e.HERALD_SESSION_HOURS,
    trustProxy: e.HERALD_TRUST_PROXY,
    webhookAllow: e.HERALD_WEBHOOK_ALLOW ?? parseAllowList(undefined),
    alertInboxDays: e.HERALD_ALERT_INBOX_DAYS,
    mail: { enabled: true, smtpUrl: e.SMTP_URL, from: e.MAIL_FROM ?? `${e.HERALD_NAME} <status@${new URL(e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).hostname}>` },
    grafana: { secret: e.HERALD_GRAFANA_SECRET, signatureHeader: e.HERALD_GRAFANA_SIGNATURE_HEADER, timestampHeader: e.HERALD_GRAFANA_TIMESTAMP_HEADER },
  };
}
