// The bot SDK: a bot is an enrolled participant with its own keys, end-to-end encrypted like
// everyone. It reacts to messages, /commands, card actions and joins; it sends texts, cards and
// files; it keeps its state in its profile and catches up from its mailbox after any outage.
import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from "node:fs";
import { join } from "node:path";
import { enrollProfile, openProfile, prepareFile, type Profile } from "@momedo/client";
import { cardActionProblem, checkCard, type Card, type ChatMessage, type FileLocation } from "@momedo/core";
import { isDirectChatId } from "@momedo/protocol";

export interface MessageContext {
  bot: Bot;
  message: ChatMessage;
  chat: string;
  from: string;
  /** Answers in the same chat. */
  reply(text: string): Promise<ChatMessage>;
}

export interface CommandContext extends MessageContext {
  command: string;
  args: string[];
}

export interface CardActionContext extends MessageContext {
  /** The card acted on, as the bot sent it. */
  card: Card;
  cardId: string;
  action: string;
  values: Record<string, string>;
  /** Shows the outcome on the card for everyone; later actions on it are refused. */
  decide(status: string, text: string): Promise<ChatMessage>;
}

export interface RefusedAction {
  chat: string;
  from: string;
  cardId: string;
  action: string;
  reason: string;
}

type Handler<T> = (context: T) => unknown;

interface CardRecord {
  chat: string;
  card: Card;
  outcome?: { status: string; text: string; by: string; at: number };
}

interface BotState {
  values: Record<string, unknown>;
  cards: Record<string, CardRecord>;
  /** Card-action message IDs already handled (replays are refused). */
  handled: string[];
  /** Chats the bot has been told it is in. */
  chats: string[];
}

const MAX_HANDLED = 10_000;

export class Bot {
  private readonly messageHandlers: Handler<MessageContext>[] = [];
  private readonly commands = new Map<string, Handler<CommandContext>>();
  private readonly actionHandlers: Handler<CardActionContext>[] = [];
  private readonly refusedHandlers: ((refused: RefusedAction) => unknown)[] = [];
  private readonly joinHandlers: ((chat: string) => unknown)[] = [];
  private readonly errorHandlers: ((error: unknown) => unknown)[] = [];
  private state: BotState;
  private running = false;
  private draining: Promise<void> = Promise.resolve();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly stateFile: string;

  private constructor(readonly profile: Profile) {
    this.stateFile = join(profile.dir, "bot-state.json");
    this.state = loadState(this.stateFile);
  }

  /** Enrolls a new bot profile with the invite from `momedo-server admin add-bot`. */
  static async enroll(dir: string, invite: string): Promise<Bot> {
    mkdirSync(dir, { recursive: true });
    return new Bot(await enrollProfile(dir, invite));
  }

  static async open(dir: string): Promise<Bot> {
    return new Bot(await openProfile(dir));
  }

  get id(): string {
    return this.profile.engine.user;
  }

  get name(): string {
    return this.profile.engine.identity.name;
  }

  /** Every message that is not a /command or a card action. */
  onMessage(handler: Handler<MessageContext>): this {
    this.messageHandlers.push(handler);
    return this;
  }

