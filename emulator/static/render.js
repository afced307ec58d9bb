// Rendering of Telegram messages into DOM nodes.
//
// Formatting is rebuilt from the message's entities (offsets in UTF-16 units, which is what
// JavaScript strings index by), the way real Telegram clients do it. Only whitelisted element
// types are created and all text goes through text nodes, so nothing the bot sends can inject
// markup or script.

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:", "tg:"]);

/** Create an element with optional class and text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function safeHref(raw) {
  try {
    const url = new URL(raw, window.location.href);
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function elementFor(entity) {
  switch (entity.type) {
    case "bold": return el("strong");
    case "italic": return el("em");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": {
      const pre = el("pre");
      if (entity.language) pre.dataset.language = entity.language;
      return pre;
    }
    case "spoiler": {
      const span = el("span", "spoiler");
      span.title = "Spoiler – click to reveal";
      span.addEventListener("click", () => span.classList.toggle("revealed"));
      return span;
    }
    case "blockquote": return el("blockquote");
    case "expandable_blockquote": {
      const quote = el("blockquote", "expandable");
      quote.addEventListener("click", () => quote.classList.toggle("open"));
      return quote;
    }
    case "text_link":
    case "url": {
      const href = safeHref(entity.url || "");
      if (!href) return el("span");
      const link = el("a");
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.title = href;
      return link;
    }
    default: return el("span", `entity-${String(entity.type).replace(/[^a-z_]/g, "")}`);
  }
}

// Build nested elements for entities lying inside [start, end) of text.
function build(parent, text, entities, start, end) {
  let pos = start;
  let i = 0;
  while (i < entities.length) {
    const entity = entities[i];
    const from = Math.max(entity.offset, pos);
    const to = Math.min(entity.offset + entity.length, end);
    if (from > pos) parent.append(text.slice(pos, from));
    let j = i + 1;
    const inner = [];
    while (j < entities.length && entities[j].offset < to) {
      const child = entities[j];
      const childEnd = Math.min(child.offset + child.length, to);
      if (childEnd > child.offset) inner.push({ ...child, length: childEnd - child.offset });
      j += 1;
    }
    if (to > from) {
      const node = elementFor(entity);
      build(node, text, inner, from, to);
      parent.append(node);
      pos = to;
    }
    i = j;
  }
  if (pos < end) parent.append(text.slice(pos, end));
}

/** A `.text` element showing `text` with Telegram `entities`. */
export function formattedText(text, entities) {
  const box = el("div", "text");
  box.dir = "auto";
  const sorted = (entities || [])
    .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  build(box, text || "", sorted, 0, (text || "").length);
  return box;
}

/** "14:05" for a Unix timestamp. */
export function clock(unixSeconds) {
  const date = new Date(unixSeconds * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function fileUrl(fileId) {
  return `/_emu/files/${encodeURIComponent(fileId)}`;
}

function photoElement(sizes) {
  const img = el("img", "photo");
  const largest = sizes[sizes.length - 1];
  img.src = fileUrl(largest.file_id);
  img.alt = "Photo";
  img.loading = "lazy";
  if (largest.width && largest.height) {
    img.width = largest.width;
    img.height = largest.height;
  }
  img.addEventListener("click", () => window.open(img.src, "_blank", "noopener"));
  return img;
}

function locationElement(location) {
  const wrap = el("div");
  wrap.append(el("div", "map", "📍"));
  const lat = Number(location.latitude).toFixed(5);
  const lon = Number(location.longitude).toFixed(5);
  wrap.append(el("div", "map-caption", `Location ${lat}, ${lon}`));
  return wrap;
}

function card(icon, title, subtitle) {
  const box = el("div", "card");
  box.append(el("div", "card-icon", icon));
  const body = el("div");
  body.append(el("div", "card-title", title));
  if (subtitle) body.append(el("div", "card-sub", subtitle));
  box.append(body);
  return box;
}

function humanSize(bytes) {
  if (!bytes) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Fill `bubble` with a message's content. `msg` is normalised by the caller to
 * {kind, text, entities, photo, location, sticker, voice, document, date, edited}.
 */
export function fillBubble(bubble, msg) {
  bubble.replaceChildren();
  bubble.className = "bubble";
  const hasText = Boolean(msg.text);
  if (msg.kind === "photo") {
    bubble.classList.add("media");
    if (hasText) bubble.classList.add("captioned");
    bubble.append(photoElement(msg.photo));
  } else if (msg.kind === "location") {
    bubble.classList.add("media", "captioned");
    bubble.append(locationElement(msg.location));
  } else if (msg.kind === "sticker") {
    bubble.classList.add("sticker");
    bubble.append(el("div", "sticker-emoji", msg.sticker.emoji || "🖼️"));
  } else if (msg.kind === "voice") {
    bubble.append(card("🎤", "Voice message", `0:${String(msg.voice.duration || 0).padStart(2, "0")}`));
  } else if (msg.kind === "document") {
    bubble.append(card("📄", msg.document.file_name || "Document", humanSize(msg.document.file_size)));
  } else if (msg.kind !== "text") {
    bubble.append(el("div", "text", `[${msg.kind}]`));
  }
  if (hasText) bubble.append(formattedText(msg.text, msg.entities));
  const meta = el("span", "meta");
  if (msg.edited) meta.append(el("span", "edited-flag", "edited"));
  meta.append(clock(msg.date));
  bubble.append(meta);
}
