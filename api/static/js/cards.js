// A match as a card: the explanation as icons (skills ✓/missing, distance,
// hours, job type, walk-in welcome), the details one tap away, and the actions.
import { t, formatDistance, formatHours, jobTypeLabel } from "./i18n.js";
import { h, icon } from "./ui.js";
import { reportControl } from "./trust.js";
import { kindBadge, kindOf, offerFacts } from "./offers.js";
import "./strings/jobview.js";
import "./strings/ranking.js";

/**
 * @param {object} m  {vacancy, score, distance_m, explanation, walk_in_now, isNew}
 * @param {object} state {saved: bool, applied: bool}
 * @param {object} on {dismiss, save, interest, share, opened, focus}
 */
export function matchCard(m, state, on) {
  const v = m.vacancy;
  const ex = m.explanation || {};
  const req = ex.required_skills || { matched: [], missing: [] };
  const opt = ex.optional_skills || { matched: [], missing: [] };
  const pct = Math.round((m.score || 0) * 100);
  const facts = [];
  // A shared or saved job seen without a match has nothing to say about skills.
  if (m.explanation && (req.matched.length || req.missing.length)) {
    facts.push(h("li", {}, h("span", { class: "ok", "aria-hidden": "true" }, "✓"),
      t("match.skills.ok", { n: req.matched.length })));
    if (req.missing.length) {
      facts.push(h("li", {}, h("span", { class: "miss", "aria-hidden": "true" }, "✗"),
        t("match.skills.missing", { n: req.missing.length })));
    }
  } else if (m.explanation) {
    facts.push(h("li", {}, h("span", { class: "ok", "aria-hidden": "true" }, "✓"), t("match.skills.none")));
  }
  const occ = ex.occupation;
  if (occ && occ.reason) {
    const wish = occ.interest ? occ.interest.label : occ.label;
    facts.unshift(h("li", { class: "occupation" }, icon("🎯"),
      t(`rank.occ.${occ.reason}`, { label: occ.label, wish })));
  }
  if (ex.fits_preferences === false) {
    const misses = (ex.preference_misses || []).map((k) => t(`rank.outside.${k}`)).join(" · ");
    facts.unshift(h("li", { class: "outside" }, h("span", { class: "miss", "aria-hidden": "true" }, "⚠"),
      misses || t("rank.outside")));
  }
  if (ex.weak) facts.push(h("li", { class: "weak" }, h("span", { class: "miss", "aria-hidden": "true" }, "✗"), t("rank.weak")));
  if (m.distance_m != null) facts.push(h("li", {}, icon("📍"), t("match.distance", { d: formatDistance(m.distance_m) })));
  // Leisure and volunteering: their kind, price and ages instead of a job type.
  if (kindOf(v) !== "job") facts.push(h("li", {}, kindBadge(v)), ...offerFacts(v));
  if (v.hours_per_week != null) facts.push(h("li", {}, icon("⏱"), formatHours(v.hours_per_week)));
  if (v.job_type) facts.push(h("li", {}, icon("💼"), jobTypeLabel(v.job_type)));
  if (v.walk_in) facts.push(h("li", {}, icon("🚪"), m.walk_in_now ? t("match.walkin.now") : t("match.walkin")));

  const why = !m.explanation ? null : h("details", { class: "why" },
    h("summary", {}, t("match.why")),
    req.matched.length || opt.matched.length
      ? h("div", {}, h("strong", {}, t("match.have")),
        h("ul", { class: "skill-list" },
          [...req.matched, ...opt.matched].map((s) => h("li", {}, h("span", { class: "ok", "aria-hidden": "true" }, "✓ "), s.label))))
      : null,
    req.missing.length
      ? h("div", {}, h("strong", {}, t("match.lack")),
        h("ul", { class: "skill-list" },
          req.missing.map((s) => h("li", {}, h("span", { class: "miss", "aria-hidden": "true" }, "✗ "), s.label))))
      : null,
  );
  why?.addEventListener("toggle", () => why.open && on.opened?.(v.id));

  const act = (key, symbol, handler, pressed) =>
    h("button", {
      type: "button", class: "act", "aria-pressed": pressed == null ? null : String(pressed),
      dataset: { action: key }, onclick: handler,
    }, icon(symbol), t(key === "save" && pressed ? "act.saved" : `act.${key}`));

  const titleId = `t-${v.id}`;
  return h("li", {
    class: `card match${m.isNew ? " is-new" : ""}${ex.fits_preferences === false ? " outside-wishes" : ""}`, id: `job-${v.id}`, tabindex: "-1",
    dataset: { vacancyId: v.id }, "aria-labelledby": titleId,
  },
  h("div", { class: "title-row" },
    h("h3", { id: titleId },
      on.focus
        ? h("a", { href: `#job-${v.id}`, onclick: (e) => { e.preventDefault(); on.focus(v.id); } }, v.title)
        : v.title,
      m.isNew ? [" ", h("span", { class: "badge" }, t("match.new"))] : null),
    m.score != null ? h("span", { class: "score", title: t("match.score", { n: pct }) },
      h("span", { class: "visually-hidden" }, t("match.score", { n: pct })),
      h("span", { "aria-hidden": "true" }, `${pct}%`)) : null),
  h("p", { class: "muted" }, t("match.employer", { name: v.employer_name }), v.address ? ` · ${v.address}` : ""),
  h("ul", { class: "facts" }, facts),
  why,
  h("div", { class: "actions" },
    on.dismiss ? act("dismiss", "✕", () => on.dismiss(v.id)) : null,
    act("save", "💾", () => on.save(v.id), !!state.saved),
    // "Jeg er interesseret" opens the job view's sheet (js/jobview.js); pressed once sent.
    act("interest", "🙋", () => (on.interest || on.focus)?.(v.id), !!state.applied),
    act("share", "↗", () => on.share(v)),
  ),
  on.report ? reportControl(v.id, (body) => on.report(v.id, body)) : null);
}

export function haversine(lat1, lon1, lat2, lon2) {
  const R = 6371008.8;
  const toRad = (x) => (x * Math.PI) / 180;
  const dp = toRad(lat2 - lat1);
  const dl = toRad(lon2 - lon1);
  const a = Math.sin(dp / 2) ** 2 + Math.cos(toRad(lat1)) * Math.cos(toRad(lat2)) * Math.sin(dl / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}
