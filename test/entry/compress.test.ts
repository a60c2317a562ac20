import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { brotliWindow, nodeCompress } from '../../src/entry/node.ts';

/** Text that compresses like a page: repeated markup with varying words. */
function page(bytes: number): Uint8Array {
  const words = ['incident', 'resolved', 'production', 'degraded', 'monitoring', '<li class="bar">', '</li>', 'API', 'eu-west'];
  let s = '';
  for (let i = 0; s.length < bytes; i++) s += `${words[(i * 7) % words.length]}${i % 13} `;
  return new TextEncoder().encode(s.slice(0, bytes));
}

describe('nodeCompress', () => {
  it('sizes the brotli window to the body, between brotli\'s least and its default', () => {
    expect(brotliWindow(0)).toBe(10);
    expect(brotliWindow(1023)).toBe(10);
    expect(brotliWindow(1024)).toBe(11);
    expect(brotliWindow(40_000)).toBe(16);
    expect(brotliWindow(65_536)).toBe(17);
    expect(brotliWindow(3_000_000)).toBe(22);
    expect(brotliWindow(50_000_000)).toBe(22);
  });

  it('gives back the same bytes through br and gzip, small bodies to ones larger than the default window', async () => {
    for (const size of [10, 1_500, 40_000, 70_000, 5_000_000]) {
      const body = page(size);
      const br = await nodeCompress(body, 'br');
      const gz = await nodeCompress(body, 'gzip');
      expect(Buffer.from(brotliDecompressSync(br)).equals(Buffer.from(body)), `br, ${size} bytes`).toBe(true);
      expect(Buffer.from(gunzipSync(gz)).equals(Buffer.from(body)), `gzip, ${size} bytes`).toBe(true);
      if (size >= 1_500) expect(br.byteLength).toBeLessThan(body.byteLength / 3);
    }
  });
});
