export * from "./connection.js";
export * from "./http.js";
export * from "./messenger.js";
export * from "./pinnedTls.js";
export * from "./profile.js";
export * from "./sqliteStore.js";
export * from "./linking.js";
export * from "./files/prepareFile.js";
