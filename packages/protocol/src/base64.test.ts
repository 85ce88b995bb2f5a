import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCanonicalBase64, toBase64 } from "./base64.js";

describe("isCanonicalBase64", () => {
  it("accepts what toBase64 writes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => isCanonicalBase64(toBase64(bytes))));
  });

  it("accepts exactly the strings that survive a decode/encode round trip unchanged", () => {
    const alphabet = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ .".split(""));
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 24 }), (text) => {
        const roundTrip = Buffer.from(text, "base64").toString("base64") === text;
        // Canonical text always round-trips; non-canonical may only if the leftover bits happen to be zero.
        if (isCanonicalBase64(text)) expect(Buffer.from(Buffer.from(text, "base64").toString("base64")).length).toBe(text.length);
        if (roundTrip) expect(isCanonicalBase64(text)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses lengths that cannot decode and URL-safe characters", () => {
    for (const text of ["A", "AA", "AAA", "AAAAA", "A===", "AA-_", "AB=C", "=AAA"]) expect(isCanonicalBase64(text)).toBe(false);
  });
});
