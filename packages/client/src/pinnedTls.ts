import crypto from "node:crypto";
import net from "node:net";
import tls from "node:tls";

export interface PinnedTlsOptions {
  ca: string;
  checkServerIdentity: (host: string, cert: tls.PeerCertificate) => Error | undefined;
  rejectUnauthorized: true;
}

const MISMATCH_MESSAGE =
  "Das Zertifikat des Servers passt nicht zur Einladung (möglicher Angriff). / " +
  "The server's certificate does not match the invite (possible attack).";

/** SHA-256 of the DER certificate, base64url without padding — same value the server puts into invites. */
function fingerprintOf(der: Buffer): string {
  return crypto.createHash("sha256").update(der).digest("base64url");
}

/** Handshake-only TLS connection that returns the server's certificate PEM if it matches the invite's fingerprint. */
export async function fetchPeerCertificate(url: string, expectedFingerprint: string, timeoutMs = 10000): Promise<string> {
  const { hostname, port } = new URL(url);
  // URL keeps IPv6 literals in brackets; tls.connect wants the bare address.
  const host = hostname.replace(/^\[(.*)\]$/, "$1");
  const target = `${host}:${port || 443}`;
  return new Promise<string>((resolve, reject) => {
    const socket = tls.connect({
      host,
      port: Number(port || 443),
      // Trust is decided by the fingerprint below, not by a CA chain.
      rejectUnauthorized: false,
      // SNI must not carry IP literals (RFC 6066 3).
      ...(net.isIP(host) ? {} : { servername: host }),
    });
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(
          new Error(
            `Der Server ${target} antwortet nicht (Zeitüberschreitung nach ${timeoutMs} ms). / ` +
              `The server ${target} did not respond (timed out after ${timeoutMs} ms).`,
          ),
        ),
      timeoutMs,
    );
    socket.once("error", (error) =>
      fail(
        new Error(
          `Verbindung zum Server ${target} fehlgeschlagen: ${error.message} / ` +
            `Could not connect to the server ${target}: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    socket.once("secureConnect", () => {
      const certificate = socket.getPeerX509Certificate();
      clearTimeout(timer);
      socket.destroy();
      if (certificate && fingerprintOf(certificate.raw) === expectedFingerprint) resolve(certificate.toString());
      else reject(new Error(MISMATCH_MESSAGE));
    });
  });
}

/** Options for https.request / ws that accept exactly the pinned certificate, whatever the hostname. */
export function pinnedTlsOptions(certPem: string, fingerprint: string): PinnedTlsOptions {
  if (fingerprintOf(new crypto.X509Certificate(certPem).raw) !== fingerprint) throw new Error(MISMATCH_MESSAGE);
  return {
    // The pinned self-signed certificate is its own and only trust anchor.
    ca: certPem,
    // Hostname is irrelevant (servers are reached by IP or LAN names); the fingerprint is the identity.
    checkServerIdentity: (_host, cert) => (fingerprintOf(cert.raw) === fingerprint ? undefined : new Error(MISMATCH_MESSAGE)),
    rejectUnauthorized: true,
  };
}
