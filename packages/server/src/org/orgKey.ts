// The organisation key signs every enrolled device's credential. It never leaves the data directory.
import { ed25519 } from "@noble/curves/ed25519.js";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface OrgKey {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function loadOrCreateOrgKey(dataDir: string): OrgKey {
  const file = join(dataDir, "org.key");
  if (existsSync(file)) {
    const secretKey = new Uint8Array(Buffer.from(readFileSync(file, "utf8").trim(), "hex"));
    if (secretKey.length !== 32) throw new Error(`${file} is damaged (expected 32 bytes of hex)`);
    return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
  }
  mkdirSync(dataDir, { recursive: true });
  const { secretKey, publicKey } = ed25519.keygen();
  writeFileSync(file, Buffer.from(secretKey).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
  return { secretKey, publicKey };
}
