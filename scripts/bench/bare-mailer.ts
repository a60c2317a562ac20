/**
 * The bare mailer that `npm run bench:deliver` compares Herald's mail dispatcher with: the same
 * mail (src/mail/message.ts's updateMail, composed for each recipient) over the same transport
 * (src/mail/transport.ts's smtpTransport, a pool of DEFAULT_SMTP_CONNECTIONS connections), as
 * many at once as the dispatcher sends (5), with no database behind it: no queue, no claims, no
 * per-mail reads or writes, links made up rather than minted.
 *
 * Runnable on its own: node --import tsx scripts/bench/bare-mailer.ts <smtp url> <count> <notice.json> <from>
 * It prints one JSON line: when it began and ended sending (epoch ms, performance.timeOrigin +
 * now(), the sink's clock too), how many sends failed, the CPU time it spent sending (ms), its
 * peak RSS (kB), and what composing one mail alone costs (µs, measured before the sends).
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { Notice } from '../../src/delivery/notice.ts';
import { updateMail, type MailSite, type MailSubscriber } from '../../src/mail/message.ts';
import { smtpTransport } from '../../src/mail/transport.ts';

/** The dispatcher's default concurrency (src/mail/dispatcher.ts). */
const CONCURRENCY = 5;
const PUBLIC_URL = 'http://127.0.0.1:8080';

/** Links shaped like Herald's (a 22-character handle, a purpose, a 43-character MAC), minted by nobody. */
function subscriberOf(n: number): MailSubscriber {
  const handle = `bare${String(n).padStart(18, '0')}`;
  const mac = 'x'.repeat(43);
  return {
    email: `bare-${n}@bench.test`,
    manageUrl: `${PUBLIC_URL}/subscriptions/${handle}.m.${mac}`,
    unsubscribeUrl: `${PUBLIC_URL}/subscriptions/unsubscribe/${handle}.u.${mac}`,
    oneClickUrl: `${PUBLIC_URL}/subscriptions/unsubscribe/${handle}.u.${mac}`,
  };
}

async function bareMailer(url: string, count: number, noticeFile: string, from: string): Promise<void> {
  const notice = JSON.parse(await readFile(noticeFile, 'utf8')) as Notice;
  const site: MailSite = { name: 'Herald', publicUrl: PUBLIC_URL, from };
  const now = () => performance.timeOrigin + performance.now();

  const composeRuns = Math.min(1_000, count);
  const c0 = performance.now();
  for (let i = 0; i < composeRuns; i++) await updateMail(notice, subscriberOf(count + i), site);
  const composeUs = ((performance.now() - c0) * 1000) / composeRuns;

  const transport = smtpTransport(url);
  let next = 0;
  let failed = 0;
  const startedAt = now();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const result = await transport.send(await updateMail(notice, subscriberOf(next++), site));
        if (!result.ok) failed++;
      }
    }),
  );
  const endedAt = now();
  const cpu = process.cpuUsage(cpu0);
  await transport.close();
  process.stdout.write(`${JSON.stringify({ startedAt, endedAt, failed, cpuMs: (cpu.user + cpu.system) / 1000, maxRssKb: process.resourceUsage().maxRSS, composeUs })}\n`);
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  await bareMailer(process.argv[2]!, Number(process.argv[3]), process.argv[4]!, process.argv[5]!);
}
