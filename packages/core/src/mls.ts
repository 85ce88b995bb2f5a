// momedo's small MLS interface. Everything that touches ts-mls lives in this file, so the
// library (or its version) can change in one place.
import {
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeGroupState,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  encodeGroupState,
  encodeMlsMessage,
  generateKeyPackageWithKey,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  makePskIndex,
  processPrivateMessage,
  bytesToBase64,
  type CiphersuiteImpl,
  type CiphersuiteName,
  type ClientState,
  type KeyPackage,
  type PrivateKeyPackage,
  type Proposal,
  type PskIndex,
} from "ts-mls";
import { defaultClientConfig, type ClientConfig } from "ts-mls/clientConfig.js";
import { decodeKeyPackage, encodeKeyPackage, makeKeyPackageRef } from "ts-mls/keyPackage.js";
import { unprotectPrivateMessage } from "ts-mls/messageProtection.js";
import {
  credentialPayload,
  decodeCredentialIdentity as decodeIdentity,
  verifyCredential,
  type DeviceCredential,
} from "@momedo/protocol";

export const DEFAULT_CIPHERSUITE = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";
export const SUPPORTED_CIPHERSUITES = [DEFAULT_CIPHERSUITE, "MLS_256_XWING_AES256GCM_SHA512_Ed25519"] as const;

export type GroupState = ClientState;

export class MlsError extends Error {
  constructor(
    readonly reason: "undecryptable" | "untrusted_credential" | "no_key_package" | "malformed" | "inactive" | "passphrase_needed",
    detail: string,
  ) {
    super(`${reason}: ${detail}`);
    this.name = "MlsError";
  }
}

const suites = new Map<string, Promise<CiphersuiteImpl>>();

export function ciphersuite(name: string): Promise<CiphersuiteImpl> {
  if (!(SUPPORTED_CIPHERSUITES as readonly string[]).includes(name)) {
    throw new MlsError("malformed", `unsupported ciphersuite ${name}`);
  }
  let impl = suites.get(name);
  if (!impl) {
    impl = getCiphersuiteImpl(getCiphersuiteFromName(name as CiphersuiteName)).then(withPlatformVerify);
    suites.set(name, impl);
  }
  return impl;
}

const importedKeys = new Map<string, Promise<CryptoKey>>();

/**
 * Ed25519 verification through the platform's WebCrypto, about eight times faster than pure JS;
 * `fallback` (the pure-JS code) runs where WebCrypto has no Ed25519. Both supported suites and
 * the organisation's credential signatures use Ed25519, and verification dominates large groups.
 */
async function platformVerify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  fallback: () => boolean | Promise<boolean>,
): Promise<boolean> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return fallback();
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const id = bytesToBase64(publicKey);
  let key = importedKeys.get(id);
  if (!key) {
    if (importedKeys.size > 10_000) importedKeys.clear();
    key = subtle.importKey("raw", new Uint8Array(publicKey), { name: "Ed25519" }, false, ["verify"]);
    importedKeys.set(id, key);
  }
  try {
    return await subtle.verify("Ed25519", await key, new Uint8Array(signature), new Uint8Array(message));
  } catch {
    importedKeys.delete(id);
    return fallback();
  }
}

function withPlatformVerify(impl: CiphersuiteImpl): CiphersuiteImpl {
  const verify = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) =>
    platformVerify(publicKey, message, signature, () => impl.signature.verify(publicKey, message, signature));
  return { ...impl, signature: { ...impl.signature, verify } };
}

const vouched = new Map<string, DeviceCredential>();

/**
 * The credential if the organisation key vouches for this identity holding this signature key.
 * A leaf is checked when its KeyPackage is claimed, again inside the commit, and by every
 * member who joins, so confirmed answers are kept.
 */
