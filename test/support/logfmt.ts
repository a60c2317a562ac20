/**
 * A strict logfmt parser for tests: it throws on anything a lenient one would guess at (the
 * `logfmt` package on npm parses every string without complaint, so it cannot tell a good line
 * from a broken one). The grammar is go-logfmt's:
 *
 *   line   = pair *( 1*SP pair )
 *   pair   = key [ "=" value ]
 *   key    = 1*( any char above SP except "=" and DQUOTE )
 *   value  = bare / quoted
 *   bare   = 1*( any char above SP except "=", DQUOTE and "\" )
 *   quoted = DQUOTE *( char / "\" ( DQUOTE / "\" / "/" / "b" / "f" / "n" / "r" / "t" / "u" 4HEXDIG ) ) DQUOTE
 *
 * Keys must be unique within a line (a repeated key is ambiguous to every reader).
 */
export function parseLogfmt(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`not logfmt (${why} at ${i}): ${JSON.stringify(line)}`);
  };
  const plain = (c: string | undefined) => c !== undefined && c > ' ' && c !== '=' && c !== '"' && c !== '\u007f';
  if (line.length === 0) fail('empty line');
  while (i < line.length) {
    const start = i;
    while (plain(line[i])) i++;
    if (i === start) fail('expected a key');
    const k = line.slice(start, i);
    if (Object.hasOwn(out, k)) fail(`key ${k} repeated`);
    let v = '';
    if (line[i] === '=') {
      i++;
      if (line[i] === '"') {
        i++;
        for (;;) {
          const c = line[i];
          if (c === undefined) fail('unterminated quoted value');
          if (c === '"') {
            i++;
            break;
          }
          if (c! < ' ' || c === '\u007f') fail('control character in a quoted value');
          if (c === '\\') {
            const e = line[i + 1];
            const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
            if (e !== undefined && Object.hasOwn(simple, e)) {
              v += simple[e];
              i += 2;
            } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(line.slice(i + 2, i + 6))) {
              v += String.fromCharCode(parseInt(line.slice(i + 2, i + 6), 16));
              i += 6;
            } else fail('bad escape');
          } else {
            v += c;
            i++;
          }
        }
      } else {
        const vs = i;
        while (plain(line[i]) && line[i] !== '\\') i++;
        v = line.slice(vs, i);
        if (line[i] === '\\') fail('backslash in a bare value');
      }
    }
    out[k] = v;
    if (i < line.length) {
      if (line[i] !== ' ') fail('expected a space between pairs');
      while (line[i] === ' ') i++;
      if (i === line.length) fail('trailing space');
    }
  }
  return out;
}
