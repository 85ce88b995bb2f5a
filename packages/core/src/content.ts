// The plaintext inside an MLS application message. Only devices ever see it.
export interface TextContent {
  v: 1;
  id: string;
  type: "text";
  text: string;
  sentAt: number;
  /** The message this one answers. */
  replyTo?: string;
}

/** A new text for one of the sender's own earlier texts. */
export interface EditContent {
  v: 1;
  id: string;
  type: "edit";
  target: string;
  text: string;
  sentAt: number;
}

/** Deletes one of the sender's own earlier messages for everyone. */
export interface DeleteContent {
  v: 1;
  id: string;
  type: "delete";
  target: string;
  sentAt: number;
}

/** A reaction to a message (its ID), e.g. "👍"; in channels the only thing members may send. */
export interface ReactionContent {
  v: 1;
  id: string;
  type: "reaction";
  target: string;
  emoji: string;
  sentAt: number;
}

/** Where a photo was taken, when the sender chose to attach it. */
export interface FileLocation {
  lat: number;
  lon: number;
  /** Metres. */
  accuracy?: number;
}

/** A file or image: what a receiver needs to fetch the blob, check it and decrypt it. */
import { toBase64 } from "@momedo/protocol";
import { decodeCard, decodeCardAction, decodeCardOutcome, type Card, type CardAction, type CardOutcome } from "./cards.js";

export interface FileInfo {
  /** The server's blob ID. */
  blob: string;
  /** base64 of the 32-byte STREAM key (see fileCipher.ts). */
  key: string;
  /** base64 of the SHA-256 of the ciphertext. */
  sha256: string;
  /** Plaintext bytes. */
  size: number;
  mediaType: string;
  name: string;
  width?: number;
  height?: number;
  /** base64 JPEG, at most 160 px on its longer side. */
  thumbnail?: string;
  location?: FileLocation;
  /** Capture time, ms since the epoch. */
  takenAt?: number;
}

/** A file message's description once the ciphertext is uploaded (the Node client and the web app). */
export function fileInfo(
  uploaded: { blob: string; key: Uint8Array; sha256: Uint8Array },
  file: { size: number; mediaType: string; name: string; width?: number | undefined; height?: number | undefined; thumbnail?: string | undefined },
  extra: { location?: FileLocation | undefined; takenAt?: number | undefined } = {},
): FileInfo {
  return {
    blob: uploaded.blob,
    key: toBase64(uploaded.key),
    sha256: toBase64(uploaded.sha256),
    size: file.size,
    mediaType: file.mediaType,
    name: file.name,
    ...(file.width && file.height ? { width: file.width, height: file.height } : {}),
    ...(file.thumbnail ? { thumbnail: file.thumbnail } : {}),
    ...(extra.location ? { location: extra.location } : {}),
    ...(extra.takenAt !== undefined ? { takenAt: extra.takenAt } : {}),
  };
}

export interface FileContent extends FileInfo {
  v: 1;
  id: string;
  type: "file";
  sentAt: number;
}

export interface CardContent {
  v: 1;
  id: string;
  type: "card";
  card: Card;
  sentAt: number;
}

export interface CardActionContent extends CardAction {
  v: 1;
  id: string;
  type: "card_action";
  sentAt: number;
}

export interface CardOutcomeContent extends CardOutcome {
  v: 1;
  id: string;
  type: "card_outcome";
  sentAt: number;
}

export type Content = TextContent | ReactionContent | FileContent | CardContent | CardActionContent | CardOutcomeContent | EditContent | DeleteContent;

export const MAX_TEXT_LENGTH = 64 * 1024;
export const MAX_EMOJI_LENGTH = 16;
export const MAX_FILE_NAME_LENGTH = 255;
export const MAX_THUMBNAIL_BASE64 = 64 * 1024;
const MESSAGE_ID = /^[0-9A-Z]{16}$/;
const BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;

export function encodeContent(content: Content): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(content));
}