  /** `/name arg arg` in any chat the bot is in. */
  command(name: string, handler: Handler<CommandContext>): this {
    this.commands.set(name.replace(/^\//, "").toLowerCase(), handler);
    return this;
  }

  /** A valid action on one of this bot's undecided cards, by someone allowed to act. */
  onCardAction(handler: Handler<CardActionContext>): this {
    this.actionHandlers.push(handler);
    return this;
  }

  /** An action that was refused (unknown card, other chat, not allowed, decided, replayed, bad input). */
  onRefused(handler: (refused: RefusedAction) => unknown): this {
    this.refusedHandlers.push(handler);
    return this;
  }

  /** The bot was added to a chat. */
  onJoin(handler: (chat: string) => unknown): this {
    this.joinHandlers.push(handler);
    return this;
  }

  onError(handler: (error: unknown) => unknown): this {
    this.errorHandlers.push(handler);
    return this;
  }

  // --- sending --------------------------------------------------------------------------------

  send(to: string, text: string): Promise<ChatMessage> {
    return this.profile.messenger.sendText(to, text);
  }

  reply(message: ChatMessage, text: string): Promise<ChatMessage> {
    return this.profile.messenger.sendText(message.chat, text);
  }

  async sendCard(to: string, card: Card): Promise<ChatMessage> {
    const checked = checkCard(card);
    const sent = await this.profile.messenger.sendCard(to, { kind: "card", card: checked });
    this.state.cards[sent.id] = { chat: sent.chat, card: checked };
    this.saveState();
    return sent;
  }

  async sendFile(to: string, path: string, options: { location?: FileLocation; takenAt?: number; original?: boolean } = {}): Promise<ChatMessage> {
    const file = await prepareFile(path, { original: options.original === true });
    return this.profile.messenger.sendFile(to, file, {
      ...(options.location ? { location: options.location } : {}),
      ...(options.takenAt ? { takenAt: options.takenAt } : {}),
    });
  }

  /** Downloads, checks and decrypts a received file into `dir`; returns the saved path. */
  saveFile(message: ChatMessage, dir: string): Promise<string> {
    return this.profile.messenger.saveFile(message, dir);
  }

  /** Shows an outcome on one of this bot's cards; later actions on it are refused. */
  async decide(cardId: string, status: string, text: string, by = ""): Promise<ChatMessage> {
    const record = this.state.cards[cardId];
    if (!record) throw new RangeError(`${cardId}: keine Karte dieses Bots / not a card of this bot`);
    if (record.outcome) throw new RangeError(`${cardId}: schon entschieden / already decided`);
    record.outcome = { status, text, by, at: Date.now() };
    this.saveState();
    return this.profile.messenger.sendCard(record.chat, { kind: "outcome", outcome: { target: cardId, status, text } });
  }

  /** The outcome of a card, if decided. */
  outcome(cardId: string): CardRecord["outcome"] {
    return this.state.cards[cardId]?.outcome;
  }

  // --- state ----------------------------------------------------------------------------------

  /** Persistent values in the bot's profile (JSON), written to disk before `set` returns. */
  get<T>(key: string): T | undefined {
    return this.state.values[key] as T | undefined;
  }

  set(key: string, value: unknown): void {
    this.state.values[key] = value;
    this.saveState();
  }

  /** The chats this bot is in: groups and channels with their names. */
  async chats(): Promise<{ group: string; kind: string; name: string }[]> {
    return (await this.profile.messenger.listGroups()).groups;
  }

  // --- running --------------------------------------------------------------------------------

  /** Connects, catches up with the mailbox, handles everything, and stays connected (reconnecting). */
  async start(): Promise<void> {
    this.running = true;
    this.profile.messenger.onEvent((event) => {
      if (event.type === "message") this.drain();
      if (event.type === "joined" && !isDirectChatId(event.chat)) this.joined(event.chat);
    });
    this.profile.messenger.onDisconnect(() => this.scheduleReconnect(1000));
    await this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    await this.draining;
    await this.profile.close();
  }

  /** Resolves once every message received so far has been handled. */
  async idle(): Promise<void> {
    await this.profile.messenger.sync();
    this.drain();
    await this.draining;
  }

  private async connect(): Promise<void> {
    if (!this.profile.messenger.connected) await this.profile.messenger.connect();
    await this.profile.messenger.replenishKeyPackages();
    await this.profile.messenger.reconcile();
    // Chats joined while no handler listened (offline, or between enroll and start) count too;
    // direct chats are not "joined": they exist once someone writes to the bot.
    for (const chat of await this.profile.engine.groups()) if (!isDirectChatId(chat)) this.joined(chat);
    this.drain();
    await this.draining;
  }

  private scheduleReconnect(delay: number): void {
    if (!this.running) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.connect().catch(() => this.scheduleReconnect(Math.min(delay * 2, 30_000)));
    }, delay);
  }

