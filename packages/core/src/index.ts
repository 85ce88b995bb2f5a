export * from "./cards.js";
export * from "./content.js";
export * from "./engine.js";
export * from "./fileCipher.js";
export * from "./imageMetadata.js";
export { DEFAULT_CIPHERSUITE, MlsError, SUPPORTED_CIPHERSUITES } from "./mls.js";
export * from "./store.js";
export * from "./safetyNumber.js";
export * from "./linking.js";
