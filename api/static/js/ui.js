// DOM helpers shared by the pages: element builder (text only, never HTML from
// data), toasts, and an accessible autocomplete (ARIA 1.2 combobox + listbox).

/**
 * h("button", {class: "btn", onclick: fn, "aria-label": "…"}, "text", child…)
 * Strings become text nodes: data is never parsed as HTML.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "text") el.textContent = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** An emoji or symbol as an icon: hidden from screen readers (the word next to
 * it says the same), or labelled when it stands alone. */
export function icon(symbol, label) {
  return label
    ? h("span", { class: "ico", role: "img", "aria-label": label }, symbol)
    : h("span", { class: "ico", "aria-hidden": "true" }, symbol);
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let toastRoot = null;

function closeLabel() {
  return document.documentElement.lang === "en" ? "Close" : "Luk";
}

/** A short message at the top; `action` is {label, run}. */
export function toast(text, { symbol = "ℹ️", action = null, timeout = 6000, kind = "info" } = {}) {
  if (!toastRoot) {
    toastRoot = document.getElementById("toasts");
    if (!toastRoot) {
      toastRoot = h("div", { id: "toasts", class: "toasts" });
      document.body.append(toastRoot);
    }
  }
  const node = h(
    "div",
    { class: `toast toast-${kind}`, role: kind === "match" ? "alert" : "status" },
    icon(symbol),
    h("div", { class: "txt" }, text),
  );
  if (action) {
    node.append(
      h("button", {
        type: "button",
        onclick: () => {
          node.remove();
          action.run();
        },
      }, action.label),
    );
  }
  node.append(
    h("button", { type: "button", class: "toast-close", "aria-label": closeLabel(), onclick: () => node.remove() }, "✕"),
  );
  toastRoot.append(node);
  if (timeout) setTimeout(() => node.remove(), timeout);
  return node;
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

let comboSeq = 0;

/**
 * An autocomplete on an <input>: `search(q)` returns [{label, sub?, value}],
 * `onPick(item)` is called with the chosen one. Keyboard: ↓/↑ move, Enter
 * picks, Escape closes.
 */
export function combobox(input, { search, onPick, minChars = 1, emptyText = "" }) {
  const id = `lb-${++comboSeq}`;
  const wrap = input.closest(".combo") || input.parentElement;
  const list = h("ul", { role: "listbox", id, hidden: true });
  wrap.append(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", id);
  input.setAttribute("autocomplete", "off");
  let items = [];
  let active = -1;
  let lastQuery = "";

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const mark = () => {
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
    if (active >= 0) {
      input.setAttribute("aria-activedescendant", `${id}-${active}`);
      list.children[active]?.scrollIntoView({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  };
  const pick = (i) => {
    const item = items[i];
    if (!item) return;
    close();
    onPick(item);
  };
  const render = () => {
    clear(list);
    if (!items.length) {
      if (emptyText && input.value.trim().length >= minChars) {
        list.append(h("li", { role: "option", "aria-disabled": "true", "aria-selected": "false" }, emptyText));
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      } else close();
      return;
    }
    items.forEach((item, i) => {
      list.append(
        h(
          "li",
          {
            role: "option",
            id: `${id}-${i}`,
            "aria-selected": "false",
            onmousedown: (e) => e.preventDefault(),
            onclick: () => pick(i),
          },
          item.label,
          item.sub ? h("small", {}, item.sub) : null,
        ),
      );
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    active = -1;
  };
  const run = debounce(async () => {
    const q = input.value.trim();
    if (q.length < minChars) {
      items = [];
      render();
      return;
    }
    lastQuery = q;
    try {
      const found = await search(q);
      if (q !== lastQuery) return; // a later keystroke won
      items = found;
      render();
    } catch {
      items = [];
      render();
    }
  }, 120);

  input.addEventListener("input", run);
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      if (list.hidden) run();
      if (items.length) {
        active = (active + 1) % items.length;
        mark();
      }
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      if (items.length) {
        active = (active - 1 + items.length) % items.length;
        mark();
      }
    } else if (e.key === "Enter") {
      if (!list.hidden && items.length) {
        e.preventDefault();
        pick(active >= 0 ? active : 0);
      }
    } else if (e.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  return { close, refresh: run };
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

export function storage(key, fallback) {
  try {
    const v = localStorage.getItem(key);
    return v == null ? fallback : JSON.parse(v);
  } catch {
    return fallback;
  }
}

export function store(key, value) {
  localStorage.setItem(key, JSON.stringify(value));
}