  private joined(chat: string): void {
    if (this.state.chats.includes(chat)) return;
    this.state.chats.push(chat);
    this.saveState();
    for (const handler of this.joinHandlers) this.guard(() => handler(chat));
  }

  /** Handles stored messages in order; each is marked handled only after its handler ran. */
  private drain(): void {
    this.draining = this.draining.then(async () => {
      for (;;) {
        const batch = this.profile.store.unshown(50);
        if (batch.length === 0) return;
        for (const message of batch) {
          if (!message.outgoing) await this.guard(() => this.dispatch(message));
          this.profile.store.markShown(message.chat, message.id);
        }
      }
    });
  }

  private async dispatch(message: ChatMessage): Promise<void> {
    const context: MessageContext = {
      bot: this,
      message,
      chat: message.chat,
      from: message.from,
      reply: (text) => this.send(message.chat, text),
    };
    if (message.type === "card_action" && message.card?.kind === "action") {
      await this.cardAction(context, message.card.action);
      return;
    }
    if (message.type === "card" || message.type === "card_outcome" || message.type === "reaction") return;
    const command = /^\/([a-z0-9_-]+)(?:\s+(.*))?$/is.exec(message.type === "text" ? message.text.trim() : "");
    const handler = command ? this.commands.get(command[1]!.toLowerCase()) : undefined;
    if (command && handler) {
      const args = (command[2] ?? "").split(/\s+/).filter(Boolean);
      await handler({ ...context, command: command[1]!.toLowerCase(), args });
      return;
    }
    for (const h of this.messageHandlers) await h(context);
  }

  private async cardAction(context: MessageContext, action: { target: string; action: string; values: Record<string, string> }): Promise<void> {
    const refuse = async (reason: string) => {
      const refused = { chat: context.chat, from: context.from, cardId: action.target, action: action.action, reason };
      for (const h of this.refusedHandlers) await h(refused);
    };
    // The sender is the MLS sender of this message, checked by the engine; nothing in the content names it.
    if (this.state.handled.includes(context.message.id)) return refuse("schon verarbeitet / replayed");
    this.state.handled.push(context.message.id);
    if (this.state.handled.length > MAX_HANDLED) this.state.handled.splice(0, this.state.handled.length - MAX_HANDLED);
    this.saveState();
    const record = this.state.cards[action.target];
    if (!record) return refuse("keine Karte dieses Bots / not a card of this bot");
    if (record.chat !== context.chat) return refuse("Karte aus einer anderen Unterhaltung / card of another chat");
    if (record.outcome) return refuse(`schon entschieden / already decided: ${record.outcome.text}`);
    const members = await this.profile.engine.memberList(context.chat);
    if (!members.some((m) => m.user === context.from)) return refuse("nicht Mitglied / not a member");
    const problem = cardActionProblem(record.card, context.from, action.action, action.values);
    if (problem) return refuse(problem);
    const actionContext: CardActionContext = {
      ...context,
      card: record.card,
      cardId: action.target,
      action: action.action,
      values: action.values,
      decide: (status, text) => this.decide(action.target, status, text, context.from),
    };
    for (const h of this.actionHandlers) await h(actionContext);
  }

  private async guard(work: () => unknown): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (this.errorHandlers.length === 0) console.error("momedo bot handler failed", error);
      for (const h of this.errorHandlers) await h(error);
    }
  }

  private saveState(): void {
    // Written to a temporary file, flushed, then renamed: a crash leaves the old or the new state.
    const temporary = `${this.stateFile}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.state), { mode: 0o600 });
    const fd = openSync(temporary, "r");
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, this.stateFile);
  }
}

function loadState(file: string): BotState {
  try {
    const state = JSON.parse(readFileSync(file, "utf8")) as Partial<BotState>;
    return { values: state.values ?? {}, cards: state.cards ?? {}, handled: state.handled ?? [], chats: state.chats ?? [] };
  } catch {
    return { values: {}, cards: {}, handled: [], chats: [] };
  }
}
