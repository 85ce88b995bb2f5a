import { formatInvite } from "@momedo/protocol";
import { describe, expect, it, vi } from "vitest";
import { readHandoutPdf } from "../../../../tests/helpers/readHandouts.js";
import { handoutPdf, type HandoutSheet } from "./pdf.js";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function pick(alphabet: string, length: number, seed: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[(seed * 7919 + i * 104729 + i * i * 31) % alphabet.length];
  return out;
}

// Names and how a reader of the PDF sees them: WinAnsi names exactly, others in their fallback.
const NAMES: [name: string, printed: string][] = [
  ["Jürgen Öztürk-Weiß", "Jürgen Öztürk-Weiß"],
  ["Łukasz Şahin", "Lukasz Sahin"],
  ["Marie (Mimi) Back\\slash :-)", "Marie (Mimi) Back\\slash :-)"],
  ["Zoë Ñúñez", "Zoë Ñúñez"],
  ["François d’Arcy", "François d’Arcy"],
  ["Dragoș Vulpe", "Dragos Vulpe"],
  ["Ana Đurić", "Ana Duric"],
  ["Ömer Çelik", "Ömer Çelik"],
];
const FIRST = ["Mia", "Ben", "Emma", "Paul", "Hanna", "Leon", "Sophie", "Finn", "Lea", "Elias", "Lina"];
const LAST = ["Müller", "Schäfer", "Groß", "Becker", "Krüger", "Hoffmann", "Schröder", "Weiß", "Jäger", "Möller"];

const sheets: (HandoutSheet & { printed: string })[] = Array.from({ length: 28 }, (_, i) => {
  const generated = `${FIRST[i % FIRST.length]} ${LAST[(i * 3) % LAST.length]}`;
  const [name, printed] = NAMES[i] ?? [generated, generated];
  const invite = formatInvite({
    url: "https://gesamtschule-am-weiher.example.org:4710",
    code: pick(CROCKFORD, 16, i + 1),
    fingerprint: pick(BASE64URL, 43, i + 101),
  });
  return { name, printed, id: pick(CROCKFORD, 8, i + 201), class: i % 2 ? "7b" : "10a", invite };
});

/** Checks the classic cross-reference table: every in-use entry points at "N G obj". */
function xrefErrors(pdf: Buffer): string[] {
  const text = pdf.toString("latin1");
  const start = Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(text)?.[1]);
  const table = /^xref\s+(\d+) (\d+)\s+/.exec(text.slice(start));
  if (!table) return [`no xref table at ${start}`];
  const [header, first, count] = table;
  const errors: string[] = [];
  for (let i = 0; i < Number(count); i++) {
    const entry = text.slice(start + header.length + 20 * i, start + header.length + 20 * (i + 1));
    const [, offset, generation, kind] = /^(\d{10}) (\d{5}) ([nf])(?: \n|\r\n| \r)$/.exec(entry) ?? [];
    if (!kind) errors.push(`entry ${i}: malformed ${JSON.stringify(entry)}`);
    else if (kind === "n" && !text.startsWith(`${Number(first) + i} ${Number(generation)} obj`, Number(offset))) {
      errors.push(`entry ${i}: offset ${Number(offset)} is not object ${Number(first) + i}`);
    }
  }
  return errors;
}

describe("handout PDF", () => {
  it("has a page per person that a PDF reader shows and a phone scans", async () => {
    const started = performance.now();
    const pdf = handoutPdf("Gesamtschule Am Weiher (Köln)", sheets);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(2000);

    expect(pdf.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    expect(xrefErrors(pdf)).toEqual([]);

    // pdf.js repairs a broken file silently except for a warning; there must be none.
    const warn = vi.spyOn(console, "warn");
    const { pages } = await readHandoutPdf(pdf);
    expect(warn.mock.calls.flat().filter((line) => String(line).includes("Warning"))).toEqual([]);
    warn.mockRestore();

    expect(pages).toHaveLength(28);
    pages.forEach((page, i) => {
      const sheet = sheets[i]!;
      expect(page.qr).toBe(sheet.invite);
      expect(page.text).toContain(sheet.printed);
      expect(page.text).toContain(`Klasse / Class: ${sheet.class}`);
      expect(page.text).toContain(`momedo-ID: ${sheet.id}`);
      expect(page.text).toContain("Gesamtschule Am Weiher (Köln)");
      // The invite is wrapped over lines; joined again it is the same text.
      expect(page.text.replace(/\s+/g, "")).toContain(sheet.invite);
    });
  });

  it("leaves out the class line for a person without a class and wraps a very long name", async () => {
    const longName = "Maximiliane Alexandra Theodora von und zu Hohenstein-Gräfenbergersdorf";
    const invite = sheets[0]!.invite;
    const { pages } = await readHandoutPdf(
      handoutPdf("Stadt Beispielhausen", [{ name: longName, id: "AB12CD34", class: "", invite }]),
    );
    expect(pages).toHaveLength(1);
    expect(pages[0]!.text).not.toContain("Klasse");
    expect(pages[0]!.text.replace(/\s+/g, " ")).toContain(longName);
    expect(pages[0]!.qr).toBe(invite);
  });

  it("refuses an empty selection", () => {
    expect(() => handoutPdf("Stadt Beispielhausen", [])).toThrow(RangeError);
  });
});
