// A profile directory holds one enrolled device: where its server is, the pinned certificate,
// the profile key (0600) and the encrypted SQLite state.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { DEFAULT_CIPHERSUITE, Engine, systemEnv } from "@momedo/core";
import { parseInvite, toBase64, type EnrollResponse } from "@momedo/protocol";
import { postJson, type ServerAddress } from "./http.js";
import { NodeMessenger } from "./nodeMessenger.js";
import { fetchPeerCertificate } from "./pinnedTls.js";
import { SqliteStore } from "./sqliteStore.js";

interface ProfileFile {
  server: ServerAddress;
  user: string;
  device: string;
}

export interface Profile {
  dir: string;
  server: ServerAddress;
  store: SqliteStore;
  engine: Engine;
  messenger: NodeMessenger;
  close(): Promise<void>;
}

export class ProfileError extends Error {}

export async function openProfile(dir: string): Promise<Profile> {
  const file = join(dir, "profile.json");
  if (!existsSync(file)) {
    throw new ProfileError(
      `Kein angemeldetes Gerät in ${dir} – zuerst: momedo enroll EINLADUNG / no enrolled device in ${dir} – first: momedo enroll INVITE`,
    );
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as ProfileFile;
  const store = new SqliteStore(join(dir, "state.sqlite"), readKey(dir));
  const engine = await Engine.open(store, systemEnv);
  if (!engine) throw new ProfileError(`${dir}: Profil unvollständig / profile incomplete`);
  return assemble(dir, profile.server, store, engine);
}

/** Enrolls this device with an invite: pins the certificate, registers the key, uploads KeyPackages. */
export async function enrollProfile(dir: string, inviteText: string): Promise<Profile> {
  if (existsSync(join(dir, "profile.json"))) {
    throw new ProfileError(`${dir}: hier ist schon ein Gerät angemeldet / a device is already enrolled here`);
  }
  const invite = parseInvite(inviteText);
  return enrollAt(dir, await pinServer(invite.url, invite.fingerprint), invite.code);
}

/** The server's address with its certificate fetched and checked against the fingerprint. */
export async function pinServer(url: string, fingerprint?: string): Promise<ServerAddress> {
  if (!fingerprint) return { url };
  return { url, fingerprint, certPem: await fetchPeerCertificate(url, fingerprint) };
}

/** Enrolls with a one-time code at an already pinned server. */
export async function enrollAt(dir: string, server: ServerAddress, code: string): Promise<Profile> {
  if (existsSync(join(dir, "profile.json"))) {
    throw new ProfileError(`${dir}: hier ist schon ein Gerät angemeldet / a device is already enrolled here`);
  }
  const keys = await Engine.newSignatureKeys(DEFAULT_CIPHERSUITE);
  const response = await postJson<EnrollResponse>(server, "api/v1/enroll", {
    code,
    signaturePublicKey: toBase64(keys.publicKey),
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, "profile.key"), randomBytes(32), { mode: 0o600 });
  const store = new SqliteStore(join(dir, "state.sqlite"), readKey(dir));
  const engine = await Engine.enroll(store, systemEnv, keys, response);
  const profile: ProfileFile = { server, user: response.user, device: response.device };
  writeFileSync(join(dir, "profile.json"), JSON.stringify(profile, null, 2) + "\n", { mode: 0o600 });
  const opened = assemble(dir, server, store, engine);
  await opened.messenger.connect();
  await opened.messenger.uploadKeyPackages();
  return opened;
}

function assemble(dir: string, server: ServerAddress, store: SqliteStore, engine: Engine): Profile {
  const messenger = new NodeMessenger(engine, server);
  return {
    dir,
    server,
    store,
    engine,
    messenger,
    async close() {
      await messenger.close();
      store.close();
    },
  };
}

function readKey(dir: string): Uint8Array {
  const key = new Uint8Array(readFileSync(join(dir, "profile.key")));
  if (key.length !== 32) throw new ProfileError(`${dir}/profile.key ist beschädigt / is damaged`);
  return key;
}
