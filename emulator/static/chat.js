// The emulator's web chat: plays one Telegram user talking to the bot through the control API.
import { el } from "./render.js";
import { Timeline, normaliseBot, normaliseUser } from "./timeline.js";

const LANGUAGES = [
  ["", "Not set"], ["en", "English"], ["ar", "العربية"], ["bg", "Български"], ["cs", "Čeština"],
  ["da", "Dansk"], ["de", "Deutsch"], ["el", "Ελληνικά"], ["es", "Español"], ["fa", "فارسی"],
  ["fi", "Suomi"], ["fr", "Français"], ["he", "עברית"], ["hi", "हिन्दी"], ["hu", "Magyar"],
  ["id", "Bahasa Indonesia"], ["it", "Italiano"], ["ja", "日本語"], ["ko", "한국어"],
  ["nl", "Nederlands"], ["no", "Norsk"], ["pl", "Polski"], ["pt", "Português"], ["ro", "Română"],
  ["ru", "Русский"], ["sq", "Shqip"], ["sr", "Српски"], ["sv", "Svenska"], ["sw", "Kiswahili"],
  ["tr", "Türkçe"], ["uk", "Українська"], ["zh", "中文"],
];
const CITIES = [
  ["Amsterdam", 52.3676, 4.9041], ["Berlin", 52.52, 13.405], ["Kyiv", 50.4501, 30.5234],
  ["Cairo", 30.0444, 31.2357], ["Lagos", 6.5244, 3.3792], ["São Paulo", -23.5505, -46.6333],
  ["Mexico City", 19.4326, -99.1332], ["Tokyo", 35.6762, 139.6503],
];
const STATUS_TEXT = {
  typing: "typing…", upload_photo: "sending a photo…", upload_document: "sending a file…",
  find_location: "choosing a location…", record_voice: "recording voice…",
  upload_voice: "sending voice…", choose_sticker: "choosing a sticker…",
};
const POLL_SECONDS = 25;

const $ = (id) => document.getElementById(id);
const ui = {
  botName: $("bot-name"), botAvatar: $("bot-avatar"), botStatus: $("bot-status"),
  emptyAvatar: $("empty-avatar"), emptyTitle: $("empty-title"), empty: $("empty-state"),
  messages: $("messages"), timeline: $("timeline"), connection: $("connection"),
  startBar: $("start-bar"), startBtn: $("start-btn"), composer: $("composer"),
  text: $("text-input"), send: $("send-btn"), attach: $("attach-btn"), file: $("file-input"),
  sticker: $("sticker-btn"), locationBtn: $("location-btn"), locationMenu: $("location-menu"),
  menuBtn: $("menu-btn"), commandsMenu: $("commands-menu"), replyKeyboard: $("reply-keyboard"),
  settingsBtn: $("settings-btn"), settings: $("settings"), settingsDone: $("settings-done"),
  nameInput: $("name-input"), langSelect: $("lang-select"), userId: $("user-id"),
  newChat: $("new-chat-btn"), toast: $("toast"), alert: $("alert"), alertText: $("alert-text"),
  alertOk: $("alert-ok"),
};

const params = new URLSearchParams(window.location.search);
const state = {
  userId: pickUserId(),
  lang: pickLanguage(),
  firstName: localStorage.getItem("emu.firstName") || "Tester",
  startPayload: params.get("start") || "",
  lastSeq: 0,
  loaded: false,
  generation: 0,
  abort: null,
  pendingButtons: new Map(), // callback_query_id -> button element
  statusTimer: null,
  toastTimer: null,
  commandsTimer: null,
  botTitle: "Bot",
};

function pickUserId() {
  const fromUrl = params.get("user");
  if (fromUrl && /^\d{1,15}$/.test(fromUrl) && Number(fromUrl) > 0) return Number(fromUrl);
  const stored = Number(localStorage.getItem("emu.userId"));
  if (Number.isInteger(stored) && stored > 0) return stored;
  return newUserId();
}

function newUserId() {
  const id = 100000000 + Math.floor(Math.random() * 900000000);
  localStorage.setItem("emu.userId", String(id));
  return id;
}

function pickLanguage() {
  const known = new Set(LANGUAGES.map(([code]) => code));
  const candidates = [params.get("lang"), localStorage.getItem("emu.lang"),
    (navigator.language || "").slice(0, 2).toLowerCase(), "en"];
  return candidates.find((code) => code !== null && known.has(code));
}

// -- server calls ------------------------------------------------------------------------

async function postJson(path, body) {
  const res = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}

function profile() {
  return { first_name: state.firstName, language_code: state.lang };
}

async function sendMessage(body) {
  try {
    await postJson(`/_emu/users/${state.userId}/messages`, { ...body, ...profile() });
  } catch (err) {
    showToast(`Not sent: ${err.message}`);
  }
}

