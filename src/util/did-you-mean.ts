// "Did you mean …?" for a word that is none of the names it could have meant:
// a command, an environment, a key, a kind, a check, a metric. The same
// spelling in another case or word separator (`depends_on`, `DependsOn` →
// `dependsOn`) wins outright; else the closest name by edits (a swap of two
// letters counts as one) when it is close enough to be a typo rather than
// another word; else the one name the word begins (`prod` → `production`).

/** The known name `word` was probably meant to be, or undefined. Ties go to the earlier candidate. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const names = [...new Set(candidates)].filter((name) => name !== word);
  const folded = fold(word);
  if (!folded) return undefined;
  const same = names.find((name) => fold(name) === folded);
  if (same !== undefined) return same;
  // Up to 40 % of the word, one edit at least, three at most: `stagign` → `staging`, `postgresql` → `postgres`, not `url` → `tls`.
  const allowed = Math.min(3, Math.max(1, Math.floor(folded.length * 0.4)));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const name of names) {
    const distance = editDistance(folded, fold(name));
    if (distance <= allowed && distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  if (best !== undefined) return best;
  const prefixed = folded.length >= 3 ? names.filter((name) => fold(name).startsWith(folded)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** `; did you mean "x"?` to append to a message, or "". */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closest(word, candidates);
  return match === undefined ? "" : `; did you mean "${match}"?`;
}

function fold(name: string): string {
  return name.toLowerCase().replace(/[-_\s]/g, "");
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours (`stagign` → `staging` is 1). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const table: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: columns }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < columns; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      table[i][j] = Math.min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) table[i][j] = Math.min(table[i][j], table[i - 2][j - 2] + 1);
    }
  }
  return table[rows - 1][columns - 1];
}
