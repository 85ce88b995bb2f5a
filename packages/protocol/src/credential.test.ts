import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { decodeCredentialIdentity, encodeCredentialIdentity, signCredential, verifyCredential } from "./credential.js";

const org = ed25519.keygen();
const device = ed25519.keygen();

describe("device credentials", () => {
  it("verifies a person's and a bot's credential, the bot's with its mark", () => {
    const person = encodeCredentialIdentity(signCredential(org.secretKey, "M8N22HT6", "D1D1D1D1", device.publicKey));
    const bot = encodeCredentialIdentity(signCredential(org.secretKey, "B0TB0TB0", "D2D2D2D2", device.publicKey, true));
    expect(verifyCredential(org.publicKey, person, device.publicKey)).toMatchObject({ user: "M8N22HT6" });
    expect(verifyCredential(org.publicKey, person, device.publicKey)?.bot).toBeUndefined();
    expect(verifyCredential(org.publicKey, bot, device.publicKey)).toMatchObject({ user: "B0TB0TB0", bot: true });
  });

  it("refuses a bot that hides its mark and a person who claims one", () => {
    const bot = signCredential(org.secretKey, "B0TB0TB0", "D2D2D2D2", device.publicKey, true);
    const hidden = encodeCredentialIdentity({ user: bot.user, device: bot.device, orgSignature: bot.orgSignature });
    expect(verifyCredential(org.publicKey, hidden, device.publicKey)).toBeUndefined();
    const person = signCredential(org.secretKey, "M8N22HT6", "D1D1D1D1", device.publicKey);
    const claimed = encodeCredentialIdentity({ ...person, bot: true });
    expect(verifyCredential(org.publicKey, claimed, device.publicKey)).toBeUndefined();
  });

  it("refuses an unknown kind", () => {
    const person = signCredential(org.secretKey, "M8N22HT6", "D1D1D1D1", device.publicKey);
    const text = new TextDecoder().decode(encodeCredentialIdentity(person)).replace('"s":', '"k":"admin","s":');
    expect(decodeCredentialIdentity(new TextEncoder().encode(text))).toBeUndefined();
  });
});
