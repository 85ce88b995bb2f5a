// The console API against a running server: first-run set-up, sessions, CSRF, the login rate
// limit, TOTP, class-list import with bad rows, handouts, policy, statistics and the audit log.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseInvite, toBase64 } from "@momedo/protocol";
import { startServer, type RunningServer } from "../server.js";
import { totpCode } from "./account.js";

let server: RunningServer;
let dataDir: string;
let setupCode: string;

interface Answer {
  status: number;
  body: Record<string, unknown> & { code?: string };
  headers: Headers;
}

class Browser {
  cookie = "";
  csrf = "";

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await fetch(`${server.url}/admin/api/${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...(this.cookie ? { Cookie: this.cookie } : {}),
        ...(this.csrf ? { "X-CSRF-Token": this.csrf } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const setCookie = response.headers.get("set-cookie");
    if (setCookie) this.cookie = setCookie.split(";")[0]!;
    const type = response.headers.get("content-type") ?? "";
    const parsed = type.startsWith("application/json") ? ((await response.json()) as Answer["body"]) : { bytes: Buffer.from(await response.arrayBuffer()) };
    if (typeof parsed.csrf === "string") this.csrf = parsed.csrf;
    return { status: response.status, body: parsed, headers: response.headers };
  }
}

const PASSWORD = "Pausenhof-2026!";
const admin = new Browser();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "momedo-console-"));
  server = await startServer({ dataDir, host: "127.0.0.1", port: 0, tls: false });
  setupCode = new URL(server.setupUrl!).hash.replace("#setup=", "");
});

afterAll(async () => {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const peopleCount = () => (server.data.db.prepare("SELECT count(*) AS n FROM users").get() as { n: number }).n;

describe("first run", () => {
  it("prints a one-time set-up link and says set-up is needed", async () => {
    expect(server.setupUrl).toMatch(new RegExp(`^${server.url}/admin/#setup=[0-9A-HJKMNP-TV-Z]{16}$`));
    const state = await new Browser().call("GET", "session");
    expect(state.body).toMatchObject({ setupNeeded: true, loggedIn: false });
    expect(state.body.csrf).toBeUndefined();
  });

  it("refuses a wrong code and a short password, changing nothing", async () => {
    const wrong = await new Browser().call("POST", "setup", { code: "0000000000000000", organization: "Evil", password: PASSWORD });
    expect(wrong.status).toBe(403);
    expect(wrong.body.code).toBe("setup_invalid");
    expect(wrong.body.message).toMatch(/ungültig.*\/.*not valid/);
    const short = await new Browser().call("POST", "setup", { code: setupCode, organization: "Evil", password: "kurz" });
    expect(short.status).toBe(400);
    expect(short.body.code).toBe("password_too_short");
    expect((await new Browser().call("GET", "session")).body).toMatchObject({ setupNeeded: true, organization: "momedo" });
  });

  it("sets organisation and password with the code, logs in, and the code is used up", async () => {
    const done = await admin.call("POST", "setup", { code: setupCode, organization: "Grundschule Am Park", password: PASSWORD });
    expect(done.status).toBe(200);
    expect(admin.cookie).toMatch(/^momedo_admin=/);
    expect(done.headers.get("set-cookie")).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await admin.call("GET", "session")).body).toMatchObject({ setupNeeded: false, loggedIn: true, organization: "Grundschule Am Park" });
    const again = await new Browser().call("POST", "setup", { code: setupCode, organization: "Evil", password: "anotherpassword" });
    expect(again.status).toBe(403);
    const stored = server.data.db.prepare("SELECT value FROM meta WHERE key = 'admin_password'").get() as { value: string };
    expect(stored.value).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(stored.value).not.toContain(PASSWORD);
  });
});

const READS = ["people", "groups", "policy", "stats", "audit"];
const CHANGES: [string, unknown][] = [
  ["people", { name: "Mallory", role: "staff" }],
  ["people/import", { csv: "name\nMallory", commit: true }],
  ["people/invite", { id: "ZZZZZZZZ" }],
  ["people/remove", { id: "ZZZZZZZZ" }],
  ["people/revoke-device", { id: "ZZZZZZZZ", device: "ZZZZZZZZ" }],
  ["policy", { policy: "school" }],
  ["groups", { name: "Klasse 7b", kind: "channel", owner: "ZZZZZZZZ" }],
  ["handouts", { class: "7b" }],
  ["password", { current: PASSWORD, password: "mallory-was-here" }],
  ["totp/begin", {}],
  ["totp/confirm", { code: "123456" }],
  ["totp/off", { code: "123456" }],
  ["logout", {}],
];

