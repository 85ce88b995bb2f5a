// A bot's card in the timeline: title, fields, a small form and buttons for the people allowed to
// act, the answers given so far, and the outcome once the card's sender decided it. Checks an
// action locally as the CLI does (and the bot will) before anything is sent.
import { cardActionProblem, type CardActionDef, type ChatMessage } from "@momedo/core";
import { useEffect, useState } from "preact/hooks";
import type { WebClient } from "../client.js";
import type { Translate } from "../i18n/language.js";
import type { Names } from "./chatMeta.js";

interface Refusal {
  text: string;
  /** The input to fill in, if that is the problem. */
  input?: string;
}

export function Card(props: {
  client: WebClient;
  message: ChatMessage;
  /** The card's actions and outcomes, oldest first. */
  steps: ChatMessage[];
  names: Names;
  t: Translate;
  onSent: () => void;
}) {
  const { client, message: m, names, t } = props;
  const [values, setValues] = useState<Record<string, string>>({});
  const [sending, setSending] = useState<CardActionDef | undefined>(undefined);
  const [refusal, setRefusal] = useState<Refusal | undefined>(undefined);
  const id = (part: string) => `card-${m.id}-${part}`;
  // After the message is in the page, so the field is announced with it.
  useEffect(() => {
    if (refusal?.input) document.getElementById(id(`in-${refusal.input}`))?.focus();
  }, [refusal]);
  if (m.card?.kind !== "card") return null;
  const card = m.card.card;
  const me = client.me.user;
  // Only the card's sender decides it, and only the first outcome counts (the engine keeps no other).
  const outcome = props.steps.find((s) => s.card?.kind === "outcome" && s.from === m.from);
  const answers = props.steps.flatMap((s) => (s.card?.kind === "action" ? [{ from: s.from, action: s.card.action }] : []));
  const mayAct = !outcome && (!card.allowed || card.allowed.includes(me));
  const inputs = card.inputs ?? [];
  const label = (action: string) => card.actions.find((a) => a.id === action)?.label ?? action;

  /** Why this action cannot go out as filled in, or undefined. */
  const refusalOf = (def: CardActionDef, filled: Record<string, string>): Refusal | undefined => {
    for (const input of inputs) {
      if (filled[input.id] === undefined && (input.required || def.needs?.includes(input.id))) {
        return { text: t("card.missing", { label: input.label, action: def.label }), input: input.id };
      }
    }
    const problem = cardActionProblem(card, me, def.id, filled);
    return problem ? { text: problem } : undefined;
  };

  const act = async (def: CardActionDef) => {
    const filled = Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== ""));
    const refused = refusalOf(def, filled);
    setRefusal(refused);
    if (refused) return;
    setSending(def);
    try {
      await client.messenger.sendCard(m.chat, { kind: "action", action: { target: m.id, action: def.id, values: filled } });
      setValues({});
    } catch (error) {
      setRefusal({ text: t("card.failed", { error: error instanceof Error ? error.message : String(error) }) });
    } finally {
      setSending(undefined);
      props.onSent();
    }
  };

  const answered = answers.some((a) => a.from === me);
  return (
    <section class="card" aria-labelledby={id("title")} aria-busy={sending ? "true" : undefined}>
      <h4 class="card-title" id={id("title")}>
        {card.title}
      </h4>
      {card.fields.length > 0 ? (
        <dl class="card-fields">
          {card.fields.map((f, i) => (
            <div key={i}>
              <dt>{f.label}</dt>
              <dd>{f.value}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      {answers.length > 0 ? (
        <ul class="card-answers" aria-label={t("card.answers")}>
          {answers.map((a, i) => {
            const given = Object.entries(a.action.values).map(([key, value]) => `${inputs.find((n) => n.id === key)?.label ?? key}: ${value}`);
            const line = { name: names.person(a.from), action: label(a.action.action) };
            return <li key={i}>{given.length > 0 ? t("card.answerWith", { ...line, values: given.join(", ") }) : t("card.answer", line)}</li>;
          })}
        </ul>
      ) : null}
      <div class="card-state" role="status">
        {outcome ? (
          <p class="card-outcome" data-status={outcome.card?.kind === "outcome" ? outcome.card.outcome.status : undefined}>
            <span class="card-outcome-label">{t("card.outcome")}: </span>
            {outcome.text}
          </p>
        ) : sending ? (
          <p>{t("card.sending", { action: sending.label })}</p>
        ) : answered ? (
          <p>{t("card.waiting")}</p>
        ) : null}
      </div>
      {!outcome && card.allowed && !mayAct ? <p class="card-note">{t("card.onlyFor", { names: card.allowed.map((u) => names.person(u)).join(", ") })}</p> : null}
      {mayAct ? (
        <div class="card-form" role="group" aria-label={t("card.form")}>
          {inputs.map((input) => {
            const neededBy = card.actions.filter((a) => a.needs?.includes(input.id)).map((a) => a.label);
            const hint = !input.required && neededBy.length > 0 ? id(`hint-${input.id}`) : undefined;
            const wrong = refusal?.input === input.id;
            const described = [hint, wrong ? id("refusal") : undefined].filter(Boolean).join(" ") || undefined;
            const common = {
              id: id(`in-${input.id}`),
              value: values[input.id] ?? "",
              disabled: sending !== undefined,
              "aria-required": input.required ? ("true" as const) : undefined,
              "aria-invalid": wrong ? ("true" as const) : undefined,
              "aria-describedby": described,
              onInput: (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) => {
                setValues({ ...values, [input.id]: e.currentTarget.value });
                if (wrong) setRefusal(undefined);
              },
            };
            return (
              <div class="card-input" key={input.id}>
                <label for={common.id}>
                  {input.label}
                  {input.required ? <span class="card-required"> ({t("card.required")})</span> : null}
                </label>
                {input.kind === "choice" ? (
                  <select {...common}>
                    <option value="">{t("card.choose")}</option>
                    {input.options!.map((o) => (
                      <option key={o} value={o}>
                        {o}
                      </option>
                    ))}
                  </select>
                ) : input.kind === "date" ? (
                  <input type="date" {...common} />
                ) : (
                  <input type="text" {...common} />
                )}
                {hint ? (
                  <p class="hint" id={hint}>
                    {t("card.neededFor", { actions: neededBy.join(", ") })}
                  </p>
                ) : null}
              </div>
            );
          })}
          {refusal ? (
            <p class="problem" id={id("refusal")} role={refusal.input ? undefined : "alert"}>
              {refusal.text}
            </p>
          ) : null}
          <div class="card-actions">
            {card.actions.map((a) => (
              <button
                type="button"
                key={a.id}
                class={`button${a.style === "primary" ? " primary" : a.style === "danger" ? " danger" : ""}`}
                disabled={sending !== undefined}
                aria-describedby={refusal && !refusal.input ? id("refusal") : undefined}
                onClick={() => void act(a)}
              >
                {a.label}
              </button>
            ))}
          </div>
        </div>
      ) : null}
    </section>
  );
}