export async function vouchedCredential(
  orgPublicKey: Uint8Array,
  identity: Uint8Array,
  signaturePublicKey: Uint8Array,
): Promise<DeviceCredential | undefined> {
  const id = `${bytesToBase64(orgPublicKey)}|${bytesToBase64(identity)}|${bytesToBase64(signaturePublicKey)}`;
  const known = vouched.get(id);
  if (known) return known;
  const credential = decodeIdentity(identity);
  if (!credential) return undefined;
  const payload = credentialPayload(credential.user, credential.device, signaturePublicKey, credential.bot);
  const valid = await platformVerify(orgPublicKey, payload, credential.orgSignature, () =>
    verifyCredential(orgPublicKey, identity, signaturePublicKey) !== undefined,
  );
  if (!valid) return undefined;
  if (vouched.size > 100_000) vouched.clear();
  vouched.set(id, credential);
  return credential;
}

/** The client configuration with momedo's authentication service: only org-signed credentials. */
export function clientConfig(orgPublicKey: Uint8Array): ClientConfig {
  return {
    ...defaultClientConfig,
    // Every kept epoch holds a copy of the tree; one earlier epoch covers messages in flight.
    keyRetentionConfig: { ...defaultClientConfig.keyRetentionConfig, retainKeysForEpochs: 1 },
    authService: {
      async validateCredential(credential, signaturePublicKey) {
        if (credential.credentialType !== "basic") return false;
        return (await vouchedCredential(orgPublicKey, credential.identity, signaturePublicKey)) !== undefined;
      },
    },
  };
}

export interface SignatureKeys {
  publicKey: Uint8Array;
  signKey: Uint8Array;
}

export async function newSignatureKeys(impl: CiphersuiteImpl): Promise<SignatureKeys> {
  return impl.signature.keygen();
}

export async function sign(impl: CiphersuiteImpl, keys: SignatureKeys, message: Uint8Array): Promise<Uint8Array> {
  return impl.signature.sign(keys.signKey, message);
}

export interface OwnKeyPackage {
  ref: string;
  publicPackage: Uint8Array;
  privatePackage: PrivateKeyPackage;
}

export async function newKeyPackage(
  impl: CiphersuiteImpl,
  identity: Uint8Array,
  keys: SignatureKeys,
): Promise<OwnKeyPackage> {
  const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
    { credentialType: "basic", identity },
    defaultCapabilities(),
    defaultLifetime,
    [],
    keys,
    impl,
  );
  const ref = hex(await makeKeyPackageRef(publicPackage, impl.hash));
  return { ref, publicPackage: encodeKeyPackage(publicPackage), privatePackage };
}

export function encodeKeyPackageMessage(publicPackage: Uint8Array): Uint8Array {
  const keyPackage = decodeKeyPackageBytes(publicPackage);
  return encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage });
}

function decodeKeyPackageBytes(bytes: Uint8Array): KeyPackage {
  const decoded = decodeKeyPackage(bytes, 0);
  if (!decoded) throw new MlsError("malformed", "key package");
  return decoded[0];
}

export interface PeerKeyPackage {
  keyPackage: KeyPackage;
  credential: DeviceCredential;
}

/** Decodes a KeyPackage message from the key server and checks its signature and org credential. */
export async function readPeerKeyPackage(
  impl: CiphersuiteImpl,
  orgPublicKey: Uint8Array,
  message: Uint8Array,
): Promise<PeerKeyPackage> {
  const decoded = decodeMlsMessage(message, 0);
  if (!decoded || decoded[0].wireformat !== "mls_key_package") throw new MlsError("malformed", "not a key package");
  const keyPackage = decoded[0].keyPackage;
  const leaf = keyPackage.leafNode;
  if (leaf.credential.credentialType !== "basic") throw new MlsError("untrusted_credential", "not a basic credential");
  const credential = await vouchedCredential(orgPublicKey, leaf.credential.identity, leaf.signaturePublicKey);
  if (!credential) throw new MlsError("untrusted_credential", "credential not signed by the organisation");
  return { keyPackage, credential };
}

export async function createGroupState(
  impl: CiphersuiteImpl,
  config: ClientConfig,
  groupId: string,
  own: OwnKeyPackage,
): Promise<GroupState> {
  const keyPackage = decodeKeyPackageBytes(own.publicPackage);
  return createGroup(new TextEncoder().encode(groupId), keyPackage, own.privatePackage, [], impl, config);
}

