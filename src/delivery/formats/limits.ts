/**
 * Chat services reject a message whose fields run over their limits, so long titles and messages
 * are cut to fit rather than sent and refused. Lengths are counted in UTF-16 code units (what
 * JavaScript's `length` counts), never fewer than the characters Slack and Discord count, and a
 * cut never splits a surrogate pair.
 */

export const ELLIPSIS = '…';

/** `text` cut to at most `max` code units, ending in "…" when it was cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max < ELLIPSIS.length) return '';
  return `${cutAt(text, max - ELLIPSIS.length).trimEnd()}${ELLIPSIS}`;
}

/**
 * Slack text (already escaped) cut to at most `max` code units, ending in "…" when cut. Every `<`
 * left in escaped text opens a link and every `&` an entity, so a cut inside either drops the
 * whole of it: half a link or `&am` would show as markup, or swallow the text after it.
 */
export function truncateSlack(escaped: string, max: number): string {
  if (escaped.length <= max) return escaped;
  if (max < ELLIPSIS.length) return '';
  let kept = cutAt(escaped, max - ELLIPSIS.length);
  const open = kept.lastIndexOf('<');
  if (open > kept.lastIndexOf('>')) kept = kept.slice(0, open);
  const amp = kept.lastIndexOf('&');
  if (amp !== -1 && !kept.slice(amp).includes(';')) kept = kept.slice(0, amp);
  return `${kept.trimEnd()}${ELLIPSIS}`;
}

/** The first `n` code units, one fewer if the last would be half a surrogate pair. */
function cutAt(text: string, n: number): string {
  const last = text.charCodeAt(n - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? n - 1 : n);
}
