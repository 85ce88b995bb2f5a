// Encrypted files and images end to end with real processes: a 50 MB file with memory measured,
// no plaintext on the server, EXIF stripped, tampering detected, and the refusals.
import { createHash, randomBytes } from "node:crypto";
import { closeSync, createReadStream, existsSync, openSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { request } from "node:https";
import { connect, createServer as createNetServer, type Server as NetServer } from "node:net";
import { join } from "node:path";
import { spawn } from "node:child_process";
import Database from "better-sqlite3";
import { Jimp } from "jimp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openProfile } from "@momedo/client";
import { MomedoError } from "@momedo/protocol";
import { signBlobToken } from "../../packages/server/src/blobs/blobTokens.js";
import { admin, CLI_BIN, filesBelow, filesContaining, freePort, momedo, run, serverWithTwoPeople, startServer, tempDir, type ServerProcess } from "./harness.js";

type Line = Record<string, unknown>;
const MB = 1024 * 1024;
const fileLines = (lines: Line[]) => lines.filter((l) => l.type === "file");

/** Peak resident memory of a running process in KiB. */
function peakRssKiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match![1]);
}

/** A CLI run with its peak memory (the CLI reports its VmHWM on stderr when asked). */
async function measured(profile: string, ...args: string[]) {
  const result = await run(CLI_BIN, [...args, "--profile", profile, "--json"], { MOMEDO_REPORT_MAX_RSS: "1" });
  if (result.code !== 0) throw new Error(`momedo ${args.join(" ")} failed: ${result.stdout}${result.stderr}`);
  const report = result.stderr.split("\n").find((l) => l.startsWith('{"maxRssKiB"'));
  return { ...result, maxRssKiB: (JSON.parse(report!) as { maxRssKiB: number }).maxRssKiB };
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** A JPEG with an EXIF segment carrying `marker`, as a camera would write GPS and serial numbers. */
async function jpegWithExif(width: number, height: number, marker: string): Promise<Buffer> {
  const image = new Jimp({ width, height, color: 0x3366ccff });
  for (let x = 0; x < width; x += 7) image.setPixelColor(0xffcc00ff, x, Math.floor(height / 2));
  const jpeg = await image.getBuffer("image/jpeg", { quality: 90 });
  const payload = Buffer.concat([Buffer.from("Exif\0\0MM\0*\0\0\0\x08", "latin1"), Buffer.from(marker)]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]), payload]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

function blobFiles(data: string): string[] {
  return filesBelow(join(data, "blobs"));
}

