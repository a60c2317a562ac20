import type { CommandSpec } from '../command.ts';

/**
 * The commands that run on this machine rather than over HTTP: `serve`, `migrate`, `gate`. Only
 * their help is here; src/entry/cli.ts runs them (and loads the server, migrator or gate then).
 */

export const localCommands: readonly CommandSpec[] = [
  {
    name: 'serve',
    kind: 'local',
    summary: 'start the server (same as npm start)',
    usage: 'serve',
    description: ['Migrates the database, then serves HTTP on PORT until SIGINT or SIGTERM. Configured by the environment (see README.md).'],
    examples: ['PORT=8080 DATABASE_URL=postgres://herald@db/herald herald serve'],
  },
  {
    name: 'migrate',
    kind: 'local',
    summary: 'apply pending database migrations',
    usage: 'migrate',
    examples: ['DATABASE_URL=postgres://herald@db/herald herald migrate'],
  },
  {
    name: 'gate',
    kind: 'local',
    summary: 'a reverse proxy that enforces a role\'s mode in front of any HTTP API',
    usage:
      'gate --upstream URL --role ROLE [--port N] [--hostname ADDR] [--herald URL] [--status-url URL] [--allow-path PATH]... [--allow-ip CIDR]... [--bypass-secret S] [--maintenance-page-url URL] [--name NAME] [--trust-proxy]',
    description: [
      'Follows ROLE\'s mode on the Herald at --herald (or HERALD_URL) and refuses what the mode forbids.',
      'With --trust-proxy (or HERALD_GATE_TRUST_PROXY=true), the gate sits behind a proxy of yours: its X-Forwarded-* are kept, and --allow-ip checks the last X-Forwarded-For entry.',
    ],
    examples: [
      'herald gate --upstream http://127.0.0.1:8080 --role web --port 8000 --herald https://status.example.com --allow-path /healthz --allow-ip 10.0.0.0/8 --bypass-secret "$GATE_SECRET"',
    ],
  },
];
