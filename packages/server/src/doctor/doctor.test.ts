import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AdminAccount } from "../admin/account.js";
import { startServer, type RunningServer } from "../server.js";
import { doctor } from "./doctor.js";

describe("doctor", () => {
  let server: RunningServer | undefined;
  afterAll(async () => {
    await server?.close();
  });

  it("finds a healthy running server healthy and names what to fix when something is off", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "momedo-doctor-"));
    server = await startServer({ dataDir, host: "127.0.0.1", port: 0, tls: true });
    const fresh = (await doctor(dataDir)).filter((f) => !f.ok);
    expect(fresh).toEqual([expect.objectContaining({ check: "admin", fix: expect.stringContaining("setup-link") })]);
    new AdminAccount(server.data.db).setUp(new URL(server.setupUrl!).hash.replace("#setup=", ""), "Rathaus-Passwort-2026");
    const healthy = await doctor(dataDir);
    expect(healthy.filter((f) => !f.ok)).toEqual([]);
    expect(healthy.map((f) => f.check)).toEqual(expect.arrayContaining(["data", "database", "admin", "org key", "certificate", "clock", "disk", "server"]));

    chmodSync(join(dataDir, "org.key"), 0o644);
    await server.close();
    server = undefined;
    const findings = await doctor(dataDir);
    const problems = findings.filter((f) => !f.ok);
    expect(problems.map((f) => f.check).sort()).toEqual(["org key", "server"]);
    expect(problems.every((f) => typeof f.fix === "string" && f.fix.length > 0)).toBe(true);
  });

  it("says when there is no data directory yet", async () => {
    const findings = await doctor(mkdtempSync(join(tmpdir(), "momedo-doctor-empty-")));
    expect(findings).toEqual([expect.objectContaining({ check: "data", ok: false })]);
  });
});
