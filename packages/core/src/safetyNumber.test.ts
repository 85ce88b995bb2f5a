import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fingerprint, formatSafetyNumber, parseVerifyCode, safetyNumber, verifyCode } from "./safetyNumber.js";

/** The same construction written again with node:crypto, as an independent check. */
function reference(user: string, keys: Uint8Array[]): string {
  const key = Buffer.concat([...keys].map((k) => Buffer.from(k)).sort(Buffer.compare));
  let hash = createHash("sha512").update(Buffer.from([0, 0])).update(key).update(user, "ascii").digest();
  for (let i = 1; i < 5200; i++) hash = createHash("sha512").update(hash).update(key).digest();
  let out = "";
  for (let c = 0; c < 6; c++) out += String(hash.readUIntBE(c * 5, 5) % 100000).padStart(5, "0");
  return out;
}

describe("safety numbers", () => {
  const a = [new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(32))];
  const b = [new Uint8Array(randomBytes(32))];

  it("gives 30 digits per person as the reference construction does, whatever the key order", () => {
    const digits = fingerprint("M8N22HT6", a);
    expect(digits).toMatch(/^\d{30}$/);
    expect(digits).toBe(reference("M8N22HT6", a));
    expect(fingerprint("M8N22HT6", [a[1]!, a[0]!])).toBe(digits);
  });

  it("changes with any key, a device more or less, and the ID", () => {
    const digits = fingerprint("M8N22HT6", a);
    expect(fingerprint("M8N22HT6", [a[0]!])).not.toBe(digits);
    expect(fingerprint("M8N22HT6", [...a, b[0]!])).not.toBe(digits);
    expect(fingerprint("M8N22HT7", a)).not.toBe(digits);
  });

  it("is the same 60 digits for both people, shown as 12 groups of 5", () => {
    const x = { user: "AAAAAAAA", fingerprint: fingerprint("AAAAAAAA", a) };
    const y = { user: "BBBBBBBB", fingerprint: fingerprint("BBBBBBBB", b) };
    expect(safetyNumber(x, y)).toBe(safetyNumber(y, x));
    expect(safetyNumber(x, y).startsWith(x.fingerprint)).toBe(true);
    expect(formatSafetyNumber(safetyNumber(x, y)).split(" ")).toHaveLength(12);
  });

  it("reads back the code a QR carries", () => {
    const digits = fingerprint("M8N22HT6", a);
    expect(parseVerifyCode(verifyCode("M8N22HT6", digits))).toEqual({ user: "M8N22HT6", fingerprint: digits });
    expect(parseVerifyCode(" momedo-verify:m8n22ht6:" + digits + "\n")).toEqual({ user: "M8N22HT6", fingerprint: digits });
    expect(parseVerifyCode("momedo-verify:M8N22HT6:123")).toBeUndefined();
  });
});
