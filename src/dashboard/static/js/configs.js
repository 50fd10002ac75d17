// Watch lists ("configurations"): list, create, rename, edit tickers, delete.

import { ApiError } from "./api.js";
import { h, keepingFocus } from "./format.js";

const TICKER = /^[A-Z][A-Z0-9.-]{0,9}$/;
const MAX_TICKERS = 5;
const DELETE_CONFIRM_MS = 4_000;

/** "aapl, msft tsla" -> {tickers: ["AAPL", "MSFT", "TSLA"]} or {error: "..."}. */
export function parseTickers(text) {
  const tickers = String(text).toUpperCase().split(/[\s,;]+/).filter(Boolean);
  if (!tickers.length) return { error: "Add at least one ticker." };
  const invalid = tickers.filter((ticker) => !TICKER.test(ticker));
  if (invalid.length) return { error: `Not a ticker symbol: ${invalid.join(", ")}.` };
  const unique = [...new Set(tickers)];
  if (unique.length > MAX_TICKERS) {
    return { error: `At most ${MAX_TICKERS} tickers per watch list.` };
  }
  return { tickers: unique };
}

/** Keep a text input upper case while typing, without moving the caret. */
export function uppercaseInput(input) {
  input.addEventListener("input", () => {
    const { selectionStart, selectionEnd, value } = input;
    const upper = value.toUpperCase();
    if (upper !== value) {
      input.value = upper;
      input.setSelectionRange(selectionStart, selectionEnd);
    }
  });
}

export class ConfigPanel {
  /**
   * @param {object} options
   * @param {HTMLElement} options.root  the panel
   * @param {ReturnType<import("./api.js").configurationsApi>} options.api
   * @param {import("./api.js").SessionStore} options.sessions
   * @param {(configs: object[]) => void} options.onChange  the list changed
   * @param {(config: object) => void} options.onSelect  "show" was clicked
   * @param {(message: string) => void} options.notify  show an error to the user
   */
  constructor({ root, api, sessions, onChange, onSelect, notify }) {
    Object.assign(this, { root, api, sessions, onChange, onSelect, notify });
    this.configs = [];
    this.max = MAX_TICKERS;
    this.activeId = null;
    this.editingId = null;
    this.list = root.querySelector('[data-testid="config-list"]');
    this.count = root.querySelector('[data-testid="config-count"]');
    this.form = root.querySelector('[data-testid="config-create-form"]');
    this.formError = root.querySelector('[data-testid="config-form-error"]');
    uppercaseInput(this.form.elements.tickers);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    this.render();
  }

  /** Load the list if a session exists (a session is only created when one is needed). */
  async load() {
    if (!this.sessions.current()) {
      this.set([]);
      return;
    }
    try {
      const answer = await this.api.list();
      this.max = answer.max_configurations || this.max;
      this.set(answer.configurations);
    } catch (error) {
      if (error instanceof ApiError && error.invalidToken) this.set([]);
      else this.notify(`Could not load your watch lists: ${error.message}`);
    }
  }

  set(configs) {
    this.configs = configs;
    this.render();
    this.onChange(configs);
  }

  setActive(configId) {
    this.activeId = configId;
    this.render();
  }

