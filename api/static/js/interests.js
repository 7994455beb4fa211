// The settings card for a person's interests: the occupations they would like
// (GET/PATCH /v1/jobseekers/me `interests`), which the score's occupation part
// uses. Added with the same tiles and search as at sign-up (js/occupations.js),
// removed with one tap; each change is saved at once.
import "./strings/interests.js";
import { t } from "./i18n.js";
import { h, icon, clear, toast } from "./ui.js";
import { occupationPicker } from "./occupations.js";

const MAX = 10; // the API's limit (api/schemas/jobseekers.py)
// The settings are drawn afresh when the push server confirms a change; the
// "add" part stays open across that, so a second choice is one tap away.
let adding = false;

/**
 * @param {import("./api.js").Api} api
 * @param {{interests: {uri: string, label: string}[]}} me
 * @param {(me: object) => void} onSaved called with the profile the server returned
 */
export function interestsSection(api, me, onSaved) {
  let current = [...(me?.interests || [])];
  const list = h("ul", { class: "chips", id: "interests-list", "aria-labelledby": "interests-h" });
  const error = h("p", { class: "error-text", role: "alert", hidden: true });
  const draw = () => {
    clear(list);
    if (!current.length) list.append(h("li", { class: "hint" }, t("int.none")));
    for (const o of current) {
      list.append(h("li", { class: "chip", dataset: { uri: o.uri } }, icon("🎯"), o.label,
        h("button", {
          type: "button", class: "chip-remove", "aria-label": t("int.remove", { label: o.label }),
          onclick: () => save(current.filter((x) => x.uri !== o.uri)),
        }, "✕")));
    }
  };
  const save = async (next) => {
    error.hidden = true;
    if (next.length > MAX) {
      error.textContent = t("int.max", { n: MAX });
      error.hidden = false;
      return;
    }
    try {
      const saved = await api.patch("/v1/jobseekers/me", { interests: next.map((o) => o.uri) });
      current = [...saved.interests];
      draw();
      toast(t("int.saved"), { symbol: "✓" });
      onSaved(saved);
    } catch (err) {
      error.textContent = err.status === 0 ? t("error.network") : t("error.generic");
      error.hidden = false;
    }
  };
  const picker = occupationPicker(api, {
    inputId: "interest-search",
    onPick: (item) => {
      picker.input.value = "";
      if (current.some((o) => o.uri === item.value)) return;
      save([...current, { uri: item.value, label: item.label }]);
    },
  });
  draw();
  return h("section", { class: "card stack", id: "interests" },
    h("h3", { id: "interests-h" }, icon("🎯"), " ", t("int.title")),
    h("p", { class: "hint" }, t("int.hint")),
    list,
    error,
    h("details", { id: "interests-add", open: adding, ontoggle: (e) => (adding = e.currentTarget.open) },
      h("summary", {}, icon("➕"), " ", t("int.add")),
      picker.root),
  );
}
