// JSON over HTTP(S) to the momedo server, with the pinned certificate when there is one.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isErrorCode, MomedoError } from "@momedo/protocol";
import { pinnedTlsOptions } from "./pinnedTls.js";

export interface ServerAddress {
  url: string;
  fingerprint?: string;
  certPem?: string;
}

export function tlsOptions(server: ServerAddress) {
  return server.certPem && server.fingerprint ? pinnedTlsOptions(server.certPem, server.fingerprint) : {};
}

export function getJson<T>(server: ServerAddress, path: string): Promise<T> {
  return requestJson<T>(server, "GET", path);
}

export function postJson<T>(server: ServerAddress, path: string, body: unknown): Promise<T> {
  return requestJson<T>(server, "POST", path, body);
}

function requestJson<T>(server: ServerAddress, method: string, path: string, body?: unknown): Promise<T> {
  const url = new URL(path, server.url + "/");
  const payload = Buffer.from(body === undefined ? "" : JSON.stringify(body));
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json", "Content-Length": payload.length },
        timeout: 15_000,
        ...tlsOptions(server),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          let value: unknown;
          try {
            value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            reject(new Error(`Unerwartete Antwort des Servers / unexpected server answer (HTTP ${res.statusCode})`));
            return;
          }
          if (res.statusCode === 200) resolve(value as T);
          else {
            const { code, detail } = value as { code?: string; detail?: string };
            reject(code && isErrorCode(code) ? new MomedoError(code, detail) : new Error(`HTTP ${res.statusCode}`));
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("Der Server antwortet nicht / the server does not answer")));
    req.on("error", (error) => reject(connectionError(server.url, error)));
    req.end(body === undefined ? undefined : payload);
  });
}

export function connectionError(url: string, error: Error): Error {
  if (error instanceof MomedoError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ECONNREFUSED") {
    return new Error(`Server ${url} nicht erreichbar (läuft er?) / server ${url} not reachable (is it running?)`, { cause: error });
  }
  return error;
}
