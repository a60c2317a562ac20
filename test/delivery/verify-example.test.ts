import { readFile } from 'node:fs/promises';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../docs/examples/verify-webhook.mjs';
import { newSecret, signatureHeaders } from '../../src/delivery/signing.ts';

/** The receiver snippet the docs give: it must accept Herald's signatures and nothing else. */
describe('the signature check the docs give receivers', () => {
  it('accepts a message Herald signed, with the current or the previous secret during a rotation', async () => {
    const [current, previous] = [newSecret(), newSecret()];
    const body = '{"type":"incident.opened"}';
    const headers = await signatureHeaders({ id: 'msg_1', timestamp: new Date(), body, secrets: [current, previous] });
    expect(verifyWebhook(current, headers, body)).toBe(true);
    expect(verifyWebhook(previous, headers, body)).toBe(true);
  });

  it('accepts what the Standard Webhooks reference library signs', () => {
    const secret = newSecret();
    const at = new Date();
    const body = '{"a":1}';
    const signature = new Webhook(secret).sign('msg_2', at, body);
    expect(verifyWebhook(secret, { 'webhook-id': 'msg_2', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature }, body)).toBe(true);
  });

  it('refuses a changed body, another secret, a changed id, an old timestamp and missing headers', async () => {
    const secret = newSecret();
    const body = '{"type":"incident.opened"}';
    const headers = await signatureHeaders({ id: 'msg_3', timestamp: new Date(), body, secrets: [secret] });
    expect(verifyWebhook(secret, headers, body.replace('opened', 'resolved'))).toBe(false);
    expect(verifyWebhook(newSecret(), headers, body)).toBe(false);
    expect(verifyWebhook(secret, { ...headers, 'webhook-id': 'msg_4' }, body)).toBe(false);
    const old = await signatureHeaders({ id: 'msg_3', timestamp: new Date(Date.now() - 10 * 60_000), body, secrets: [secret] });
    expect(verifyWebhook(secret, old, body)).toBe(false);
    expect(verifyWebhook(secret, {}, body)).toBe(false);
  });

  it('is quoted in docs/webhooks.md and the README exactly as the file the tests run', async () => {
    const file = await readFile(new URL('../../docs/examples/verify-webhook.mjs', import.meta.url), 'utf8');
    for (const quoted of ['../../docs/webhooks.md', '../../README.md']) expect(await readFile(new URL(quoted, import.meta.url), 'utf8'), quoted).toContain(file.trim());
  });
});
