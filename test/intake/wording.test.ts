import { describe, expect, it } from 'vitest';
import type { ReceivedAlert } from '../../src/intake/alert.ts';
import { MESSAGE_LIMIT, TITLE_LIMIT, messageFor, parseTemplate, renderTemplate, titleFor, type Template, type WordedAlert } from '../../src/intake/wording.ts';
import { LIMITS } from '../../src/services/schemas.ts';

function worded(fingerprint: string, labels: Record<string, string>, annotations: Record<string, string> = {}, component = 'api'): WordedAlert {
  const alert: ReceivedAlert = {
    fingerprint,
    status: 'firing',
    labels,
    annotations,
    startsAt: new Date('2024-06-10T10:00:00Z'),
    endsAt: null,
    generatorURL: null,
  };
  return { alert, component };
}

function template(source: string): Template {
  const parsed = parseTemplate(source);
  if (!parsed.ok) throw new Error(`template did not parse: ${JSON.stringify(parsed.errors)}`);
  return parsed.template;
}

function errorsOf(source: string) {
  const parsed = parseTemplate(source);
  if (parsed.ok) throw new Error('template parsed');
  return parsed.errors;
}

const errorRate = worded('a1', { alertname: 'HighErrorRate', component: 'api', env: 'production' }, { summary: 'Error rate above 5%' });
const latency = worded('b2', { alertname: 'HighLatency', component: 'web', env: 'production' }, { summary: 'p99 above 2 s' }, 'web');

describe('templates', () => {
  it('fills labels, annotations and count from one alert', () => {
    const out = renderTemplate(template('{{ labels.alertname }} on {{labels.env}}: {{ annotations.summary }} ({{ count }})'), [errorRate]);
    expect(out).toBe('HighErrorRate on production: Error rate above 5% (1)');
  });

  it('over several alerts, a label is the value they share and empty where they differ', () => {
    const out = renderTemplate(template('[{{ labels.env }}] [{{ labels.alertname }}] {{ count }}'), [errorRate, latency]);
    expect(out).toBe('[production] [] 2');
  });

  it('renders {{ alerts }} as a Markdown list: alertname, component, summary', () => {
    expect(renderTemplate(template('{{ alerts }}'), [errorRate, latency])).toBe(
      '- HighErrorRate (api): Error rate above 5%\n- HighLatency (web): p99 above 2 s',
    );
  });

  it('keeps each alert of the list on one line, whatever the summary spans, and copes with a missing name or summary', () => {
    const multiline = worded('c3', { alertname: 'DiskFull' }, { summary: 'disk\n  is\tfull' }, 'db');
    const bare = worded('d4', {}, {}, 'db');
    expect(renderTemplate(template('{{ alerts }}'), [multiline, bare])).toBe('- DiskFull (db): disk is full\n- Unnamed alert (db)');
  });

  it('renders unknown variables as empty, prototype names included', () => {
    const out = renderTemplate(template('<{{ nothing }}|{{ labels.missing }}|{{ labels.constructor }}|{{ annotations.__proto__ }}|{{ count.x }}|{{ labels }}>'), [errorRate]);
    expect(out).toBe('<|||||>');
  });

  it('uses the default text when the value is empty, and the value when it is not', () => {
    const t = template('{{ annotations.description | default: "no description" }} / {{ annotations.summary | default: \'none\' }}');
    expect(renderTemplate(t, [errorRate])).toBe('no description / Error rate above 5%');
  });

  it('reads a backslash in a default text as taking the next character as it is', () => {
    expect(renderTemplate(template('{{ labels.x | default: "say \\"hi\\"" }}'), [errorRate])).toBe('say "hi"');
  });

  it('escapes nothing: the output is Markdown that Herald sanitizes when it renders it', () => {
    const html = worded('e5', { alertname: '<b>Bold</b>' }, { summary: '**down** & <script>x</script>' });
    expect(renderTemplate(template('{{ labels.alertname }} {{ annotations.summary }}'), [html])).toBe('<b>Bold</b> **down** & <script>x</script>');
  });

  it('cuts the output to the message limit Herald stores, ending with an ellipsis', () => {
    const long = worded('f6', { alertname: 'Long' }, { summary: 'x'.repeat(5_000) });
    const out = renderTemplate(template('{{ alerts }}'.repeat(10)), [long]);
    expect(MESSAGE_LIMIT).toBe(LIMITS.message);
    expect(out).toHaveLength(MESSAGE_LIMIT);
    expect(out.endsWith('…')).toBe(true);
  });

  it('drops NUL characters, which Postgres text cannot hold', () => {
    expect(renderTemplate(template('{{ annotations.summary }}'), [worded('g7', {}, { summary: 'a\u0000b' })])).toBe('ab');
  });
});

