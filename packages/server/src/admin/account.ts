// The administrator's account: the one-time set-up code, the password (scrypt) and the optional
// second factor (TOTP, RFC 6238). Everything lives in the meta table; no default password exists.
import { createHash, createHmac, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { crockford, MomedoError } from "@momedo/protocol";
import { getMeta, setMeta, type Db } from "../storage/database.js";

export const MIN_PASSWORD_LENGTH = 10;
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const TOTP_STEP_SECONDS = 30;

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function equalText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class AdminAccount {
  constructor(private readonly db: Db) {}

  get isSetUp(): boolean {
    return getMeta(this.db, "admin_password") !== undefined;
  }

  /** A new one-time set-up code; it replaces any earlier one (only its hash is kept). */
  newSetupCode(): string {
    const code = crockford(randomBytes(10), 16);
    setMeta(this.db, "admin_setup_code", sha256(`momedo-setup-v1\n${code}`));
    return code;
  }

  /** Sets the password with a set-up code (first run, or a lost password); the code is used up. */
  setUp(code: string, password: string): void {
    const stored = getMeta(this.db, "admin_setup_code");
    if (!stored || typeof code !== "string" || !equalText(stored, sha256(`momedo-setup-v1\n${code.toUpperCase()}`))) {
      throw new MomedoError("setup_invalid");
    }
    this.db.transaction(() => {
      this.storePassword(password);
      setMeta(this.db, "admin_setup_code", "");
      setMeta(this.db, "admin_totp", "");
      // Sessions of a forgotten password end with it.
      this.db.prepare("DELETE FROM admin_sessions").run();
    })();
  }

  /** Throws admin_login_failed or totp_required; both look the same to a guesser's timing. */
  verify(password: unknown, totp: unknown, now = Date.now()): void {
    const stored = getMeta(this.db, "admin_password");
    if (!stored || typeof password !== "string" || !checkPassword(password, stored)) {
      throw new MomedoError("admin_login_failed");
    }
    const secret = getMeta(this.db, "admin_totp");
    if (!secret) return;
    if (typeof totp !== "string" || totp.trim() === "") throw new MomedoError("totp_required");
    if (!checkTotp(secret, totp.trim(), now)) throw new MomedoError("admin_login_failed", "TOTP");
  }

  changePassword(current: unknown, password: string): void {
    const stored = getMeta(this.db, "admin_password");
    if (!stored || typeof current !== "string" || !checkPassword(current, stored)) throw new MomedoError("admin_login_failed");
    this.storePassword(password);
  }

  get totpEnabled(): boolean {
    return Boolean(getMeta(this.db, "admin_totp"));
  }

  /** A secret offered to the admin; it counts only after `confirmTotp` with a correct code. */
  beginTotp(): { secret: string; uri: string } {
    const secret = base32(randomBytes(20));
    setMeta(this.db, "admin_totp_pending", secret);
    const organization = getMeta(this.db, "organization") ?? "momedo";
    const label = encodeURIComponent(`momedo ${organization}:admin`);
    return { secret, uri: `otpauth://totp/${label}?secret=${secret}&issuer=momedo&digits=6&period=${TOTP_STEP_SECONDS}` };
  }

  confirmTotp(code: unknown, now = Date.now()): void {
    const pending = getMeta(this.db, "admin_totp_pending");
    if (!pending || typeof code !== "string" || !checkTotp(pending, code.trim(), now)) throw new MomedoError("admin_login_failed", "TOTP");
    setMeta(this.db, "admin_totp", pending);
    setMeta(this.db, "admin_totp_pending", "");
  }

  disableTotp(code: unknown, now = Date.now()): void {
    const secret = getMeta(this.db, "admin_totp");
    if (!secret) return;
    if (typeof code !== "string" || !checkTotp(secret, code.trim(), now)) throw new MomedoError("admin_login_failed", "TOTP");
    setMeta(this.db, "admin_totp", "");
  }

  private storePassword(password: string): void {
    if (typeof password !== "string" || [...password].length < MIN_PASSWORD_LENGTH) throw new MomedoError("password_too_short");
    if (password.length > 1024) throw new MomedoError("bad_request", "password too long");
    const salt = randomBytes(16);
    const hash = scryptSync(password.normalize("NFC"), salt, 32, SCRYPT);
    setMeta(this.db, "admin_password", `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64")}$${hash.toString("base64")}`);
  }
}

function checkPassword(password: string, stored: string): boolean {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const actual = scryptSync(password.normalize("NFC"), Buffer.from(salt, "base64"), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(actual, expected);
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 without padding: what authenticator apps read. */
export function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function fromBase32(text: string): Buffer {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text.toUpperCase()) {
    const index = BASE32.indexOf(ch);
    if (index < 0) continue;
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit code of RFC 6238 (HMAC-SHA1, 30 s steps) for a base32 secret. */
export function totpCode(secret: string, now = Date.now()): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / TOTP_STEP_SECONDS)));
  const mac = createHmac("sha1", fromBase32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1]! & 15;
  const number = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return number.toString().padStart(6, "0");
}

/** Accepts the current step and one on either side (clock drift). */
export function checkTotp(secret: string, code: string, now = Date.now()): boolean {
  if (!/^\d{6}$/.test(code)) return false;
  const step = TOTP_STEP_SECONDS * 1000;
  return [-step, 0, step].some((d) => equalText(totpCode(secret, now + d), code));
}
