// A 1:1 chat's group ID depends only on the two people, so both sides converge on one group.
import { sha256 } from "@noble/hashes/sha2.js";
import { crockford } from "./ids.js";

export function directChatId(userA: string, userB: string): string {
  const [first, second] = [userA, userB].sort();
  const digest = sha256(new TextEncoder().encode(`momedo-direct-v1\n${first}\n${second}`));
  return `d.${crockford(digest, 26)}`;
}

export function isDirectChatId(group: string): boolean {
  return group.startsWith("d.");
}
