// Invite handouts: one A4 page per person (name, class, ID, QR code, the invite as text, three
// steps), written as a small PDF 1.4 with the standard fonts, so no font or library is needed.
import { deflateSync } from "node:zlib";
import qrcode from "qrcode-generator";
import { textWidth, winAnsi, type StandardFont } from "./winAnsi.js";

export interface HandoutSheet {
  name: string;
  id: string;
  class: string;
  invite: string;
}

const MM = 72 / 25.4;
const PAGE_WIDTH = 595.28;
const PAGE_HEIGHT = 841.89;
const MARGIN = 20 * MM;
const TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN;
// The code without its quiet zone; at about 45 modules that is 1.3 mm a module, easy for a phone.
const QR_WIDTH = 60 * MM;
const QR_QUIET_ZONE = 4;
const STEP_INDENT = 16;

const FONT_RESOURCE: Record<StandardFont, string> = { Helvetica: "F1", "Helvetica-Bold": "F2", Courier: "F3" };

const STEPS: [german: string, english: string][] = [
  [
    "Den Link öffnen oder den Code mit der Kamera des Telefons scannen.",
    "Open the link or scan the code with your phone's camera.",
  ],
  ["Der Anleitung auf der Seite folgen: Das Gerät wird angemeldet.", "Follow the instructions on that page: the device gets enrolled."],
  [
    "Fertig. Dieses Blatt privat aufbewahren: Die Einladung gilt nur einmal und läuft ab.",
    "Done. Keep this sheet private: the invite works only once and expires.",
  ],
];

/** A number as PDF writes it: at most two decimals, never an exponent. */
function num(value: number): string {
  return String(Number(value.toFixed(2)) || 0);
}

