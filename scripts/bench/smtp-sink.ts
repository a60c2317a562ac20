/**
 * The SMTP server `npm run bench:deliver` sends subscribers' mail to: smtp-server on 127.0.0.1,
 * in a process of its own so that its CPU is counted apart from Herald's and the bench's. It
 * takes every message and keeps nothing of it but its size (no parsing: the sink must cost
 * little next to the senders it measures). Tallies are kept per envelope sender, so Herald's
 * mail (its MAIL_FROM) and the bare mailer's are told apart: messages, bytes, distinct
 * recipients, SMTP sessions, and the first and last arrival (epoch ms, performance.timeOrigin +
 * now(), the bench's clock too).
 *
 * Runnable on its own: SMTP_PORT=2525 HTTP_PORT=8025 node --import tsx scripts/bench/smtp-sink.ts
 * GET http://127.0.0.1:HTTP_PORT/ answers the tallies as JSON ({ [sender]: SenderTally }).
 */
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { SMTPServer } from 'smtp-server';

export interface SenderTally {
  readonly messages: number;
  readonly bytes: number;
  /** Distinct RCPT TO addresses (lower-cased): `messages` minus this is what came twice. */
  readonly recipients: number;
  readonly sessions: number;
  readonly firstAt: number;
  readonly lastAt: number;
}

interface Tally {
  messages: number;
  bytes: number;
  readonly recipients: Set<string>;
  readonly sessions: Set<string>;
  firstAt: number;
  lastAt: number;
}

const now = () => performance.timeOrigin + performance.now();

async function smtpSink(smtpPort: number, httpPort: number): Promise<void> {
  const tallies = new Map<string, Tally>();
  const smtp = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, session, callback) {
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address.toLowerCase() : '';
        let t = tallies.get(from);
        if (!t) tallies.set(from, (t = { messages: 0, bytes: 0, recipients: new Set(), sessions: new Set(), firstAt: now(), lastAt: 0 }));
        t.messages++;
        t.bytes += bytes;
        for (const r of session.envelope.rcptTo) t.recipients.add(r.address.toLowerCase());
        t.sessions.add(session.id);
        t.lastAt = now();
        callback();
      });
    },
  });
  smtp.on('error', (error) => process.stderr.write(`smtp sink: ${error.message}\n`));
  const api = http.createServer((_req, res) => {
    const out: Record<string, SenderTally> = {};
    for (const [from, t] of tallies) out[from] = { messages: t.messages, bytes: t.bytes, recipients: t.recipients.size, sessions: t.sessions.size, firstAt: t.firstAt, lastAt: t.lastAt };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
  });
  await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => api.listen(httpPort, '127.0.0.1', resolve));
  process.stderr.write(`smtp sink listening: smtp 127.0.0.1:${smtpPort}, tallies http://127.0.0.1:${httpPort}/\n`);
  const stop = () => {
    api.closeAllConnections();
    api.close();
    smtp.close(() => process.exit(0));
    // smtp-server waits for open sessions (a sender's pool) to end; the tallies are read by then.
    setTimeout(() => process.exit(0), 1_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  await smtpSink(Number(process.env.SMTP_PORT), Number(process.env.HTTP_PORT));
}
