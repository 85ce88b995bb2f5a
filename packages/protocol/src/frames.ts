// The wire format between devices and the server: one JSON object per WebSocket text frame.
// Each frame is defined once here; its TypeScript type and its validator derive from it.
import { FormatRegistry, Type, type Static, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { isCanonicalBase64 } from "./base64.js";
import { MomedoError } from "./errors.js";

const ShortId = Type.String({ pattern: "^[0-9A-HJKMNP-TV-Z]{8}$" });
const DeviceAddress = Type.String({ pattern: "^[0-9A-HJKMNP-TV-Z]{8}/[0-9A-HJKMNP-TV-Z]{8}$" });
// Canonical base64 only: a length that cannot decode is refused here, not deep in a handler.
// A format check rather than a regular expression: it runs for every message the server relays.
FormatRegistry.Set("base64", isCanonicalBase64);
const Bytes = Type.String({ format: "base64" });
const GroupId = Type.String({ pattern: "^[0-9A-Za-z._-]{4,64}$" });
const MessageId = Type.String({ pattern: "^[0-9A-HJKMNP-TV-Z]{16}$" });
const RequestId = Type.Integer({ minimum: 0, maximum: 2 ** 31 });
const Epoch = Type.Integer({ minimum: 0 });
const Seq = Type.Integer({ minimum: 0 });
const Suite = Type.String({ pattern: "^MLS_[0-9A-Za-z_]{8,60}$" });

export const MAILBOX_KINDS = ["welcome", "commit", "app", "notice", "reaction"] as const;
export const GROUP_KINDS = ["direct", "group", "channel"] as const;
export type GroupKind = (typeof GROUP_KINDS)[number];
export const ROLES = ["owner", "admin", "member"] as const;
export type Role = (typeof ROLES)[number];
const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
const GroupName = Type.String({ minLength: 1, maxLength: 100 });
export type MailboxKind = (typeof MAILBOX_KINDS)[number];

// --- device -> server -------------------------------------------------------------------
export const AuthFrame = Type.Object(
  { t: Type.Literal("auth"), user: ShortId, device: ShortId, sig: Bytes },
  { additionalProperties: false },
);
export const AckFrame = Type.Object({ t: Type.Literal("ack"), seq: Seq }, { additionalProperties: false });
export const KeysUploadFrame = Type.Object(
  {
    t: Type.Literal("keys.upload"),
    id: RequestId,
    keyPackages: Type.Array(Bytes, { maxItems: 100 }),
    lastResort: Type.Optional(Bytes),
    suite: Type.Optional(Suite),
  },
  { additionalProperties: false },
);
export const KeysClaimFrame = Type.Object(
  { t: Type.Literal("keys.claim"), id: RequestId, user: ShortId, suite: Type.Optional(Suite), device: Type.Optional(ShortId) },
  { additionalProperties: false },
);
export const GroupCommitFrame = Type.Object(
  {
    t: Type.Literal("group.commit"),
    id: RequestId,
    group: GroupId,
    epoch: Epoch,
    commit: Bytes,
    welcome: Type.Optional(Bytes),
    members: Type.Array(DeviceAddress, { minItems: 1, maxItems: 10000 }),
    create: Type.Optional(
      Type.Object(
        { kind: Type.Union([Type.Literal("group"), Type.Literal("channel")]), name: GroupName },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export const GroupSendFrame = Type.Object(
  {
    t: Type.Literal("group.send"),
    id: RequestId,
    group: GroupId,
    epoch: Epoch,
    data: Bytes,
    /** A reaction: in channels members may send these; receivers accept nothing else under this flag. */
    reaction: Type.Optional(Type.Literal(true)),
    /**
     * The message's own ID (random, from inside the ciphertext): asks for a "delivered" notice
     * naming it once every other person in the chat has fetched it (chats up to 100 people).
     */
    receipt: Type.Optional(MessageId),
  },
  { additionalProperties: false },
);
export const PingFrame = Type.Object({ t: Type.Literal("ping"), id: RequestId }, { additionalProperties: false });
export const GroupRoleFrame = Type.Object(
  { t: Type.Literal("group.role"), id: RequestId, group: GroupId, user: ShortId, role: RoleSchema },
  { additionalProperties: false },
);
export const GroupRenameFrame = Type.Object(
  { t: Type.Literal("group.rename"), id: RequestId, group: GroupId, name: GroupName },
  { additionalProperties: false },
);
/** Changes this person's display name (what colleagues see); the same rules as the server's People. */
export const ProfileRenameFrame = Type.Object(
  { t: Type.Literal("profile.rename"), id: RequestId, name: Type.String({ minLength: 1, maxLength: 100, pattern: "^[^\\u0000-\\u001f]*\\S[^\\u0000-\\u001f]*$" }) },
  { additionalProperties: false },
);
export const GroupLeaveFrame = Type.Object(
  { t: Type.Literal("group.leave"), id: RequestId, group: GroupId },
  { additionalProperties: false },
);
export const GroupInfoFrame = Type.Object(
  { t: Type.Literal("group.info"), id: RequestId, group: GroupId },
  { additionalProperties: false },
);
export const GroupsListFrame = Type.Object({ t: Type.Literal("groups.list"), id: RequestId }, { additionalProperties: false });
export const DevicesListFrame = Type.Object({ t: Type.Literal("devices.list"), id: RequestId }, { additionalProperties: false });
export const DirectoryListFrame = Type.Object({ t: Type.Literal("directory.list"), id: RequestId }, { additionalProperties: false });
export const DeviceInviteFrame = Type.Object({ t: Type.Literal("device.invite"), id: RequestId }, { additionalProperties: false });
export const DeviceRemoveFrame = Type.Object(
  { t: Type.Literal("device.remove"), id: RequestId, device: ShortId },
  { additionalProperties: false },
);
export const LinkDeliverFrame = Type.Object(
  { t: Type.Literal("link.deliver"), id: RequestId, link: ShortId, package: Bytes },
  { additionalProperties: false },
);
const BlobId = Type.String({ pattern: "^[0-9A-Z]{16}$" });
/** Reserves room for an encrypted file (ciphertext bytes) in a conversation; with `blob`, resumes it. */
export const BlobUploadFrame = Type.Object(
  {
    t: Type.Literal("blob.upload"),
    id: RequestId,
    group: GroupId,
    size: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    blob: Type.Optional(BlobId),
  },
  { additionalProperties: false },
);
/** Ends an upload: the server checks size and hash, then the blob can be fetched. */
export const BlobCompleteFrame = Type.Object(
  { t: Type.Literal("blob.complete"), id: RequestId, blob: BlobId, sha256: Bytes },
  { additionalProperties: false },
);
/** Asks for a short-lived download token; only members of the blob's conversation get one. */
export const BlobDownloadFrame = Type.Object(
  { t: Type.Literal("blob.download"), id: RequestId, blob: BlobId },
  { additionalProperties: false },
);

/** base64url without padding, as PushSubscription.toJSON() gives the keys. */
const PushKey = Type.String({ pattern: "^[A-Za-z0-9_-]+$", minLength: 16, maxLength: 200 });
/** Web Push: the browser's subscription for this device; the server sends it content-free wake-ups. */
export const PushSubscribeFrame = Type.Object(
  {
    t: Type.Literal("push.subscribe"),
    id: RequestId,
    endpoint: Type.String({ pattern: "^https?://", maxLength: 2048 }),
    keys: Type.Object({ p256dh: PushKey, auth: PushKey }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export const PushUnsubscribeFrame = Type.Object({ t: Type.Literal("push.unsubscribe"), id: RequestId }, { additionalProperties: false });

export type AuthFrame = Static<typeof AuthFrame>;
export type AckFrame = Static<typeof AckFrame>;
export type KeysUploadFrame = Static<typeof KeysUploadFrame>;
export type KeysClaimFrame = Static<typeof KeysClaimFrame>;
export type GroupCommitFrame = Static<typeof GroupCommitFrame>;
export type GroupSendFrame = Static<typeof GroupSendFrame>;
export type PingFrame = Static<typeof PingFrame>;
export type GroupRoleFrame = Static<typeof GroupRoleFrame>;
export type GroupLeaveFrame = Static<typeof GroupLeaveFrame>;
export type GroupRenameFrame = Static<typeof GroupRenameFrame>;
export type ProfileRenameFrame = Static<typeof ProfileRenameFrame>;
export type GroupInfoFrame = Static<typeof GroupInfoFrame>;
export type GroupsListFrame = Static<typeof GroupsListFrame>;
export type DeviceInviteFrame = Static<typeof DeviceInviteFrame>;
export type DevicesListFrame = Static<typeof DevicesListFrame>;
export type DirectoryListFrame = Static<typeof DirectoryListFrame>;
export type DeviceRemoveFrame = Static<typeof DeviceRemoveFrame>;
export type LinkDeliverFrame = Static<typeof LinkDeliverFrame>;
export type BlobUploadFrame = Static<typeof BlobUploadFrame>;
export type BlobCompleteFrame = Static<typeof BlobCompleteFrame>;
export type BlobDownloadFrame = Static<typeof BlobDownloadFrame>;
export type PushSubscribeFrame = Static<typeof PushSubscribeFrame>;
export type PushUnsubscribeFrame = Static<typeof PushUnsubscribeFrame>;
export type ClientFrame =
  | AuthFrame
  | AckFrame
  | KeysUploadFrame
  | KeysClaimFrame
  | GroupCommitFrame
  | GroupSendFrame
  | PingFrame
  | GroupRoleFrame
  | GroupLeaveFrame
  | GroupRenameFrame
  | ProfileRenameFrame
  | GroupInfoFrame
  | GroupsListFrame
  | DeviceInviteFrame
  | DevicesListFrame
  | DirectoryListFrame
  | DeviceRemoveFrame
  | LinkDeliverFrame
  | BlobUploadFrame
  | BlobCompleteFrame
  | BlobDownloadFrame
  | PushSubscribeFrame
  | PushUnsubscribeFrame;
export type RequestFrame = Exclude<ClientFrame, AuthFrame | AckFrame>;

const CLIENT_FRAMES: Record<ClientFrame["t"], TSchema> = {
  auth: AuthFrame,
  ack: AckFrame,
  "keys.upload": KeysUploadFrame,
  "keys.claim": KeysClaimFrame,
  "group.commit": GroupCommitFrame,
  "group.send": GroupSendFrame,
  ping: PingFrame,
  "group.role": GroupRoleFrame,
  "group.leave": GroupLeaveFrame,
  "group.rename": GroupRenameFrame,
  "profile.rename": ProfileRenameFrame,
  "group.info": GroupInfoFrame,
  "groups.list": GroupsListFrame,
  "device.invite": DeviceInviteFrame,
  "devices.list": DevicesListFrame,
  "directory.list": DirectoryListFrame,
  "device.remove": DeviceRemoveFrame,
  "link.deliver": LinkDeliverFrame,
  "blob.upload": BlobUploadFrame,
  "blob.complete": BlobCompleteFrame,
  "blob.download": BlobDownloadFrame,
  "push.subscribe": PushSubscribeFrame,
  "push.unsubscribe": PushUnsubscribeFrame,
};

// --- server -> device -------------------------------------------------------------------
export const ChallengeFrame = Type.Object({ t: Type.Literal("challenge"), nonce: Bytes, server: Type.String() });
/** `suite`: the ciphersuite the server asks new groups to use. */
export const ReadyFrame = Type.Object({ t: Type.Literal("ready"), user: ShortId, device: ShortId, suite: Suite });
export const DeliverFrame = Type.Object({
  t: Type.Literal("msg"),
  seq: Seq,
  group: GroupId,
  kind: Type.Union(MAILBOX_KINDS.map((k) => Type.Literal(k))),
  from: DeviceAddress,
  data: Bytes,
  at: Type.Integer(),
});
/** Sent when the device has been given every entry its mailbox held. */
export const SyncedFrame = Type.Object({ t: Type.Literal("synced") });
export const OkFrame = Type.Object({ t: Type.Literal("ok"), id: RequestId, result: Type.Unknown() });
export const ErrFrame = Type.Object({
  t: Type.Literal("err"),
  id: Type.Optional(RequestId),
  code: Type.String(),
  message: Type.String(),
  detail: Type.Optional(Type.Unknown()),
});

export type ChallengeFrame = Static<typeof ChallengeFrame>;
export type ReadyFrame = Static<typeof ReadyFrame>;
export type DeliverFrame = Static<typeof DeliverFrame>;
export type OkFrame = Static<typeof OkFrame>;
export type ErrFrame = Static<typeof ErrFrame>;
export type SyncedFrame = Static<typeof SyncedFrame>;
export type ServerFrame = ChallengeFrame | ReadyFrame | DeliverFrame | SyncedFrame | OkFrame | ErrFrame;

const SERVER_FRAMES: Record<ServerFrame["t"], TSchema> = {
  challenge: ChallengeFrame,
  ready: ReadyFrame,
  msg: DeliverFrame,
  synced: SyncedFrame,
  ok: OkFrame,
  err: ErrFrame,
};

// --- results of requests ----------------------------------------------------------------
export interface ClaimedKeyPackage {
  device: string;
  keyPackage: string;
}
export interface KeysClaimResult {
  user: string;
  devices: ClaimedKeyPackage[];
}
export interface GroupCommitResult {
  epoch: number;
}
export interface GroupSendResult {
  delivered: number;
}
export interface GroupMemberInfo {
  user: string;
  name: string;
  role: Role;
  /** Devices that receive; none while every device of the person is revoked (a lost phone). */
  devices: string[];
}
export interface GroupInfoResult {
  group: string;
  kind: GroupKind;
  name: string;
  epoch: number;
  members: GroupMemberInfo[];
}
export interface GroupsListResult {
  groups: { group: string; kind: GroupKind; name: string; role: Role }[];
}
export interface DevicesListResult {
  devices: { device: string; createdAt: number; lastSeen: number | null; current: boolean }[];
}
/** The people a device may see and contact under the server's directory policy. */
export interface DirectoryListResult {
  policy: "open" | "school";
  people: { user: string; name: string; role: "pupil" | "staff" | "member" | "bot"; class: string }[];
}
export interface BlobUploadResult {
  blob: string;
  /** For `Authorization: Bearer` on PUT/HEAD /api/v1/blobs/ID. */
  token: string;
  /** Bytes the server already holds (resuming). */
  received: number;
}
export interface BlobDownloadResult {
  blob: string;
  token: string;
  size: number;
}
/** Server-authored mailbox entries (kind "notice"), JSON in `data`. */
export type Notice =
  | { type: "left"; user: string }
  | { type: "role"; user: string; role: Role }
  | { type: "renamed"; name: string }
  | { type: "device_removed"; user: string; device: string }
  /** The person enrolled another device (a new invite, a linked browser): their own devices, the other person of a direct chat and the group's managers add it. */
  | { type: "device_added"; user: string; device: string }
  /** To the planned owner: create this group (the admin chose name, kind and members). */
  | { type: "provision"; name: string; kind: "group" | "channel"; members: string[] }
  /** To the planned owner: a planned member now has a device; add them. */
  | { type: "provision_add"; user: string }
  /** To the sending device: every other person of the chat has fetched these messages (their `receipt` IDs). */
  | { type: "delivered"; messages: string[] };

type Checker = (value: unknown) => boolean;

function interpreted(schemas: Record<string, TSchema>): Record<string, Checker> {
  return Object.fromEntries(Object.entries(schemas).map(([t, schema]) => [t, (v: unknown) => Value.Check(schema, v)]));
}

const serverFrameCheckers = interpreted(SERVER_FRAMES);
let clientFrameCheckers = interpreted(CLIENT_FRAMES);

/**
 * Compiles the validators of device frames (the server's hot path). Compilation generates code
 * at run time, so it is for servers only, never for pages under a strict CSP.
 */
export function compileClientFrameValidators(compile: (schema: TSchema) => Checker): void {
  clientFrameCheckers = Object.fromEntries(Object.entries(CLIENT_FRAMES).map(([t, schema]) => [t, compile(schema)]));
}

function decodeFrame<F extends { t: string }>(text: string, schemas: Record<string, TSchema>, checkers: Record<string, Checker>): F {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MomedoError("bad_frame", "not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MomedoError("bad_frame", "not an object");
  }
  const type = (value as { t?: unknown }).t;
  if (typeof type !== "string") throw new MomedoError("bad_frame", "missing t");
  const schema = Object.hasOwn(schemas, type) ? schemas[type] : undefined;
  if (!schema) throw new MomedoError("unknown_type", type.slice(0, 40));
  if (!checkers[type]!(value)) {
    const first = Value.Errors(schema, value).First();
    throw new MomedoError("bad_frame", first ? `${first.path || "/"}: ${first.message}` : type);
  }
  return value as F;
}

/** Parses and validates a frame sent by a device. Throws MomedoError with code bad_frame/unknown_type. */
export function decodeClientFrame(text: string): ClientFrame {
  return decodeFrame<ClientFrame>(text, CLIENT_FRAMES, clientFrameCheckers);
}

/** Parses and validates a frame sent by the server. */
export function decodeServerFrame(text: string): ServerFrame {
  return decodeFrame<ServerFrame>(text, SERVER_FRAMES, serverFrameCheckers);
}

export function encodeFrame(frame: ClientFrame | ServerFrame): string {
  return JSON.stringify(frame);
}

// --- HTTP -------------------------------------------------------------------------------
export const EnrollRequest = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 64 }), signaturePublicKey: Bytes },
  { additionalProperties: false },
);
export type EnrollRequest = Static<typeof EnrollRequest>;
export interface EnrollResponse {
  user: string;
  device: string;
  name: string;
  credential: string;
  orgKey: string;
  organization: string;
  ciphersuite: string;
}

export function decodeEnrollRequest(value: unknown): EnrollRequest {
  if (!Value.Check(EnrollRequest, value)) {
    const first = Value.Errors(EnrollRequest, value).First();
    throw new MomedoError("bad_frame", first ? `${first.path || "/"}: ${first.message}` : "enroll");
  }
  return value;
}

/** The text a device signs to prove it holds its key: binds the server's nonce and the device. */
export function authChallengeText(nonce: string, user: string, device: string): Uint8Array {
  return new TextEncoder().encode(`momedo-auth-v1\n${nonce}\n${user}/${device}`);
}
