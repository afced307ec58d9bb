// The conversation view: message rows, inline keyboards under bot messages, the reply keyboard.
import { el, fillBubble } from "./render.js";

const MEDIA_KINDS = ["photo", "location", "sticker", "voice", "document"];

/** A bot message from the control API (BotMessage.to_json) in the shape render.js expects. */
export function normaliseBot(m) {
  return {
    id: m.message_id, kind: m.kind, text: m.plain_text, entities: m.entities, photo: m.photo,
    location: m.location, date: m.date, edited: m.edited,
  };
}

/** A user's Telegram Message object in the shape render.js expects. */
export function normaliseUser(m) {
  const kind = MEDIA_KINDS.find((k) => k in m) || "text";
  return {
    id: m.message_id, kind, text: m.text ?? m.caption ?? "",
    entities: m.entities ?? m.caption_entities ?? [], photo: m.photo, location: m.location,
    sticker: m.sticker, voice: m.voice, document: m.document, date: m.date, edited: false,
  };
}

export class Timeline {
  /**
   * @param {{list: HTMLElement, scroller: HTMLElement, replyKeyboard: HTMLElement}} nodes
   * @param {{press: Function, send: Function, toast: Function}} actions what buttons do
   */
  constructor(nodes, actions) {
    this.nodes = nodes;
    this.actions = actions;
    this.rows = new Map(); // message_id -> {row, bubble, keyboard}
    // Follow new messages unless the person scrolled up to read older ones.
    this.following = true;
    nodes.scroller.addEventListener("scroll", () => { this.following = this.nearBottom(); });
    // Photos get their final height only once loaded.
    nodes.list.addEventListener("load", () => { if (this.following) this.scrollToBottom(); }, true);
  }

  clear() {
    this.rows.clear();
    this.nodes.list.replaceChildren();
    this.nodes.replyKeyboard.hidden = true;
    this.nodes.replyKeyboard.replaceChildren();
  }

  nearBottom() {
    const box = this.nodes.scroller;
    return box.scrollHeight - box.scrollTop - box.clientHeight < 160;
  }

  scrollToBottom() {
    this.nodes.scroller.scrollTop = this.nodes.scroller.scrollHeight;
    this.following = true;
  }

  add(msg, side, markup) {
    const stick = side === "out" || this.following;
    const row = el("li", `row ${side}`);
    const bubble = el("div");
    fillBubble(bubble, msg);
    row.append(bubble);
    const entry = { row, bubble, keyboard: null };
    this.rows.set(msg.id, entry);
    this.setInlineKeyboard(entry, msg.id, markup);
    this.nodes.list.append(row);
    if (stick) this.scrollToBottom();
  }

  edit(m) {
    const entry = this.rows.get(m.message_id);
    if (!entry) return;
    fillBubble(entry.bubble, normaliseBot(m));
    this.setInlineKeyboard(entry, m.message_id, m.reply_markup);
    if (this.following) this.scrollToBottom();
  }

  remove(messageId) {
    const entry = this.rows.get(messageId);
    if (!entry) return;
    this.rows.delete(messageId);
    entry.row.classList.add("removed");
    setTimeout(() => entry.row.remove(), 220);
  }

  setInlineKeyboard(entry, messageId, markup) {
    if (entry.keyboard) entry.keyboard.remove();
    entry.keyboard = null;
    const rows = markup && markup.inline_keyboard;
    if (!Array.isArray(rows) || rows.length === 0) return;
    const keyboard = el("div", "keyboard");
    for (const buttons of rows) {
      const line = el("div", "keyboard-row");
      for (const spec of buttons) line.append(this.inlineButton(spec, messageId));
      keyboard.append(line);
    }
    entry.row.append(keyboard);
    entry.keyboard = keyboard;
  }

  inlineButton(spec, messageId) {
    const button = el("button", "kb-btn", spec.text);
    button.type = "button";
    button.dir = "auto";
    button.title = spec.text;
    if (typeof spec.callback_data === "string") {
      button.addEventListener("click", () => this.actions.press(button, messageId, spec.callback_data));
    } else if (typeof spec.url === "string") {
      button.classList.add("url");
      button.title = spec.url;
      button.addEventListener("click", () => this.openUrl(spec.url));
    } else {
      button.addEventListener("click", () => this.actions.toast("This button type is not emulated."));
    }
    return button;
  }

  openUrl(raw) {
    try {
      const url = new URL(raw);
      if (url.protocol === "http:" || url.protocol === "https:") {
        if (window.confirm(`Open this link?\n\n${url.href}`)) window.open(url.href, "_blank", "noopener");
        return;
      }
    } catch {
      // not a URL a browser can open: show it instead
    }
    this.actions.toast(`Link: ${raw}`);
  }

  /** Show or hide the reply keyboard (ReplyKeyboardMarkup / ReplyKeyboardRemove). */
  applyReplyKeyboard(markup) {
    const panel = this.nodes.replyKeyboard;
    if (!markup) return;
    if (markup.remove_keyboard) {
      panel.hidden = true;
      panel.replaceChildren();
      return;
    }
    if (!Array.isArray(markup.keyboard)) return;
    panel.replaceChildren();
    for (const buttons of markup.keyboard) {
      const line = el("div", "keyboard-row");
      for (const spec of buttons) {
        const label = typeof spec === "string" ? spec : spec.text;
        const button = el("button", null, label);
        button.type = "button";
        button.dir = "auto";
        button.addEventListener("click", () => {
          if (markup.one_time_keyboard) panel.hidden = true;
          this.actions.send(label);
        });
        line.append(button);
      }
      panel.append(line);
    }
    panel.hidden = false;
  }
}