describe("every console API refuses an unauthenticated request and a CSRF attempt", () => {
  it.each(READS)("GET %s without a session: 401", async (path) => {
    const answer = await new Browser().call("GET", path);
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe("admin_auth");
  });

  it.each(CHANGES)("POST %s without a session: 401, nothing changes", async (path, body) => {
    const before = peopleCount();
    const answer = await new Browser().call("POST", path, body);
    expect(answer.status).toBe(401);
    expect(peopleCount()).toBe(before);
  });

  it.each(CHANGES)("POST %s with the session cookie but no or a wrong CSRF token: 403", async (path, body) => {
    const before = peopleCount();
    const forger = new Browser();
    forger.cookie = admin.cookie;
    const none = await forger.call("POST", path, body);
    expect(none.status).toBe(403);
    expect(none.body.code).toBe("csrf_failed");
    forger.csrf = "x".repeat(43);
    expect((await forger.call("POST", path, body)).status).toBe(403);
    expect(peopleCount()).toBe(before);
  });

  it.each(CHANGES)("POST %s from another site (Origin, form content type): 403", async (path, body) => {
    const before = peopleCount();
    const foreign = await admin.call("POST", path, body, { Origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    const form = await fetch(`${server.url}/admin/api/${path}`, {
      method: "POST",
      headers: { Cookie: admin.cookie, "X-CSRF-Token": admin.csrf, "Content-Type": "text/plain" },
      body: JSON.stringify(body),
    });
    expect(form.status).toBe(403);
    expect(peopleCount()).toBe(before);
    expect((await admin.call("GET", "session")).body.loggedIn).toBe(true);
  });

  it("serves the console with a strict Content-Security-Policy", async () => {
    const page = await fetch(`${server.url}/admin/`);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect((await fetch(`${server.url}/admin/../momedo.sqlite`)).status).toBe(404);
    expect((await fetch(`${server.url}/admin/%2e%2e%2fmomedo.sqlite`)).status).toBe(404);
  });
});

describe("class list import", () => {
  const rows = [
    "Name;Klasse;Rolle",
    ...Array.from({ length: 14 }, (_, i) => `Kind ${i + 1} Müller;7b;Schüler`),
    ";7b;Schüler",
    ...Array.from({ length: 14 }, (_, i) => `Kind ${i + 15} Weiß;7b;Schülerin`),
    "Bruno Badrole;7b;Hausmeister",
  ].join("\n");

  it("previews 28 good rows and names the two bad lines, storing nothing", async () => {
    const before = peopleCount();
    const preview = await admin.call("POST", "people/import", { csv: rows, commit: false });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ valid: 28, invalid: 2 });
    const bad = (preview.body.rows as { line: number; error?: string }[]).filter((r) => r.error);
    expect(bad.map((r) => r.line)).toEqual([16, 31]);
    expect(bad[1]!.error).toMatch(/Hausmeister/);
    expect(peopleCount()).toBe(before);
  });

  it("imports the 28 good rows in one step, with invites, and none of the bad ones", async () => {
    const before = peopleCount();
    const result = await admin.call("POST", "people/import", { csv: rows, commit: true });
    expect(result.status).toBe(200);
    const imported = result.body.imported as { id: string; name: string; class: string; role: string; invite: string }[];
    expect(imported).toHaveLength(28);
    expect(result.body.skipped).toEqual([16, 31]);
    expect(imported.every((p) => p.class === "7b" && p.role === "pupil")).toBe(true);
    expect(parseInvite(imported[0]!.invite).url).toBe(server.url);
    expect(peopleCount()).toBe(before + 28);
    const people = (await admin.call("GET", "people")).body as unknown as { name: string }[];
    expect(people.some((p) => p.name.includes("Bruno"))).toBe(false);
  });

  it("answers a file without a name column with a clear error", async () => {
    const answer = await admin.call("POST", "people/import", { csv: "vorname,nachname\nA,B", commit: false });
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toMatch(/name/);
  });
});

