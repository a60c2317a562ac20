// The pure half of `npm run check:readme` (scripts/check-readme.ts): finding the README's
// ```console examples, rewriting their commands for a throwaway setting, and comparing the output
// Herald printed with the output the README shows, by shape rather than by value.
// No I/O here, so test/scripts/readme-check.test.ts can test it alone.

/** What an HTML comment `<!-- readme-check: … -->` right before a fenced block asks for. */
export type Directive =
  | { kind: 'skip'; reason: string }
  | { kind: 'fresh' }
  | { kind: 'before'; command: string }
  | { kind: 'file'; name: string }
  | { kind: 'pause'; seconds: number; reason: string };

export interface Command {
  /** The command as the README shows it, without the `$ `. */
  command: string;
  /** The lines the README shows after it, up to the next `$ ` (trailing blank lines dropped). */
  expected: string[];
  /** 1-based line of the `$ ` in README.md. */
  line: number;
}

export interface Block {
  lang: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The block's lines, without the fence and without the fence's indentation. */
  body: string[];
  directives: Directive[];
  /** For console blocks: its commands, in order. */
  commands: Command[];
}

const DIRECTIVE = /^<!--\s*readme-check:\s*([\s\S]*?)\s*-->$/;

export function parseDirective(text: string): Directive {
  const skip = /^skip\s*\((.+)\)$/.exec(text);
  if (skip) return { kind: 'skip', reason: skip[1]!.trim() };
  if (/^skip\b/.test(text)) throw new Error(`readme-check: a skip needs a reason in parentheses: "${text}"`);
  if (text === 'fresh') return { kind: 'fresh' };
  const before = /^before:\s*(.+)$/s.exec(text);
  if (before) return { kind: 'before', command: before[1]!.trim() };
  const file = /^file\s+(\S+)$/.exec(text);
  if (file) return { kind: 'file', name: file[1]! };
  const pause = /^pause\s+(\d+(?:\.\d+)?)\s*\((.+)\)$/.exec(text);
  if (pause) return { kind: 'pause', seconds: Number(pause[1]), reason: pause[2]!.trim() };
  if (/^pause\b/.test(text)) throw new Error(`readme-check: a pause needs seconds and a reason: "${text}"`);
  throw new Error(
    `readme-check: unknown directive "${text}" (known: skip (reason), fresh, before: COMMAND, file NAME, pause SECONDS (reason))`,
  );
}

/** Splits a console block into its commands (`$ ` lines) and the output shown after each. */
export function parseConsole(body: string[], firstLine: number): Command[] {
  const commands: Command[] = [];
  body.forEach((text, i) => {
    if (text.startsWith('$ ') || text === '$') {
      commands.push({ command: text.slice(2).trim(), expected: [], line: firstLine + i });
    } else if (commands.length === 0) {
      if (text.trim() !== '') throw new Error(`README.md:${firstLine + i}: a console block must start with a "$ " command`);
    } else {
      commands[commands.length - 1]!.expected.push(text);
    }
  });
  for (const c of commands) {
    while (c.expected.length > 0 && c.expected[c.expected.length - 1]!.trim() === '') c.expected.pop();
  }
  return commands;
}

