// The plaintext inside an MLS application message. Only devices ever see it.
export interface TextContent {
  v: 1;
  id: string;
  type: "text";
  text: string;
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

export type Content = TextContent | ReactionContent;

export const MAX_TEXT_LENGTH = 64 * 1024;
export const MAX_EMOJI_LENGTH = 16;
const MESSAGE_ID = /^[0-9A-Z]{16}$/;

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
    };
    if (value.v !== 1 || typeof value.id !== "string" || !MESSAGE_ID.test(value.id)) return undefined;
    if (typeof value.sentAt !== "number") return undefined;
    if (value.type === "text") {
      if (typeof value.text !== "string" || value.text.length > MAX_TEXT_LENGTH) return undefined;
      return { v: 1, id: value.id, type: "text", text: value.text, sentAt: value.sentAt };
    }
    if (value.type === "reaction") {
      if (typeof value.target !== "string" || !MESSAGE_ID.test(value.target)) return undefined;
      if (typeof value.emoji !== "string" || value.emoji.length === 0 || value.emoji.length > MAX_EMOJI_LENGTH) return undefined;
      return { v: 1, id: value.id, type: "reaction", target: value.target, emoji: value.emoji, sentAt: value.sentAt };
    }
    return undefined;
  } catch {
    return undefined;
  }
}
