// Enrollment: a one-time invite code plus the device's new signature key become a registered
// device and an org-signed credential, in one transaction.
import {
  decodeEnrollRequest,
  encodeCredentialIdentity,
  fromBase64,
  signCredential,
  toBase64,
  MomedoError,
  type EnrollResponse,
} from "@momedo/protocol";
import type { Db } from "../storage/database.js";
import type { Invites } from "../people/invites.js";
import type { People } from "../people/people.js";
import type { OrgKey } from "../org/orgKey.js";

export interface EnrollmentContext {
  db: Db;
  people: People;
  invites: Invites;
  orgKey: OrgKey;
  organization: string;
  ciphersuite: string;
}

export function enroll(context: EnrollmentContext, body: unknown): EnrollResponse {
  const request = decodeEnrollRequest(body);
  const signaturePublicKey = fromBase64(request.signaturePublicKey);
  if (signaturePublicKey.length !== 32) throw new MomedoError("bad_frame", "signature key must be 32 bytes (Ed25519)");
  const { user, device } = context.db.transaction(() => {
    const user = context.invites.redeem(request.code);
    return { user, device: context.people.addDevice(user, signaturePublicKey) };
  })();
  const bot = context.db.prepare("SELECT role FROM users WHERE id = ?").get(user) as { role: string } | undefined;
  const credential = signCredential(context.orgKey.secretKey, user, device, signaturePublicKey, bot?.role === "bot");
  return {
    user,
    device,
    name: context.people.name(user) ?? "",
    credential: toBase64(encodeCredentialIdentity(credential)),
    orgKey: toBase64(context.orgKey.publicKey),
    organization: context.organization,
    ciphersuite: context.ciphersuite,
  };
}