export interface CommitOutput {
  state: GroupState;
  commit: Uint8Array;
  welcome?: Uint8Array;
}

export interface ExternalPsk {
  id: Uint8Array;
  secret: Uint8Array;
}

export interface Changes {
  adds?: KeyPackage[];
  /** Leaf indexes to remove. */
  removes?: number[];
  /** An external PSK injected into this epoch (passphrase-protected conversations). */
  psk?: ExternalPsk;
}

export function pskIndex(state: GroupState | undefined, psk: ExternalPsk | undefined): PskIndex {
  return makePskIndex(state, psk ? { [bytesToBase64(psk.id)]: psk.secret } : {});
}

export function isMissingPsk(error: unknown): boolean {
  return String(error).includes("Could not find pskId");
}

/** One commit with the given adds and removes; with neither it is a re-key of the own leaf. */
export async function commitChanges(impl: CiphersuiteImpl, state: GroupState, changes: Changes): Promise<CommitOutput> {
  const proposals: Proposal[] = [
    ...(changes.removes ?? []).map((removed): Proposal => ({ proposalType: "remove", remove: { removed } })),
    ...(changes.adds ?? []).map((keyPackage): Proposal => ({ proposalType: "add", add: { keyPackage } })),
    ...(changes.psk
      ? [
          {
            proposalType: "psk",
            psk: {
              preSharedKeyId: { psktype: "external", pskId: changes.psk.id, pskNonce: impl.rng.randomBytes(impl.kdf.size) },
            },
          } as Proposal,
        ]
      : []),
  ];
  const result = await createCommit(
    { state, cipherSuite: impl, pskIndex: pskIndex(state, changes.psk) },
    { extraProposals: proposals, ratchetTreeExtension: true },
  );
  const welcome = result.welcome
    ? encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome: result.welcome })
    : undefined;
  return { state: result.newState, commit: encodeMlsMessage(result.commit), ...(welcome ? { welcome } : {}) };
}

/** The KeyPackage refs a Welcome is addressed to. */
export function welcomeRecipients(welcome: Uint8Array): string[] {
  const decoded = decodeMlsMessage(welcome, 0);
  if (!decoded || decoded[0].wireformat !== "mls_welcome") throw new MlsError("malformed", "not a welcome");
  return decoded[0].welcome.secrets.map((s) => hex(s.newMember));
}

export async function joinFromWelcome(
  impl: CiphersuiteImpl,
  config: ClientConfig,
  welcome: Uint8Array,
  own: OwnKeyPackage,
  psk?: ExternalPsk,
): Promise<GroupState> {
  const decoded = decodeMlsMessage(welcome, 0);
  if (!decoded || decoded[0].wireformat !== "mls_welcome") throw new MlsError("malformed", "not a welcome");
  const keyPackage = decodeKeyPackageBytes(own.publicPackage);
  return joinGroup(decoded[0].welcome, keyPackage, own.privatePackage, pskIndex(undefined, psk), impl, undefined, undefined, config);
}

export async function encryptApplication(
  impl: CiphersuiteImpl,
  state: GroupState,
  plaintext: Uint8Array,
): Promise<{ state: GroupState; message: Uint8Array }> {
  const result = await createApplicationMessage(state, plaintext, impl);
  const message = encodeMlsMessage({
    version: "mls10",
    wireformat: "mls_private_message",
    privateMessage: result.privateMessage,
  });
  return { state: result.newState, message };
}

export type Incoming =
  | { kind: "application"; state: GroupState; plaintext: Uint8Array; sender: DeviceCredential }
  | { kind: "commit"; state: GroupState; removedSelf: boolean };

