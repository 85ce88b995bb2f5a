// Short random identifiers in Crockford base32: readable aloud, no I/O/L/U confusion.
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export const USER_ID_LENGTH = 8;
export const DEVICE_ID_LENGTH = 8;

/** Encodes bytes as Crockford base32 and keeps the first `length` characters. */
export function crockford(bytes: Uint8Array, length: number): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      bits -= 5;
      out += CROCKFORD[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (out.length < length) throw new RangeError(`need ${Math.ceil((length * 5) / 8)} random bytes`);
  return out;
}

const ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{8}$/;

export function isShortId(value: string): boolean {
  return ID_PATTERN.test(value);
}

/** Accepts user input leniently (lower case, O for 0, I/L for 1) and returns the canonical ID. */
export function normalizeShortId(value: string): string {
  return value.trim().toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");
}

/** A device is addressed as USER/DEVICE. */
export function deviceAddress(user: string, device: string): string {
  return `${user}/${device}`;
}

export function parseDeviceAddress(address: string): { user: string; device: string } {
  const parts = address.split("/");
  const [user, device] = parts;
  if (parts.length !== 2 || !user || !device || !isShortId(user) || !isShortId(device)) {
    throw new RangeError(`not a device address: ${address}`);
  }
  return { user, device };
}
