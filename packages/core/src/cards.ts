// Interactive cards: a bot's message with a title, fields and actions (buttons, a small form),
// a person's action on it, and the bot's outcome shown on the card. All three travel inside MLS
// application messages; the sender of an action is the MLS sender, never a field.

export interface CardField {
  label: string;
  value: string;
}

export interface CardInput {
  id: string;
  label: string;
  kind: "text" | "choice" | "date";
  options?: string[];
  required?: boolean;
}

export interface CardActionDef {
  id: string;
  label: string;
  style?: "primary" | "danger" | "default";
  /** Inputs this action requires (e.g. a reason for "Ablehnen"). */
  needs?: string[];
}

export interface Card {
  title: string;
  fields: CardField[];
  actions: CardActionDef[];
  inputs?: CardInput[];
  /** Only these people may act (IDs); absent: every member. */
  allowed?: string[];
}

export interface CardAction {
  /** The card's message ID. */
  target: string;
  action: string;
  values: Record<string, string>;
}

export interface CardOutcome {
  target: string;
  /** A short machine word, e.g. "approved", "rejected", "done". */
  status: string;
  /** What everyone sees on the card, e.g. "Freigegeben von M. Weber, 10:42". */
  text: string;
}

export type CardPayload =
  | { kind: "card"; card: Card }
  | { kind: "action"; action: CardAction }
  | { kind: "outcome"; outcome: CardOutcome };

const LIMITS = { title: 200, label: 100, value: 1000, fields: 20, actions: 6, inputs: 10, options: 20, allowed: 200, values: 10, answer: 2000 };
const ACTION_ID = /^[a-z0-9_-]{1,32}$/;
const USER_ID = /^[0-9A-HJKMNP-TV-Z]{8}$/;
const MESSAGE_ID = /^[0-9A-Z]{16}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const str = (v: unknown, max: number, min = 1): v is string => typeof v === "string" && v.length >= min && v.length <= max;
const obj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A card as a bot may send it; throws RangeError naming the first problem. */
export function checkCard(value: unknown): Card {
  const card = decodeCard(value);
  if (!card) throw new RangeError("Karte ungültig / invalid card (title, fields, actions, inputs)");
  return card;
}

export function decodeCard(v: unknown): Card | undefined {
  if (!obj(v) || !str(v.title, LIMITS.title)) return undefined;
  if (!Array.isArray(v.fields) || v.fields.length > LIMITS.fields) return undefined;
  if (!Array.isArray(v.actions) || v.actions.length < 1 || v.actions.length > LIMITS.actions) return undefined;
  const fields: CardField[] = [];
  for (const f of v.fields) {
    if (!obj(f) || !str(f.label, LIMITS.label) || !str(f.value, LIMITS.value, 0)) return undefined;
    fields.push({ label: f.label, value: f.value });
  }
  const inputs: CardInput[] = [];
  if (v.inputs !== undefined) {
    if (!Array.isArray(v.inputs) || v.inputs.length > LIMITS.inputs) return undefined;
    for (const i of v.inputs) {
      if (!obj(i) || !str(i.id, 32) || !ACTION_ID.test(i.id) || !str(i.label, LIMITS.label)) return undefined;
      if (i.kind !== "text" && i.kind !== "choice" && i.kind !== "date") return undefined;
      const input: CardInput = { id: i.id, label: i.label, kind: i.kind };
      if (i.kind === "choice") {
        if (!Array.isArray(i.options) || i.options.length < 1 || i.options.length > LIMITS.options) return undefined;
        if (!i.options.every((o) => str(o, LIMITS.label))) return undefined;
        input.options = i.options as string[];
      }
      if (i.required !== undefined) {
        if (typeof i.required !== "boolean") return undefined;
        input.required = i.required;
      }
      inputs.push(input);
    }
  }
  const inputIds = new Set(inputs.map((i) => i.id));
  if (inputIds.size !== inputs.length) return undefined;
  const actions: CardActionDef[] = [];
  for (const a of v.actions) {
    if (!obj(a) || !str(a.id, 32) || !ACTION_ID.test(a.id) || !str(a.label, 40)) return undefined;
    const action: CardActionDef = { id: a.id, label: a.label };
    if (a.style !== undefined) {
      if (a.style !== "primary" && a.style !== "danger" && a.style !== "default") return undefined;
      action.style = a.style;
    }
    if (a.needs !== undefined) {
      if (!Array.isArray(a.needs) || !a.needs.every((n) => typeof n === "string" && inputIds.has(n))) return undefined;
      action.needs = a.needs as string[];
    }
    actions.push(action);
  }
  if (new Set(actions.map((a) => a.id)).size !== actions.length) return undefined;
  const card: Card = { title: v.title, fields, actions };
  if (inputs.length > 0) card.inputs = inputs;
  if (v.allowed !== undefined) {
    if (!Array.isArray(v.allowed) || v.allowed.length > LIMITS.allowed || !v.allowed.every((u) => typeof u === "string" && USER_ID.test(u))) {
      return undefined;
    }
    card.allowed = v.allowed as string[];
  }
  return card;
}

export function decodeCardAction(v: Record<string, unknown>): CardAction | undefined {
  if (!str(v.target, 16) || !MESSAGE_ID.test(v.target) || !str(v.action, 32) || !ACTION_ID.test(v.action)) return undefined;
  if (!obj(v.values)) return undefined;
  const entries = Object.entries(v.values);
  if (entries.length > LIMITS.values) return undefined;
  const values: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (!ACTION_ID.test(key) || !str(value, LIMITS.answer, 0)) return undefined;
    values[key] = value;
  }
  return { target: v.target, action: v.action, values };
}

export function decodeCardOutcome(v: Record<string, unknown>): CardOutcome | undefined {
  if (!str(v.target, 16) || !MESSAGE_ID.test(v.target) || !str(v.status, 32) || !ACTION_ID.test(v.status)) return undefined;
  if (!str(v.text, LIMITS.value)) return undefined;
  return { target: v.target, status: v.status, text: v.text };
}

/**
 * Why `action` with `values` does not fit `card` for `user`, or undefined when it fits: the
 * action exists, the person may act, required inputs are filled, choices and dates are valid.
 */
export function cardActionProblem(card: Card, user: string, action: string, values: Record<string, string>): string | undefined {
  const def = card.actions.find((a) => a.id === action);
  if (!def) return `unbekannte Aktion / unknown action "${action}"`;
  if (card.allowed && !card.allowed.includes(user)) return "nicht berechtigt / not allowed to act on this card";
  const inputs = new Map((card.inputs ?? []).map((i) => [i.id, i]));
  for (const key of Object.keys(values)) if (!inputs.has(key)) return `unbekanntes Feld / unknown field "${key}"`;
  for (const input of inputs.values()) {
    const value = values[input.id];
    const needed = input.required || def.needs?.includes(input.id);
    if (value === undefined || value.trim() === "") {
      if (needed) return `„${input.label}“ fehlt / "${input.label}" is missing`;
      continue;
    }
    if (input.kind === "choice" && !input.options!.includes(value)) return `„${input.label}“: keine der Möglichkeiten / not one of the options`;
    if (input.kind === "date" && (!DATE.test(value) || Number.isNaN(Date.parse(value)))) return `„${input.label}“: Datum JJJJ-MM-TT / date YYYY-MM-DD`;
  }
  return undefined;
}
