// An invite is one string a person can scan or paste: the server's address, the pinned
// certificate fingerprint (absent behind a TLS proxy) and a one-time code.
import { MomedoError } from "./errors.js";

export interface Invite {
  url: string;
  code: string;
  fingerprint?: string;
}

const CODE_PATTERN = /^[0-9A-HJKMNP-TV-Z]{16,32}$/;
const FINGERPRINT_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function formatInvite(invite: Invite): string {
  const base = invite.url.replace(/\/+$/, "");
  const params = new URLSearchParams({ c: invite.code });
  if (invite.fingerprint) params.set("fp", invite.fingerprint);
  return `${base}/join#${params.toString()}`;
}

function parseHttpUrl(text: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(text.trim());
  } catch {
    throw new MomedoError("invite_invalid", "not a URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new MomedoError("invite_invalid", "scheme");
  return parsed;
}

export function parseInvite(text: string): Invite {
  const parsed = parseHttpUrl(text);
  if (!parsed.pathname.endsWith("/join")) throw new MomedoError("invite_invalid", "path");
  const params = new URLSearchParams(parsed.hash.replace(/^#/, ""));
  const code = params.get("c") ?? "";
  const fingerprint = params.get("fp") ?? undefined;
  if (!CODE_PATTERN.test(code)) throw new MomedoError("invite_invalid", "code");
  if (fingerprint !== undefined && !FINGERPRINT_PATTERN.test(fingerprint)) {
    throw new MomedoError("invite_invalid", "fingerprint");
  }
  if (parsed.protocol === "https:" && !fingerprint) throw new MomedoError("invite_invalid", "missing fingerprint");
  const url = `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/join$/, "")}`.replace(/\/+$/, "");
  return fingerprint ? { url, code, fingerprint } : { url, code };
}

/** A server as one string, for linking a device: `https://host:port/#fp=FINGERPRINT`. */
export function formatServerAddress(url: string, fingerprint?: string): string {
  return fingerprint ? `${url.replace(/\/+$/, "")}/#fp=${fingerprint}` : url.replace(/\/+$/, "");
}

export function parseServerAddress(text: string): { url: string; fingerprint?: string } {
  const parsed = parseHttpUrl(text);
  const fingerprint = new URLSearchParams(parsed.hash.replace(/^#/, "")).get("fp") ?? undefined;
  if (fingerprint !== undefined && !FINGERPRINT_PATTERN.test(fingerprint)) throw new MomedoError("invite_invalid", "fingerprint");
  if (parsed.protocol === "https:" && !fingerprint) throw new MomedoError("invite_invalid", "missing fingerprint");
  const url = `${parsed.protocol}//${parsed.host}${parsed.pathname}`.replace(/\/+$/, "");
  return fingerprint ? { url, fingerprint } : { url };
}
