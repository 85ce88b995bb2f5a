// The wire format and the small codecs around it: what is accepted, what is refused, and that
// nothing else than a MomedoError with a frame code ever escapes the decoders.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromBase64, toBase64, toBase64Url } from "./base64.js";
import { MomedoError, type ErrorCode } from "./errors.js";
import {
  decodeClientFrame,
  decodeEnrollRequest,
  decodeServerFrame,
  encodeFrame,
  authChallengeText,
  type ClientFrame,
  type ServerFrame,
} from "./frames.js";
import { crockford, deviceAddress, isShortId, normalizeShortId, parseDeviceAddress } from "./ids.js";
import { formatInvite, parseInvite } from "./invite.js";

const USER = "ABCDEFGH";
const DEVICE = "0123JKMN";
const OTHER = "Z9Y8X7W6";
const B64 = "AAECAw=="; // bytes 0,1,2,3

/** One valid example of every client frame (optional fields both present and absent). */
const VALID_CLIENT: ClientFrame[] = [
  { t: "auth", user: USER, device: DEVICE, sig: B64 },
  { t: "ack", seq: 0 },
  { t: "ack", seq: Number.MAX_SAFE_INTEGER },
  { t: "keys.upload", id: 1, keyPackages: [B64, "AAAA"] },
  { t: "keys.upload", id: 2, keyPackages: [], lastResort: B64 },
  { t: "keys.claim", id: 3, user: OTHER },
  { t: "group.commit", id: 4, group: "d.0123456789", epoch: 0, commit: B64, members: [`${USER}/${DEVICE}`] },
  {
    t: "group.commit",
    id: 5,
    group: "g_team-1.x",
    epoch: 7,
    commit: B64,
    welcome: "AQ==",
    members: [`${USER}/${DEVICE}`, `${OTHER}/${DEVICE}`],
  },
  { t: "group.send", id: 6, group: "abcd", epoch: 1, data: "" },
  { t: "ping", id: 0 },
  { t: "ping", id: 2 ** 31 },
  { t: "blob.upload", id: 7, group: "d.0123456789", size: 52_430_000 },
  { t: "blob.upload", id: 8, group: "g.team", size: 1, blob: "0123456789ABCDEF" },
  { t: "blob.complete", id: 9, blob: "0123456789ABCDEF", sha256: B64 },
  { t: "blob.download", id: 10, blob: "0123456789ABCDEF" },
];

