import { parseAllowList } from '../../src/delivery/address-policy.ts';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';

/** Runs parseConfig expecting a ConfigError and returns it. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`expected parseConfig(${JSON.stringify(env)}) to throw`);
}

describe('parseConfig: defaults', () => {
  it('when nothing is set, every default applies', () => {
    expect(parseConfig({})).toEqual({
      port: 3000,
      databaseUrl: undefined,
      dataDir: './data',
      publicUrl: 'http://localhost:3000',
      name: 'Herald',
      environments: [
        { slug: 'production', name: 'Production' },
        { slug: 'development', name: 'Development' },
      ],
      roles: ['web', 'worker'],
      sessionHours: 12,
      trustProxy: false,
      webhookAllow: parseAllowList(undefined),
      alertInboxDays: 14,
      grafana: { secret: undefined, signatureHeader: 'X-Grafana-Alerting-Signature', timestampHeader: undefined },
      mail: { enabled: true, smtpUrl: undefined, from: 'Herald <status@localhost>' },
    });
  });

  it('when PORT is set but PUBLIC_URL is not, publicUrl uses that port', () => {
    const c = parseConfig({ PORT: '8080' });
    expect(c.port).toBe(8080);
    expect(c.publicUrl).toBe('http://localhost:8080');
  });

  it('when every variable is an empty string, they are treated as unset', () => {
    expect(
      parseConfig({
        PORT: '',
        DATABASE_URL: '',
        HERALD_DATA_DIR: '',
        PUBLIC_URL: '',
        HERALD_NAME: '',
        HERALD_ENVIRONMENTS: '',
        HERALD_ROLES: '',
      }),
    ).toEqual({
      port: 3000,
      databaseUrl: undefined,
      dataDir: './data',
      publicUrl: 'http://localhost:3000',
      name: 'Herald',
      environments: [
        { slug: 'production', name: 'Production' },
        { slug: 'development', name: 'Development' },
      ],
      roles: ['web', 'worker'],
      sessionHours: 12,
      trustProxy: false,
      webhookAllow: parseAllowList(undefined),
      alertInboxDays: 14,
      grafana: { secret: undefined, signatureHeader: 'X-Grafana-Alerting-Signature', timestampHeader: undefined },
      mail: { enabled: true, smtpUrl: undefined, from: 'Herald <status@localhost>' },
    });
  });

  it('when variables are undefined, they are treated as unset', () => {
    const c = parseConfig({ PORT: undefined, PUBLIC_URL: undefined });
    expect(c.port).toBe(3000);
    expect(c.publicUrl).toBe('http://localhost:3000');
  });

  it('when unrelated variables are present, they are ignored', () => {
    const c = parseConfig({ HOME: '/root', PATH: '/usr/bin' });
    expect(c.port).toBe(3000);
  });
});

describe('parseConfig: values', () => {
  it('when every variable is set, each one is used', () => {
    expect(
      parseConfig({
        PORT: '4000',
        DATABASE_URL: 'postgres://herald:secret@db:5432/herald',
        HERALD_DATA_DIR: '/var/lib/herald',
        PUBLIC_URL: 'https://status.example.com',
        HERALD_NAME: 'Acme Status',
        HERALD_ENVIRONMENTS: 'production:Production,staging:Staging EU',
        HERALD_ROLES: 'web,worker,scheduler',
        HERALD_SESSION_HOURS: '8',
        HERALD_TRUST_PROXY: 'true',
        HERALD_WEBHOOK_ALLOW: '10.0.0.0/8, hooks.internal.example',
        HERALD_ALERT_INBOX_DAYS: '30',
        HERALD_GRAFANA_SECRET: 'sixteen-chars-or-more',
        HERALD_GRAFANA_SIGNATURE_HEADER: 'X-Signature',
        HERALD_GRAFANA_TIMESTAMP_HEADER: 'X-Timestamp',
        SMTP_URL: 'smtp://mailer:pw@mail.example.com:587',
        MAIL_FROM: 'Acme Status <status@example.com>',
      }),
    ).toEqual({
      port: 4000,
      databaseUrl: 'postgres://herald:secret@db:5432/herald',
      dataDir: '/var/lib/herald',
      publicUrl: 'https://status.example.com',
      name: 'Acme Status',
      environments: [
        { slug: 'production', name: 'Production' },
        { slug: 'staging', name: 'Staging EU' },
      ],
      roles: ['web', 'worker', 'scheduler'],
      sessionHours: 8,
      trustProxy: true,
      webhookAllow: parseAllowList('10.0.0.0/8,hooks.internal.example'),
      alertInboxDays: 30,
      grafana: { secret: 'sixteen-chars-or-more', signatureHeader: 'X-Signature', timestampHeader: 'X-Timestamp' },
      mail: { enabled: true, smtpUrl: 'smtp://mailer:pw@mail.example.com:587', from: 'Acme Status <status@example.com>' },
    });
  });

  it('when SMTP_URL is wrong, the error names the variable but never its value (it may hold a password)', () => {
    expect(() => parseConfig({ SMTP_URL: 'http://user:hunter2@mail.example.com' })).toThrow(/^SMTP_URL must be an smtp:\/\/ or smtps:\/\/ URL$/);
  });

  it('when HERALD_WEBHOOK_ALLOW has an entry that is neither an address, a range nor a host name, the error names the variable and the entry', () => {
    expect(() => parseConfig({ HERALD_WEBHOOK_ALLOW: '127.0.0.1, 10.0.0.0/99' })).toThrow(/^HERALD_WEBHOOK_ALLOW .*10\.0\.0\.0\/99/);
  });

  it('when DATABASE_URL uses postgresql://, it is accepted', () => {
    expect(parseConfig({ DATABASE_URL: 'postgresql://localhost/herald' }).databaseUrl).toBe('postgresql://localhost/herald');
  });

  it('when HERALD_ENVIRONMENTS lists slugs only, names are title-cased from the slugs', () => {
    expect(parseConfig({ HERALD_ENVIRONMENTS: 'production,development' }).environments).toEqual([
      { slug: 'production', name: 'Production' },
      { slug: 'development', name: 'Development' },
    ]);
    expect(parseConfig({ HERALD_ENVIRONMENTS: 'eu-west,staging_2' }).environments).toEqual([
      { slug: 'eu-west', name: 'Eu West' },
      { slug: 'staging_2', name: 'Staging 2' },
    ]);
  });

  it('when HERALD_ENVIRONMENTS mixes named and slug-only items with spaces, they are trimmed and kept in order', () => {
    expect(parseConfig({ HERALD_ENVIRONMENTS: ' staging : Staging EU , production ,' }).environments).toEqual([
      { slug: 'staging', name: 'Staging EU' },
      { slug: 'production', name: 'Production' },
    ]);
  });

  it('when a display name contains a colon, the rest after the first colon is the name', () => {
    expect(parseConfig({ HERALD_ENVIRONMENTS: 'eu:EU: Frankfurt' }).environments).toEqual([{ slug: 'eu', name: 'EU: Frankfurt' }]);
  });

  it('when HERALD_ROLES has spaces around names, they are trimmed', () => {
    expect(parseConfig({ HERALD_ROLES: ' web , worker ' }).roles).toEqual(['web', 'worker']);
  });

  it('when PUBLIC_URL ends with a slash, the slash is stripped', () => {
    expect(parseConfig({ PUBLIC_URL: 'https://status.example.com/' }).publicUrl).toBe('https://status.example.com');
  });

  it('when PUBLIC_URL has a path and several trailing slashes, they are all stripped', () => {
    expect(parseConfig({ PUBLIC_URL: 'http://example.com/status//' }).publicUrl).toBe('http://example.com/status');
  });

  it('when PUBLIC_URL is set, it wins over the PORT-based default', () => {
    expect(parseConfig({ PORT: '8080', PUBLIC_URL: 'https://status.example.com' }).publicUrl).toBe('https://status.example.com');
  });

  it('when PORT is at the bounds 1 and 65535, it is accepted', () => {
    expect(parseConfig({ PORT: '1' }).port).toBe(1);
    expect(parseConfig({ PORT: '65535' }).port).toBe(65535);
  });
});

describe('parseConfig: errors', () => {
  it('when PORT is not a number, the error names PORT', () => {
    const e = configError({ PORT: 'abc' });
    expect(e.name).toBe('ConfigError');
    expect(e.message).toBe('PORT must be an integer between 1 and 65535 (got "abc")');
  });

  it('when PORT is 0, the error names PORT', () => {
    expect(configError({ PORT: '0' }).message).toBe('PORT must be an integer between 1 and 65535 (got "0")');
  });

  it('when PORT is 65536 or fractional, the error names PORT', () => {
    expect(configError({ PORT: '65536' }).message).toBe('PORT must be an integer between 1 and 65535 (got "65536")');
    expect(configError({ PORT: '80.5' }).message).toBe('PORT must be an integer between 1 and 65535 (got "80.5")');
  });

  it('when PORT breaks two rules at once (0.5 is neither an integer nor ≥ 1), it still gives one line', () => {
    expect(configError({ PORT: '0.5' }).message).toBe('PORT must be an integer between 1 and 65535 (got "0.5")');
  });

  it('when DATABASE_URL is not a postgres URL, the error names DATABASE_URL without echoing its value', () => {
    const e = configError({ DATABASE_URL: 'mysql://x' });
    expect(e.message).toBe('DATABASE_URL must be a postgres:// or postgresql:// URL');
    expect(e.message).not.toContain('mysql://x');
  });

  it('when PUBLIC_URL is relative, the error names PUBLIC_URL', () => {
    expect(configError({ PUBLIC_URL: '/relative' }).message).toBe('PUBLIC_URL must be an absolute http(s) URL (got "/relative")');
  });

  it('when PUBLIC_URL is not http(s), the error names PUBLIC_URL', () => {
    expect(configError({ PUBLIC_URL: 'ftp://example.com' }).message).toBe(
      'PUBLIC_URL must be an absolute http(s) URL (got "ftp://example.com")',
    );
  });

  it('when HERALD_ENVIRONMENTS has a bad slug, the error names HERALD_ENVIRONMENTS and the slug', () => {
    const e = configError({ HERALD_ENVIRONMENTS: 'production,Staging EU' });
    expect(e.message).toBe(
      'HERALD_ENVIRONMENTS "Staging EU" is not a valid slug (lowercase letters, digits, - or _, starting with a letter) (got "production,Staging EU")',
    );
  });

  it('when HERALD_ENVIRONMENTS has a slug starting with a digit, the error names HERALD_ENVIRONMENTS', () => {
    expect(configError({ HERALD_ENVIRONMENTS: '1prod:Production' }).message).toMatch(/^HERALD_ENVIRONMENTS "1prod" is not a valid slug/);
  });

  it('when HERALD_ENVIRONMENTS lists a slug twice, the error names HERALD_ENVIRONMENTS and the slug', () => {
    expect(configError({ HERALD_ENVIRONMENTS: 'production:Production,production:Prod 2' }).message).toBe(
      'HERALD_ENVIRONMENTS "production" is listed twice (got "production:Production,production:Prod 2")',
    );
  });

  it('when HERALD_ENVIRONMENTS lists nothing but commas, the error names HERALD_ENVIRONMENTS', () => {
    expect(configError({ HERALD_ENVIRONMENTS: ' , ,' }).message).toBe('HERALD_ENVIRONMENTS must list at least one environment (got " , ,")');
  });

  it('when HERALD_ROLES is an empty list, the error names HERALD_ROLES', () => {
    expect(configError({ HERALD_ROLES: ',' }).message).toBe('HERALD_ROLES must list at least one role, each once (got ",")');
  });

  it('when HERALD_ROLES lists a role twice, the error names HERALD_ROLES', () => {
    expect(configError({ HERALD_ROLES: 'web,web' }).message).toBe('HERALD_ROLES must list at least one role, each once (got "web,web")');
  });

  it('when HERALD_ROLES has an invalid name, the error names HERALD_ROLES and the role', () => {
    expect(configError({ HERALD_ROLES: 'web,Worker' }).message).toBe(
      'HERALD_ROLES "Worker" is not a valid role name (lowercase letters, digits, - or _) (got "web,Worker")',
    );
  });

  it('when HERALD_NAME is only spaces or longer than 100 characters, the error names HERALD_NAME', () => {
    expect(configError({ HERALD_NAME: '   ' }).message).toBe('HERALD_NAME must not be empty (got "   ")');
    expect(configError({ HERALD_NAME: 'x'.repeat(101) }).message).toMatch(/^HERALD_NAME must be at most 100 characters/);
  });

  it('when two variables are wrong, the error has two lines, one per variable', () => {
    const e = configError({ PORT: 'abc', PUBLIC_URL: '/relative' });
    expect(e.message.split('\n')).toEqual([
      'PORT must be an integer between 1 and 65535 (got "abc")',
      'PUBLIC_URL must be an absolute http(s) URL (got "/relative")',
    ]);
  });

  it('when a bad HERALD_ENVIRONMENTS and a bad DATABASE_URL come together, each has its own line', () => {
    const lines = configError({ DATABASE_URL: 'mysql://x', HERALD_ENVIRONMENTS: 'production,production' }).message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('DATABASE_URL must be a postgres:// or postgresql:// URL');
    expect(lines[1]).toBe('HERALD_ENVIRONMENTS "production" is listed twice (got "production,production")');
  });
});
