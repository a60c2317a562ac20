/**
 * Server-sent events, parsed as the WHATWG HTML standard says ("Event stream interpretation"),
 * whatever proxy sits between Herald and a gate: a line ends in CRLF, LF or CR; a blank line
 * dispatches the event gathered so far; `data:` lines join with "\n"; a line starting with `:`
 * is a comment. Text goes in as it arrives, in chunks cut anywhere — even between the CR and
 * the LF of one line ending.
 *
 *   const parser = new EventStreamParser((e) => console.log(e.type, e.data));
 *   parser.push('event: platform\r\ndata: {"roles":[]}\r\n\r\n');
 */

export interface ServerSentEvent {
  /** The `event:` field, `message` when there was none. */
  readonly type: string;
  readonly data: string;
  /** The last `id:` seen on the stream so far (it carries over to later events). */
  readonly lastEventId: string;
}

export class EventStreamParser {
  readonly #onEvent: (event: ServerSentEvent) => void;
  /** The start of a line not ended yet. */
  #partial = '';
  /** The previous chunk ended in CR: a LF opening this one belongs to that line ending. */
  #afterCR = false;
  #type = '';
  #data: string[] = [];
  #lastEventId = '';
  /** The `retry:` field's reconnection time in ms, once the server has sent one. */
  retryMs: number | undefined;

  constructor(onEvent: (event: ServerSentEvent) => void) {
    this.#onEvent = onEvent;
  }

  /** Feeds decoded text (a TextDecoder strips the BOM the standard allows at the start). */
  push(chunk: string): void {
    let start = 0;
    if (this.#afterCR && chunk.charCodeAt(0) === 10) start = 1;
    this.#afterCR = false;
    for (let i = start; i < chunk.length; i++) {
      const ch = chunk.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      const line = this.#partial + chunk.slice(start, i);
      this.#partial = '';
      if (ch === 13) {
        if (i + 1 === chunk.length) this.#afterCR = true;
        else if (chunk.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
      this.#line(line);
    }
    this.#partial += chunk.slice(start);
  }

  #line(line: string): void {
    if (line === '') return this.#dispatch();
    if (line.charCodeAt(0) === 58 /* : */) return; // a comment (heartbeats)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#type = value;
        break;
      case 'data':
        this.#data.push(value);
        break;
      case 'id':
        if (!value.includes('\u0000')) this.#lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default: // unknown fields are ignored
    }
  }

  #dispatch(): void {
    const type = this.#type || 'message';
    const data = this.#data;
    this.#type = '';
    this.#data = [];
    if (data.length === 0) return;
    this.#onEvent({ type, data: data.join('\n'), lastEventId: this.#lastEventId });
  }
}