  async create() {
    const name = this.form.elements.name.value.trim();
    const parsed = parseTickers(this.form.elements.tickers.value);
    if (!name) return this.showFormError("Give the watch list a name.", this.form.elements.name);
    if (parsed.error) return this.showFormError(parsed.error, this.form.elements.tickers);
    this.showFormError("");
    const button = this.form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const created = await this.api.create({ name, tickers: parsed.tickers });
      this.form.reset();
      this.set([...this.configs, created]);
    } catch (error) {
      this.showFormError(error.message);
      if (error instanceof ApiError && error.status === 409) this.load();
    } finally {
      button.disabled = false;
    }
    return undefined;
  }

  showFormError(message, field) {
    this.formError.textContent = message ? capitalize(message) : "";
    for (const input of this.form.querySelectorAll("input")) {
      if (input === field) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    if (field) field.focus();
  }

  async save(config, form) {
    const name = form.elements.name.value.trim();
    const parsed = parseTickers(form.elements.tickers.value);
    const error = form.querySelector('[data-testid="config-edit-error"]');
    if (!name) return void (error.textContent = "Give the watch list a name.");
    if (parsed.error) return void (error.textContent = parsed.error);
    const changes = {};
    if (name !== config.name) changes.name = name;
    if (parsed.tickers.join(",") !== config.tickers.join(",")) changes.tickers = parsed.tickers;
    if (!Object.keys(changes).length) {
      this.editingId = null;
      return void this.render();
    }
    try {
      const updated = await this.api.update(config.config_id, changes);
      this.editingId = null;
      this.set(this.configs.map((c) => (c.config_id === updated.config_id ? updated : c)));
    } catch (failure) {
      error.textContent = capitalize(failure.message);
      if (failure instanceof ApiError && failure.status === 404) this.load();
    }
    return undefined;
  }

  async remove(config) {
    try {
      await this.api.remove(config.config_id);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) {
        this.notify(`Could not delete “${config.name}”: ${error.message}`);
        return;
      }
    }
    this.set(this.configs.filter((c) => c.config_id !== config.config_id));
  }

  render() {
    this.count.textContent = this.configs.length ? `${this.configs.length} of ${this.max}` : "";
    const full = this.configs.length >= this.max;
    this.form.querySelector(".config-form__title").textContent = full
      ? `New watch list (limit of ${this.max} reached)`
      : "New watch list";
    keepingFocus(this.list, () => {
      this.list.replaceChildren(...this.configs.map((config) =>
        config.config_id === this.editingId ? this.renderEditor(config) : this.renderRow(config)));
      if (!this.configs.length) {
        this.list.append(h("li", { class: "configs__empty" },
          "Save up to five tickers as a watch list to follow only them."));
      }
    });
  }

  renderRow(config) {
    const active = config.config_id === this.activeId;
    const show = h("button", { type: "button", class: "button button--small",
      "aria-pressed": String(active), "data-testid": "config-show" }, active ? "Showing" : "Show");
    const edit = h("button", { type: "button", class: "button button--small button--ghost",
      "data-testid": "config-edit" }, "Edit");
    const remove = h("button", { type: "button",
      class: "button button--small button--ghost button--danger", "data-testid": "config-delete" },
    "Delete");
    show.addEventListener("click", () => this.onSelect(config));
    edit.addEventListener("click", () => {
      this.editingId = config.config_id;
      this.render();
      this.list.querySelector('[data-testid="config-edit-form"] input')?.focus();
    });
    let armed = null;
    remove.addEventListener("click", () => {
      if (!armed) {
        remove.textContent = "Confirm";
        remove.classList.add("button--armed");
        armed = setTimeout(() => {
          armed = null;
          remove.textContent = "Delete";
          remove.classList.remove("button--armed");
        }, DELETE_CONFIRM_MS);
        return;
      }
      clearTimeout(armed);
      remove.disabled = true;
      this.remove(config);
    });
    return h("li", { class: `config${active ? " config--active" : ""}`, "data-testid": "config-row",
      dataset: { configId: config.config_id } },
    h("div", { class: "config__text" },
      h("span", { class: "config__name", "data-testid": "config-name" }, config.name),
      h("span", { class: "config__tickers", "data-testid": "config-tickers" },
        config.tickers.map((ticker) => h("span", { class: "ticker" }, ticker)))),
    h("div", { class: "config__actions" }, show, edit, remove));
  }

  renderEditor(config) {
    const form = h("form",
      { class: "config-edit", "data-testid": "config-edit-form", novalidate: true },
      h("label", { class: "field" }, h("span", { class: "field__label" }, "Name"),
        h("input", { name: "name", maxlength: 50, value: config.name, autocomplete: "off",
          "data-testid": "config-edit-name" })),
      h("label", { class: "field" }, h("span", { class: "field__label" }, "Tickers"),
        h("input", { name: "tickers", value: config.tickers.join(", "), autocomplete: "off",
          spellcheck: "false", class: "uppercase", "data-testid": "config-edit-tickers" })),
      h("p", { class: "field__error", "data-testid": "config-edit-error", "aria-live": "polite" }),
      h("div", { class: "config__actions" },
        h("button", { type: "submit", class: "button button--small button--primary",
          "data-testid": "config-save" }, "Save"),
        h("button", { type: "button", class: "button button--small button--ghost",
          "data-testid": "config-cancel" }, "Cancel")));
    uppercaseInput(form.elements.tickers);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save(config, form);
    });
    form.querySelector('[data-testid="config-cancel"]').addEventListener("click", () => {
      this.editingId = null;
      this.render();
    });
    return h("li", { class: "config config--editing", "data-testid": "config-row",
      dataset: { configId: config.config_id } }, form);
  }
}

function capitalize(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}
