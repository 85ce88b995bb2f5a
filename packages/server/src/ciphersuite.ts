// The server chooses the MLS ciphersuite for its organisation; clients follow it.
export const DEFAULT_CIPHERSUITE_NAME = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";
export const XWING_CIPHERSUITE_NAME = "MLS_256_XWING_AES256GCM_SHA512_Ed25519";

/** `--ciphersuite` accepts a short name or the full MLS name. */
export function ciphersuiteFromOption(option: string): string {
  const short: Record<string, string> = { x25519: DEFAULT_CIPHERSUITE_NAME, xwing: XWING_CIPHERSUITE_NAME };
  const name = short[option.toLowerCase()] ?? option;
  if (name !== DEFAULT_CIPHERSUITE_NAME && name !== XWING_CIPHERSUITE_NAME) {
    throw new RangeError(`--ciphersuite ${option}: erlaubt sind / allowed are x25519, xwing`);
  }
  return name;
}