const VALID_SERVER: ServerFrame[] = [
  { t: "challenge", nonce: B64, server: "Grundschule am See" },
  // The ciphersuite name exactly as server (ciphersuite.ts) and core (mls.ts) spell it.
  { t: "ready", user: USER, device: DEVICE, suite: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" },
  { t: "msg", seq: 12, group: "d.0123456789", kind: "app", from: `${USER}/${DEVICE}`, data: B64, at: 1_700_000_000_000 },
  { t: "msg", seq: 1, group: "d.0123456789", kind: "welcome", from: `${USER}/${DEVICE}`, data: B64, at: 0 },
  { t: "synced" },
  { t: "ok", id: 1, result: { epoch: 2 } },
  { t: "ok", id: 1, result: null },
  { t: "err", code: "bad_frame", message: "x" },
  { t: "err", id: 9, code: "not_member", message: "x", detail: "d.0123" },
];

function errorCodeOf(action: () => unknown): ErrorCode | "no error" | "foreign error" {
  try {
    action();
    return "no error";
  } catch (error) {
    return error instanceof MomedoError ? error.code : "foreign error";
  }
}

const clientCode = (text: string) => errorCodeOf(() => decodeClientFrame(text));
const serverCode = (text: string) => errorCodeOf(() => decodeServerFrame(text));
const json = (value: unknown) => JSON.stringify(value);

describe("decodeClientFrame", () => {
  it.each(VALID_CLIENT.map((f) => [f.t, f] as const))("accepts a valid %s frame unchanged", (_t, frame) => {
    expect(decodeClientFrame(json(frame))).toEqual(frame);
    expect(decodeClientFrame(encodeFrame(frame))).toEqual(frame);
  });

  it.each([
    ["", "empty text"],
    ["not json", "plain text"],
    ['{"t":"ping","id":1', "truncated JSON"],
    ["{'t':'ping'}", "single quotes"],
    ["[]", "an array"],
    ['[{"t":"ping","id":1}]', "a frame wrapped in an array"],
    ["null", "null"],
    ["42", "a number"],
    ['"ping"', "a string"],
    ["true", "a boolean"],
    ["{}", "an object without t"],
    ['{"t":1,"id":1}', "a numeric t"],
    ['{"t":null}', "a null t"],
    ['{"t":["ping"],"id":1}', "an array t"],
  ])("rejects %j (%s) as bad_frame", (text) => {
    expect(clientCode(text)).toBe("bad_frame");
  });

  it.each([
    ["teleport"],
    [""],
    ["PING"],
    ["msg"], // a server frame is not a client frame
    ["challenge"],
    ["__proto__"],
    ["constructor"],
    ["toString"],
    ["hasOwnProperty"],
  ])("rejects the unknown type %j as unknown_type", (t) => {
    expect(clientCode(json({ t, id: 1 }))).toBe("unknown_type");
  });

  it("keeps the detail of an unknown type short", () => {
    const t = "x".repeat(1000);
    try {
      decodeClientFrame(json({ t }));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MomedoError);
      expect((error as MomedoError).detail).toBe("x".repeat(40));
    }
  });

  it.each([
    ["auth without sig", { t: "auth", user: USER, device: DEVICE }],
    ["auth without user", { t: "auth", device: DEVICE, sig: B64 }],
    ["ack without seq", { t: "ack" }],
    ["ping without id", { t: "ping" }],
    ["keys.upload without keyPackages", { t: "keys.upload", id: 1 }],
    ["keys.claim without user", { t: "keys.claim", id: 1 }],
    ["group.send without data", { t: "group.send", id: 1, group: "abcd", epoch: 1 }],
    ["group.send without epoch", { t: "group.send", id: 1, group: "abcd", data: B64 }],
    ["group.commit without members", { t: "group.commit", id: 1, group: "abcd", epoch: 0, commit: B64 }],
    ["group.commit without commit", { t: "group.commit", id: 1, group: "abcd", epoch: 0, members: [`${USER}/${DEVICE}`] }],
  ])("rejects a missing field (%s) as bad_frame", (_name, frame) => {
    expect(clientCode(json(frame))).toBe("bad_frame");
  });

  it.each(VALID_CLIENT.map((f) => [f.t, f] as const))("rejects an extra field on %s as bad_frame", (_t, frame) => {
    expect(clientCode(json({ ...frame, extra: 1 }))).toBe("bad_frame");
    // "__proto__" as an own JSON key is an extra field too, not a prototype.
    expect(clientCode(json(frame).replace(/^\{/, '{"__proto__":{"x":1},'))).toBe("bad_frame");
  });

  it.each([
    ["lower-case user", { t: "keys.claim", id: 1, user: "abcdefgh" }],
    ["user with I (not Crockford)", { t: "keys.claim", id: 1, user: "ABCDEFGI" }],
    ["user with L", { t: "keys.claim", id: 1, user: "ABCDEFGL" }],
    ["user with O", { t: "keys.claim", id: 1, user: "ABCDEFGO" }],
    ["user with U", { t: "keys.claim", id: 1, user: "ABCDEFGU" }],
    ["7-character user", { t: "keys.claim", id: 1, user: "ABCDEFG" }],
    ["9-character user", { t: "keys.claim", id: 1, user: "ABCDEFGHJ" }],
    ["user with a trailing newline", { t: "keys.claim", id: 1, user: `${USER}\n` }],
    ["numeric user", { t: "keys.claim", id: 1, user: 12345678 }],
    ["device with a dash", { t: "auth", user: USER, device: "0123-JKM", sig: B64 }],
    ["member without a slash", { t: "group.commit", id: 1, group: "abcd", epoch: 0, commit: B64, members: [USER + DEVICE] }],
    ["member with two slashes", { t: "group.commit", id: 1, group: "abcd", epoch: 0, commit: B64, members: [`${USER}/${DEVICE}/x`] }],
    ["empty member list", { t: "group.commit", id: 1, group: "abcd", epoch: 0, commit: B64, members: [] }],
    ["3-character group", { t: "group.send", id: 1, group: "abc", epoch: 0, data: B64 }],
    ["65-character group", { t: "group.send", id: 1, group: "a".repeat(65), epoch: 0, data: B64 }],
    ["group with a slash", { t: "group.send", id: 1, group: "ab/cd", epoch: 0, data: B64 }],
    ["group with a space", { t: "group.send", id: 1, group: "ab cd", epoch: 0, data: B64 }],
    ["URL-safe base64 data", { t: "group.send", id: 1, group: "abcd", epoch: 0, data: "-_-_" }],
    ["three padding characters", { t: "group.send", id: 1, group: "abcd", epoch: 0, data: "A===" }],
    ["padding in the middle", { t: "group.send", id: 1, group: "abcd", epoch: 0, data: "AA==AA==" }],
    ["non-string key package", { t: "keys.upload", id: 1, keyPackages: [1] }],
    ["101 key packages", { t: "keys.upload", id: 1, keyPackages: Array.from({ length: 101 }, () => "AAAA") }],
  ])("rejects a bad identifier or value (%s) as bad_frame", (_name, frame) => {
    expect(clientCode(json(frame))).toBe("bad_frame");
  });

  it.each([
    ["negative seq", { t: "ack", seq: -1 }],
    ["fractional seq", { t: "ack", seq: 1.5 }],
    ["string seq", { t: "ack", seq: "1" }],
    ["huge seq (1e400 → Infinity)", '{"t":"ack","seq":1e400}'],
    ["negative id", { t: "ping", id: -1 }],
    ["id above 2^31", { t: "ping", id: 2 ** 31 + 1 }],
    ["fractional id", { t: "ping", id: 0.5 }],
    ["negative epoch", { t: "group.send", id: 1, group: "abcd", epoch: -1, data: B64 }],
    ["null epoch", { t: "group.send", id: 1, group: "abcd", epoch: null, data: B64 }],
  ])("rejects a bad number (%s) as bad_frame", (_name, frame) => {
    expect(clientCode(typeof frame === "string" ? frame : json(frame))).toBe("bad_frame");
  });

  it("names the offending field in the error detail", () => {
    try {
      decodeClientFrame(json({ t: "ack", seq: -1 }));
      expect.unreachable();
    } catch (error) {
      expect((error as MomedoError).detail).toContain("/seq");
    }
  });
});

describe("decodeServerFrame", () => {
  it.each(VALID_SERVER.map((f, i) => [`${f.t} #${i}`, f] as const))("accepts a valid %s frame", (_name, frame) => {
    expect(decodeServerFrame(json(frame))).toEqual(frame);
  });

  it.each([
    ["not JSON", "<html>"],
    ["an array", "[]"],
    ["null", "null"],
    ["challenge without nonce", json({ t: "challenge", server: "x" })],
    ["msg with an unknown kind", json({ ...VALID_SERVER[2], kind: "spam" })],
    ["msg with a negative seq", json({ ...VALID_SERVER[2], seq: -3 })],
    ["msg with a bad sender", json({ ...VALID_SERVER[2], from: USER })],
    ["ready with a bad user", json({ t: "ready", user: "nope", device: DEVICE })],
    ["ok without result", json({ t: "ok", id: 1 })],
    ["err without code", json({ t: "err", message: "x" })],
  ])("rejects %s as bad_frame", (_name, text) => {
    expect(serverCode(text)).toBe("bad_frame");
  });

  it.each([["auth"], ["ping"], ["group.send"], ["nope"]])("rejects the client or unknown type %j as unknown_type", (t) => {
    expect(serverCode(json({ t, id: 1 }))).toBe("unknown_type");
  });
});

describe("decodeEnrollRequest", () => {
  it("accepts a code and a key and nothing else", () => {
    const request = { code: "ABCDEFGHJKMNPQRS", signaturePublicKey: B64 };
    expect(decodeEnrollRequest(request)).toEqual(request);
    for (const bad of [
      null,
      [],
      "x",
      {},
      { code: "", signaturePublicKey: B64 },
      { code: "x".repeat(65), signaturePublicKey: B64 },
      { code: 12, signaturePublicKey: B64 },
      { code: "ABCD", signaturePublicKey: "not base64!" },
      { ...request, extra: true },
    ]) {
      expect(errorCodeOf(() => decodeEnrollRequest(bad))).toBe("bad_frame");
    }
  });
});

describe("authChallengeText", () => {
  it("binds the nonce and the device", () => {
    const text = (n: string, u: string, d: string) => new TextDecoder().decode(authChallengeText(n, u, d));
    expect(text("bm9uY2U=", USER, DEVICE)).toBe(`momedo-auth-v1\nbm9uY2U=\n${USER}/${DEVICE}`);
    expect(text("a", USER, DEVICE)).not.toBe(text("b", USER, DEVICE));
    expect(text("a", USER, DEVICE)).not.toBe(text("a", OTHER, DEVICE));
    expect(text("a", USER, DEVICE)).not.toBe(text("a", USER, OTHER));
  });
});

// ---------------------------------------------------------------------------------------------
// Property: whatever text arrives, decodeClientFrame either returns a frame that survives a
// second round through the codec, or throws a MomedoError with a frame code. Nothing else.

const CLIENT_TYPES = ["auth", "ack", "keys.upload", "keys.claim", "group.commit", "group.send", "ping"] as const;

/** Values near the boundaries of the schemas, mixed with arbitrary JSON. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    -1,
    0,
    1,
    1.5,
    2 ** 31,
    2 ** 31 + 1,
    Number.MAX_SAFE_INTEGER,
    "",
    "A",
    "AAAA",
    "AA==",
    "A===",
    "-_",
    USER,
    "abcdefgh",
    `${USER}/${DEVICE}`,
    "d.short",
    "abc",
    null,
    true,
    [],
    {},
    [B64],
    [`${USER}/${DEVICE}`],
    ...CLIENT_TYPES,
  ),
  fc.jsonValue({ maxDepth: 2 }),
  fc.string(),
  fc.integer(),
  fc.double(),
);

type Mutation =
  | { op: "delete"; index: number }
  | { op: "replace"; index: number; value: unknown }
  | { op: "add"; key: string; value: unknown }
  | { op: "retype"; t: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("delete" as const), index: fc.nat() }),
  fc.record({ op: fc.constant("replace" as const), index: fc.nat(), value: oddValue }),
  fc.record({
    op: fc.constant("add" as const),
    key: fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "t", "id", "extra")),
    value: oddValue,
  }),
  fc.record({ op: fc.constant("retype" as const), t: fc.oneof(fc.constantFrom(...CLIENT_TYPES), fc.string()) }),
);

/** Applies mutations to a frame; own keys only (a "__proto__" key stays a plain own property). */
function mutate(frame: Record<string, unknown>, mutations: Mutation[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(frame)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (const m of mutations) {
    const keys = Object.keys(out);
    if (m.op === "delete" && keys.length > 0) delete out[keys[m.index % keys.length]!];
    else if (m.op === "replace" && keys.length > 0) out[keys[m.index % keys.length]!] = m.value;
    else if (m.op === "add") Object.defineProperty(out, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
    else if (m.op === "retype") out.t = m.t;
  }
  return out;
}

const mutatedFrame: fc.Arbitrary<string> = fc
  .record({
    base: fc.constantFrom(...VALID_CLIENT),
    mutations: fc.array(mutation, { maxLength: 3 }),
  })
  .map(({ base, mutations }) => JSON.stringify(mutate(base as unknown as Record<string, unknown>, mutations)));

const anythingAsJson: fc.Arbitrary<string> = fc
  .anything()
  .map((value) => {
    try {
      return JSON.stringify(value);
    } catch {
      return undefined;
    }
  })
  .filter((text): text is string => typeof text === "string");

const objectWithKnownType: fc.Arbitrary<string> = fc
  .record({ t: fc.constantFrom(...CLIENT_TYPES), rest: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })) })
  .map(({ t, rest }) => JSON.stringify({ ...rest, t }));