async function sendPhoto(file, caption) {
  const form = new FormData();
  form.append("photo", file, file.name || "photo.jpg");
  if (caption) form.append("caption", caption);
  for (const [key, value] of Object.entries(profile())) form.append(key, value);
  const res = await fetch(`/_emu/users/${state.userId}/messages`, { method: "POST", body: form });
  if (!res.ok) showToast("The photo could not be sent.");
}

async function pressButton(button, messageId, data) {
  button.classList.add("loading");
  try {
    const reply = await postJson(`/_emu/users/${state.userId}/callbacks`, { message_id: messageId, data });
    state.pendingButtons.set(reply.callback_query_id, button);
    // Telegram clients stop the spinner after a while even if the bot never answers.
    setTimeout(() => {
      if (state.pendingButtons.delete(reply.callback_query_id)) button.classList.remove("loading");
    }, 15000);
  } catch (err) {
    button.classList.remove("loading");
    showToast(err.message);
  }
}

async function loadBot() {
  try {
    const res = await fetch(`/_emu/bot?lang=${encodeURIComponent(state.lang)}`, { cache: "no-store" });
    const info = await res.json();
    const bot = info.bot;
    state.botTitle = bot.first_name || bot.username;
    ui.botName.textContent = state.botTitle;
    ui.emptyTitle.textContent = state.botTitle;
    ui.botAvatar.textContent = ui.emptyAvatar.textContent = state.botTitle.slice(0, 1).toUpperCase();
    document.title = `${state.botTitle} – Telegram emulator`;
    renderCommands(info.commands || []);
  } catch {
    // The poll loop reports connection problems; the header just keeps its defaults.
  }
}

function refreshCommandsSoon() {
  if (state.commandsTimer) return;
  state.commandsTimer = setTimeout(() => {
    state.commandsTimer = null;
    loadBot();
  }, 1500);
}

// -- events ------------------------------------------------------------------------------

