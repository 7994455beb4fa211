// The work-profile questions in pictures, shared by the seeker's sign-up quiz and
// the employer's vacancy form, so both sides answer the same questions
// (matcher/profile.py: the same twelve numbers; a tap sets a dimension low or high).
import { t } from "./i18n.js";
import { h, icon } from "./ui.js";

export const QUIZ = [
  { dim: "teamwork", key: "quiz.team", a: "🧍", b: "👥" },
  { dim: "customer_contact", key: "quiz.customers", a: "📦", b: "🗣️" },
  { dim: "physical_work", key: "quiz.physical", a: "🪑", b: "🏃" },
  { dim: "variety", key: "quiz.variety", a: "🔁", b: "🎲" },
  { dim: "early_hours", key: "quiz.early", a: "😴", b: "🌅" },
  { dim: "late_hours", key: "quiz.late", a: "🏠", b: "🌙" },
];
export const LOW = 0.15;
export const HIGH = 0.85;

/**
 * The questions as picture pairs. `wp` ({dim: value}) is changed in place; a second
 * tap on the same picture clears the answer. `legendSuffix` picks the wording
 * ("" for the seeker, ".job" for the employer).
 */
export function quizGroups(wp, legendSuffix = "") {
  return QUIZ.map((q) => {
    const set = (value) => {
      wp[q.dim] = wp[q.dim] === value ? undefined : value;
      for (const b of group.querySelectorAll("button")) {
        b.setAttribute("aria-pressed", String(Number(b.dataset.value) === wp[q.dim]));
      }
    };
    const btn = (value, symbol, key) =>
      h("button", {
        type: "button", class: "pick", "aria-pressed": String(wp[q.dim] === value),
        dataset: { value: String(value), dim: q.dim }, onclick: () => set(value),
      }, icon(symbol), t(key));
    const group = h("fieldset", {},
      h("legend", {}, t(`${q.key}${legendSuffix}`)),
      h("div", { class: "pair" }, btn(LOW, q.a, `${q.key}.a`), btn(HIGH, q.b, `${q.key}.b`)));
    return group;
  });
}

/** The answered dimensions only ({} when nothing was answered). */
export function answered(wp) {
  const out = {};
  for (const [k, v] of Object.entries(wp)) if (v != null) out[k] = v;
  return out;
}
