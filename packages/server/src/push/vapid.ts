// The server's VAPID key (RFC 8292): a P-256 key made once and kept in the database (so backups
// carry it). Push services accept a wake-up only with a JWT signed by the key the browser
// subscribed with; a new key would silence every subscription.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { getMeta, setMeta, type Db } from "../storage/database.js";

const META_KEY = "push_vapid_key";
/** How long a token is good for; RFC 8292 allows up to 24 hours. */
const TOKEN_SECONDS = 12 * 60 * 60;

export class VapidKey {
  /** The uncompressed P-256 point, base64url: the browser's `applicationServerKey`. */
  readonly publicKey: string;

  private constructor(private readonly privateKey: KeyObject) {
    const jwk = createPublicKey(privateKey).export({ format: "jwk" });
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
    this.publicKey = point.toString("base64url");
  }

  static loadOrCreate(db: Db): VapidKey {
    let pem = getMeta(db, META_KEY);
    if (!pem) {
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
      setMeta(db, META_KEY, pem);
    }
    return new VapidKey(createPrivateKey(pem));
  }

  /** The `Authorization` header for a request to `endpoint`: `vapid t=JWT, k=KEY`. */
  authorization(endpoint: string, subject: string, now = Date.now()): string {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const claims = { aud: new URL(endpoint).origin, exp: Math.floor(now / 1000) + TOKEN_SECONDS, sub: subject };
    const signed = `${part({ typ: "JWT", alg: "ES256" })}.${part(claims)}`;
    const signature = sign("sha256", Buffer.from(signed), { key: this.privateKey, dsaEncoding: "ieee-p1363" });
    return `vapid t=${signed}.${signature.toString("base64url")}, k=${this.publicKey}`;
  }
}
