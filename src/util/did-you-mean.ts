// "did you mean …?" for a word the user typed and the names it could have
// meant (commands, environments). Loaded only on the error paths that use it.

/** Edits between two words: insertions, deletions, substitutions and swaps of neighbours (`stagign` → `staging` is 1). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate the user most likely meant, or undefined when none is close:
 * a few typos (up to 40 % of the word, at most 3), or the one candidate the
 * word begins (`prod` → `production`). Ties go to the earlier candidate.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const typed = word.toLowerCase();
  if (!typed) return undefined;
  const allowed = Math.min(3, Math.max(1, Math.floor(typed.length * 0.4)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const distance = editDistance(typed, candidate.toLowerCase());
    if (distance <= allowed && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined) return best;
  const prefixed = typed.length >= 3 ? candidates.filter((candidate) => candidate.toLowerCase().startsWith(typed)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