export function decodeContent(bytes: Uint8Array): Content | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as {
      v?: unknown;
      id?: unknown;
      type?: unknown;
      text?: unknown;
      target?: unknown;
      emoji?: unknown;
      sentAt?: unknown;
      replyTo?: unknown;
    };
    if (value.v !== 1 || typeof value.id !== "string" || !MESSAGE_ID.test(value.id)) return undefined;
    if (typeof value.sentAt !== "number") return undefined;
    if (value.type === "text") {
      if (typeof value.text !== "string" || value.text.length > MAX_TEXT_LENGTH) return undefined;
      if (value.replyTo !== undefined && (typeof value.replyTo !== "string" || !MESSAGE_ID.test(value.replyTo))) return undefined;
      return { v: 1, id: value.id, type: "text", text: value.text, sentAt: value.sentAt, ...(value.replyTo !== undefined ? { replyTo: value.replyTo } : {}) };
    }
    if (value.type === "edit" || value.type === "delete") {
      if (typeof value.target !== "string" || !MESSAGE_ID.test(value.target)) return undefined;
      if (value.type === "delete") return { v: 1, id: value.id, type: "delete", target: value.target, sentAt: value.sentAt };
      if (typeof value.text !== "string" || value.text.length > MAX_TEXT_LENGTH) return undefined;
      return { v: 1, id: value.id, type: "edit", target: value.target, text: value.text, sentAt: value.sentAt };
    }
    if (value.type === "reaction") {
      if (typeof value.target !== "string" || !MESSAGE_ID.test(value.target)) return undefined;
      if (typeof value.emoji !== "string" || value.emoji.length === 0 || value.emoji.length > MAX_EMOJI_LENGTH) return undefined;
      return { v: 1, id: value.id, type: "reaction", target: value.target, emoji: value.emoji, sentAt: value.sentAt };
    }
    if (value.type === "card") {
      const card = decodeCard((value as Record<string, unknown>).card);
      return card ? { v: 1, id: value.id, type: "card", card, sentAt: value.sentAt } : undefined;
    }
    if (value.type === "card_action") {
      const action = decodeCardAction(value as Record<string, unknown>);
      return action ? { v: 1, id: value.id, type: "card_action", sentAt: value.sentAt, ...action } : undefined;
    }
    if (value.type === "card_outcome") {
      const outcome = decodeCardOutcome(value as Record<string, unknown>);
      return outcome ? { v: 1, id: value.id, type: "card_outcome", sentAt: value.sentAt, ...outcome } : undefined;
    }
    if (value.type === "file") {
      const file = decodeFileInfo(value as Record<string, unknown>);
      return file ? { v: 1, id: value.id, type: "file", sentAt: value.sentAt, ...file } : undefined;
    }
    return undefined;
  } catch {
    return undefined;
  }
}

const isNumber = (v: unknown, min: number, max: number): v is number => typeof v === "number" && Number.isFinite(v) && v >= min && v <= max;

/** Only well-formed fields survive; anything a receiver would trip over makes the content unreadable. */
function decodeFileInfo(v: Record<string, unknown>): FileInfo | undefined {
  if (typeof v.blob !== "string" || !MESSAGE_ID.test(v.blob)) return undefined;
  if (typeof v.key !== "string" || !BASE64_32.test(v.key) || typeof v.sha256 !== "string" || !BASE64_32.test(v.sha256)) return undefined;
  if (!isNumber(v.size, 0, Number.MAX_SAFE_INTEGER) || !Number.isInteger(v.size)) return undefined;
  if (typeof v.mediaType !== "string" || !MEDIA_TYPE.test(v.mediaType)) return undefined;
  if (typeof v.name !== "string" || v.name.length === 0 || v.name.length > MAX_FILE_NAME_LENGTH) return undefined;
  const file: FileInfo = { blob: v.blob, key: v.key, sha256: v.sha256, size: v.size, mediaType: v.mediaType, name: v.name };
  if (v.width !== undefined || v.height !== undefined) {
    if (!isNumber(v.width, 1, 1e6) || !isNumber(v.height, 1, 1e6)) return undefined;
    file.width = v.width;
    file.height = v.height;
  }
  if (v.thumbnail !== undefined) {
    if (typeof v.thumbnail !== "string" || v.thumbnail.length > MAX_THUMBNAIL_BASE64) return undefined;
    file.thumbnail = v.thumbnail;
  }
  if (v.location !== undefined) {
    const l = v.location as Record<string, unknown> | null;
    if (!l || !isNumber(l.lat, -90, 90) || !isNumber(l.lon, -180, 180)) return undefined;
    if (l.accuracy !== undefined && !isNumber(l.accuracy, 0, 1e7)) return undefined;
    file.location = { lat: l.lat, lon: l.lon, ...(l.accuracy !== undefined ? { accuracy: l.accuracy as number } : {}) };
  }
  if (v.takenAt !== undefined) {
    if (!isNumber(v.takenAt, 0, 8.64e15)) return undefined;
    file.takenAt = v.takenAt;
  }
  return file;
}