/** Processes a handshake or application message of a group; throws MlsError if it cannot. */
export async function processIncoming(impl: CiphersuiteImpl, state: GroupState, bytes: Uint8Array, psk?: ExternalPsk): Promise<Incoming> {
  const decoded = decodeMlsMessage(bytes, 0);
  if (!decoded || decoded[0].wireformat !== "mls_private_message") throw new MlsError("malformed", "not a private message");
  const message = decoded[0].privateMessage;
  if (message.contentType === "application") {
    // Decrypt directly (rather than processPrivateMessage) so the authenticated sender leaf is
    // known. A message of a recent earlier epoch uses that epoch's retained receiver data.
    const current = message.epoch === state.groupContext.epoch;
    const past = current ? undefined : state.historicalReceiverData.get(message.epoch);
    if (!current && !past) throw new MlsError("undecryptable", `epoch ${message.epoch}, group at ${state.groupContext.epoch}`);
    const epochData = past ?? {
      senderDataSecret: state.keySchedule.senderDataSecret,
      secretTree: state.secretTree,
      ratchetTree: state.ratchetTree,
      groupContext: state.groupContext,
    };
    let result;
    try {
      result = await unprotectPrivateMessage(
        epochData.senderDataSecret,
        message,
        epochData.secretTree,
        epochData.ratchetTree,
        epochData.groupContext,
        state.clientConfig.keyRetentionConfig,
        impl,
      );
    } catch (error) {
      throw new MlsError("undecryptable", String(error));
    }
    const content = result.content.content;
    if (content.contentType !== "application" || content.sender.senderType !== "member") {
      throw new MlsError("malformed", "unexpected content");
    }
    const sender = memberCredential(epochData.ratchetTree, content.sender.leafIndex);
    const next: GroupState = past
      ? { ...state, historicalReceiverData: new Map(state.historicalReceiverData).set(message.epoch, { ...past, secretTree: result.tree }) }
      : { ...state, secretTree: result.tree };
    return { kind: "application", state: next, plaintext: content.applicationData, sender };
  }
  let result;
  try {
    result = await processPrivateMessage(state, message, pskIndex(state, psk), impl);
  } catch (error) {
    if (isMissingPsk(error)) throw new MlsError("passphrase_needed", String(error));
    throw new MlsError("undecryptable", String(error));
  }
  if (result.kind !== "newState") throw new MlsError("malformed", "expected a commit");
  const removedSelf = result.newState.groupActiveState.kind !== "active";
  return { kind: "commit", state: result.newState, removedSelf };
}

function memberCredential(tree: GroupState["ratchetTree"], leafIndex: number): DeviceCredential {
  const node = tree[leafIndex * 2];
  if (node?.nodeType !== "leaf" || node.leaf.credential.credentialType !== "basic") {
    throw new MlsError("malformed", `no member at leaf ${leafIndex}`);
  }
  // Credentials were verified by the authentication service when the leaf entered the tree.
  const credential = decodeIdentity(node.leaf.credential.identity);
  if (!credential) throw new MlsError("untrusted_credential", "unreadable member credential");
  return credential;
}

export interface Member extends DeviceCredential {
  leafIndex: number;
}

export function groupMembers(state: GroupState): Member[] {
  const members: Member[] = [];
  state.ratchetTree.forEach((node, index) => {
    if (node?.nodeType === "leaf" && node.leaf.credential.credentialType === "basic") {
      const credential = decodeIdentity(node.leaf.credential.identity);
      if (credential) members.push({ ...credential, leafIndex: index / 2 });
    }
  });
  return members;
}

export function ownLeafIndex(state: GroupState): number {
  return state.privatePath.leafIndex;
}

export function groupCiphersuite(state: GroupState): string {
  return state.groupContext.cipherSuite;
}

export function groupEpoch(state: GroupState): number {
  return Number(state.groupContext.epoch);
}

export function isActive(state: GroupState): boolean {
  return state.groupActiveState.kind === "active";
}

export function encodeState(state: GroupState): Uint8Array {
  return encodeGroupState(state);
}

export function decodeState(bytes: Uint8Array, config: ClientConfig): GroupState {
  const decoded = decodeGroupState(bytes, 0);
  if (!decoded) throw new MlsError("malformed", "group state");
  return { ...decoded[0], clientConfig: config };
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}
