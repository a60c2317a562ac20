import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { isSecret, newSecret, signatureHeaders } from '../../src/delivery/signing.ts';

// The reference library (fast-sha256, not Web Crypto) is the independent check throughout.

const body = JSON.stringify({ type: 'incident.opened', incident: { id: 7, title: 'API errors' } });

function secretOf(bytes: number, fill = 7): string {
  return `whsec_${Buffer.alloc(bytes, fill).toString('base64')}`;
}

describe('Standard Webhooks signatures', () => {
  it('when a message is signed, the reference library verifies it and reads the body back', async () => {
    const secret = newSecret();
    const headers = await signatureHeaders({ id: 'msg_1', timestamp: new Date(), body, secrets: [secret] });
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("matches the spec's published example signature", async () => {
    const headers = await signatureHeaders({
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: new Date(1614265330_000),
      body: '{"test": 2432232314}',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    });
    expect(headers).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it('when the timestamp has milliseconds, the header carries whole seconds', async () => {
    const headers = await signatureHeaders({ id: 'msg_2', timestamp: new Date('2026-03-01T12:00:05.999Z'), body, secrets: [newSecret()] });
    expect(headers['webhook-timestamp']).toBe(String(Date.UTC(2026, 2, 1, 12, 0, 5) / 1000));
  });

  it('when a secret is being rotated, both signatures are sent in order and either secret verifies', async () => {
    const current = newSecret();
    const previous = newSecret();
    const input = { id: 'msg_3', timestamp: new Date(), body };
    const both = await signatureHeaders({ ...input, secrets: [current, previous] });
    const currentOnly = await signatureHeaders({ ...input, secrets: [current] });
    const previousOnly = await signatureHeaders({ ...input, secrets: [previous] });

    expect(both['webhook-signature']).toBe(`${currentOnly['webhook-signature']} ${previousOnly['webhook-signature']}`);
    expect(new Webhook(current).verify(body, both)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, both)).toEqual(JSON.parse(body));
  });

  it('when the body is tampered with, verification fails', async () => {
    const secret = newSecret();
    const headers = await signatureHeaders({ id: 'msg_4', timestamp: new Date(), body, secrets: [secret] });
    const tampered = body.replace('API errors', 'All good');
    expect(() => new Webhook(secret).verify(tampered, headers)).toThrow(new WebhookVerificationError('No matching signature found'));
  });

  it('when the receiver holds a different secret, verification fails', async () => {
    const headers = await signatureHeaders({ id: 'msg_5', timestamp: new Date(), body, secrets: [newSecret()] });
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow(new WebhookVerificationError('No matching signature found'));
  });

  it('when the id is changed after signing, verification fails', async () => {
    const secret = newSecret();
    const headers = await signatureHeaders({ id: 'msg_6', timestamp: new Date(), body, secrets: [secret] });
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_7' })).toThrow(WebhookVerificationError);
  });

  it('when the message was signed ten minutes ago, verification fails as too old (replay)', async () => {
    const secret = newSecret();
    const headers = await signatureHeaders({ id: 'msg_8', timestamp: new Date(Date.now() - 10 * 60_000), body, secrets: [secret] });
    expect(() => new Webhook(secret).verify(body, headers)).toThrow(new WebhookVerificationError('Message timestamp too old'));
  });

  it('when a secret is not whsec_ base64 of 24 to 64 bytes, signing throws without quoting it', async () => {
    const leaked = 'whsec_not-base64!';
    const signing = signatureHeaders({ id: 'msg_9', timestamp: new Date(), body, secrets: [newSecret(), leaked] });
    await expect(signing).rejects.toThrow('secret #2 is not whsec_');
    await expect(signing).rejects.not.toThrow(leaked);
    await expect(signatureHeaders({ id: 'msg_9', timestamp: new Date(), body, secrets: [] })).rejects.toThrow('no secret');
    await expect(signatureHeaders({ id: 'msg_9', timestamp: new Date(NaN), body, secrets: [newSecret()] })).rejects.toThrow('not a valid date');
  });
});

describe('secrets', () => {
  it('a new secret is whsec_ and 32 random bytes in base64, different each time', () => {
    const a = newSecret();
    const b = newSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(isSecret(a)).toBe(true);
  });

  it('a supplied secret of 24 to 64 bytes in canonical base64 is accepted', () => {
    expect(isSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(true);
    expect(isSecret(secretOf(24))).toBe(true);
    expect(isSecret(secretOf(64))).toBe(true);
  });

  it('a supplied secret that is too short, too long, unprefixed or not canonical base64 is refused', () => {
    expect(isSecret(secretOf(23))).toBe(false);
    expect(isSecret(secretOf(65))).toBe(false);
    expect(isSecret(secretOf(32).slice('whsec_'.length))).toBe(false);
    expect(isSecret(`WHSEC_${secretOf(32).slice('whsec_'.length)}`)).toBe(false);
    expect(isSecret(secretOf(32).replace(/=$/, ''))).toBe(false); // padding dropped
    expect(isSecret(`whsec_${'a'.repeat(42)}b=`)).toBe(false); // stray bits in the last character
    expect(isSecret(`whsec_${'-_'.repeat(22)}`)).toBe(false); // base64url, not base64
    expect(isSecret('whsec_')).toBe(false);
  });
});
