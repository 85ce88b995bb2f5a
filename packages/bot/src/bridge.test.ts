import { describe, expect, it } from "vitest";
import { BridgeError, parseBridgeConfig } from "./bridge.js";

const HASH = "a".repeat(64);

describe("bridge configuration", () => {
  it("takes integrations, a chat map, webhooks and a retry policy", () => {
    const config = parseBridgeConfig({
      integrations: [{ name: "timetable", tokenSha256: HASH.toUpperCase(), chats: ["Klasse 7b"] }],
      chats: { "Klasse 7b": "g.ABC" },
      webhooks: [{ url: "http://127.0.0.1:9000/hook", secret: "s".repeat(16), events: ["message", "join"] }],
      webhookRetry: { baseMs: 200, tries: 3 },
    });
    expect(config.integrations[0]!.tokenSha256).toBe(HASH);
    expect(config.chats).toEqual({ "Klasse 7b": "g.ABC" });
    expect(config.webhookRetry).toEqual({ baseMs: 200, tries: 3 });
    expect(parseBridgeConfig({ integrations: [] }).webhookRetry).toEqual({ baseMs: 1000, tries: 10 });
  });

  it.each([
    [{}, /integrations/],
    [{ integrations: [{ name: "t", tokenSha256: "abc", chats: [] }] }, /tokenSha256/],
    [{ integrations: [{ name: "t", tokenSha256: HASH, chats: [] }, { name: "u", tokenSha256: HASH, chats: [] }] }, /Token doppelt/],
    [{ integrations: [], webhooks: [{ url: "ftp://x", secret: "s".repeat(16), events: ["message"] }] }, /url/],
    [{ integrations: [], webhooks: [{ url: "http://x", secret: "short", events: ["message"] }] }, /secret/],
    [{ integrations: [], webhooks: [{ url: "http://x", secret: "s".repeat(16), events: ["typing"] }] }, /events/],
    [{ integrations: [], webhookRetry: { baseMs: 0, tries: 3 } }, /webhookRetry/],
  ])("refuses %j", (value, problem) => {
    expect(() => parseBridgeConfig(value)).toThrow(problem);
  });

  it("gives every error a status and a German and English message", () => {
    const error = new BridgeError("unknown_chat", "Klasse 9z");
    expect(error.status).toBe(404);
    expect(error.message).toBe("Der Bot ist in keiner Unterhaltung dieses Namens. / The bot is in no chat of this name. (Klasse 9z)");
  });
});
