import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface SelfSignedCertificateOptions {
  commonName: string;
  altNames: { dns: string[]; ip: string[] };
  validDays: number;
  now?: Date;
}

export interface CertificatePair {
  certPem: string;
  keyPem: string;
}

export interface LoadedCertificate extends CertificatePair {
  fingerprint: string;
  created: boolean;
}

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extendedKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  serverAuth: "1.3.6.1.5.5.7.3.1",
};

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

// --- Minimal DER encoder (X.690), only what an X.509 v3 certificate needs ---

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  // Long form: first byte says how many length bytes follow.
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const octetString = (content: Buffer): Buffer => tlv(0x04, content);
const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, "utf8"));
const booleanTrue = (): Buffer => tlv(0x01, Buffer.from([0xff]));
// Constructed context tag [n] EXPLICIT, e.g. version [0] and extensions [3].
const explicit = (tagNumber: number, content: Buffer): Buffer => tlv(0xa0 | tagNumber, content);
// Primitive context tag [n] IMPLICIT, used by GeneralName choices in subjectAltName.
const implicit = (tagNumber: number, content: Buffer): Buffer => tlv(0x80 | tagNumber, content);

/** Unsigned big-endian magnitude as a DER INTEGER (minimal, non-negative). */
function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  // A set high bit would read as negative, so prepend a zero byte.
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const bytes: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    // Base-128, high bit set on every byte except the last of each arc.
    const chunk = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      chunk.unshift((value & 0x7f) | 0x80);
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function bitString(content: Buffer, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), content]));
}

/** RFC 5280 4.1.2.5: UTCTime for years 1950–2049, GeneralizedTime otherwise, always in Z with seconds. */
function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  const pad = (value: number): string => String(value).padStart(2, "0");
  const rest =
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds()) +
    "Z";
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(pad(year % 100) + rest, "ascii"));
  return tlv(0x18, Buffer.from(String(year).padStart(4, "0") + rest, "ascii"));
}

// --- Certificate structure ---

function ipAddressBytes(address: string): Buffer {
  if (net.isIPv4(address)) return Buffer.from(address.split(".").map(Number));
  if (!net.isIPv6(address)) throw new Error(`Not an IP address: ${address}`);
  const withoutZone = address.split("%")[0] ?? address;
  const words = (part: string): number[] =>
    part === ""
      ? []
      : part.split(":").flatMap((group) => {
          if (!group.includes(".")) return [parseInt(group, 16)];
          // IPv4-mapped tail like ::ffff:192.0.2.1 fills the last two 16-bit words.
          const [a = 0, b = 0, c = 0, d = 0] = group.split(".").map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = "", tail] = withoutZone.split("::");
  const headWords = words(head);
  const tailWords = tail === undefined ? [] : words(tail);
  const zeros = new Array<number>(8 - headWords.length - tailWords.length).fill(0);
  const bytes = Buffer.alloc(16);
  [...headWords, ...zeros, ...tailWords].forEach((word, index) => bytes.writeUInt16BE(word, index * 2));
  return bytes;
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [booleanTrue()] : []), octetString(value));
}

function name(commonName: string): Buffer {
  return sequence(set(sequence(objectIdentifier(OID.commonName), utf8String(commonName))));
}

function randomSerial(): Buffer {
  const serial = crypto.randomBytes(16);
  // Clear the sign bit and set the next one: positive and always exactly 16 bytes.
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial;
}

function extensions(altNames: SelfSignedCertificateOptions["altNames"]): Buffer {
  const generalNames = [
    ...altNames.dns.map((dns) => implicit(2, Buffer.from(dns, "ascii"))),
    ...altNames.ip.map((ip) => implicit(7, ipAddressBytes(ip))),
  ];
  return explicit(
    3,
    sequence(
      extension(OID.basicConstraints, true, sequence(booleanTrue())),
      // Bits 0 (digitalSignature) and 5 (keyCertSign) = 0x84; the 2 trailing zero bits are unused.
      extension(OID.keyUsage, true, bitString(Buffer.from([0x84]), 2)),
      extension(OID.extendedKeyUsage, false, sequence(objectIdentifier(OID.serverAuth))),
      extension(OID.subjectAltName, false, sequence(...generalNames)),
    ),
  );
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

export function createSelfSignedCertificate(options: SelfSignedCertificateOptions): CertificatePair {
  const now = options.now ?? new Date();
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  // ecdsa-with-SHA256 carries no parameters (RFC 5758 3.2).
  const signatureAlgorithm = sequence(objectIdentifier(OID.ecdsaWithSha256));
  const tbsCertificate = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))), // v3
    unsignedInteger(randomSerial()),
    signatureAlgorithm,
    name(options.commonName),
    // Back-date by an hour so clients with slightly slow clocks accept it immediately.
    sequence(time(new Date(now.getTime() - HOUR_MS)), time(new Date(now.getTime() + options.validDays * DAY_MS))),
    name(options.commonName),
    publicKey.export({ type: "spki", format: "der" }),
    extensions(options.altNames),
  );
  const signature = crypto.sign("sha256", tbsCertificate, privateKey);
  const certificate = sequence(tbsCertificate, signatureAlgorithm, bitString(signature));
  return {
    certPem: toPem("CERTIFICATE", certificate),
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** SHA-256 of the DER certificate, base64url without padding (43 chars): the value invites carry. */
export function certificateFingerprint(certPem: string): string {
  return crypto.createHash("sha256").update(new crypto.X509Certificate(certPem).raw).digest("base64url");
}

export function loadOrCreateCertificate(dataDir: string, hostnames: string[]): LoadedCertificate {
  const tlsDir = path.join(dataDir, "tls");
  const certPath = path.join(tlsDir, "cert.pem");
  const keyPath = path.join(tlsDir, "key.pem");
  if (fs.existsSync(certPath) && fs.existsSync(keyPath)) {
    const certPem = fs.readFileSync(certPath, "utf8");
    const keyPem = fs.readFileSync(keyPath, "utf8");
    return { certPem, keyPem, fingerprint: certificateFingerprint(certPem), created: false };
  }
  const names = [...new Set(["localhost", "127.0.0.1", "::1", os.hostname(), ...hostnames])].filter(Boolean);
  const { certPem, keyPem } = createSelfSignedCertificate({
    commonName: "momedo",
    altNames: { dns: names.filter((host) => !net.isIP(host)), ip: names.filter((host) => net.isIP(host)) },
    validDays: 3650,
  });
  fs.mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(keyPath, keyPem, { mode: 0o600 });
  // mode only applies to new files; a leftover key.pem keeps its old permissions otherwise.
  fs.chmodSync(keyPath, 0o600);
  fs.writeFileSync(certPath, certPem);
  return { certPem, keyPem, fingerprint: certificateFingerprint(certPem), created: true };
}
