// The optional app lock: a PIN of 4 to 8 digits, asked when the app opens and when it comes back
// after some time in the background. The PIN is kept only as a PBKDF2-SHA-256 hash (WebCrypto),
// sealed in the store like every other setting. Wrong PINs are counted in the store (a reload does
// not reset them); from the fifth on, each further try waits longer.
//
// What it is: a lock for the screen, against someone who picks up an unlocked phone or sits down at
// a shared computer. What it is not: a second encryption of the store (the store's key stays a
// non-extractable WebCrypto key; see docs/webapp.md).
import { fromBase64, toBase64 } from "@momedo/protocol";
import type { EngineStore } from "@momedo/core";

const SETTING = "web:lock";
export const PIN_ITERATIONS = 600_000;
const FREE_TRIES = 5;
const FIRST_WAIT_MS = 30_000;
const LONGEST_WAIT_MS = 60 * 60_000;
/** How long the app may be in the background before it locks (0: at once). */
export const LOCK_AFTER_CHOICES = [0, 60_000, 900_000] as const;
export type LockAfter = (typeof LOCK_AFTER_CHOICES)[number];

interface LockRecord {
  salt: string;
  hash: string;
  iterations: number;
  after: LockAfter;
  failures: number;
  waitUntil: number;
}

export type UnlockResult = { ok: true } | { ok: false; failures: number; waitMs: number };

export class PinFormatError extends RangeError {}

export function checkPin(pin: string): void {
  if (!/^[0-9]{4,8}$/.test(pin)) throw new PinFormatError("Die PIN hat 4 bis 8 Ziffern / the PIN has 4 to 8 digits");
}

export class AppLock {
  private constructor(
    private readonly store: EngineStore,
    private record: LockRecord | undefined,
  ) {}

  static async load(store: EngineStore): Promise<AppLock> {
    const bytes = await store.loadSetting(SETTING);
    let record: LockRecord | undefined;
    if (bytes) {
      try {
        record = JSON.parse(new TextDecoder().decode(bytes)) as LockRecord;
      } catch {
        record = undefined;
      }
    }
    return new AppLock(store, record);
  }

  get enabled(): boolean {
    return this.record !== undefined;
  }

  get lockAfter(): LockAfter {
    return this.record?.after ?? 60_000;
  }

  /** Milliseconds until the next try is allowed (0: now). */
  waitMs(now = Date.now()): number {
    return this.record ? Math.max(0, this.record.waitUntil - now) : 0;
  }

  /** Turns the lock on with `pin`, or changes the PIN (the caller asked for the old one first). */
  async set(pin: string, after: LockAfter = this.lockAfter): Promise<void> {
    checkPin(pin);
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const hash = await pinHash(pin, salt, PIN_ITERATIONS);
    await this.save({ salt: toBase64(salt), hash: toBase64(hash), iterations: PIN_ITERATIONS, after, failures: 0, waitUntil: 0 });
  }

  async setLockAfter(after: LockAfter): Promise<void> {
    if (this.record) await this.save({ ...this.record, after });
  }

  /**
   * Checks a PIN. The failure is counted before the check (closing the page mid-check does not
   * give a free try) and forgiven when the PIN is right.
   */
  async unlock(pin: string, now = Date.now()): Promise<UnlockResult> {
    const record = this.record;
    if (!record) return { ok: true };
    const wait = this.waitMs(now);
    if (wait > 0) return { ok: false, failures: record.failures, waitMs: wait };
    const failures = record.failures + 1;
    const waitUntil = failures >= FREE_TRIES ? now + Math.min(FIRST_WAIT_MS * 2 ** (failures - FREE_TRIES), LONGEST_WAIT_MS) : 0;
    await this.save({ ...record, failures, waitUntil });
    const hash = await pinHash(pin, fromBase64(record.salt), record.iterations);
    if (sameBytes(hash, fromBase64(record.hash))) {
      await this.save({ ...record, failures: 0, waitUntil: 0 });
      return { ok: true };
    }
    return { ok: false, failures, waitMs: Math.max(0, waitUntil - now) };
  }

  /** Turns the lock off after checking the PIN; false when the PIN is wrong (or must wait). */
  async remove(pin: string): Promise<UnlockResult> {
    const result = await this.unlock(pin);
    if (result.ok) await this.save(undefined);
    return result;
  }

  private async save(record: LockRecord | undefined): Promise<void> {
    await this.store.apply({ settings: new Map([[SETTING, record ? new TextEncoder().encode(JSON.stringify(record)) : null]]) });
    this.record = record;
  }
}

async function pinHash(pin: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations }, key, 256);
  return new Uint8Array(bits);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
