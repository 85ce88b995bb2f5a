// The server chooses the MLS ciphersuite for its organisation; clients follow it.
export const DEFAULT_CIPHERSUITE_NAME = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";
