import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it, expect } from "vitest";
import { certificateFingerprint, createSelfSignedCertificate, loadOrCreateCertificate } from "./certificate.js";

const DAY_MS = 24 * 60 * 60 * 1000;

describe("createSelfSignedCertificate", () => {
  const now = new Date("2030-06-15T12:00:00Z");
  const { certPem, keyPem } = createSelfSignedCertificate({
    commonName: "momedo",
    altNames: { dns: ["localhost", "chat.example"], ip: ["127.0.0.1", "::1", "fe80::1", "::ffff:192.0.2.1"] },
    validDays: 30,
    now,
  });
  const cert = new crypto.X509Certificate(certPem);

  it("is a self-signed CA for the given name", () => {
    expect(cert.subject).toBe("CN=momedo");
    expect(cert.issuer).toBe("CN=momedo");
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
  });

  it("matches its private key", () => {
    expect(cert.checkPrivateKey(crypto.createPrivateKey(keyPem))).toBe(true);
  });

  it("has a positive 16-byte serial", () => {
    expect(cert.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
  });

  it("lists all alternative names", () => {
    expect(cert.subjectAltName).toContain("IP Address:127.0.0.1");
    expect(cert.subjectAltName).toContain("DNS:chat.example");
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.checkIP("::1")).toBe("::1");
    expect(cert.checkIP("fe80::1")).toBe("fe80::1");
    expect(cert.checkIP("::ffff:192.0.2.1")).toBe("::ffff:192.0.2.1");
    expect(cert.checkIP("10.0.0.1")).toBeUndefined();
  });

  it("is valid from one hour before now for validDays", () => {
    expect(new Date(cert.validFrom).getTime()).toBe(now.getTime() - 60 * 60 * 1000);
    expect(new Date(cert.validTo).getTime()).toBe(now.getTime() + 30 * DAY_MS);
  });

  it("switches to GeneralizedTime from 2050 on", () => {
    const late = new Date("2049-12-31T00:30:00Z");
    const pem = createSelfSignedCertificate({ commonName: "x", altNames: { dns: [], ip: [] }, validDays: 1, now: late }).certPem;
    const der = new crypto.X509Certificate(pem).raw;
    expect(der.includes(Buffer.from("491230233000Z"))).toBe(true); // UTCTime, 2-digit year
    expect(der.includes(Buffer.from("20500101003000Z"))).toBe(true); // GeneralizedTime
    expect(new Date(new crypto.X509Certificate(pem).validTo).toISOString()).toBe("2050-01-01T00:30:00.000Z");
  });

  it("creates a fresh key and serial every time", () => {
    const other = createSelfSignedCertificate({ commonName: "momedo", altNames: { dns: [], ip: [] }, validDays: 30, now });
    expect(other.keyPem).not.toBe(keyPem);
    expect(certificateFingerprint(other.certPem)).not.toBe(certificateFingerprint(certPem));
  });
});

describe("certificateFingerprint", () => {
  it("is SHA-256 of the DER, base64url without padding", () => {
    const { certPem } = createSelfSignedCertificate({ commonName: "momedo", altNames: { dns: [], ip: [] }, validDays: 1 });
    const der = Buffer.from(certPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    const fingerprint = certificateFingerprint(certPem);
    expect(fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(fingerprint, "base64url")).toEqual(crypto.createHash("sha256").update(der).digest());
  });
});

describe("loadOrCreateCertificate", () => {
  it("creates the files once and loads them afterwards", () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "momedo-tls-"));
    try {
      const first = loadOrCreateCertificate(dataDir, ["chat.example", "192.168.1.20"]);
      expect(first.created).toBe(true);
      const keyPath = path.join(dataDir, "tls", "key.pem");
      expect(fs.statSync(keyPath).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(path.join(dataDir, "tls", "cert.pem"), "utf8")).toBe(first.certPem);

      const cert = new crypto.X509Certificate(first.certPem);
      expect(cert.subject).toBe("CN=momedo");
      expect(cert.checkHost("chat.example")).toBe("chat.example");
      expect(cert.checkHost(os.hostname())).toBeDefined();
      expect(cert.checkIP("192.168.1.20")).toBe("192.168.1.20");
      expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
      expect(cert.checkIP("::1")).toBe("::1");
      expect(new Date(cert.validTo).getTime() - Date.now()).toBeGreaterThan(3649 * DAY_MS);

      const second = loadOrCreateCertificate(dataDir, ["other.example"]);
      expect(second.created).toBe(false);
      expect(second.fingerprint).toBe(first.fingerprint);
      expect(second.keyPem).toBe(first.keyPem);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
