import { describe, expect, it } from 'vitest';
import { EventStreamParser, type ServerSentEvent } from '../../src/gate/event-stream.ts';
import { ModeClient } from '../../src/gate/mode-client.ts';

function parse(...chunks: string[]): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  const parser = new EventStreamParser((e) => events.push(e));
  for (const c of chunks) parser.push(c);
  return events;
}

describe('event stream parsing (WHATWG)', () => {
  it('when lines end in CRLF, a blank line dispatches the event', () => {
    expect(parse('event: platform\r\ndata: {"a":1}\r\n\r\n')).toEqual([{ type: 'platform', data: '{"a":1}', lastEventId: '' }]);
  });

  it('when lines end in a lone CR, a blank line dispatches the event', () => {
    expect(parse('event: platform\rdata: one\rdata: two\r\r')).toEqual([{ type: 'platform', data: 'one\ntwo', lastEventId: '' }]);
  });

  it('when a chunk ends in CR and the next begins with LF, that is one line ending, not a blank line', () => {
    expect(parse('data: one\r', '\ndata: two\r', '\n\r', '\n')).toEqual([{ type: 'message', data: 'one\ntwo', lastEventId: '' }]);
  });

  it('when line endings are mixed and chunks are cut mid-line, each event is whole', () => {
    expect(parse('da', 'ta: a\n\r\nid: 7\rda', 'ta:b\r\n', '\n: heartbeat\n\n')).toEqual([
      { type: 'message', data: 'a', lastEventId: '' },
      { type: 'message', data: 'b', lastEventId: '7' },
    ]);
  });

  it('when a block has no data (a comment, an id, an event name), nothing is dispatched and the name does not leak into the next event', () => {
    expect(parse(': heartbeat\n\nevent: x\n\nid: 3\n\ndata\n\n')).toEqual([{ type: 'message', data: '', lastEventId: '3' }]);
  });

  it('when the stream carries retry, the parser keeps it only if it is all digits', () => {
    const parser = new EventStreamParser(() => {});
    parser.push('retry: 1000\n\n');
    expect(parser.retryMs).toBe(1000);
    parser.push('retry: soon\n\n');
    expect(parser.retryMs).toBe(1000);
  });
});

/** A fetch answering the event stream with `chunks`, then holding the stream open until aborted. */
function streamingFetch(chunks: readonly string[]): typeof fetch {
  return (async (_url: unknown, init?: RequestInit) => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
        init?.signal?.addEventListener('abort', () => controller.error(init.signal!.reason));
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  }) as typeof fetch;
}

const doc = (mode: string) => JSON.stringify({ roles: [{ role: 'web', mode, retry_after: null, sources: [{ title: 'Upgrade' }] }] });

describe('ModeClient over an event stream with other line endings', () => {
  it('when a proxy rewrites the stream to CRLF and cuts a chunk between CR and LF, the client applies the mode', async () => {
    const client = new ModeClient({ heraldUrl: 'http://herald.test', fetch: streamingFetch([`event: platform\r\ndata: ${doc('maintenance')}\r`, '\n\r', '\n']) });
    try {
      await client.ready(2000);
      expect(client.state('web')).toEqual({ mode: 'maintenance', retryAfter: null, reason: 'Upgrade', stale: false });
    } finally {
      client.close();
    }
  });

  it('when the stream ends its lines with a lone CR, the client applies the mode', async () => {
    const client = new ModeClient({ heraldUrl: 'http://herald.test', fetch: streamingFetch([`event: platform\rdata: ${doc('read_only')}\r\r`]) });
    try {
      await client.ready(2000);
      expect(client.mode('web')).toBe('read_only');
      expect(client.stale).toBe(false);
    } finally {
      client.close();
    }
  });
});
