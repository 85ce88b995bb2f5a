export * from "./bot.js";
export * from "./bridge.js";
export * from "./webhooks.js";
export type { Card, CardActionDef, CardField, CardInput, ChatMessage } from "@momedo/core";