async function pollLoop(generation) {
  let wait = 0; // the first request fetches the history without waiting
  while (generation === state.generation) {
    try {
      const url = `/_emu/users/${state.userId}/events?after=${state.lastSeq}&wait=${wait}`;
      const res = await fetch(url, { signal: state.abort.signal, cache: "no-store" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const events = await res.json();
      if (generation !== state.generation) return;
      ui.connection.hidden = true;
      for (const event of events) {
        if (event.seq <= state.lastSeq) continue;
        state.lastSeq = event.seq;
        handleEvent(event);
      }
      if (!state.loaded) {
        state.loaded = true;
        updateEmptyState();
      }
      wait = POLL_SECONDS;
    } catch (err) {
      if (err.name === "AbortError") return;
      ui.connection.hidden = false;
      ui.connection.textContent = "Waiting for the emulator…";
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

function handleEvent(event) {
  switch (event.type) {
    case "user_message": timeline.add(normaliseUser(event.message), "out", null); break;
    case "bot_message":
      clearStatus();
      timeline.add(normaliseBot(event.message), "in", event.message.reply_markup);
      timeline.applyReplyKeyboard(event.message.reply_markup);
      refreshCommandsSoon(); // the bot may have registered commands meanwhile
      break;
    case "edit": timeline.edit(event.message); break;
    case "delete": timeline.remove(event.message_id); break;
    case "callback_answer": callbackAnswered(event); break;
    case "chat_action": showStatus(event.action); break;
    default: break;
  }
  updateEmptyState();
}

function callbackAnswered(event) {
  const button = state.pendingButtons.get(event.callback_query_id);
  if (button) {
    button.classList.remove("loading");
    state.pendingButtons.delete(event.callback_query_id);
  }
  if (event.text) {
    if (event.show_alert) showAlert(event.text);
    else showToast(event.text);
  } else if (event.url) {
    showToast(`Link: ${event.url}`);
  }
}

// -- header status, toasts, alerts -------------------------------------------------------

function showStatus(action) {
  ui.botStatus.textContent = STATUS_TEXT[action] || "typing…";
  ui.botStatus.classList.add("typing");
  clearTimeout(state.statusTimer);
  state.statusTimer = setTimeout(clearStatus, 5000); // Telegram's chat actions last 5 s
}

function clearStatus() {
  clearTimeout(state.statusTimer);
  ui.botStatus.textContent = "bot";
  ui.botStatus.classList.remove("typing");
}

function showToast(text) {
  ui.toast.textContent = text;
  ui.toast.dir = "auto";
  ui.toast.hidden = false;
  clearTimeout(state.toastTimer);
  state.toastTimer = setTimeout(() => { ui.toast.hidden = true; }, 2600);
}

function showAlert(text) {
  ui.alertText.textContent = text;
  ui.alert.hidden = false;
  ui.alertOk.focus();
}

function updateEmptyState() {
  const empty = state.loaded && state.lastSeq === 0;
  ui.empty.hidden = !empty;
  ui.startBar.hidden = !empty;
  ui.composer.hidden = empty;
}

// -- composer, menus, settings -----------------------------------------------------------

function sendTyped() {
  const text = ui.text.value;
  if (!text.trim()) return;
  ui.text.value = "";
  autoGrow();
  sendMessage({ text });
}

function autoGrow() {
  ui.text.style.height = "auto";
  ui.text.style.height = `${Math.min(ui.text.scrollHeight, 160)}px`;
}

function renderCommands(commands) {
  ui.menuBtn.hidden = commands.length === 0;
  ui.commandsMenu.replaceChildren();
  for (const { command, description } of commands) {
    const item = el("button");
    item.type = "button";
    item.setAttribute("role", "menuitem");
    item.append(el("span", "cmd", `/${command}`), el("span", "desc", description));
    item.addEventListener("click", () => {
      closePopovers();
      sendMessage({ text: `/${command}` });
    });
    ui.commandsMenu.append(item);
  }
}

function renderLocationMenu() {
  const items = CITIES.map(([name, lat, lon]) => [`📍 ${name}`, () => sendMessage({ location: { latitude: lat, longitude: lon } })]);
  if (navigator.geolocation) {
    items.unshift(["🧭 My current location", () => navigator.geolocation.getCurrentPosition(
      (pos) => sendMessage({ location: { latitude: pos.coords.latitude, longitude: pos.coords.longitude } }),
      () => showToast("The browser did not share a location."),
    )]);
  }
  for (const [label, action] of items) {
    const item = el("button", null, label);
    item.type = "button";
    item.setAttribute("role", "menuitem");
    item.addEventListener("click", () => { closePopovers(); action(); });
    ui.locationMenu.append(item);
  }
}

function togglePopover(popover, event) {
  event.stopPropagation();
  const open = popover.hidden;
  closePopovers();
  popover.hidden = !open;
}

function closePopovers() {
  ui.locationMenu.hidden = true;
  ui.commandsMenu.hidden = true;
  ui.settings.hidden = true;
  ui.settingsBtn.setAttribute("aria-expanded", "false");
}

function renderSettings() {
  for (const [code, name] of LANGUAGES) {
    const option = el("option", null, code ? `${name} (${code})` : name);
    option.value = code;
    ui.langSelect.append(option);
  }
  ui.langSelect.value = state.lang;
  ui.nameInput.value = state.firstName;
  ui.userId.textContent = String(state.userId);
}

function startChat() {
  state.generation += 1;
  if (state.abort) state.abort.abort();
  state.abort = new AbortController();
  state.lastSeq = 0;
  state.loaded = false;
  state.pendingButtons.clear();
  timeline.clear();
  ui.userId.textContent = String(state.userId);
  pollLoop(state.generation);
}

function bindEvents() {
  ui.send.addEventListener("click", sendTyped);
  ui.text.addEventListener("input", autoGrow);
  ui.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendTyped();
    }
  });
  ui.startBtn.addEventListener("click", () => {
    const payload = state.startPayload;
    sendMessage({ text: payload ? `/start ${payload}` : "/start" });
    ui.text.focus();
  });
  ui.attach.addEventListener("click", () => ui.file.click());
  ui.file.addEventListener("change", () => {
    const file = ui.file.files && ui.file.files[0];
    ui.file.value = "";
    if (!file) return;
    const caption = ui.text.value.trim();
    ui.text.value = "";
    autoGrow();
    sendPhoto(file, caption);
  });
  ui.sticker.addEventListener("click", () => sendMessage({ kind: "sticker" }));
  ui.locationBtn.addEventListener("click", (e) => togglePopover(ui.locationMenu, e));
  ui.menuBtn.addEventListener("click", (e) => togglePopover(ui.commandsMenu, e));
  ui.settingsBtn.addEventListener("click", (e) => {
    togglePopover(ui.settings, e);
    ui.settingsBtn.setAttribute("aria-expanded", String(!ui.settings.hidden));
  });
  ui.settings.addEventListener("click", (e) => e.stopPropagation());
  ui.settingsDone.addEventListener("click", closePopovers);
  ui.langSelect.addEventListener("change", () => {
    state.lang = ui.langSelect.value;
    localStorage.setItem("emu.lang", state.lang);
    loadBot();
  });
  ui.nameInput.addEventListener("change", () => {
    state.firstName = ui.nameInput.value.trim() || "Tester";
    localStorage.setItem("emu.firstName", state.firstName);
  });
  ui.newChat.addEventListener("click", () => {
    state.userId = newUserId();
    if (params.has("user")) {
      params.delete("user");
      const query = params.toString();
      window.history.replaceState(null, "", query ? `?${query}` : window.location.pathname);
    }
    closePopovers();
    startChat();
  });
  ui.alertOk.addEventListener("click", () => { ui.alert.hidden = true; });
  document.addEventListener("click", closePopovers);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      closePopovers();
      ui.alert.hidden = true;
    }
  });
}

const timeline = new Timeline(
  { list: ui.timeline, scroller: ui.messages, replyKeyboard: ui.replyKeyboard },
  { press: pressButton, send: (text) => sendMessage({ text }), toast: showToast },
);

renderSettings();
renderLocationMenu();
bindEvents();
loadBot();
startChat();
