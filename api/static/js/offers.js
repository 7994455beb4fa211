// Offer kinds in the UI (issue #15): each kind has its own icon and words, jobs
// stay the default (an offer without `kind` is a job).
import "./strings/offers.js";
import { t } from "./i18n.js";
import { h, icon } from "./ui.js";

export const KINDS = ["job", "leisure", "volunteering"];
const ICONS = { job: "💼", leisure: "⚽", volunteering: "🤝" };

export function kindOf(v) {
  return KINDS.includes(v?.kind) ? v.kind : "job";
}

export function kindIcon(kind) {
  return ICONS[kind] || ICONS.job;
}

/** The kind as a small badge: icon and short word. */
export function kindBadge(v) {
  const kind = kindOf(v);
  return h("span", { class: `kind kind-${kind}`, title: t(`kind.${kind}.long`) },
    icon(kindIcon(kind)), " ", t(`kind.${kind}`));
}

/** Facts a non-job offer shows instead of hours and job type: price and ages. */
export function offerFacts(v) {
  const out = [];
  if (v.cost_dkk != null) {
    const text = v.cost_dkk === 0 ? t("offer.free")
      : v.cost_note ? t("offer.cost.note", { n: v.cost_dkk, note: v.cost_note })
        : t("offer.cost", { n: v.cost_dkk });
    out.push(h("li", {}, icon("💰"), text));
  }
  if (v.max_age != null && v.min_age != null) {
    out.push(h("li", {}, icon("🎂"), t("offer.ages", { min: v.min_age, max: v.max_age })));
  }
  return out;
}

/** The title of a notification about a new offer of this kind, or null for jobs. */
export function newOfferTitle(v) {
  const kind = kindOf(v);
  return kind === "job" ? null : t(`offer.new.${kind}`);
}

/**
 * "Vis mig også: fritidsaktiviteter, frivilligt arbejde" — the seeker's opt-in.
 * @param {string[]} current the seeker's offer_kinds
 * @param {(kinds: string[]) => Promise<void>} save
 */
export function optInSection(current, save) {
  const chosen = new Set(current && current.length ? current : ["job"]);
  const box = (kind) => h("label", { class: "check" },
    h("input", {
      type: "checkbox", name: "offer_kinds", value: kind, checked: chosen.has(kind),
      onchange: async (e) => {
        if (e.target.checked) chosen.add(kind); else chosen.delete(kind);
        chosen.add("job"); // jobs stay: the app is a job app first
        await save(KINDS.filter((k) => chosen.has(k)));
      },
    }),
    " ", icon(kindIcon(kind)), " ", t(`offer.optin.${kind}`));
  return h("fieldset", { class: "card stack", id: "offer-kinds" },
    h("legend", {}, t("offer.optin.title")),
    box("leisure"), box("volunteering"));
}
