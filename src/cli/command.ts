import type { HeraldClient } from './client.ts';
import type { CliIO, Output } from './output.ts';

/**
 * What a client command is made of. Each area (src/cli/commands/*.ts) declares its commands as
 * CommandSpecs; src/cli/registry.ts lists them all, prints their help, and run.ts parses a
 * command line against a spec and calls its `run`.
 */

/** One flag: how node:util parseArgs reads it, and its line in `herald COMMAND --help`. */
export interface Flag {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** The value's placeholder in --help: ROLE in `--role ROLE`. */
  readonly value?: string;
  readonly help: string;
}

export type Flags = Readonly<Record<string, Flag>>;

/** `-m, --message TEXT`: the left column of a flag's --help line. */
export const flagLabel = (name: string, f: Flag) => `${f.short ? `-${f.short}, ` : ''}--${name}${f.value ? ` ${f.value}` : ''}`;

export type Values = Record<string, string | boolean | string[] | undefined>;

/** One invocation of a command, as its `run` sees it. */
export interface Context {
  readonly name: string;
  readonly values: Values;
  readonly args: readonly string[];
  readonly o: Output;
  readonly io: CliIO;
  client(): HeraldClient;
  /** This invocation's Idempotency-Key (--idempotency-key, or random), one per write it sends. */
  key(suffix?: string): string;
  str(name: string): string | undefined;
  list(name: string): string[];
  flag(name: string): boolean;
}

export interface CommandSpec {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** One line for `herald help`. */
  readonly summary: string;
  /** What follows `herald ` in the usage line. */
  readonly usage: string;
  readonly description?: readonly string[];
  /** The command's own flags, in the order --help lists them (registry.ts adds the common ones). */
  readonly flags?: Flags;
  readonly examples: readonly string[];
  /** Positional arguments: [min, max]. */
  readonly args?: readonly [number, number];
  /** read: public GET; write: needs a token, sends an Idempotency-Key; local: not over HTTP. */
  readonly kind: 'read' | 'write' | 'local';
  /** A write whose route takes no Idempotency-Key (the token routes: their answers hold secrets). */
  readonly withoutKey?: true;
  /** Absent for the local commands, which src/entry/cli.ts runs itself. */
  readonly run?: (ctx: Context) => Promise<number | void>;
}

/* Flags that several areas share. */

export const MESSAGE_FLAGS: Flags = {
  message: { type: 'string', short: 'm', value: 'TEXT', help: 'the update people read (Markdown); `-` reads it from stdin' },
  'message-file': { type: 'string', value: 'FILE', help: 'read the message from FILE (`-` for stdin)' },
};

/** An incident update's flags but --state, whose help each command words its own way. */
export const UPDATE_FLAGS: Flags = {
  ...MESSAGE_FLAGS,
  status: { type: 'string', multiple: true, value: 'ENV=STATUS', help: 'an environment\'s status: green, yellow, orange, red or blue (repeat, or ENV=S,ENV=S)' },
  mode: { type: 'string', multiple: true, value: 'ROLE=MODE', help: 'a role\'s mode: full, read_only or maintenance (repeat, or ROLE=M,ROLE=M)' },
  at: { type: 'string', value: 'ISO', help: 'when it happened, e.g. 2026-11-21T02:00:00Z (may be backdated, never in the future)' },
  'no-notify': { type: 'boolean', help: 'post it without notifying subscribers (webhooks): to fix a typo, say' },
};
