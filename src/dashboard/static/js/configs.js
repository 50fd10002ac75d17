// Watch lists ("configurations"): list, create, rename, edit tickers, delete.
//
// Keyboard users never lose their place: every action that removes the focused element says
// where focus goes next (Cancel/Save: the row's Edit button; Delete: a neighbour's Show button;
// create: the new list's Show button), and the outcome is announced in a polite status region.

import { ApiError } from "./api.js";
import { focusFirst, h, holdsFocus, keepingFocus } from "./format.js";

// Screen readers speak a status region's new text; emptying it first and writing a moment
// later makes the same sentence twice in a row be spoken twice.
const ANNOUNCE_DELAY_MS = 50;

/**
 * "aapl, msft tsla" -> {tickers: ["AAPL", "MSFT", "TSLA"]} or {error: "..."}, by the rules the
 * API enforces (`watch_lists` of /api/v2/runtime-config).
 * @param {string} text
 * @param {{ticker_pattern: string, max_tickers: number}} rules
 */
export function parseTickers(text, rules) {
  const pattern = new RegExp(rules.ticker_pattern);
  const tickers = String(text).toUpperCase().split(/[\s,;]+/).filter(Boolean);
  if (!tickers.length) return { error: "Add at least one ticker." };
  const invalid = tickers.filter((ticker) => !pattern.test(ticker));
  if (invalid.length) return { error: `Not a ticker symbol: ${invalid.join(", ")}.` };
  const unique = [...new Set(tickers)];
  if (unique.length > rules.max_tickers) {
    return { error: `At most ${rules.max_tickers} tickers per watch list.` };
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

/**
 * Show ``message`` in ``error`` (one element under a form's fields) and tie it to ``field``
 * alone: that field is marked invalid, described by the message and focused; the others are
 * cleared. No field (a server error): the message is shown and tied to nothing.
 */
export function showFieldError(form, error, message, field = null) {
  error.textContent = message ? capitalize(message) : "";
  for (const input of form.querySelectorAll("input")) {
    if (input === field && message) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", error.id);
    } else {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
  }
  if (field && message) field.focus();
}

/** Validate a watch-list form by the API's rules: {name, tickers} or {error, field}. */
function readForm(form, rules) {
  const name = form.elements.name.value.trim();
  if (!name) return { error: "Give the watch list a name.", field: form.elements.name };
  const parsed = parseTickers(form.elements.tickers.value, rules);
  if (parsed.error) return { error: parsed.error, field: form.elements.tickers };
  return { name, tickers: parsed.tickers };
}

let editors = 0; // unique ids for the edit forms' error elements

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
    this.rules = null; // set from /api/v2/runtime-config before load()
    this.max = 0; // watch lists allowed: the rules', then each list answer's
    this.activeId = null;
    this.editingId = null;
    this.confirmingId = null;
    this.creating = false;
    const find = (testid) => root.querySelector(`[data-testid="${testid}"]`);
    this.list = find("config-list");
    this.count = find("config-count");
    this.status = find("config-status");
    this.form = find("config-create-form");
    this.formError = find("config-form-error");
    this.limitNote = find("config-limit-note");
    this.heading = root.querySelector("h2");
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
    const ids = new Set(configs.map((config) => config.config_id));
    if (!ids.has(this.editingId)) this.editingId = null;
    if (!ids.has(this.confirmingId)) this.confirmingId = null;
    this.render();
    this.onChange(configs);
  }

  setActive(configId) {
    this.activeId = configId;
    this.render();
  }

  /** Say ``message`` to screen readers (cleared first, so a repeat is spoken again). */
  announce(message) {
    this.status.textContent = "";
    setTimeout(() => {
      this.status.textContent = message;
    }, ANNOUNCE_DELAY_MS);
  }

  rowOf(configId) {
    return this.list.querySelector(`[data-config-id="${CSS.escape(configId)}"]`);
  }

  /** Focus ``testid`` in the row of ``configId`` (if both still exist). */
  focusInRow(configId, testid) {
    const row = configId && this.rowOf(configId);
    return focusFirst(row && row.querySelector(`[data-testid="${testid}"]`));
  }

  async create() {
    if (this.creating) return; // a second Enter while the first is on its way
    const input = readForm(this.form, this.rules);
    if (input.error) {
      showFieldError(this.form, this.formError, input.error, input.field);
      return;
    }
    showFieldError(this.form, this.formError, "");
    // Not `disabled`: a disabled button drops the focus it holds. aria-disabled says "wait".
    const button = this.form.querySelector("button[type=submit]");
    this.creating = true;
    button.setAttribute("aria-disabled", "true");
    try {
      const created = await this.api.create({ name: input.name, tickers: input.tickers });
      this.form.reset();
      this.set([...this.configs, created]);
      this.focusInRow(created.config_id, "config-show");
      this.announce(`Watch list “${created.name}” created.`);
    } catch (error) {
      showFieldError(this.form, this.formError, error.message);
      this.announce(capitalize(error.message));
      if (error instanceof ApiError && error.status === 409) this.load();
    } finally {
      this.creating = false;
      button.removeAttribute("aria-disabled");
    }
  }

  async save(config, form) {
    const error = form.querySelector('[data-testid="config-edit-error"]');
    const input = readForm(form, this.rules);
    if (input.error) {
      showFieldError(form, error, input.error, input.field);
      return;
    }
    showFieldError(form, error, "");
    const changes = {};
    if (input.name !== config.name) changes.name = input.name;
    if (input.tickers.join(",") !== config.tickers.join(",")) changes.tickers = input.tickers;
    if (!Object.keys(changes).length) {
      this.closeEditor(config.config_id);
      return;
    }
    try {
      const updated = await this.api.update(config.config_id, changes);
      this.editingId = null;
      this.set(this.configs.map((c) => (c.config_id === updated.config_id ? updated : c)));
      this.focusInRow(updated.config_id, "config-edit");
      this.announce(`Watch list “${updated.name}” saved.`);
    } catch (failure) {
      showFieldError(form, error, failure.message);
      this.announce(capitalize(failure.message));
      if (failure instanceof ApiError && failure.status === 404) this.load();
    }
  }

  closeEditor(configId) {
    this.editingId = null;
    this.render();
    this.focusInRow(configId, "config-edit");
  }

  async remove(config) {
    const index = this.configs.findIndex((c) => c.config_id === config.config_id);
    try {
      await this.api.remove(config.config_id);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) {
        this.confirmingId = null;
        this.render();
        this.focusInRow(config.config_id, "config-delete");
        this.notify(`Could not delete “${config.name}”: ${error.message}`);
        return;
      }
    }
    const rest = this.configs.filter((c) => c.config_id !== config.config_id);
    const neighbour = rest[index] || rest[index - 1];
    this.set(rest);
    if (!this.focusInRow(neighbour && neighbour.config_id, "config-show")) {
      focusFirst(this.form.elements.name);
    }
    this.announce(`Watch list “${config.name}” deleted.`);
  }

  render() {
    this.count.textContent = this.configs.length ? `${this.configs.length} of ${this.max}` : "";
    keepingFocus(this.list, () => {
      this.list.replaceChildren(...this.configs.map((config) => {
        if (config.config_id === this.editingId) return this.renderEditor(config);
        return this.renderRow(config, config.config_id === this.confirmingId);
      }));
      if (!this.configs.length) {
        this.list.append(h("li", { class: "configs__empty" },
          "Save up to five tickers as a watch list to follow only them."));
      }
    });
    this.renderLimit();
  }

  /** At the limit the form is disabled and says why (the server would refuse anyway). */
  renderLimit() {
    const full = this.configs.length >= this.max;
    const focusInForm = holdsFocus(this.form);
    this.form.querySelector(".config-form__title").textContent = full
      ? `New watch list (limit of ${this.max} reached)`
      : "New watch list";
    this.limitNote.hidden = !full;
    this.limitNote.textContent = full
      ? `You have ${this.max} watch lists, the most allowed. Delete one to add another.`
      : "";
    for (const control of this.form.querySelectorAll("input, button")) control.disabled = full;
    if (full && focusInForm) focusFirst(this.heading);
  }

  renderRow(config, confirming) {
    const active = config.config_id === this.activeId;
    const button = (testid, label, modifiers = "") => h("button", {
      type: "button", class: `button button--small ${modifiers}`.trim(),
      "aria-label": `${label} ${config.name}`, "data-testid": testid,
    }, label);
    const show = button("config-show", active ? "Showing" : "Show");
    show.setAttribute("aria-pressed", String(active));
    show.addEventListener("click", () => this.onSelect(config));
    const actions = confirming
      ? this.renderConfirm(config)
      : [show, this.renderEditButton(config, button), this.renderDeleteButton(config, button)];
    return h("li", {
      class: `config${active ? " config--active" : ""}${confirming ? " config--confirming" : ""}`,
      "data-testid": "config-row", dataset: { configId: config.config_id },
    },
    h("div", { class: "config__text" },
      h("span", { class: "config__name", "data-testid": "config-name" }, config.name),
      h("span", { class: "config__tickers", "data-testid": "config-tickers" },
        config.tickers.map((ticker) => h("span", { class: "ticker" }, ticker)))),
    h("div", { class: "config__actions" }, actions));
  }

  renderEditButton(config, button) {
    const edit = button("config-edit", "Edit", "button--ghost");
    edit.addEventListener("click", () => {
      this.editingId = config.config_id;
      this.confirmingId = null;
      this.render();
      this.focusInRow(config.config_id, "config-edit-name");
    });
    return edit;
  }

  renderDeleteButton(config, button) {
    const remove = button("config-delete", "Delete", "button--ghost button--danger");
    remove.addEventListener("click", () => {
      this.confirmingId = config.config_id;
      this.editingId = null;
      this.render();
      this.focusInRow(config.config_id, "config-delete-confirm");
    });
    return remove;
  }

  /** "Delete “X”? [Delete] [Keep]": it waits for an answer (Escape keeps the list). */
  renderConfirm(config) {
    const promptId = `config-delete-prompt-${config.config_id}`;
    const prompt = h("span", { class: "config__prompt", id: promptId,
      "data-testid": "config-delete-prompt" }, `Delete “${config.name}”?`);
    const confirm = h("button", { type: "button",
      class: "button button--small button--danger button--armed",
      "aria-label": `Delete ${config.name}`, "aria-describedby": promptId,
      "data-testid": "config-delete-confirm" }, "Delete");
    const keep = h("button", { type: "button", class: "button button--small button--ghost",
      "aria-label": `Keep ${config.name}`, "data-testid": "config-delete-cancel" }, "Keep");
    let pending = false;
    confirm.addEventListener("click", () => {
      if (pending) return;
      pending = true;
      confirm.setAttribute("aria-disabled", "true");
      this.remove(config);
    });
    const cancel = () => {
      this.confirmingId = null;
      this.render();
      this.focusInRow(config.config_id, "config-delete");
    };
    keep.addEventListener("click", cancel);
    for (const element of [confirm, keep]) {
      element.addEventListener("keydown", (event) => {
        if (event.key === "Escape") {
          event.preventDefault();
          cancel();
        }
      });
    }
    return [prompt, confirm, keep];
  }

  renderEditor(config) {
    const errorId = `config-edit-error-${++editors}`;
    const form = h("form",
      { class: "config-edit", "data-testid": "config-edit-form", novalidate: true,
        "aria-label": `Edit ${config.name}` },
      h("label", { class: "field" }, h("span", { class: "field__label" }, "Name"),
        h("input", { name: "name", maxlength: 50, value: config.name, autocomplete: "off",
          "data-testid": "config-edit-name" })),
      h("label", { class: "field" }, h("span", { class: "field__label" }, "Tickers"),
        h("input", { name: "tickers", value: config.tickers.join(", "), autocomplete: "off",
          spellcheck: "false", class: "uppercase", "data-testid": "config-edit-tickers" })),
      h("p", { class: "field__error", id: errorId, "data-testid": "config-edit-error" }),
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
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.closeEditor(config.config_id);
      }
    });
    form.querySelector('[data-testid="config-cancel"]').addEventListener("click",
      () => this.closeEditor(config.config_id));
    return h("li", { class: "config config--editing", "data-testid": "config-row",
      dataset: { configId: config.config_id } }, form);
  }
}

function capitalize(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}
