import crypto from "node:crypto";
import https from "node:https";
import net from "node:net";
import { afterAll, beforeAll, describe, it, expect } from "vitest";
import { certificateFingerprint, createSelfSignedCertificate } from "../../server/src/tls/certificate.js";
import { fetchPeerCertificate, pinnedTlsOptions } from "./pinnedTls.js";

const altNames = { dns: ["localhost"], ip: ["127.0.0.1", "::1"] };
const serverCert = createSelfSignedCertificate({ commonName: "momedo", altNames, validDays: 1 });
const serverFingerprint = certificateFingerprint(serverCert.certPem);
// Same names, different key: what an attacker in the middle would present.
const otherCert = createSelfSignedCertificate({ commonName: "momedo", altNames, validDays: 1 });
const otherFingerprint = certificateFingerprint(otherCert.certPem);

let server: https.Server;
let port: number;

beforeAll(async () => {
  server = https.createServer({ cert: serverCert.certPem, key: serverCert.keyPem }, (_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function getStatus(host: string, targetPort: number, certPem: string, fingerprint: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      // family 4: "localhost" may resolve to ::1 first, but the test server only listens on IPv4.
      { host, port: targetPort, path: "/", family: 4, agent: false, ...pinnedTlsOptions(certPem, fingerprint) },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on("error", reject);
  });
}

describe("fetchPeerCertificate", () => {
  it("returns the PEM when the fingerprint matches", async () => {
    const pem = await fetchPeerCertificate(`https://127.0.0.1:${port}/invite`, serverFingerprint);
    expect(new crypto.X509Certificate(pem).raw).toEqual(new crypto.X509Certificate(serverCert.certPem).raw);
  });

  it("works with a hostname and a wss URL", async () => {
    const pem = await fetchPeerCertificate(`wss://localhost:${port}`, serverFingerprint);
    expect(certificateFingerprint(pem)).toBe(serverFingerprint);
  });

  it("rejects a certificate that does not match the invite", async () => {
    await expect(fetchPeerCertificate(`https://127.0.0.1:${port}`, otherFingerprint)).rejects.toThrow(
      "Das Zertifikat des Servers passt nicht zur Einladung (möglicher Angriff). / The server's certificate does not match the invite (possible attack).",
    );
  });

  it("reports a refused connection in both languages", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(fetchPeerCertificate(`https://127.0.0.1:${closedPort}`, serverFingerprint)).rejects.toThrow(
      /Verbindung zum Server .* fehlgeschlagen.* \/ Could not connect to the server/,
    );
  });

  it("times out in both languages when the server never answers the handshake", async () => {
    // Reads the ClientHello but never answers; resume() lets it notice the client hanging up.
    const silent = net.createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const silentPort = (silent.address() as net.AddressInfo).port;
    try {
      await expect(fetchPeerCertificate(`https://127.0.0.1:${silentPort}`, serverFingerprint, 200)).rejects.toThrow(
        /Zeitüberschreitung.* \/ The server .* did not respond/,
      );
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe("pinnedTlsOptions", () => {
  it("accepts the pinned certificate by IP and by hostname", async () => {
    expect(await getStatus("127.0.0.1", port, serverCert.certPem, serverFingerprint)).toBe(200);
    expect(await getStatus("localhost", port, serverCert.certPem, serverFingerprint)).toBe(200);
  });

  it("ignores the hostname the certificate names", async () => {
    const bare = createSelfSignedCertificate({ commonName: "momedo", altNames: { dns: [], ip: [] }, validDays: 1 });
    const bareServer = https.createServer({ cert: bare.certPem, key: bare.keyPem }, (_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => bareServer.listen(0, "127.0.0.1", resolve));
    const barePort = (bareServer.address() as net.AddressInfo).port;
    try {
      expect(await getStatus("127.0.0.1", barePort, bare.certPem, certificateFingerprint(bare.certPem))).toBe(200);
    } finally {
      await new Promise((resolve) => bareServer.close(resolve));
    }
  });

  it("refuses a server presenting a different certificate", async () => {
    await expect(getStatus("127.0.0.1", port, otherCert.certPem, otherFingerprint)).rejects.toThrow();
    await expect(getStatus("localhost", port, otherCert.certPem, otherFingerprint)).rejects.toThrow();
  });

  it("checkServerIdentity compares fingerprints, not names", () => {
    const { checkServerIdentity } = pinnedTlsOptions(serverCert.certPem, serverFingerprint);
    const peer = (pem: string) => ({ raw: new crypto.X509Certificate(pem).raw }) as Parameters<typeof checkServerIdentity>[1];
    expect(checkServerIdentity("anything.invalid", peer(serverCert.certPem))).toBeUndefined();
    expect(checkServerIdentity("localhost", peer(otherCert.certPem))?.message).toMatch(/possible attack/);
  });

  it("refuses a pin whose fingerprint does not belong to the certificate", () => {
    expect(() => pinnedTlsOptions(serverCert.certPem, otherFingerprint)).toThrow(/passt nicht zur Einladung/);
  });
});
