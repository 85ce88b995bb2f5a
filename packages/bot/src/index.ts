export * from "./bot.js";
export type { Card, CardActionDef, CardField, CardInput, ChatMessage } from "@momedo/core";
