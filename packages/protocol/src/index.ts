export * from "./base64.js";
export * from "./directChat.js";
export * from "./errors.js";
export * from "./frames.js";
export * from "./ids.js";
export * from "./invite.js";
export * from "./credential.js";
export * from "./terminalQr.js";
