/**
 * AMQP topic matching, for dispatching inside a consumer: words are separated by '.', '*' matches exactly
 * one word, '#' matches zero or more. The broker already filtered with the same rules when routing; this
 * picks which handler of a queue bound with several patterns gets the message.
 */
export function topicMatches(pattern: string, key: string): boolean {
  return matchWords(pattern.split('.'), 0, key.split('.'), 0);
}

function matchWords(p: string[], i: number, k: string[], j: number): boolean {
  for (;;) {
    if (i === p.length) return j === k.length;
    if (p[i] === '#') {
      // '#' at the end takes the rest; otherwise try every split point
      if (i === p.length - 1) return true;
      for (let skip = j; skip <= k.length; skip++) if (matchWords(p, i + 1, k, skip)) return true;
      return false;
    }
    if (j === k.length) return false;
    if (p[i] !== '*' && p[i] !== k[j]) return false;
    i++;
    j++;
  }
}

export const isWildcardPattern = (pattern: string): boolean => pattern.split('.').some((w) => w === '*' || w === '#');