function httpsGet(url: string, token: string): Promise<{ status: number; body: Line }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Authorization: `Bearer ${token}` }, rejectUnauthorized: false }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Line }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("encrypted files with real processes", () => {
  let server: ServerProcess;
  let data: string;
  let home: string;
  let a: string;
  let b: string;
  let pa: string;
  let pb: string;

  beforeAll(async () => {
    ({ server, data, home, a, b } = await serverWithTwoPeople("files", ["--file-quota-user-mb", "200", "--upload-resume-seconds", "2"]));
    pa = `${home}/a`;
    pb = `${home}/b`;
    // The 1:1 chat exists before files are measured.
    await momedo(pa, "send", b, "Hallo");
    await momedo(pb, "receive");
  });

  afterAll(async () => {
    await server?.stop();
  });

  /** Sends a file of `mb` MB from A to B; returns the peak memory growth of sender, receiver and server. */
  async function transfer(mb: number, marker: string) {
    const big = join(home, `akte-${mb}.bin`);
    const block = Buffer.concat([Buffer.from(marker), randomBytes(MB - marker.length)]);
    const fd = openSync(big, "w");
    for (let i = 0; i < mb; i++) writeSync(fd, block);
    closeSync(fd);
    const small = join(home, "notiz.txt");
    writeFileSync(small, `${marker} klein`);
    const out = tempDir("files-out");

    // Baselines: the same commands with a tiny file.
    const sendSmall = await measured(pa, "send-file", b, small);
    const receiveSmall = await measured(pb, "receive", "--out", out);
    expect(readFileSync(join(out, "notiz.txt"), "utf8")).toBe(`${marker} klein`);
    const serverBefore = peakRssKiB(server.child.pid!);

    const started = Date.now();
    const sent = await measured(pa, "send-file", b, big);
    expect(sent.lines.at(-1)).toMatchObject({ file: { name: `akte-${mb}.bin`, size: mb * MB, mediaType: "application/octet-stream" } });
    // Stored: ciphertext only (the file plus one tag per 64 KiB chunk), no plaintext anywhere on the server.
    expect(blobFiles(data).map((f) => statSync(f).size)).toEqual([mb * MB + mb * 16 * 16]);
    expect(filesContaining(data, marker)).toEqual([]);

    const received = await measured(pb, "receive", "--out", out);
    expect(fileLines(received.lines)[0]).toMatchObject({ from: a, text: `akte-${mb}.bin`, saved: join(out, `akte-${mb}.bin`) });
    expect(await sha256(join(out, `akte-${mb}.bin`))).toBe(await sha256(big));
    const growth = {
      sender: Math.round((sent.maxRssKiB - sendSmall.maxRssKiB) / 1024),
      receiver: Math.round((received.maxRssKiB - receiveSmall.maxRssKiB) / 1024),
      server: Math.round((peakRssKiB(server.child.pid!) - serverBefore) / 1024),
    };
    console.log(`${mb} MB file: ${((Date.now() - started) / 1000).toFixed(1)} s up and down; peak memory growth in MB:`, growth);
    // Its only recipient device fetched it: gone from the server.
    await until(() => blobFiles(data).length === 0);
    return growth;
  }

  // Node frees buffers lazily (V8 collects external memory once tens of MB of it piled up, and
  // @noble/ciphers' Poly1305 copies each chunk), so peak memory grows by some 30-50 MB of garbage
  // whatever the file's size. A client holding the file would grow by its size twice (plaintext
  // and ciphertext), the server by its size.
  const GARBAGE_BOUND_MB = 64;

  it("sends a 50 MB file; the server sees only ciphertext and deletes it once fetched", async () => {
    const growth = await transfer(50, `Klartext-${randomBytes(6).toString("hex")}`);
    expect(growth.sender).toBeLessThan(GARBAGE_BOUND_MB);
    expect(growth.receiver).toBeLessThan(GARBAGE_BOUND_MB);
  }, 120_000);

  it("takes no more memory for a 150 MB file than for a 50 MB one", async () => {
    const growth = await transfer(150, `Klartext-${randomBytes(6).toString("hex")}`);
    expect(growth.sender).toBeLessThan(GARBAGE_BOUND_MB);
    expect(growth.receiver).toBeLessThan(GARBAGE_BOUND_MB);
    // The server's peak after the 50 MB file already includes its garbage; 150 MB held would lift it far above.
    expect(growth.server).toBeLessThan(40);
  }, 180_000);

  it("strips EXIF, downscales large photos unless the original is asked for, and carries an explicit location", async () => {
    const marker = "EXIF-GPS-52.5200-Seriennummer-4711";
    const photo = join(home, "verstoss.jpg");
    writeFileSync(photo, await jpegWithExif(800, 600, marker));
    const large = join(home, "gross.jpg");
    writeFileSync(large, await jpegWithExif(3000, 2000, marker));

    const sent = await momedo(pa, "send-file", b, photo, "--lat", "52.52", "--lon", "13.405", "--accuracy", "8", "--taken-at", "2026-11-26T08:15:00Z");
    expect(sent.lines.at(-1)).toMatchObject({ file: { mediaType: "image/jpeg", width: 800, height: 600 } });
    await momedo(pa, "send-file", b, large);
    await momedo(pa, "send-file", b, large, "--original");

    const out = tempDir("photos");
    const received = fileLines((await momedo(pb, "receive", "--out", out)).lines);
    expect(received).toHaveLength(3);
    expect(received[0]).toMatchObject({
      file: { name: "verstoss.jpg", width: 800, height: 600, location: { lat: 52.52, lon: 13.405, accuracy: 8 }, takenAt: "2026-11-26T08:15:00.000Z" },
    });
    expect((received[0]!.file as Line).thumbnailBytes).toBeGreaterThan(100);
    expect(received[1]).toMatchObject({ file: { width: 2048, height: 1365 } });
    expect(received[1]!.file).not.toHaveProperty("location");
    expect(received[2]).toMatchObject({ file: { width: 3000, height: 2000 } });

    for (const l of received) {
      const saved = String(l.saved);
      expect(readFileSync(saved).includes(Buffer.from(marker))).toBe(false);
      const image = await Jimp.read(saved);
      expect([image.width, image.height]).toEqual([(l.file as Line).width, (l.file as Line).height]);
    }
    // The original was sent byte for byte, minus the EXIF segment.
    expect(readFileSync(String(received[2]!.saved)).length).toBe(readFileSync(large).length - (2 + 2 + 14 + marker.length));
    expect(filesContaining(data, marker)).toEqual([]);
  }, 60_000);

  it("detects tampered ciphertext, reports it, and saves nothing", async () => {
    const file = join(home, "bescheid.txt");
    writeFileSync(file, "Bescheid: ".repeat(20_000));
    await momedo(pa, "send-file", b, file);
    const [stored] = blobFiles(data);
    const bytes = readFileSync(stored!);
    bytes[100_000]! ^= 0x01;
    writeFileSync(stored!, bytes);

    const out = tempDir("tampered");
    const result = await momedo(pb, "receive", "--out", out);
    expect(fileLines(result.lines)[0]).toMatchObject({ text: "bescheid.txt", error: { code: "file_tampered" } });
    expect(String((fileLines(result.lines)[0]!.error as Line).message)).toMatch(/verändert.*altered/);
    expect(readdirSync(out)).toEqual([]);
  });

  it("gives a download token only to members, and refuses expired and forged tokens", async () => {
    const c = await admin(data, "add-user", "--name", "Dritte");
    const pc = `${home}/c`;
    await momedo(pc, "enroll", String(c.invite));
    const file = join(home, "intern.txt");
    writeFileSync(file, "nur für B");
    const sent = await momedo(pa, "send-file", b, file);
    const blob = String((sent.lines.at(-1)!.file as Line).blob);

    const outsider = await openProfile(pc);
    try {
      await outsider.messenger.connect();
      const refused = await outsider.messenger.request({ t: "blob.download", blob }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(MomedoError);
      expect((refused as MomedoError).code).toBe("not_member");
    } finally {
      await outsider.close();
    }

    const db = new Database(join(data, "momedo.sqlite"), { readonly: true });
    const key = Buffer.from((db.prepare("SELECT value FROM meta WHERE key = 'blob_token_key'").get() as { value: string }).value, "base64");
    db.close();
    const url = `${server.url}/api/v1/blobs/${blob}`;
    const expired = signBlobToken(key, { purpose: "get", blob, address: `${b}/${"0".repeat(8)}`, expires: Date.now() - 1000 });
    expect(await httpsGet(url, expired)).toMatchObject({ status: 401, body: { code: "blob_token_expired" } });
    const forged = signBlobToken(randomBytes(32), { purpose: "get", blob, address: `${c.id}/${"0".repeat(8)}`, expires: Date.now() + 60_000 });
    expect(await httpsGet(url, forged)).toMatchObject({ status: 403, body: { code: "blob_token_invalid" } });
    const upload = signBlobToken(key, { purpose: "put", blob, address: `${a}/${"0".repeat(8)}`, expires: Date.now() + 60_000 });
    expect(await httpsGet(url, upload)).toMatchObject({ status: 403, body: { code: "blob_token_invalid" } });

    // B, a member, still gets it.
    const out = tempDir("member");
    const received = fileLines((await momedo(pb, "receive", "--out", out)).lines);
    expect(readFileSync(String(received[0]!.saved), "utf8")).toBe("nur für B");
  });

  it("refuses a file over quota before any byte is sent, and leaves nothing behind", async () => {
    const huge = join(home, "video.mp4");
    writeFileSync(huge, "");
    truncateSync(huge, 250 * MB);
    const before = blobFiles(data);
    const result = await run(CLI_BIN, ["send-file", b, huge, "--profile", pa, "--json"]);
    expect(result.code).toBe(1);
    expect(result.lines.at(-1)).toMatchObject({ error: { code: "blob_quota_exceeded" } });
    expect(String((result.lines.at(-1)!.error as Line).message)).toMatch(/Kontingent.*quota/);
    expect(blobFiles(data)).toEqual(before);
    expect(fileLines((await momedo(pb, "receive")).lines)).toEqual([]);
  });

  it("lets only owners and admins post files in a channel", async () => {
    const channel = String((await momedo(pa, "channel", "create", "Aushang", "--members", b)).lines.at(-1)!.id);
    const file = join(home, "aushang.txt");
    writeFileSync(file, "Elternabend am Dienstag");
    const refused = await run(CLI_BIN, ["send-file", channel, file, "--profile", pb, "--json"]);
    expect(refused.lines.at(-1)).toMatchObject({ error: { code: "policy_denied" } });
    await momedo(pa, "send-file", channel, file);
    const out = tempDir("channel");
    const received = fileLines((await momedo(pb, "receive", "--out", out)).lines);
    expect(readFileSync(String(received[0]!.saved), "utf8")).toBe("Elternabend am Dienstag");
  });

  it("refuses photo formats whose metadata it cannot remove", async () => {
    const heic = join(home, "IMG_0001.HEIC");
    writeFileSync(heic, Buffer.from("\0\0\0\x18ftypheic\0\0\0\0EXIF-GPS", "latin1"));
    const result = await run(CLI_BIN, ["send-file", b, heic, "--profile", pa, "--json"]);
    expect(result.code).toBe(1);
    expect(result.lines.at(-1)).toMatchObject({ error: { code: "usage" } });
    expect(String((result.lines.at(-1)!.error as Line).message)).toMatch(/JPEG oder PNG.*JPEG or PNG/);
  });

  it("never offers a truncated upload and deletes it once it can no longer be resumed", async () => {
    const big = join(home, "abgebrochen.bin");
    const fd = openSync(big, "w");
    for (let i = 0; i < 50; i++) writeSync(fd, randomBytes(MB));
    closeSync(fd);
    const partial = join(data, "blobs", "partial");
    const child = spawn(process.execPath, [CLI_BIN, "send-file", b, big, "--profile", pa, "--json"]);
    await until(() => readdirSync(partial).some((f) => statSync(join(partial, f)).size > 0), 60_000);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const [blob] = readdirSync(partial);
    expect(statSync(join(partial, blob!)).size).toBeLessThan(50 * MB);

    const member = await openProfile(pb);
    try {
      await member.messenger.connect();
      const refused = await member.messenger.request({ t: "blob.download", blob: blob! }).catch((e: unknown) => e);
      expect((refused as MomedoError).code).toBe("blob_incomplete");
    } finally {
      await member.close();
    }
    expect(fileLines((await momedo(pb, "receive")).lines)).toEqual([]);
    // The server was started with --upload-resume-seconds 2: the sweep removes file and record.
    await until(() => !existsSync(join(partial, blob!)), 15_000);
    const db = new Database(join(data, "momedo.sqlite"), { readonly: true });
    expect(db.prepare("SELECT COUNT(*) AS n FROM blobs WHERE id = ?").get(blob)).toEqual({ n: 0 });
    db.close();
  }, 90_000);
});

describe("resuming an upload after the connection broke", () => {
  let server: ServerProcess | undefined;
  let proxy: NetServer | undefined;

  afterAll(async () => {
    await server?.stop();
    proxy?.close();
  });

  it("continues where the server's bytes end instead of starting again", async () => {
    // A TCP relay in front of the server (TLS passes through, the pin still holds) that cuts the
    // first connection carrying more than 5 MB, as a proxy timing out or a train tunnel would.
    const proxyPort = await freePort();
    const serverPort = await freePort();
    let cutAfter = 5 * MB;
    let forwarded = 0;
    let cuts = 0;
    proxy = createNetServer((client) => {
      const upstream = connect(serverPort, "127.0.0.1");
      let sent = 0;
      client.on("data", (chunk: Buffer) => {
        sent += chunk.length;
        forwarded += chunk.length;
        if (sent > cutAfter) {
          cutAfter = Infinity;
          cuts++;
          client.destroy();
          upstream.destroy();
          return;
        }
        upstream.write(chunk);
      });
      upstream.on("data", (chunk: Buffer) => client.write(chunk));
      for (const socket of [client, upstream]) socket.on("error", () => undefined).on("close", () => (client.destroy(), upstream.destroy()));
    });
    await new Promise<void>((resolve) => proxy!.listen(proxyPort, "127.0.0.1", resolve));
    const data = tempDir("resume-data");
    const home = tempDir("resume-home");
    server = await startServer(data, serverPort, ["--public-url", `https://127.0.0.1:${proxyPort}`]);
    const a = await admin(data, "add-user", "--name", "Amt");
    const b = await admin(data, "add-user", "--name", "Bürger");
    await momedo(`${home}/a`, "enroll", String(a.invite));
    await momedo(`${home}/b`, "enroll", String(b.invite));
    await momedo(`${home}/a`, "send", String(b.id), "Hallo");

    const file = join(home, "plan.bin");
    writeFileSync(file, randomBytes(20 * MB));
    forwarded = 0;
    await momedo(`${home}/a`, "send-file", String(b.id), file);
    expect(cuts).toBe(1);
    // Starting again would have sent the first 5 MB twice.
    expect(forwarded).toBeLessThan(21 * MB);
    const out = tempDir("resume-out");
    const received = fileLines((await momedo(`${home}/b`, "receive", "--out", out)).lines);
    expect(await sha256(String(received[0]!.saved))).toBe(await sha256(file));
  }, 60_000);
});
