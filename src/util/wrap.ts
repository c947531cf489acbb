// Words to lines of a terminal's width, with a hanging indent: the first line
// at `indent`, the rest at `hanging`, so a wrapped message still reads as one
// item under its row. Pieces carry their own paint (colour), applied word by
// word after the widths are counted, so escapes never count as columns. A
// word longer than a line (a URL) is cut where the line ends.

export interface Piece {
  text: string;
  paint?: (text: string) => string;
  /** Never broken across lines (a short unit like "(attempt 4)"), unless it is longer than a line. */
  keep?: boolean;
}

/** Columns a string takes, counted in code points (what this CLI prints is narrow text). */
export function columnsOf(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** Cut to `width` columns, with … when something was cut. */
export function truncateColumns(text: string, width: number): string {
  if (width <= 0) return "";
  const chars = [...text];
  return chars.length <= width ? text : chars.slice(0, Math.max(0, width - 1)).join("") + "…";
}

/**
 * Lay `pieces` out in lines of at most `width` columns. Runs of spaces fold
 * to one (the text is prose: a message, a hint); every line starts with its
 * indent. Always at least 20 columns of text, however narrow the terminal.
 */
export function wrapPieces(pieces: Piece[], width: number, indent = "", hanging = indent): string[] {
  const words: { text: string; paint?: (text: string) => string }[] = [];
  for (const piece of pieces) {
    const split = piece.keep ? [piece.text.trim()] : piece.text.split(/\s+/);
    for (const word of split) if (word) words.push({ text: word, paint: piece.paint });
  }
  const lines: string[] = [];
  let line = indent;
  let used = columnsOf(indent);
  let empty = true;
  const room = (prefix: string) => Math.max(20, width - columnsOf(prefix));
  const flush = () => {
    lines.push(line);
    line = hanging;
    used = columnsOf(hanging);
    empty = true;
  };
  for (const word of words) {
    let rest = [...word.text];
    while (rest.length) {
      const prefix = lines.length ? hanging : indent;
      const textUsed = used - columnsOf(prefix);
      const separator = empty ? 0 : 1;
      if (textUsed + separator + rest.length <= room(prefix)) {
        const text = rest.join("");
        line += (empty ? "" : " ") + (word.paint ? word.paint(text) : text);
        used += separator + rest.length;
        empty = false;
        rest = [];
      } else if (!empty) {
        flush(); // on a line of its own
      } else {
        // Longer than any line: fill this one and carry the rest.
        const take = room(prefix);
        const text = rest.slice(0, take).join("");
        line += word.paint ? word.paint(text) : text;
        rest = rest.slice(take);
        empty = false;
        flush();
      }
    }
  }
  if (!empty || lines.length === 0) lines.push(line);
  return lines;
}

/** Plain text wrapped (no colour). */
export function wrapText(text: string, width: number, indent = "", hanging = indent): string[] {
  return wrapPieces([{ text }], width, indent, hanging);
}