/** A PDF literal string; bytes outside printable ASCII as octal escapes, so streams stay ASCII. */
function pdfString(bytes: number[]): string {
  let out = "(";
  for (const byte of bytes) {
    if (byte === 0x28 || byte === 0x29 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte.toString(8).padStart(3, "0")}`;
  }
  return `${out})`;
}

/** A text string outside content streams (document information): UTF-16BE with its BOM. */
function pdfTextString(text: string): string {
  return `<FEFF${Buffer.from(text, "utf16le").swap16().toString("hex").toUpperCase()}>`;
}

/** Breaks text into lines no wider than width: between words, and inside a word only if it must. */
function wrap(text: string, font: StandardFont, size: number, width: number): number[][] {
  const fits = (bytes: number[]) => textWidth(bytes, font, size) <= width;
  const lines: number[][] = [];
  let line: number[] = [];
  const words: number[][] = [[]];
  for (const byte of winAnsi(text)) {
    if (byte === 0x20) words.push([]);
    else words[words.length - 1]!.push(byte);
  }
  for (const word of words.filter((w) => w.length > 0)) {
    const joined = line.length > 0 ? [...line, 0x20, ...word] : word;
    if (fits(joined)) {
      line = joined;
      continue;
    }
    if (line.length > 0) lines.push(line);
    line = word;
    while (!fits(line)) {
      let cut = Math.max(1, line.length - 1);
      while (cut > 1 && !fits(line.slice(0, cut))) cut--;
      lines.push(line.slice(0, cut));
      line = line.slice(cut);
    }
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

/** The content of one page, drawn top-down from a cursor. */
class PageContent {
  private readonly ops: string[] = [];
  private y = PAGE_HEIGHT - MARGIN;

  gap(points: number): void {
    this.y -= points;
  }

  text(text: string, font: StandardFont, size: number, options: { gray?: number; indent?: number } = {}): void {
    const indent = options.indent ?? 0;
    for (const line of wrap(text, font, size, TEXT_WIDTH - indent)) {
      this.y -= size;
      this.show(line, font, size, MARGIN + indent, options.gray ?? 0);
      this.y -= size * 0.3;
    }
  }

  /** A numbered step: the German line, the English one below it in grey. */
  step(number: number, german: string, english: string): void {
    this.show(winAnsi(`${number}.`), "Helvetica-Bold", 11, MARGIN, 0, this.y - 11);
    this.text(german, "Helvetica", 11, { indent: STEP_INDENT });
    this.text(english, "Helvetica", 10, { indent: STEP_INDENT, gray: 0.35 });
  }

  rule(gray: number): void {
    this.ops.push(`${num(gray)} G 0.5 w ${num(MARGIN)} ${num(this.y)} m ${num(PAGE_WIDTH - MARGIN)} ${num(this.y)} l S`);
  }

  /** The QR code centred, as filled rectangles (one per run of dark modules) inside its quiet zone. */
  qr(text: string): void {
    const code = qrcode(0, "M");
    // The library's byte mode takes one character per byte; an address may hold non-ASCII letters.
    code.addData(Buffer.from(text, "utf8").toString("latin1"), "Byte");
    code.make();
    const count = code.getModuleCount();
    const module = QR_WIDTH / count;
    const left = (PAGE_WIDTH - QR_WIDTH) / 2;
    this.y -= QR_QUIET_ZONE * module;
    const top = this.y;
    // Edges rounded once, so neighbouring rows share exactly the same coordinate.
    const edgeX = (column: number) => Number((left + column * module).toFixed(2));
    const edgeY = (row: number) => Number((top - row * module).toFixed(2));
    const rects: string[] = [];
    for (let row = 0; row < count; row++) {
      for (let column = 0; column < count; ) {
        if (!code.isDark(row, column)) {
          column++;
          continue;
        }
        let end = column;
        while (end < count && code.isDark(row, end)) end++;
        const x = edgeX(column);
        const y = edgeY(row + 1);
        rects.push(`${num(x)} ${num(y)} ${num(edgeX(end) - x)} ${num(edgeY(row) - y)} re`);
        column = end;
      }
    }
    this.ops.push("0 g", ...rects, "f");
    this.y = top - count * module - QR_QUIET_ZONE * module;
  }

  stream(): Buffer {
    return deflateSync(Buffer.from(this.ops.join("\n"), "latin1"));
  }

  private show(line: number[], font: StandardFont, size: number, x: number, gray: number, y = this.y): void {
    this.ops.push(`BT /${FONT_RESOURCE[font]} ${num(size)} Tf ${num(gray)} g ${num(x)} ${num(y)} Td ${pdfString(line)} Tj ET`);
  }
}

function sheetPage(organization: string, sheet: HandoutSheet): Buffer {
  const page = new PageContent();
  page.text(organization, "Helvetica", 12, { gray: 0.25 });
  page.gap(4);
  page.rule(0.6);
  page.gap(22);
  page.text("Einladung für / Invite for", "Helvetica", 13);
  page.gap(4);
  // As large as fits on one line, but not smaller than 16 pt; a longer name wraps.
  const nameWidth = textWidth(winAnsi(sheet.name), "Helvetica-Bold", 1);
  page.text(sheet.name, "Helvetica-Bold", Math.max(16, Math.min(28, TEXT_WIDTH / Math.max(nameWidth, 1))));
  page.gap(6);
  if (sheet.class.trim()) page.text(`Klasse / Class: ${sheet.class}`, "Helvetica", 12);
  page.text(`momedo-ID: ${sheet.id}`, "Helvetica", 12);
  page.qr(sheet.invite);
  page.text("Oder diesen Link öffnen / Or open this link:", "Helvetica", 10, { gray: 0.25 });
  page.text(sheet.invite, "Courier", 10);
  page.gap(18);
  STEPS.forEach(([german, english], index) => {
    page.step(index + 1, german, english);
    page.gap(8);
  });
  return page.stream();
}

/** The PDF file: objects in number order, then the cross-reference table pointing at each. */
function pdfFile(title: string, pages: Buffer[]): Buffer {
  const fonts: StandardFont[] = ["Helvetica", "Helvetica-Bold", "Courier"];
  const firstPage = 8;
  const objects: { body: string; stream?: Buffer }[] = [
    { body: "<< /Type /Catalog /Pages 2 0 R >>" },
    {
      body: `<< /Type /Pages /Count ${pages.length} /Kids [${pages.map((_, i) => `${firstPage + 2 * i} 0 R`).join(" ")}] >>`,
    },
    { body: `<< /Font << ${fonts.map((font, i) => `/${FONT_RESOURCE[font]} ${4 + i} 0 R`).join(" ")} >> /ProcSet [/PDF /Text] >>` },
    ...fonts.map((font) => ({ body: `<< /Type /Font /Subtype /Type1 /BaseFont /${font} /Encoding /WinAnsiEncoding >>` })),
    { body: `<< /Title ${pdfTextString(title)} /Producer (momedo) >>` },
  ];
  pages.forEach((content, i) => {
    objects.push({
      body: `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_WIDTH} ${PAGE_HEIGHT}] /Resources 3 0 R /Contents ${firstPage + 2 * i + 1} 0 R >>`,
    });
    objects.push({ body: `<< /Length ${content.length} /Filter /FlateDecode >>`, stream: content });
  });

  const chunks: Buffer[] = [];
  let length = 0;
  const write = (part: string | Buffer) => {
    const bytes = typeof part === "string" ? Buffer.from(part, "latin1") : part;
    chunks.push(bytes);
    length += bytes.length;
  };
  // The second line's high bytes tell transfer tools the file is binary.
  write("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
  const offsets = objects.map(({ body, stream }, i) => {
    const offset = length;
    write(`${i + 1} 0 obj\n${body}\n`);
    if (stream) {
      write("stream\n");
      write(stream);
      write("\nendstream\n");
    }
    write("endobj\n");
    return offset;
  });
  const xref = length;
  write(`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`);
  for (const offset of offsets) write(`${String(offset).padStart(10, "0")} 00000 n \n`);
  write(`trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 7 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  return Buffer.concat(chunks, length);
}

/** One printable PDF with a page per person; throws RangeError for an empty selection. */
export function handoutPdf(organization: string, sheets: HandoutSheet[]): Buffer {
  if (sheets.length === 0) {
    throw new RangeError("Keine Personen ausgewählt / no people selected");
  }
  return pdfFile(
    `Einladungen / Invites – ${organization}`,
    sheets.map((sheet) => sheetPage(organization, sheet)),
  );
}
