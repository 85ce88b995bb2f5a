// The admin console: its static files under /admin/ and its JSON API under /admin/api/.
// Every change needs a session cookie and the session's CSRF token; every change is audited.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import qrcode from "qrcode-generator";
import { MomedoError } from "@momedo/protocol";
import type { DataDir } from "../dataDir.js";
import { readJson, sendError, sendJson } from "../http/json.js";
import { setMeta } from "../storage/database.js";
import type { AdminAccount } from "./account.js";
import { audit, auditEntries } from "./audit.js";
import {
  addUser,
  classMembers,
  handouts,
  importUsers,
  parseUserCsv,
  planGroup,
  reissueInvite,
  removeUser,
  revokeDevice,
  setPolicy,
} from "./commands.js";
import { AdminSessions, LoginLimiter, sameToken, SESSION_HOURS } from "./sessions.js";
import type { StatsSnapshot } from "./stats.js";

const CONSOLE_DIR = fileURLToPath(new URL("../../console/", import.meta.url));
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const COOKIE = "momedo_admin";
const MAX_CSV_BYTES = 2 * 1024 * 1024;

export interface ConsoleContext {
  data: DataDir;
  account: AdminAccount;
  secure: boolean;
  stats(): StatsSnapshot;
  /** Tells the running relay right away (disconnect, stop deliveries). */
  deviceRevoked(user: string, device: string): void;
}

interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  body: Record<string, unknown>;
  token: string | undefined;
}

type Handler = (r: Request) => unknown;

export class AdminConsole {
  private readonly sessions: AdminSessions;
  private readonly limiter = new LoginLimiter();
  private readonly open: Record<string, Handler>;
  private readonly reads: Record<string, Handler>;
  private readonly changes: Record<string, Handler>;

  constructor(private readonly ctx: ConsoleContext) {
    this.sessions = new AdminSessions(ctx.data.db);
    const { data, account } = ctx;
    // Without a session: the state, set-up and login.
    this.open = {
      "POST setup": (r) => {
        const organization = text(r.body.organization, "organization", 1, 100);
        account.setUp(text(r.body.code, "code", 1, 64), text(r.body.password, "password", 1, 1024));
        setMeta(data.db, "organization", organization);
        data.organization = organization;
        audit(data.db, "console", "setup", organization);
        return this.login(r);
      },
      "POST login": (r) => {
        const client = r.req.socket.remoteAddress ?? "?";
        const wait = this.limiter.waitSeconds(client);
        if (wait > 0) throw new MomedoError("rate_limited", `${wait} s`);
        try {
          account.verify(r.body.password, r.body.totp);
        } catch (error) {
          if (error instanceof MomedoError && error.code === "admin_login_failed") this.limiter.failed(client);
          throw error;
        }
        this.limiter.succeeded(client);
        audit(data.db, "console", "login", client);
        return this.login(r);
      },
    };
    this.reads = {
      "GET people": () => this.people(),
      "GET groups": () => this.groups(),
      "GET policy": () => ({ policy: data.directory.policy() }),
      "GET stats": () => ctx.stats(),
      "GET audit": (r) => auditEntries(data.db, Number(r.url.searchParams.get("limit") ?? 200) || 200),
    };
    this.changes = {
      "POST logout": (r) => {
        this.sessions.end(r.token);
        r.res.setHeader("Set-Cookie", this.cookie("", 0));
        return { loggedIn: false };
      },
      "POST password": (r) => {
        account.changePassword(r.body.current, text(r.body.password, "password", 1, 1024));
        audit(data.db, "console", "change-password");
        return { changed: true };
      },
      "POST totp/begin": () => {
        const { secret, uri } = account.beginTotp();
        return { secret, uri, qrSvg: qrSvg(uri) };
      },
      "POST totp/confirm": (r) => {
        account.confirmTotp(r.body.code);
        audit(data.db, "console", "totp-on");
        return { totp: true };
      },
      "POST totp/off": (r) => {
        account.disableTotp(r.body.code);
        audit(data.db, "console", "totp-off");
        return { totp: false };
      },
      "POST people": (r) =>
        addUser(data, { name: text(r.body.name, "name", 0, 1000), role: optional(r.body.role), class: optional(r.body.class) }, "console"),
      "POST people/import": (r) => {
        const rows = parseUserCsv(text(r.body.csv, "csv", 0, MAX_CSV_BYTES));
        const valid = rows.filter((row) => !row.error);
        if (r.body.commit !== true) return { rows, valid: valid.length, invalid: rows.length - valid.length };
        const imported = importUsers(data, valid, "console");
        return { imported, skipped: rows.filter((row) => row.error).map((row) => row.line) };
      },
      "POST people/invite": (r) => reissueInvite(data, id(r.body.id), "console", r.body.voidOlder !== false),
      "POST people/remove": (r) => removeUser(data, id(r.body.id), "console"),
      "POST people/revoke-device": (r) => {
        const result = revokeDevice(data, id(r.body.id), id(r.body.device), "console");
        ctx.deviceRevoked(result.id, result.device);
        return result;
      },
      "POST groups": (r) =>
        planGroup(
          data,
          {
            name: text(r.body.name, "name", 1, 100),
            kind: text(r.body.kind, "kind", 1, 10),
            owner: id(r.body.owner),
            ...(typeof r.body.class === "string" && r.body.class ? { class: r.body.class } : {}),
            ...(Array.isArray(r.body.members) ? { members: r.body.members.map(id) } : {}),
          },
          "console",
        ),
      "POST policy": (r) => setPolicy(data, text(r.body.policy, "policy", 1, 20), "console"),
      "POST handouts": (r) => {
        const users =
          typeof r.body.class === "string"
            ? classMembers(data, r.body.class)
            : Array.isArray(r.body.ids)
              ? r.body.ids.map(id)
              : [];
        const { pdf } = handouts(data, users, "console");
        const name = `momedo-${typeof r.body.class === "string" ? r.body.class.replace(/[^\p{L}\p{N}_-]/gu, "_") : "einladungen"}.pdf`;
        r.res.writeHead(200, {
          "Content-Type": "application/pdf",
          "Content-Disposition": `attachment; filename="${name}"`,
          "Content-Length": pdf.length,
          "Cache-Control": "no-store",
        });
        r.res.end(pdf);
        return undefined;
      },
    };
  }