const anyInput: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.json(),
  anythingAsJson,
  objectWithKnownType,
  { arbitrary: mutatedFrame, weight: 4 },
);

describe("decodeClientFrame on arbitrary input", () => {
  it("returns a frame that re-validates or throws bad_frame/unknown_type, nothing else", () => {
    const outcomes = { accepted: 0, bad_frame: 0, unknown_type: 0 };
    fc.assert(
      fc.property(anyInput, (text) => {
        let frame: ClientFrame;
        try {
          frame = decodeClientFrame(text);
        } catch (error) {
          expect(error).toBeInstanceOf(MomedoError);
          const code = (error as MomedoError).code;
          expect(["bad_frame", "unknown_type"]).toContain(code);
          outcomes[code as "bad_frame" | "unknown_type"]++;
          return;
        }
        outcomes.accepted++;
        expect(typeof frame.t).toBe("string");
        const again = decodeClientFrame(encodeFrame(frame));
        expect(again).toEqual(frame);
        expect(encodeFrame(again)).toBe(encodeFrame(frame));
      }),
      { numRuns: 2000 },
    );
    // The generators reach all three outcomes; otherwise the property would prove little.
    expect(outcomes.accepted).toBeGreaterThan(20);
    expect(outcomes.bad_frame).toBeGreaterThan(20);
    expect(outcomes.unknown_type).toBeGreaterThan(20);
  });

  it("decodeServerFrame likewise only throws bad_frame/unknown_type", () => {
    fc.assert(
      fc.property(anyInput, (text) => {
        try {
          const frame = decodeServerFrame(text);
          expect(decodeServerFrame(JSON.stringify(frame))).toEqual(frame);
        } catch (error) {
          expect(error).toBeInstanceOf(MomedoError);
          expect(["bad_frame", "unknown_type"]).toContain((error as MomedoError).code);
        }
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
describe("base64", () => {
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  it("encodes exactly like Buffer and decodes back", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const expected = Buffer.from(bytes).toString("base64");
        expect(toBase64(bytes)).toBe(expected);
        expect(fromBase64(expected)).toEqual(bytes);
        const url = Buffer.from(bytes).toString("base64url");
        expect(toBase64Url(bytes)).toBe(url);
        expect(fromBase64(url)).toEqual(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it("decodes any string over the alphabet like Buffer does, or refuses an impossible length", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 64 }), (text) => {
        if (text.length % 4 === 1) {
          expect(() => fromBase64(text)).toThrow(RangeError);
        } else {
          expect(Buffer.from(fromBase64(text))).toEqual(Buffer.from(text, "base64"));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("refuses characters outside the alphabets with a RangeError", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.constantFrom("!", " ", "\n", "=A", ".", "ä", "\u{1F600}", "\u0000"),
        fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 8 }),
        (_unused, bad, prefix) => {
          expect(() => fromBase64(`${prefix}${bad}AA`)).toThrow(RangeError);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("handles the RFC 4648 test vectors", () => {
    const vectors: [string, string][] = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [plain, encoded] of vectors) {
      const bytes = new TextEncoder().encode(plain);
      expect(toBase64(bytes)).toBe(encoded);
      expect(new TextDecoder().decode(fromBase64(encoded))).toBe(plain);
      expect(new TextDecoder().decode(fromBase64(encoded.replace(/=+$/, "")))).toBe(plain);
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe("invites", () => {
  const CODE = "0123456789ABCDEFGHJK";
  const FP = "a".repeat(21) + "-_" + "Z".repeat(20); // 43 base64url characters
  const CODE_CHARS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

  const invite = fc.record(
    {
      url: fc.oneof(
        fc.constantFrom("https://chat.schule.example", "https://10.0.0.5:4710", "https://[::1]:4710", "https://x.example/momedo"),
        fc.domain().map((d) => `https://${d}`),
        fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([ip, port]) => `https://${ip}:${port}`),
      ),
      code: fc.string({ unit: fc.constantFrom(...CODE_CHARS), minLength: 16, maxLength: 32 }),
      fingerprint: fc.string({
        unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        minLength: 43,
        maxLength: 43,
      }),
    },
    { requiredKeys: ["url", "code", "fingerprint"] },
  );

  it("round-trips formatInvite → parseInvite", () => {
    fc.assert(
      fc.property(invite, (i) => {
        const parsed = parseInvite(formatInvite(i));
        expect(parsed.code).toBe(i.code);
        expect(parsed.fingerprint).toBe(i.fingerprint);
        expect(parsed.url).toBe(new URL(i.url).href.replace(/\/+$/, ""));
        expect(parseInvite(formatInvite(parsed))).toEqual(parsed);
      }),
      { numRuns: 300 },
    );
  });

  it("round-trips an http invite without fingerprint", () => {
    const text = formatInvite({ url: "http://127.0.0.1:4710/", code: CODE });
    expect(text).toBe(`http://127.0.0.1:4710/join#c=${CODE}`);
    expect(parseInvite(text)).toEqual({ url: "http://127.0.0.1:4710", code: CODE });
    expect(parseInvite(`  ${text}\n`)).toEqual({ url: "http://127.0.0.1:4710", code: CODE });
  });

  it("formats the fingerprint into the hash, never the query", () => {
    const text = formatInvite({ url: "https://s.example", code: CODE, fingerprint: FP });
    expect(text).toBe(`https://s.example/join#c=${CODE}&fp=${FP}`);
    expect(new URL(text).search).toBe("");
  });

  it.each([
    ["not a URL", "hello"],
    ["empty", ""],
    ["ftp scheme", `ftp://s.example/join#c=${CODE}`],
    ["javascript scheme", `javascript:alert(1)//join#c=${CODE}`],
    ["wrong path", `http://s.example/enroll#c=${CODE}`],
    ["no code", "http://s.example/join"],
    ["code in the query, not the hash", `http://s.example/join?c=${CODE}`],
    ["short code", `http://s.example/join#c=${CODE.slice(0, 15)}`],
    ["long code", `http://s.example/join#c=${CODE}${CODE}X`],
    ["lower-case code", `http://s.example/join#c=${CODE.toLowerCase()}`],
    ["code with I", `http://s.example/join#c=${CODE.slice(0, 15)}I`],
    ["https without fingerprint", `https://s.example/join#c=${CODE}`],
    ["short fingerprint", `https://s.example/join#c=${CODE}&fp=${FP.slice(1)}`],
    ["fingerprint with +", `https://s.example/join#c=${CODE}&fp=${FP.slice(1)}+`],
  ])("rejects %s with invite_invalid", (_name, text) => {
    expect(errorCodeOf(() => parseInvite(text))).toBe("invite_invalid");
  });

  it("never throws anything but invite_invalid on arbitrary text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl({ withFragments: true, withQueryParameters: true })), (text) => {
        const code = errorCodeOf(() => parseInvite(text));
        expect(["no error", "invite_invalid"]).toContain(code);
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
describe("short IDs", () => {
  const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

  it("crockford encodes 5 bits per character, most significant first", () => {
    expect(crockford(new Uint8Array([0, 0, 0, 0, 0]), 8)).toBe("00000000");
    expect(crockford(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]), 8)).toBe("ZZZZZZZZ");
    // 0x08 0x44 0x32 0x14 0xc7 = 00001 00001 00010 00011 00100 00101 00110 00111
    expect(crockford(new Uint8Array([0x08, 0x44, 0x32, 0x14, 0xc7]), 8)).toBe("11234567");
  });

  it("matches a bit-string reference and always yields a valid short ID", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 5, maxLength: 40 }), fc.integer({ min: 1, max: 8 }), (bytes, length) => {
        const bits = [...bytes].map((b) => b.toString(2).padStart(8, "0")).join("");
        const expected = Array.from({ length }, (_, i) => CROCKFORD[parseInt(bits.slice(i * 5, i * 5 + 5), 2)]).join("");
        expect(crockford(bytes, length)).toBe(expected);
        const id = crockford(bytes, 8);
        expect(isShortId(id)).toBe(true);
        expect(normalizeShortId(id)).toBe(id);
        expect(normalizeShortId(` ${id.toLowerCase()} `)).toBe(id);
      }),
      { numRuns: 500 },
    );
  });

  it("refuses to invent characters when too few bytes are given", () => {
    expect(() => crockford(new Uint8Array(4), 8)).toThrow(RangeError);
    expect(() => crockford(new Uint8Array(0), 1)).toThrow(RangeError);
    expect(crockford(new Uint8Array(1), 1)).toBe("0");
  });

  it("normalizes lenient input: case, O → 0, I/L → 1, surrounding space", () => {
    expect(normalizeShortId(" abcdefgh ")).toBe("ABCDEFGH");
    expect(normalizeShortId("o0oIiLl1")).toBe("00011111");
    expect(isShortId(normalizeShortId("7k2moq1l"))).toBe(true);
    expect(normalizeShortId("7k2moq1l")).toBe("7K2M0Q11");
    // U has no lenient reading and stays invalid.
    expect(isShortId(normalizeShortId("uuuuuuuu"))).toBe(false);
  });

  it("parses device addresses and refuses anything else", () => {
    expect(parseDeviceAddress(deviceAddress(USER, DEVICE))).toEqual({ user: USER, device: DEVICE });
    for (const bad of ["", USER, `${USER}/`, `/${DEVICE}`, `${USER}/${DEVICE.toLowerCase()}`, `${USER}/ABCDEFGI`]) {
      expect(() => parseDeviceAddress(bad)).toThrow(RangeError);
    }
  });
});
