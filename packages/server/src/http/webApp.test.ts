// The web app as the server sends it: a strict CSP on every page, /join and the app's own routes
// answered with index.html, hashed assets cached for good, nothing outside dist/ reachable, a
// clear page while the app is not built, and /api and /admin untouched.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../server.js";
import { WEB_APP_CSP, webApp } from "./webApp.js";

const INDEX = '<!doctype html><html lang="de"><head><script type="module" src="/assets/index-AbC123.js"></script></head><body></body></html>';

/** A request with the path exactly as written (fetch would normalise `..` away). */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: "GET" }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("web app files", () => {
  const root = mkdtempSync(join(tmpdir(), "momedo-web-"));
  const dist = join(root, "dist");
  let base: string;
  let server: Server;

  beforeAll(async () => {
    mkdirSync(join(dist, "assets"), { recursive: true });
    writeFileSync(join(dist, "index.html"), INDEX);
    writeFileSync(join(dist, "assets", "index-AbC123.js"), "console.log('momedo');\n");
    writeFileSync(join(dist, "assets", "index-AbC123.css"), "body{margin:0}\n");
    writeFileSync(join(dist, "manifest.webmanifest"), '{"name":"momedo"}');
    writeFileSync(join(root, "secret.txt"), "not for the web");
    const serve = webApp(dist);
    server = createServer((req, res) => serve(req, res, new URL(req.url ?? "/", "http://local")));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  it("answers /, /join and the app's routes with index.html under the strict CSP, never cached stale", async () => {
    for (const path of ["/", "/join", "/chats/abc", "/settings"]) {
      const response = await fetch(base + path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("content-security-policy")).toBe(WEB_APP_CSP);
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(await response.text()).toBe(INDEX);
    }
    expect(WEB_APP_CSP).not.toMatch(/unsafe|https?:|\*/);
    expect(WEB_APP_CSP).toMatch(/script-src 'self';/);
    expect(WEB_APP_CSP).toMatch(/frame-ancestors 'none'/);
  });

  it("serves hashed assets with their type and a long cache, other files with no-cache", async () => {
    const script = await fetch(`${base}/assets/index-AbC123.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(script.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await script.text()).toContain("momedo");
    const style = await fetch(`${base}/assets/index-AbC123.css`);
    expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const manifest = await fetch(`${base}/manifest.webmanifest`);
    expect(manifest.headers.get("content-type")).toBe("application/manifest+json");
    expect(manifest.headers.get("cache-control")).toBe("no-cache");
    const head = await fetch(`${base}/assets/index-AbC123.js`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("answers a missing asset with 404, not with the app", async () => {
    expect((await fetch(`${base}/assets/index-Gone99.js`)).status).toBe(404);
    expect((await fetch(`${base}/favicon.ico`)).status).toBe(404);
  });

  it("refuses paths that leave dist/", async () => {
    for (const path of ["/../secret.txt", "/assets/../../secret.txt", "/..%2fsecret.txt", "/assets/..%2f..%2fsecret.txt", "/.%2e/secret.txt", "/%2e%2e/secret.txt"]) {
      const answer = await rawGet(base, path);
      expect(answer.body, path).not.toContain("not for the web");
      expect(answer.status, path).toBe(404);
    }
  });

  it("refuses methods other than GET and HEAD", async () => {
    expect((await fetch(`${base}/`, { method: "POST", body: "x" })).status).toBe(405);
  });

  it("says in German and English to build the app while dist/ is missing", async () => {
    const serve = webApp(join(root, "not-built"));
    const missing = createServer((req, res) => serve(req, res, new URL(req.url ?? "/", "http://local")));
    await new Promise<void>((resolve) => missing.listen(0, "127.0.0.1", resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(missing.address() as AddressInfo).port}/join`);
      expect(response.status).toBe(503);
      expect(response.headers.get("content-security-policy")).toBe(WEB_APP_CSP);
      const text = await response.text();
      expect(text).toContain("npm run build");
      expect(text).toContain("nicht gebaut");
      expect(text).toContain("not been built");
    } finally {
      await new Promise((resolve) => missing.close(resolve));
    }
  });
});

describe("web app in the server", () => {
  let server: RunningServer;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "momedo-webapp-"));
    server = await startServer({ dataDir, host: "127.0.0.1", port: 0, tls: false });
  });

  afterAll(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("sends the app at / and /join with the strict CSP", async () => {
    for (const path of ["/", "/join"]) {
      const response = await fetch(server.url + path);
      expect(response.headers.get("content-security-policy")).toBe(WEB_APP_CSP);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    }
  });

  it("leaves /api and /admin as they were", async () => {
    const health = await fetch(`${server.url}/api/v1/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { ok: boolean }).ok).toBe(true);
    const unknown = await fetch(`${server.url}/api/v1/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toMatch(/^application\/json/);
    const console = await fetch(`${server.url}/admin/`);
    expect(console.status).toBe(200);
    expect(console.headers.get("content-security-policy")).not.toBe(WEB_APP_CSP);
    expect(await console.text()).not.toContain("/assets/index-");
  });
});