  handle(req: IncomingMessage, res: ServerResponse, url: URL): void {
    res.setHeader("X-Frame-Options", "DENY");
    if (!url.pathname.startsWith("/admin/api/")) {
      this.serveFile(req, res, url);
      return;
    }
    this.api(req, res, url).catch((error: unknown) =>
      // A RangeError is bad input (a name, a role, a CSV header), told in both languages.
      sendError(res, error instanceof RangeError ? new MomedoError("bad_request", error.message) : error),
    );
  }

  private async api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const key = `${req.method} ${url.pathname.slice("/admin/api/".length)}`;
    const token = cookie(req, COOKIE);
    if (key === "GET session") {
      const session = this.sessions.find(token);
      sendJson(res, 200, {
        setupNeeded: !this.ctx.account.isSetUp,
        loggedIn: session !== undefined,
        organization: this.ctx.data.organization,
        totp: this.ctx.account.totpEnabled,
        ...(session ? { csrf: session.csrf } : {}),
      });
      return;
    }
    const open = this.open[key];
    const read = this.reads[key];
    const change = this.changes[key];
    if (!open && !read && !change) throw new MomedoError("not_found", url.pathname);
    if (req.method === "POST") this.checkCrossSite(req);
    const session = this.sessions.find(token);
    if (!open) {
      if (!session) throw new MomedoError("admin_auth");
      if (change && !sameToken(session.csrf, req.headers["x-csrf-token"])) throw new MomedoError("csrf_failed", "token");
    }
    let body: Record<string, unknown> = {};
    if (req.method === "POST") {
      const parsed = await readJson(req, MAX_CSV_BYTES + 64 * 1024);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new MomedoError("bad_request", "JSON object");
      body = parsed as Record<string, unknown>;
    }
    const result = (open ?? read ?? change)!({ req, res, url, body, token });
    if (!res.headersSent) sendJson(res, 200, result ?? {});
  }

  /** A form or a script on another site cannot send JSON here, nor pass the Origin check. */
  private checkCrossSite(req: IncomingMessage): void {
    const type = String(req.headers["content-type"] ?? "");
    if (!/^application\/json\b/i.test(type)) throw new MomedoError("csrf_failed", "content type");
    if (req.headers["sec-fetch-site"] === "cross-site") throw new MomedoError("csrf_failed", "cross-site");
    const origin = req.headers.origin;
    if (origin !== undefined) {
      const own = `${this.ctx.secure ? "https" : "http"}://${req.headers.host ?? ""}`;
      if (origin !== own) throw new MomedoError("csrf_failed", "origin");
    }
  }

  private login(r: Request): unknown {
    this.sessions.end(r.token);
    const { token, session } = this.sessions.create();
    r.res.setHeader("Set-Cookie", this.cookie(token, SESSION_HOURS * 3600));
    return { loggedIn: true, csrf: session.csrf, organization: this.ctx.data.organization };
  }

  private cookie(value: string, maxAge: number): string {
    return `${COOKIE}=${value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${this.ctx.secure ? "; Secure" : ""}`;
  }

  private serveFile(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendJson(res, 405, { code: "method", message: "Nicht erlaubt / Method not allowed" });
      return;
    }
    if (url.pathname === "/admin") {
      res.writeHead(302, { Location: "/admin/" });
      res.end();
      return;
    }
    const name = url.pathname === "/admin/" ? "index.html" : url.pathname.slice("/admin/".length);
    const type = CONTENT_TYPES[extname(name)];
    if (!type || !/^[a-z0-9][a-z0-9._-]*$/i.test(name)) {
      sendError(res, new MomedoError("not_found", url.pathname));
      return;
    }
    let content: Buffer;
    try {
      content = readFileSync(join(CONSOLE_DIR, name));
    } catch {
      sendError(res, new MomedoError("not_found", url.pathname));
      return;
    }
    res.writeHead(200, {
      "Content-Type": type,
      "Content-Security-Policy": CONSOLE_CSP,
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
    });
    res.end(req.method === "HEAD" ? undefined : content);
  }

  private people(): unknown {
    const { db } = this.ctx.data;
    const devices = db
      .prepare(
        "SELECT user_id AS user, id, signature_key AS key, created_at AS createdAt, last_seen AS lastSeen, revoked_at IS NOT NULL AS revoked FROM devices ORDER BY created_at",
      )
      .all() as { user: string; id: string; key: Buffer; createdAt: number; lastSeen: number | null; revoked: number }[];
    const groups = db
      .prepare(
        "SELECT r.user_id AS user, g.id, g.name, g.kind, r.role FROM group_roles r JOIN groups g ON g.id = r.group_id ORDER BY g.name",
      )
      .all() as { user: string; id: string; name: string; kind: string; role: string }[];
    return this.ctx.data.people.list().map((p) => ({
      id: p.id,
      name: p.name,
      role: p.role,
      class: p.class,
      createdAt: p.createdAt,
      devices: devices
        .filter((d) => d.user === p.id)
        .map((d) => ({ id: d.id, fingerprint: keyFingerprint(d.key), createdAt: d.createdAt, lastSeen: d.lastSeen, revoked: d.revoked === 1 })),
      groups: groups.filter((g) => g.user === p.id).map(({ id, name, kind, role }) => ({ id, name, kind, role })),
    }));
  }

  private groups(): unknown {
    const { db } = this.ctx.data;
    // Direct chats are nobody's business but their two people's: not listed.
    const groups = db
      .prepare("SELECT id, name, kind, epoch, created_at AS createdAt FROM groups WHERE kind != 'direct' ORDER BY name, id")
      .all() as {
      id: string;
      name: string;
      kind: string;
    }[];
    const roles = db
      .prepare("SELECT r.group_id AS group_id, r.user_id AS user, u.name, r.role FROM group_roles r LEFT JOIN users u ON u.id = r.user_id")
      .all() as { group_id: string; user: string; name: string | null; role: string }[];
    const devices = db.prepare("SELECT group_id, count(*) AS n FROM group_members GROUP BY group_id").all() as {
      group_id: string;
      n: number;
    }[];
    const deviceCount = new Map(devices.map((d) => [d.group_id, d.n]));
    const names = new Map(this.ctx.data.people.list().map((p) => [p.id, p.name]));
    const planned = this.ctx.data.plans.list();
    const plans = new Map(planned.map((p) => [p.group, p]));
    return [
      ...groups.map((g) => ({
        ...g,
        created: true,
        devices: deviceCount.get(g.id) ?? 0,
        members: roles.filter((r) => r.group_id === g.id).map(({ user, name, role }) => ({ user, name: name ?? user, role })),
        // Planned members still waiting for a device, or for the owner's device to add them.
        waiting: (plans.get(g.id)?.members ?? []).map((user) => ({ user, name: names.get(user) ?? user })),
      })),
      ...planned
        .filter((p) => !p.created)
        .map((p) => ({
          id: p.group,
          name: p.name,
          kind: p.kind,
          created: false,
          devices: 0,
          members: [{ user: p.owner, name: names.get(p.owner) ?? p.owner, role: "owner" }],
          waiting: p.members.map((user) => ({ user, name: names.get(user) ?? user })),
        })),
    ];
  }
}

/** A device's signature key as people compare it: SHA-256, first 16 bytes, in groups of four. */
export function keyFingerprint(key: Uint8Array): string {
  const hex = createHash("sha256").update(key).digest("hex").slice(0, 32).toUpperCase();
  return hex.match(/.{4}/g)!.join(" ");
}

function qrSvg(text: string): string {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  return qr.createSvgTag({ cellSize: 4, margin: 16, scalable: true });
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return undefined;
}

function text(value: unknown, field: string, min: number, max: number): string {
  if (typeof value !== "string" || value.length < min || value.length > max) throw new MomedoError("bad_request", field);
  return value;
}

function optional(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function id(value: unknown): string {
  if (typeof value !== "string" || !/^[0-9A-Za-z]{8}$/.test(value)) throw new MomedoError("bad_request", "id");
  return value.toUpperCase();
}
