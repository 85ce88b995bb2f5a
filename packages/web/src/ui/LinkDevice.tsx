// Linking this browser as a new device of an existing person (R6), the new device's side of
// docs/groups.md's flow in the browser, with fetch instead of the CLI's HTTP helpers: register a
// link with a fresh HPKE key, show its code (and QR code), wait for the sealed invite from the
// person's existing device (`momedo approve-link CODE`), enroll with it, then wait for the sealed
// history. The server relays sealed bytes only.
import { DEFAULT_CIPHERSUITE, Engine, linkCode, newLinkKeys, systemEnv, type LinkKeys, type LinkPackage } from "@momedo/core";
import { fromBase64, isErrorCode, MomedoError, toBase64, type EnrollResponse } from "@momedo/protocol";
import { useEffect, useRef, useState } from "preact/hooks";
import { WebClient } from "../client.js";
import type { Translate } from "../i18n/language.js";
import { IdbStore } from "../store/idbStore.js";
import { Qr } from "../verify/Qr.js";

const POLL_MS = 1000;
const TIMEOUT_MS = 10 * 60_000;

async function request<T>(url: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch {
    throw new Error("Server nicht erreichbar / server not reachable");
  }
  const value = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
  if (response.ok) return value as T;
  throw value.code && isErrorCode(value.code) ? new MomedoError(value.code, value.detail) : new Error(`HTTP ${response.status}`);
}

/** The next sealed package after `after`, opened; waits (polling) until `signal` aborts or time runs out. */
async function nextPackage(origin: string, link: string, keys: LinkKeys, after: number, deadline: number, signal: AbortSignal): Promise<{ n: number; pkg: LinkPackage }> {
  while (Date.now() < deadline) {
    if (signal.aborted) throw new Error("aborted");
    const { packages } = await request<{ packages: { n: number; data: string }[] }>(`${origin}/api/v1/links/${link}/packages?after=${after}`);
    const first = packages[0];
    if (first) return { n: first.n, pkg: await keys.open(fromBase64(first.data)) };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error("timeout");
}

/** Runs the new device's side; calls `onCode` with the code to show, resolves once enrolled with the history. */
export async function linkThisBrowser(
  store: IdbStore,
  onCode: (code: string) => void,
  onEnrolled: () => void,
  signal: AbortSignal,
  origin = globalThis.location.origin,
): Promise<WebClient> {
  const keys = await newLinkKeys();
  const { link } = await request<{ link: string }>(`${origin}/api/v1/links`, { publicKey: toBase64(keys.publicKey) });
  onCode(linkCode(link, keys.publicKey));
  const deadline = Date.now() + TIMEOUT_MS;
  let after = 0;
  let client: WebClient | undefined;
  while (!client) {
    const next = await nextPackage(origin, link, keys, after, deadline, signal);
    after = next.n;
    if (next.pkg.type !== "invite") continue;
    const signature = await Engine.newSignatureKeys(DEFAULT_CIPHERSUITE);
    const response = await request<EnrollResponse>(`${origin}/api/v1/enroll`, { code: next.pkg.code, signaturePublicKey: toBase64(signature.publicKey) });
    await Engine.enroll(store, systemEnv, signature, response);
    client = await WebClient.open(store, origin);
    if (!client) throw new Error("enrolled device not found in the store");
    await client.connect();
    // The approving device claims one of these to add this browser to every conversation.
    await client.messenger.uploadKeyPackages();
  }
  onEnrolled();
  for (;;) {
    const next = await nextPackage(origin, link, keys, after, deadline, signal);
    after = next.n;
    if (next.pkg.type !== "history") continue;
    await client.engine.importHistory(next.pkg.messages);
    await client.messenger.sync();
    return client;
  }
}

type Step = { kind: "idle" } | { kind: "starting" } | { kind: "code"; code: string } | { kind: "enrolled"; code: string } | { kind: "failed"; error: string };

export function LinkDevice(props: { t: Translate; onLinked: (client: WebClient, store: IdbStore) => void }) {
  const { t } = props;
  const [step, setStep] = useState<Step>({ kind: "idle" });
  const abort = useRef<AbortController | undefined>(undefined);
  useEffect(() => () => abort.current?.abort(), []);

  const start = async () => {
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setStep({ kind: "starting" });
    let code = "";
    try {
      const store = await IdbStore.open();
      const client = await linkThisBrowser(
        store,
        (c) => {
          code = c;
          setStep({ kind: "code", code: c });
        },
        () => setStep({ kind: "enrolled", code }),
        controller.signal,
      );
      props.onLinked(client, store);
    } catch (error) {
      if (controller.signal.aborted) return;
      const message = error instanceof Error ? error.message : String(error);
      setStep({ kind: "failed", error: message === "timeout" ? t("link.timeout") : message });
    }
  };

  if (step.kind === "idle" || step.kind === "failed") {
    return (
      <section class="link-device" aria-labelledby="link-title">
        <h2 id="link-title">{t("link.title")}</h2>
        <p>{t("link.help")}</p>
        {step.kind === "failed" ? (
          <p class="entrance-status problem" role="alert">
            {t("link.failed", { error: step.error })}
          </p>
        ) : null}
        <button type="button" class="button primary link-start" onClick={() => void start()}>
          {t("link.start")}
        </button>
      </section>
    );
  }
  return (
    <section class="link-device" aria-labelledby="link-title">
      <h2 id="link-title">{t("link.title")}</h2>
      {step.kind === "starting" ? <p role="status">{t("link.starting")}</p> : null}
      {step.kind === "code" || step.kind === "enrolled" ? (
        <>
          <p>{t("link.showCode")}</p>
          <Qr text={step.code} label={t("link.qrLabel")} />
          <p>
            <code class="link-code">{step.code}</code>
          </p>
          <p>{t("link.approveHint", { command: `momedo approve-link ${step.code}` })}</p>
          <p role="status" class="link-status">
            {step.kind === "code" ? t("link.waiting") : t("link.enrolled")}
          </p>
        </>
      ) : null}
    </section>
  );
}