describe("people, handouts, policy, statistics, audit", () => {
  it("adds a teacher, refuses an unknown role, and lists devices with key fingerprints", async () => {
    const added = await admin.call("POST", "people", { name: "Frau Weber", role: "Lehrerin", class: "7b" });
    expect(added.body).toMatchObject({ name: "Frau Weber", role: "staff", class: "7b" });
    const bad = await admin.call("POST", "people", { name: "X", role: "king" });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/king/);
    const { secretKey, publicKey } = ed25519.keygen();
    void secretKey;
    const code = parseInvite(added.body.invite as string).code;
    const enrolled = await fetch(`${server.url}/api/v1/enroll`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code, signaturePublicKey: toBase64(publicKey) }),
    });
    expect(enrolled.status).toBe(200);
    const people = (await admin.call("GET", "people")).body as unknown as {
      id: string;
      devices: { id: string; fingerprint: string; revoked: boolean }[];
    }[];
    const weber = people.find((p) => p.id === added.body.id)!;
    expect(weber.devices).toHaveLength(1);
    expect(weber.devices[0]!.fingerprint).toMatch(/^([0-9A-F]{4} ){7}[0-9A-F]{4}$/);
    const revoked = await admin.call("POST", "people/revoke-device", { id: weber.id, device: weber.devices[0]!.id });
    expect(revoked.body).toMatchObject({ revoked: true });
    expect(((await admin.call("GET", "people")).body as unknown as typeof people).find((p) => p.id === weber.id)!.devices[0]!.revoked).toBe(true);
  });

  it("makes a handout PDF for a class and voids older unused invites", async () => {
    const people = (await admin.call("GET", "people")).body as unknown as { id: string; class: string }[];
    const pdf = await admin.call("POST", "handouts", { class: "7b" });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    expect((pdf.body.bytes as Buffer).subarray(0, 5).toString()).toBe("%PDF-");
    const unused = server.data.db
      .prepare("SELECT count(*) AS n FROM invites i JOIN users u ON u.id = i.user_id WHERE u.class = '7b' AND i.used_at IS NULL")
      .get() as { n: number };
    // One fresh invite per person of 7b without a device (Frau Weber's was used).
    expect(unused.n).toBe(people.filter((p) => p.class === "7b").length);
    const empty = await admin.call("POST", "handouts", { class: "9z" });
    expect(empty.status).toBe(400);
  });

  it("plans a class channel; it shows as waiting for the owner's device", async () => {
    const people = (await admin.call("GET", "people")).body as unknown as { id: string; name: string; class: string }[];
    const weber = people.find((p) => p.name === "Frau Weber")!;
    const plan = await admin.call("POST", "groups", { name: "Klasse 7b", kind: "channel", owner: weber.id, class: "7b" });
    expect(plan.status).toBe(200);
    expect((plan.body.members as string[]).length).toBe(28);
    const groups = (await admin.call("GET", "groups")).body as unknown as { id: string; created: boolean; waiting: unknown[]; members: { role: string }[] }[];
    expect(groups.find((g) => g.id === plan.body.group)).toMatchObject({ created: false, members: [{ role: "owner" }] });
    expect(groups.find((g) => g.id === plan.body.group)!.waiting).toHaveLength(28);
    // A direct chat between two people is not the admin's business: not listed.
    server.data.db.prepare("INSERT INTO groups (id, epoch, created_at, kind, name) VALUES ('d.TEST', 1, 0, 'direct', '')").run();
    const listed = (await admin.call("GET", "groups")).body as unknown as { id: string }[];
    expect(listed.some((g) => g.id === "d.TEST")).toBe(false);
    expect((await admin.call("POST", "groups", { name: "X", kind: "forum", owner: weber.id })).status).toBe(400);
    expect((await admin.call("POST", "groups", { name: "X", kind: "group", owner: "ZZZZZZZZ" })).status).toBe(404);
  });

  it("sets the directory policy", async () => {
    expect((await admin.call("GET", "policy")).body).toEqual({ policy: "open" });
    expect((await admin.call("POST", "policy", { policy: "school" })).body).toEqual({ policy: "school" });
    expect((await admin.call("POST", "policy", { policy: "anarchy" })).status).toBe(400);
    expect((await admin.call("GET", "policy")).body).toEqual({ policy: "school" });
  });

  it("reports statistics for the last 48 hours", async () => {
    const stats = (await admin.call("GET", "stats")).body as { people: number; devices: number; hours: unknown[]; storageBytes: number };
    expect(stats.people).toBe(peopleCount());
    expect(stats.devices).toBe(0);
    expect(stats.hours).toHaveLength(48);
    expect(stats.storageBytes).toBeGreaterThan(0);
  });

  it("keeps an audit entry for every change", async () => {
    const entries = (await admin.call("GET", "audit")).body as unknown as { action: string; actor: string }[];
    const actions = entries.map((e) => e.action);
    for (const action of ["setup", "import", "add-person", "revoke-device", "handouts", "plan-group", "set-policy"]) expect(actions).toContain(action);
    expect(entries.every((e) => e.actor === "console")).toBe(true);
  });
});

describe("login", () => {
  it("switches TOTP on; then a login needs the code", async () => {
    const begin = await admin.call("POST", "totp/begin", {});
    const secret = begin.body.secret as string;
    expect(begin.body.uri).toMatch(/^otpauth:\/\/totp\//);
    expect(begin.body.qrSvg).toMatch(/^<svg/);
    expect((await admin.call("POST", "totp/confirm", { code: "000000" })).status).toBe(401);
    expect((await admin.call("POST", "totp/confirm", { code: totpCode(secret) })).body).toEqual({ totp: true });
    expect((await admin.call("POST", "logout", {})).body).toEqual({ loggedIn: false });
    expect((await admin.call("GET", "people")).status).toBe(401);

    const next = new Browser();
    const withoutCode = await next.call("POST", "login", { password: PASSWORD });
    expect(withoutCode.status).toBe(401);
    expect(withoutCode.body.code).toBe("totp_required");
    const ok = await next.call("POST", "login", { password: PASSWORD, totp: totpCode(secret) });
    expect(ok.status).toBe(200);
    expect((await next.call("GET", "people")).status).toBe(200);
  });

  it("limits failed logins: after five wrong passwords even the right one waits", async () => {
    const guesser = new Browser();
    for (let i = 0; i < 5; i++) expect((await guesser.call("POST", "login", { password: `guess-${i}-xxxxx` })).status).toBe(401);
    const blocked = await guesser.call("POST", "login", { password: PASSWORD, totp: "000000" });
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe("rate_limited");
  });
});
