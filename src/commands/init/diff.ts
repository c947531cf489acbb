// A unified diff of two texts by lines (longest common subsequence), with
// three lines of context: what `infra-check init` would change in a file
// that exists, shown instead of overwriting it. Configs are small (a few
// hundred lines), so the quadratic table is cheap; past MAX_LINES the diff
// is summarised instead.
const CONTEXT = 3;
const MAX_LINES = 5000;

type Op = { type: " " | "-" | "+"; line: string; oldNo: number; newNo: number };

function operations(before: string[], after: string[]): Op[] {
  const n = before.length;
  const m = after.length;
  const table: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) table[i][j] = before[i] === after[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) ops.push({ type: " ", line: before[i++], oldNo: i, newNo: ++j });
    // Removals before additions, as diff(1) prints a changed line.
    else if (i < n && (j >= m || table[i + 1][j] >= table[i][j + 1])) ops.push({ type: "-", line: before[i++], oldNo: i, newNo: j });
    else ops.push({ type: "+", line: after[j++], oldNo: i, newNo: j });
  }
  return ops;
}

/** `--- a` / `+++ b` and hunks; "" when the texts are equal. */
export function unifiedDiff(before: string, after: string, labels: { before: string; after: string }): string {
  if (before === after) return "";
  const a = before.split("\n");
  const b = after.split("\n");
  if (a.length > MAX_LINES || b.length > MAX_LINES) return `--- ${labels.before}\n+++ ${labels.after}\n(the files differ; too long to compare line by line)\n`;
  const ops = operations(a, b);
  const changed = ops.map((op, index) => (op.type !== " " ? index : -1)).filter((index) => index >= 0);
  let text = `--- ${labels.before}\n+++ ${labels.after}\n`;
  let start = 0;
  while (start < changed.length) {
    let end = start;
    while (end + 1 < changed.length && changed[end + 1] - changed[end] <= CONTEXT * 2 + 1) end += 1;
    const from = Math.max(0, changed[start] - CONTEXT);
    const to = Math.min(ops.length - 1, changed[end] + CONTEXT);
    const slice = ops.slice(from, to + 1);
    const oldStart = slice.find((op) => op.type !== "+")?.oldNo ?? slice[0].oldNo;
    const newStart = slice.find((op) => op.type !== "-")?.newNo ?? slice[0].newNo;
    const oldCount = slice.filter((op) => op.type !== "+").length;
    const newCount = slice.filter((op) => op.type !== "-").length;
    text += `@@ -${oldStart},${oldCount} +${newStart},${newCount} @@\n`;
    for (const op of slice) text += `${op.type}${op.line}\n`;
    start = end + 1;
  }
  return text;
}
