// Formatting and tiny DOM helpers shared by the page's modules.

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const MINUS = "\u2212";

/** 1234 -> "1,234". */
export function formatCount(value) {
  return integer.format(value);
}

/** A share of a total as a whole percentage: (3, 4) -> "75%"; "0%" when the total is 0. */
export function formatShare(part, total) {
  return `${total > 0 ? Math.round((part / total) * 100) : 0}%`;
}

/** A sentiment score with an explicit sign and two decimals: 0.4 -> "+0.40", -0.1 -> "−0.10". */
export function formatScore(value) {
  const magnitude = Math.abs(value).toFixed(2);
  if (Number(magnitude) === 0) return "0.00";
  return `${value > 0 ? "+" : MINUS}${magnitude}`;
}

/** Milliseconds since the epoch of an ISO timestamp (microseconds and "Z" tolerated). */
export function parseTime(iso) {
  if (!iso) return NaN;
  return Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));
}

/** How long ago ``then`` (ms) was: "just now", "12 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function formatAge(then, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((now - then) / 1000));
  if (seconds < 2) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** "14:00" (24-hour clock) in the viewer's time zone. */
export function formatHour(ms) {
  return new Date(ms).toLocaleTimeString([],
    { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

/** "21 Nov, 14:05:09" in the viewer's time zone. */
export function formatDateTime(ms) {
  return new Date(ms).toLocaleString([], {
    day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

/** "Nov 21, 14:05" in the viewer's time zone (a publish time, shown beside each item). */
export function formatDayTime(ms) {
  return new Date(ms).toLocaleString([], {
    day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
}

/**
 * Build an element: h("a", {href, class: "x", dataset: {id: 1}}, "text", child).
 * Attributes named on* are not supported on purpose: listeners are attached explicitly.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/**
 * Run ``render`` (which rebuilds children of ``container``) and give focus back to the
 * equivalent element afterwards, so keyboard users do not lose their place.
 */
export function keepingFocus(container, render) {
  const active = document.activeElement;
  const inside = active && active !== document.body && container.contains(active);
  const owner = inside ? active.closest("[data-config-id]") : null;
  const key = inside ? active.dataset.testid || active.getAttribute("name") : null;
  render();
  if (!inside || document.activeElement === active) return;
  if (container.contains(active)) {
    active.focus(); // moved rather than replaced
    return;
  }
  if (!key) return;
  const scope = owner
    ? container.querySelector(`[data-config-id="${CSS.escape(owner.dataset.configId)}"]`)
    : container;
  if (!scope) return;
  const selector = `[data-testid="${CSS.escape(key)}"], [name="${CSS.escape(key)}"]`;
  const target = scope.matches(selector) ? scope : scope.querySelector(selector);
  if (target) target.focus();
}

/**
 * Give focus to the first candidate still in the document (candidates may be null). Used when
 * the focused element is about to disappear, so keyboard users never drop back to <body>.
 */
export function focusFirst(...candidates) {
  const target = candidates.find((candidate) => candidate && candidate.isConnected);
  if (target) target.focus();
  return target || null;
}

/** Whether focus is on ``element`` or inside it. */
export function holdsFocus(element) {
  return Boolean(element && element.contains(document.activeElement));
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Build an SVG element (same conventions as ``h``). */
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}
