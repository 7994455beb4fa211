// The occupation picker: picture tiles for the jobs young people often start in,
// the occupations each tile offers as chips, and a Danish (or English)
// autocomplete. Used at sign-up (one wished-for occupation) and in the
// settings (the interests, several, editable later), so both ask alike.
import { t, getLang } from "./i18n.js";
import { h, icon, clear, combobox } from "./ui.js";

// Each picture stands for a few occupations young people often start in; each
// query names one of them exactly (the top answer is taken when it is strong).
export const QUICK_OCCUPATIONS = [
  { key: "occ.cafe", symbol: "☕", q: { da: ["barista", "tjener", "opvasker", "bartender"],
    en: ["barista", "waiter", "kitchen porter", "bartender"] } },
  { key: "occ.shop", symbol: "🛒", q: { da: ["butiksassistent", "kasseassistent", "vareopfylder", "salgsassistent"],
    en: ["shop assistant", "cashier", "shelf filler", "sales assistant"] } },
  { key: "occ.stock", symbol: "📦", q: { da: ["lagerarbejder", "lagerekspedient", "gaffeltruckfører"],
    en: ["warehouse worker", "warehouse order picker", "forklift operator"] } },
  { key: "occ.clean", symbol: "🧽", q: { da: ["rengøringsassistent", "rengøringshjælp", "vinduespudser"],
    en: ["office cleaner", "domestic cleaner", "window cleaner"] } },
  { key: "occ.kitchen", symbol: "🍳", q: { da: ["køkkenassistent", "kok", "pizzabager", "opvasker"],
    en: ["kitchen assistant", "cook", "pizzaiolo", "kitchen porter"] } },
  { key: "occ.care", symbol: "🧸", q: { da: ["medarbejder i en børnepasningsordning", "social- og sundhedshjælper", "hjemmehjælper"],
    en: ["child care worker", "social care worker", "home care aide"] } },
  { key: "occ.bike", symbol: "🚲", q: { da: ["cykelbud", "chauffør - vareudbringning", "postbud"],
    en: ["bicycle courier", "postman/postwoman"] } },
  { key: "occ.garden", symbol: "🌳", q: { da: ["gartner", "havegartner", "anlægsgartner"],
    en: ["garden labourer", "landscape gardener", "horticulture worker"] } },
  { key: "occ.build", symbol: "🔨", q: { da: ["tømrer", "murer", "anlægsarbejder", "bygningsmaler"],
    en: ["carpenter", "bricklayer", "construction painter", "construction worker"] } },
];
const STRONG = 1.5; // autocomplete scores: ~2.4 for the very label, under 1 for loose hits

/**
 * The tiles, the chips a tile offers and the search field, as one block.
 * `onPick({value: uri, label})` is called for a chip or a search answer.
 *
 * @param {import("./api.js").Api} api
 * @param {{inputId: string, label?: string, onPick: (item: {value: string, label: string}) => void}} opts
 * @returns {{root: HTMLElement, input: HTMLInputElement}}
 */
export function occupationPicker(api, { inputId, label = t("ob.occ.search"), onPick }) {
  const input = h("input", { type: "search", id: inputId, placeholder: t("ob.occ.search") });
  const options = h("div", { class: "chips", role: "group", "aria-label": t("ob.occ.title") });
  const search = async (q) => {
    const res = await api.get("/v1/occupations", { q, lang: getLang(), limit: 8 });
    return res.items.map((i) => ({
      label: i.label,
      sub: i.matched_label !== i.label ? i.matched_label : "",
      value: i.uri,
    }));
  };
  const quickSearch = async (queries) => {
    const found = await Promise.all(queries.map((q) =>
      api.get("/v1/occupations", { q, lang: getLang(), limit: 1 }).catch(() => ({ items: [] }))));
    const seen = new Set();
    return found.flatMap((r) => r.items)
      .filter((i) => i.score >= STRONG && !seen.has(i.uri) && seen.add(i.uri))
      .map((i) => ({ label: i.label, value: i.uri }));
  };
  const quick = h("div", { class: "grid3" },
    QUICK_OCCUPATIONS.map((o) =>
      h("button", {
        type: "button", class: "pick",
        onclick: async () => {
          const items = await quickSearch(o.q[getLang()] || o.q.da);
          clear(options);
          for (const it of items.slice(0, 5)) {
            options.append(h("button", { type: "button", class: "chip", onclick: () => onPick(it) }, it.label));
          }
          if (!items.length) options.append(h("p", { class: "hint" }, t("ob.occ.none")));
          options.querySelector("button")?.focus();
        },
      }, icon(o.symbol), t(o.key)),
    ),
  );
  const field = h("div", { class: "field combo" }, h("label", { for: inputId }, label), input);
  combobox(input, { search, onPick, emptyText: t("ob.occ.none") });
  return { root: h("div", { class: "stack" }, quick, options, field), input };
}