describe('template errors', () => {
  it('reports an unclosed "{{" at its line and column', () => {
    expect(errorsOf('Line one\nsee {{ labels.alertname')).toEqual([
      { message: 'unclosed "{{": no "}}" before the end', offset: 13, line: 2, column: 5 },
    ]);
  });

  it('reports a "{{" opened again before the first one closed', () => {
    const [error] = errorsOf('{{ labels.a {{ labels.b }}');
    expect(error).toMatchObject({ message: 'unclosed "{{": no "}}" before the next "{{"', offset: 0 });
  });

  it('reports an unknown filter at the filter name', () => {
    expect(errorsOf('{{ labels.alertname | upper }}')).toEqual([
      { message: 'unknown filter "upper" (known: default)', offset: 22, line: 1, column: 23 },
    ]);
  });

  it('reports every broken hole of a template, not only the first', () => {
    const errors = errorsOf('{{ }} ok {{ labels.a | shout }}\n{{ labels.b | default }} {{ labels.c | default: "open');
    expect(errors.map((e) => [e.line, e.column, e.message])).toEqual([
      [1, 1, 'empty "{{ }}": name a variable, e.g. {{ labels.alertname }}'],
      [1, 24, 'unknown filter "shout" (known: default)'],
      [2, 15, 'default needs a text, e.g. default: "none"'],
      [2, 26, 'unclosed "{{": no "}}" before the end'],
    ]);
  });

  it('reports an unterminated default text at its opening quote', () => {
    expect(errorsOf('{{ labels.a | default: "open }}')).toEqual([
      { message: 'unterminated text: no closing "', offset: 23, line: 1, column: 24 },
    ]);
  });

  it('reports what follows a variable when it is neither "|" nor "}}"', () => {
    expect(errorsOf('{{ labels.alertname + 1 }}')).toEqual([
      { message: 'expected "|" or "}}" after labels.alertname, found "+ 1"', offset: 20, line: 1, column: 21 },
    ]);
  });

  it('reports a hole that does not start with a variable name', () => {
    expect(errorsOf('{{ labels. }}')[0]).toMatchObject({ message: 'expected a variable such as labels.alertname, found nothing', offset: 10 });
  });

  it('accepts text without any hole, and a lone "}}"', () => {
    expect(renderTemplate(template('All clear }} here'), [])).toBe('All clear }} here');
  });
});

describe('default wording', () => {
  it('opens with the Heroku line and the list of alerts', () => {
    expect(messageFor('opened', null, [errorRate, latency])).toBe(
      'Our automated systems have detected potential platform errors. We are investigating.\n\n' +
        '- HighErrorRate (api): Error rate above 5%\n- HighLatency (web): p99 above 2 s',
    );
  });

  it('announces more alerts with the list of the new ones', () => {
    expect(messageFor('added', null, [latency])).toBe('Our automated systems see more:\n\n- HighLatency (web): p99 above 2 s');
  });

  it('announces alerts firing again after a recovery', () => {
    expect(messageFor('again', null, [errorRate])).toBe('Our automated systems see errors again:\n\n- HighErrorRate (api): Error rate above 5%');
  });

  it('says a commander will confirm a recovery, or that it resolves with auto-resolve', () => {
    expect(messageFor('recovered', null, [errorRate])).toBe(
      'Our automated systems see recovery. A commander will confirm before this incident is resolved.',
    );
    expect(messageFor('resolving', null, [errorRate])).toBe('Our automated systems see recovery; resolving.');
  });

  it("uses the rule's template when it says something", () => {
    expect(messageFor('opened', '{{ count }} alerts: {{ labels.env }}', [errorRate, latency])).toBe('2 alerts: production');
  });

  it('falls back to the default when the template renders empty or no longer parses', () => {
    expect(messageFor('added', '{{ labels.missing }}  ', [latency])).toBe(messageFor('added', null, [latency]));
    expect(messageFor('added', '{{ labels.missing', [latency])).toBe(messageFor('added', null, [latency]));
  });
});

describe('titles', () => {
  it('is the alertname by default', () => {
    expect(titleFor(null, [errorRate], 'API errors rule')).toBe('HighErrorRate');
  });

  it('names the first alertname and how many more there are', () => {
    const third = worded('h8', { alertname: 'DiskFull' }, {}, 'db');
    const again = worded('i9', { alertname: 'HighErrorRate' });
    expect(titleFor(null, [errorRate, latency, again, third], 'rule')).toBe('HighErrorRate and 2 more');
  });

  it("is the rule's name when no alert has an alertname", () => {
    expect(titleFor(null, [worded('j1', {})], 'API errors rule')).toBe('API errors rule');
  });

  it("uses the rule's template, on one line, cut to the title limit", () => {
    expect(titleFor('{{ labels.env }}\n{{ labels.alertname }}', [errorRate], 'rule')).toBe('production HighErrorRate');
    const long = titleFor('{{ annotations.summary }}', [worded('k2', {}, { summary: 'y'.repeat(500) })], 'rule');
    expect(TITLE_LIMIT).toBe(LIMITS.title);
    expect(long).toHaveLength(TITLE_LIMIT);
    expect(long.endsWith('…')).toBe(true);
  });
});
