/** Types for verify-webhook.mjs, so the test suite can import the snippet the docs quote. */
export function verifyWebhook(secret: string, headers: Readonly<Record<string, string | undefined>>, body: string): boolean;
