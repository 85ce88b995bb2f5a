// The plaintext inside an MLS application message. Only devices ever see it.
export interface TextContent {
  v: 1;
  id: string;
  type: "text";
  text: string;
  sentAt: number;
}

export type Content = TextContent;

export const MAX_TEXT_LENGTH = 64 * 1024;

export function encodeContent(content: Content): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(content));
}

export function decodeContent(bytes: Uint8Array): Content | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as Partial<TextContent>;
    if (value.v !== 1 || value.type !== "text") return undefined;
    if (typeof value.id !== "string" || !/^[0-9A-Z]{16}$/.test(value.id)) return undefined;
    if (typeof value.text !== "string" || value.text.length > MAX_TEXT_LENGTH) return undefined;
    if (typeof value.sentAt !== "number") return undefined;
    return { v: 1, id: value.id, type: "text", text: value.text, sentAt: value.sentAt };
  } catch {
    return undefined;
  }
}
