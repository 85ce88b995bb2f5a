import { describe, expect, it } from "vitest";
import { decodeContent, encodeContent, type FileContent } from "./content.js";

const KEY = "q".repeat(43) + "=";
const file: FileContent = {
  v: 1,
  id: "0123456789ABCDEF",
  type: "file",
  sentAt: 1_800_000_000_000,
  blob: "FEDCBA9876543210",
  key: KEY,
  sha256: KEY,
  size: 52_428_800,
  mediaType: "image/jpeg",
  name: "Verstoß Parkplatz.jpg",
  width: 2048,
  height: 1536,
  thumbnail: "/9j/4AAQ",
  location: { lat: 52.52, lon: 13.405, accuracy: 8 },
  takenAt: 1_799_999_000_000,
};

describe("file content", () => {
  it("round-trips every field, and only the known ones", () => {
    expect(decodeContent(encodeContent(file))).toEqual(file);
    const extra = new TextEncoder().encode(JSON.stringify({ ...file, evil: "<script>" }));
    expect(decodeContent(extra)).toEqual(file);
  });

  it("makes a file message with a malformed field unreadable instead of half-shown", () => {
    const broken: Record<string, unknown>[] = [
      { blob: "../../etc/passwd" },
      { key: "c2hvcnQ=" },
      { size: -1 },
      { size: 1.5 },
      { mediaType: "text/html; charset=utf-8" },
      { name: "" },
      { name: "x".repeat(256) },
      { width: 2048, height: undefined },
      { location: { lat: 91, lon: 0 } },
      { location: { lat: 52.5, lon: "13.4" } },
      { location: { lat: 52.5, lon: 13.4, accuracy: -3 } },
      { takenAt: "yesterday" },
      { thumbnail: 42 },
    ];
    for (const change of broken) {
      expect(decodeContent(new TextEncoder().encode(JSON.stringify({ ...file, ...change }))), JSON.stringify(change)).toBeUndefined();
    }
  });
});
