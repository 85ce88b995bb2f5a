// Text for the PDF standard fonts: Unicode to WinAnsiEncoding bytes, with a readable fallback
// for letters the encoding lacks (Ł → L, Ş → S), and the font widths needed to lay out lines.

export type StandardFont = "Helvetica" | "Helvetica-Bold" | "Courier";

/** The code points 0x80–0x9F of WinAnsiEncoding (Windows-1252); 0xA0–0xFF are Latin-1. */
const HIGH_BYTES = new Map<string, number>([
  ["€", 0x80], ["‚", 0x82], ["ƒ", 0x83], ["„", 0x84], ["…", 0x85], ["†", 0x86], ["‡", 0x87],
  ["ˆ", 0x88], ["‰", 0x89], ["Š", 0x8a], ["‹", 0x8b], ["Œ", 0x8c], ["Ž", 0x8e], ["‘", 0x91],
  ["’", 0x92], ["“", 0x93], ["”", 0x94], ["•", 0x95], ["–", 0x96], ["—", 0x97], ["˜", 0x98],
  ["™", 0x99], ["š", 0x9a], ["›", 0x9b], ["œ", 0x9c], ["ž", 0x9e], ["Ÿ", 0x9f],
]);

/** Letters that Unicode decomposition does not reduce to a base letter. */
const FALLBACK = new Map<string, string>([
  ["ł", "l"], ["Ł", "L"], ["đ", "d"], ["Đ", "D"], ["ı", "i"], ["ħ", "h"], ["Ħ", "H"],
  ["ŧ", "t"], ["Ŧ", "T"], ["ŀ", "l"], ["Ŀ", "L"], ["ĸ", "k"], ["ŋ", "n"], ["Ŋ", "N"],
  ["\u2010", "-"], ["\u2011", "-"], ["\u2212", "-"],
]);

// Widths in 1/1000 em of the codes 32–255 (Adobe's AFM files for the standard 14 fonts).
const HELVETICA = [
  278,278,355,556,556,889,667,191,333,333,389,584,278,333,278,278,556,556,556,556,556,556,556,556,
  556,556,278,278,584,584,584,556,1015,667,667,722,722,667,611,778,722,278,500,667,556,833,722,778,
  667,778,722,667,611,722,667,944,667,667,611,278,278,278,469,556,333,556,556,500,556,556,278,556,
  556,222,222,500,222,833,556,556,556,556,333,500,278,556,500,722,500,500,500,334,260,334,584,350,
  556,350,222,556,333,1000,556,556,333,1000,667,333,1000,350,611,350,350,222,222,333,333,350,556,
  1000,333,1000,500,333,944,350,500,667,278,333,556,556,556,556,260,556,333,737,370,556,584,333,737,
  333,400,584,333,333,333,556,537,278,333,333,365,556,834,834,834,611,667,667,667,667,667,667,1000,
  722,667,667,667,667,278,278,278,278,722,722,778,778,778,778,778,584,778,722,722,722,722,667,667,
  611,556,556,556,556,556,556,889,500,556,556,556,556,278,278,278,278,556,556,556,556,556,556,556,
  584,611,556,556,556,556,500,556,500,
];
const HELVETICA_BOLD = [
  278,333,474,556,556,889,722,238,333,333,389,584,278,333,278,278,556,556,556,556,556,556,556,556,
  556,556,333,333,584,584,584,611,975,722,722,722,722,667,611,778,722,278,556,722,611,833,722,778,
  667,778,722,667,611,722,667,944,667,667,611,333,278,333,584,556,333,556,611,556,611,556,333,611,
  611,278,278,556,278,889,611,611,611,611,389,556,333,611,556,778,556,556,500,389,280,389,584,350,
  556,350,278,556,500,1000,556,556,333,1000,667,333,1000,350,611,350,350,278,278,500,500,350,556,
  1000,333,1000,556,333,944,350,500,667,278,333,556,556,556,556,280,556,333,737,370,556,584,333,737,
  333,400,584,333,333,333,611,556,278,333,333,365,556,834,834,834,611,722,722,722,722,722,722,1000,
  722,667,667,667,667,278,278,278,278,722,722,778,778,778,778,778,584,778,722,722,722,722,667,667,
  611,556,556,556,556,556,556,889,556,556,556,556,556,278,278,278,278,611,611,611,611,611,611,611,
  584,611,611,611,611,611,556,611,556,
];

function byteOf(char: string): number | undefined {
  const code = char.codePointAt(0) ?? 0;
  if (code >= 0x20 && code <= 0x7e) return code;
  // 0xAD is the soft hyphen, which viewers do not show.
  if (code >= 0xa0 && code <= 0xff && code !== 0xad) return code;
  return HIGH_BYTES.get(char);
}

/** One line of text as WinAnsi bytes; what cannot be shown becomes its base letter or "?". */
export function winAnsi(text: string): number[] {
  const bytes: number[] = [];
  for (const char of text.normalize("NFC").replace(/\s+/gu, " ")) {
    const direct = byteOf(char);
    if (direct !== undefined) {
      bytes.push(direct);
      continue;
    }
    // Invisible characters (soft hyphen, zero-width joiner, variation selectors) print as nothing.
    if (/^[\p{Cf}\p{M}]$/u.test(char)) continue;
    const base = FALLBACK.get(char) ?? char.normalize("NFKD").replace(/\p{M}/gu, "");
    const codes = [...base].map(byteOf);
    if (codes.length > 0 && codes.every((c) => c !== undefined)) bytes.push(...(codes as number[]));
    else bytes.push(0x3f);
  }
  return bytes;
}

/** Width in points of WinAnsi bytes set in a standard font. */
export function textWidth(bytes: number[], font: StandardFont, size: number): number {
  if (font === "Courier") return (bytes.length * 600 * size) / 1000;
  const widths = font === "Helvetica" ? HELVETICA : HELVETICA_BOLD;
  let total = 0;
  for (const byte of bytes) total += widths[byte - 32] ?? 0;
  return (total * size) / 1000;
}