/** Every fenced block of a Markdown text, with the readme-check directives right before it. */
export function extractBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let pending: Directive[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const trimmed = text.trim();
    const directive = DIRECTIVE.exec(trimmed);
    if (directive) {
      pending.push(parseDirective(directive[1]!));
      continue;
    }
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(text);
    if (!open) {
      // Directives belong to the block right after them: blank lines may come between, text not.
      if (trimmed !== '' && pending.length > 0) {
        throw new Error(`README.md:${i + 1}: a readme-check comment must come right before a fenced block`);
      }
      continue;
    }
    const indent = open[1]!.length;
    const fence = open[2]!;
    const lang = open[3]!;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const inner = lines[j]!;
      if (inner.trim().startsWith(fence) && inner.trim().replace(/[`~]/g, '') === '') break;
      body.push(inner.slice(Math.min(indent, inner.length - inner.trimStart().length)));
    }
    const block: Block = { lang, line: i + 1, body, directives: pending, commands: [] };
    if (lang === 'console') block.commands = parseConsole(body, i + 2);
    blocks.push(block);
    pending = [];
    i = j;
  }
  if (pending.length > 0) throw new Error('README.md: a readme-check comment at the end belongs to no block');
  return blocks;
}

// ---- commands --------------------------------------------------------------------------------------

const HOST = String.raw`(localhost|127\.0\.0\.1|\[::1\])`;

/** The port numbers the README's commands use (`localhost:3000`, `--port 8000`, `PORT=8080`). */
export function portsIn(command: string): number[] {
  const found = new Set<number>();
  for (const m of command.matchAll(new RegExp(`${HOST}:(\\d{2,5})\\b`, 'g'))) found.add(Number(m[2]));
  for (const m of command.matchAll(/(?:--port[ =]|\bPORT=)(\d{2,5})\b/g)) found.add(Number(m[1]));
  return [...found];
}

/**
 * The command as the check runs it: `npx herald` and `npm start` / `npm run migrate` become the
 * `herald` on PATH (the checkout's bin/herald.js; there is no package.json in the temp
 * directory), the placeholder `HERALD_TOKEN=hrd_…` keeps the token the session already has, and
 * each README port becomes the free port chosen for it.
 */
export function rewriteCommand(command: string, ports: ReadonlyMap<number, number>): string {
  let out = command
    .replace(/\bnpx herald\b/g, 'herald')
    .replace(/\bnpm start\b/g, 'herald serve')
    .replace(/\bnpm run migrate\b/g, 'herald migrate')
    .replace(/\bHERALD_TOKEN=hrd_…/g, 'HERALD_TOKEN="$HERALD_TOKEN"');
  const port = (n: string) => String(ports.get(Number(n)) ?? n);
  out = out.replace(new RegExp(`${HOST}:(\\d{2,5})\\b`, 'g'), (_m, host: string, n: string) => `${host}:${port(n)}`);
  out = out.replace(/(--port[ =]|\bPORT=)(\d{2,5})\b/g, (_m, flag: string, n: string) => `${flag}${port(n)}`);
  return out;
}

/** A server: runs in the background (its own `&`, or `herald serve` / `herald gate` as shown in a terminal of their own). */
export function isBackground(rewritten: string): boolean {
  const c = rewritten.replace(/\s+#.*$/, '').trim();
  if (/[^&]&$/.test(c)) return true;
  return /^herald (serve|gate)\b/.test(c);
}

/** Output showing an answered `[y/N]` prompt: the command ran on a terminal, and someone typed that answer. */
export function promptAnswer(expected: readonly string[]): string | undefined {
  for (const line of expected) {
    const m = /\[y\/N\] (\S+)\s*$/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** In what Herald printed, the chosen ports go back to the README's, and the temp directory becomes `.`. */
export function unmapActual(text: string, ports: ReadonlyMap<number, number>, dirs: readonly string[]): string {
  let out = text;
  for (const dir of dirs) out = out.split(dir).join('.');
  for (const [readme, chosen] of ports) {
    out = out.replace(new RegExp(`${HOST}:${chosen}\\b`, 'g'), `$1:${readme}`);
  }
  return out;
}

// ---- normalizing and comparing ------------------------------------------------------------------

const UNIT = '(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?)';

/**
 * What stays of an output once what differs per run is taken out: times, durations, secrets,
 * tokens, pids, versions, the list of migrations; colour codes, carriage returns and the width
 * of aligned columns.
 */
export function normalize(text: string): string {
  const lines = text
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/\x1b\][^\x07]*\x07/g, '')
    .replace(/\r/g, '')
    .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<time>')
    .replace(/\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?/g, '<time>')
    .replace(new RegExp(`\\b\\d+ ${UNIT}(?:,? (?:and )?\\d+ ${UNIT})*`, 'g'), '<duration>')
    .replace(/\b\d+(?:\.\d+)? ?ms\b/g, '<ms>')
    .replace(/\bhrd_(?:[A-Za-z0-9_-]+|…)/g, 'hrd_<token>')
    .replace(/\bwhsec_[A-Za-z0-9+/=]+/g, 'whsec_<secret>')
    .replace(/\bmsg_[0-9a-f]{32}\b/g, 'msg_<id>')
    .replace(/(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g, '<secret>')
    .replace(/\bpid \d+/g, 'pid <n>')
    .replace(/\bnode-v\d+\.\d+\.\d+/g, 'node-v<version>')
    .replace(/\b(?:linux|darwin|win32|freebsd|openbsd)-(?:x64|arm64|arm|ia32|ppc64|s390x)\b/g, '<platform>')
    .replace(/\bapplied=\d{4}_[\w.,-]*/g, 'applied=<migrations>')
    .split('\n')
    .map((line) => line.replace(/\s+$/, '').replace(/(\S) {2,}/g, '$1 '));
  while (lines.length > 0 && lines[0] === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
}

/** A JSON value's shape: keys (sorted) and value types; strings normalized; numbers and booleans by type only. */
export function jsonShape(value: unknown): unknown {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map(jsonShape);
  switch (typeof value) {
    case 'number':
      return '<number>';
    case 'boolean':
      return '<boolean>';
    case 'string':
      return normalize(value);
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value as object).sort()) out[key] = jsonShape((value as Record<string, unknown>)[key]);
      return out;
    }
    default:
      return String(value);
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const t = text.trim();
  if (!/^[[{]/.test(t)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(t) };
  } catch {
    return { ok: false };
  }
}

export interface Comparison {
  ok: boolean;
  mode: 'json' | 'text';
  expected: string;
  actual: string;
}

/**
 * Compares an output with the README's: as JSON shapes when the README shows one JSON value,
 * otherwise as normalized text. `actual` must already have been through unmapActual.
 */
export function compareOutput(expected: string, actual: string): Comparison {
  const e = parseJson(expected);
  if (e.ok) {
    const a = parseJson(normalizeLineEnds(actual));
    const expectedShape = JSON.stringify(jsonShape(e.value), null, 2);
    const actualShape = a.ok ? JSON.stringify(jsonShape(a.value), null, 2) : normalize(actual);
    return { ok: a.ok && expectedShape === actualShape, mode: 'json', expected: expectedShape, actual: actualShape };
  }
  const en = normalize(expected);
  const an = normalize(actual);
  return { ok: en === an, mode: 'text', expected: en, actual: an };
}

function normalizeLineEnds(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

/** A line diff (longest common subsequence): ' ' both, '-' only expected, '+' only actual. */
export function lineDiff(expected: string, actual: string): string[] {
  const a = expected === '' ? [] : expected.split('\n');
  const b = actual === '' ? [] : actual.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push(`- ${a[i]}`);
      i++;
    } else {
      out.push(`+ ${b[j]}`);
      j++;
    }
  }
  return out;
}
