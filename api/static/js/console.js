// The jobkonsulent console (desktop): caseload, each young person's top matches
// with the full explanation, a good/bad verdict with a reason per match, and
// plots of scores, pushes and outcomes, and verdicts. Every read of a person's
// data is audited by the API; the console keeps none of it after the tab closes.
import { Api, ApiError } from "./api.js";
import { t, applyI18n, bindLangButton, onLangChange, getLang, formatDistance, formatHours, jobTypeLabel } from "./i18n.js";
import { h, icon, clear, combobox, toast } from "./ui.js";
import { histogram, lines, verdictBar } from "./charts.js";
import { renderEmployers, renderModeration } from "./trust.js";
import { kindOf } from "./offers.js";
import { inviteButton } from "./consultant_link.js";
import { interestCard, loadInterest } from "./console_interest.js";

const KEY = "jotr.consultant.token";
const $ = (sel) => document.querySelector(sel);
const token = () => sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
const api = new Api(token);
const PARTS = ["required", "optional", "profile", "practical", "distance"];
const SERIES = [
  { key: "pushed", color: "#1d3f91" },
  { key: "opened", color: "#0a7ea4" },
  { key: "saved", color: "#7b3fa0" },
  { key: "applied", color: "#c2410c" },
  { key: "hired", color: "#146c2e" },
  { key: "dismissed", color: "#6b7280" },
];

const state = {
  caseload: [],
  person: null,
  area: { lat: 56.1535, lon: 10.2039, label: "8000 Aarhus C" },
  radius: null,
  matches: null,
  verdicts: new Map(), // vacancy id -> {verdict, reason, saved}
  interest: undefined, // the person's "Jeg er interesseret" (undefined: loading)
  outcomes: undefined,
  fairness: undefined,
};

async function boot() {
  applyI18n(document);
  bindLangButton($("#lang"));
  onLangChange(() => {
    renderCaseload();
    renderPlots();
    renderPerson();
  });
  $("#login-form").addEventListener("submit", logIn);
  $("#logout").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    localStorage.removeItem(KEY);
    location.reload();
  });
  if (token() && (await loadCaseload())) return showDesk();
  showLogin();
}

function showLogin() {
  $("#login").hidden = false;
  $("#desk").hidden = true;
  $("#logout").hidden = true;
  $("#token").focus();
}

async function logIn(e) {
  e.preventDefault();
  const value = $("#token").value.trim();
  const remember = $("#remember").checked;
  sessionStorage.setItem(KEY, value);
  if (remember) localStorage.setItem(KEY, value);
  if (await loadCaseload()) return showDesk();
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
  const err = $("#login-error");
  err.textContent = t("con.bad");
  err.hidden = false;
}

async function loadCaseload() {
  try {
    state.caseload = (await api.get("/v1/consultants/me/caseload")).jobseekers;
    return true;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return false;
    toast(t("error.network"), { symbol: "⚠️" });
    return false;
  }
}

function showDesk() {
  $("#login").hidden = true;
  $("#desk").hidden = false;
  $("#logout").hidden = false;
  if (!$("#invite")) $("#caseload-h").after(inviteButton(api));
  renderCaseload();
  loadPlots();
  renderEmployers(api, $("#trust-employers"));
  renderModeration(api, $("#moderation"));
}

// --- caseload --------------------------------------------------------------

function renderCaseload() {
  const list = $("#caseload");
  clear(list);
  $("#caseload-none").hidden = state.caseload.length > 0;
  for (const p of state.caseload) {
    list.append(h("li", {},
      h("button", {
        type: "button", "aria-current": state.person?.id === p.id ? "true" : null,
        dataset: { jobseekerId: p.id }, onclick: () => selectPerson(p.id),
      },
      h("span", { class: "name" }, p.display_name || t("con.noname")),
      h("span", { class: "muted" }, `${t("con.age", { n: p.age })} · ${t("con.skills", { n: p.skills })} · `,
        p.has_work_profile ? t("con.profile.yes") : t("con.profile.no")))));
  }
}

async function selectPerson(id) {
  state.matches = null;
  state.interest = undefined;
  state.verdicts = new Map();
  try {
    state.person = await api.get(`/v1/jobseekers/${id}`);
  } catch {
    state.person = null;
    toast(t("error.generic"), { symbol: "⚠️" });
  }
  state.radius = state.person?.preferences?.radius_m ?? 5000;
  renderCaseload();
  renderPerson();
  $("#person h2")?.focus();
  if (state.person) {
    // Read once per person chosen (each read is audited); the language button redraws it.
    loadInterest(api, state.person.id).then((items) => {
      if (state.person?.id !== id) return;
      state.interest = items;
      $("#person-interest")?.replaceWith(interestCard(items));
    });
  }
  await loadMatches();
}

async function loadMatches() {
  const p = state.person;
  if (!p) return;
  try {
    const res = await api.get(`/v1/jobseekers/${p.id}/matches`, {
      lat: state.area.lat, lon: state.area.lon, radius_m: state.radius, limit: 10,
    });
    state.matches = res.matches;
  } catch (err) {
    state.matches = [];
    toast(err.message || t("error.generic"), { symbol: "⚠️" });
  }
  renderMatches();
}

// --- one person ------------------------------------------------------------------

function renderPerson() {
  const root = $("#person");
  clear(root);
  const p = state.person;
  if (!p) {
    root.append(h("h2", { id: "person-h", class: "visually-hidden" }, t("con.person")),
      h("p", { class: "muted" }, t("con.pick")));
    return;
  }
  const types = p.preferences.job_types.length ? p.preferences.job_types.map(jobTypeLabel).join(", ") : t("con.types.any");
  const place = h("input", { type: "search", id: "area", value: state.area.label });
  const radius = h("select", { id: "radius", onchange: (e) => (state.radius = Number(e.target.value)) },
    [1000, 2000, 3000, 5000, 10000, 20000, 50000].map((r) =>
      h("option", { value: r, selected: Math.abs(r - state.radius) < 1 }, formatDistance(r))));
  if (![...radius.options].some((o) => o.selected)) {
    radius.prepend(h("option", { value: state.radius, selected: true }, formatDistance(state.radius)));
  }
  root.append(
    h("div", { class: "card" },
      h("h2", { id: "person-h", tabindex: "-1" }, p.display_name || t("con.noname"),
        h("span", { class: "muted", style: "font-weight:400" }, ` · ${t("con.age", { n: p.age })}`)),
      h("p", { class: "muted" }, t("con.birth", { d: p.birth_date }), " · ",
        t("con.prefs", { r: formatDistance(p.preferences.radius_m), types }),
        p.preferences.hours_max ? ` · ≤ ${formatHours(p.preferences.hours_max)}` : ""),
      p.skills.length
        ? h("p", {}, h("strong", {}, t("con.skills", { n: p.skills.length }), ": "), p.skills.map((s) => s.label).join(", "))
        : null,
      p.certificates.length ? h("p", {}, h("strong", {}, t("con.certs"), ": "), p.certificates.join(", ")) : null,
      p.interests?.length
        ? h("p", {}, h("strong", {}, icon("🎯"), " ", t("con.interests"), ": "), p.interests.map((o) => o.label).join(", "))
        : null,
      p.work_profile ? profileBars(p.work_profile) : null,
      subsidyBox(p.id),
    ),
    interestCard(state.interest),
    h("form", {
      class: "card row", style: "align-items:flex-end",
      onsubmit: (e) => {
        e.preventDefault();
        loadMatches();
      },
    },
    h("div", { class: "field combo", style: "flex:2;min-width:200px;margin:0" }, h("label", { for: "area" }, t("con.area")), place),
    h("div", { class: "field", style: "flex:1;min-width:120px;margin:0" }, h("label", { for: "radius" }, t("con.radius")), radius),
    h("button", { type: "submit", class: "btn primary", id: "show-matches" }, icon("🔎"), t("con.show"))),
    h("section", { "aria-labelledby": "matches-h" },
      h("h2", { id: "matches-h" }, t("con.matches")),
      h("div", { id: "match-rows" }, h("p", { class: "muted" }, t("loading")))),
  );
  combobox(place, {
    search: async (q) => (await api.get("/v1/places", { q, limit: 8 })).items.map((x) => ({ label: x.label, value: x })),
    onPick: (item) => {
      state.area = { lat: item.value.lat, lon: item.value.lon, label: item.label };
      place.value = item.label;
      loadMatches();
    },
  });
  if (state.matches) renderMatches();
}

// Subsidised job types reach a person only when marked here (a jobcenter decision).
const SUBSIDISED = ["fleksjob", "igu", "loentilskud", "virksomhedspraktik"];

function subsidyBox(id) {
  const entry = state.caseload.find((x) => x.id === id);
  const marked = new Set(entry?.subsidy_eligibility || []);
  const save = async () => {
    const job_types = SUBSIDISED.filter((jt) => $(`#sub-${jt}`).checked);
    try {
      const res = await api.put(`/v1/consultants/me/caseload/${id}/eligibility`, { job_types });
      if (entry) entry.subsidy_eligibility = res.job_types;
      toast(t("con.subsidy.saved"), { symbol: "✅" });
      loadMatches();
    } catch (err) {
      toast(err.message || t("error.generic"), { symbol: "⚠️" });
    }
  };
  return h("fieldset", { id: "subsidy" },
    h("legend", {}, t("con.subsidy")),
    h("div", { class: "chips" }, SUBSIDISED.map((jt) =>
      h("label", { class: "chip", for: `sub-${jt}` },
        h("input", { type: "checkbox", id: `sub-${jt}`, checked: marked.has(jt), onchange: save }),
        jobTypeLabel(jt)))));
}

function profileBars(wp) {
  return h("details", {},
    h("summary", {}, t("ob.quiz.title")),
    h("div", { class: "profile-bars" }, Object.entries(wp).map(([k, v]) =>
      h("div", { class: "parts" }, h("div", { class: "part" },
        h("span", {}, k.replace("_", " ")),
        h("span", { class: "bar", role: "img", "aria-label": `${k}: ${Math.round(v * 100)}%` }, h("span", { style: `width:${Math.round(v * 100)}%` })),
        h("span", {}, v.toFixed(2)))))));
}

function renderMatches() {
  const root = document.getElementById("match-rows");
  if (!root) return;
  clear(root);
  root.dataset.loaded = "true";
  const ms = state.matches || [];
  if (!ms.length) {
    root.append(h("p", { class: "muted" }, t("con.matches.none")));
    return;
  }
  for (const m of ms) root.append(matchRow(m));
}

function matchRow(m) {
  const v = m.vacancy;
  const ex = m.explanation;
  const pct = Math.round(m.score * 100);
  const req = ex.required_skills;
  const opt = ex.optional_skills;
  const pr = ex.practical || {};
  const start = pr.starts_in_days == null ? t("con.start.unknown") : t("con.start.days", { n: pr.starts_in_days });
  const verdict = state.verdicts.get(v.id) || { verdict: null, reason: "", saved: null };
  state.verdicts.set(v.id, verdict);
  const reasonId = `reason-${v.id}`;
  const good = h("button", { type: "button", class: "btn small good", "aria-pressed": String(verdict.verdict === "good"), dataset: { verdict: "good" } }, icon("👍"), t("con.good"));
  const bad = h("button", { type: "button", class: "btn small bad", "aria-pressed": String(verdict.verdict === "bad"), dataset: { verdict: "bad" } }, icon("👎"), t("con.bad"));
  const status = h("p", { role: "status", class: "saved-note" },
    verdict.saved ? t("con.verdict.saved", { v: t(verdict.saved === "good" ? "con.good" : "con.bad") }) : "");
  const reason = h("input", { type: "text", id: reasonId, maxlength: 2000, value: verdict.reason, placeholder: t("con.reason.placeholder"), oninput: (e) => (verdict.reason = e.target.value) });
  const pick = (which) => {
    verdict.verdict = which;
    good.setAttribute("aria-pressed", String(which === "good"));
    bad.setAttribute("aria-pressed", String(which === "bad"));
  };
  good.onclick = () => pick("good");
  bad.onclick = () => pick("bad");
  const save = h("button", {
    type: "button", class: "btn small primary",
    onclick: async () => {
      if (!verdict.verdict) {
        status.textContent = t("con.verdict.pick");
        return;
      }
      save.disabled = true;
      try {
        await api.post("/v1/reviews", {
          jobseeker_id: state.person.id, vacancy_id: v.id, verdict: verdict.verdict,
          reason: verdict.reason.trim(), lat: state.area.lat, lon: state.area.lon,
        });
        verdict.saved = verdict.verdict;
        status.textContent = t("con.verdict.saved", { v: t(verdict.verdict === "good" ? "con.good" : "con.bad") });
        loadPlots();
      } catch (err) {
        status.textContent = err.message || t("error.generic");
      } finally {
        save.disabled = false;
      }
    },
  }, t("con.verdict.save"));

  const outcome = h("p", { role: "status", class: "saved-note" });
  const hired = h("button", {
    type: "button", class: "btn small",
    onclick: async () => {
      hired.disabled = true;
      try {
        await api.post(`/v1/consultants/me/caseload/${state.person.id}/outcomes`, { vacancy_id: v.id, outcome: "hired" });
        outcome.textContent = t("con.hired.saved");
        loadPlots();
      } catch (err) {
        outcome.textContent = err.status === 404 || err.status === 405 ? t("con.hired.unavailable") : err.message;
        hired.disabled = false;
      }
    },
  }, icon("🎉"), t("con.hired"));

  return h("article", { class: "match-row", dataset: { vacancyId: v.id }, "aria-labelledby": `mt-${v.id}` },
    h("div", {},
      h("h3", { id: `mt-${v.id}` }, v.title),
      h("p", { class: "muted" }, v.employer_name, v.address ? ` · ${v.address}` : ""),
      h("p", {}, h("span", { class: "score" }, `${t("con.score")} ${pct}%`), ` · ${formatDistance(m.distance_m)}`),
      h("p", { class: "muted" }, t("con.practical", {
        // Leisure and volunteering: the kind's word; hours only if the offer gives them.
        type: kindOf(v) === "job" ? jobTypeLabel(pr.job_type || v.job_type) : t(`kind.${kindOf(v)}.long`),
        hours: (pr.hours_per_week ?? v.hours_per_week) != null ? formatHours(pr.hours_per_week ?? v.hours_per_week) : "–",
        start }),
        ex.walk_in ? [" · ", icon("🚪"), " ", t("match.walkin")] : ""),
      h("div", { class: "verdict stack" },
        h("p", { class: "label", id: `vl-${v.id}` }, t("con.verdict")),
        h("div", { class: "row", role: "group", "aria-labelledby": `vl-${v.id}` }, good, bad),
        h("label", { for: reasonId }, t("con.reason")), reason,
        h("div", { class: "row" }, save, hired), status, outcome)),
    h("div", { class: "parts" },
      PARTS.map((p) => {
        const val = ex.parts[p];
        if (val == null) return null;
        return h("div", { class: "part" },
          h("span", {}, t(`con.parts.${p}`), h("span", { class: "muted" }, ` ×${ex.weights?.[p] ?? ""}`)),
          h("span", { class: "bar", role: "img", "aria-label": `${t(`con.parts.${p}`)}: ${Math.round(val * 100)}%` },
            h("span", { style: `width:${Math.round(val * 100)}%` })),
          h("span", {}, `${Math.round(val * 100)}%`));
      })),
    h("div", {},
      h("p", {}, h("strong", {}, "✓ ", t("con.skills.have"), ` (${req.matched.length})`)),
      h("ul", { class: "skill-list" }, req.matched.map((s) => h("li", {}, s.label, s.credit < 1 ? h("span", { class: "muted" }, ` (${Math.round(s.credit * 100)}%)`) : ""))),
      h("p", {}, h("strong", {}, "✗ ", t("con.skills.lack"), ` (${req.missing.length})`)),
      h("ul", { class: "skill-list" }, req.missing.map((s) => h("li", {}, s.label))),
      opt.matched.length
        ? [h("p", {}, h("strong", {}, t("con.optional.have"), ` (${opt.matched.length}/${opt.matched.length + opt.missing.length})`)),
          h("ul", { class: "skill-list" }, opt.matched.map((s) => h("li", {}, s.label)))]
        : null),
  );
}

// --- plots -----------------------------------------------------------------------

async function loadPlots() {
  try {
    state.outcomes = await api.optional("/v1/consultants/me/outcomes", { days: 30 });
  } catch {
    state.outcomes = null;
  }
  try {
    state.fairness = await api.optional("/v1/consultants/me/fairness");
  } catch {
    state.fairness = null;
  }
  renderPlots();
}

function fill(id, nodes) {
  const fig = document.getElementById(id);
  const box = fig.querySelector(".chart");
  clear(box);
  if (!nodes) {
    fig.hidden = true;
    return;
  }
  fig.hidden = false;
  box.append(...nodes.flat());
}

function renderPlots() {
  const o = state.outcomes;
  $("#overview").hidden = !o && !state.fairness;
  if (!o) {
    for (const id of ["plot-hist", "plot-time", "plot-verdicts"]) fill(id, null);
  } else {
    const hist = o.score_histogram;
    fill("plot-hist", hist?.counts?.length
      ? histogram(hist.edges, hist.counts, { label: t("con.plot.hist") })
      : [h("p", { class: "muted" }, t("con.plot.none"))]);
    const series = SERIES.map((x) => ({ ...x, label: t(`con.series.${x.key}`) }));
    fill("plot-time", o.days?.length
      ? lines(o.days, series, { label: t("con.plot.time") })
      : [h("p", { class: "muted" }, t("con.plot.none"))]);
    const vd = o.verdicts || {};
    const agreement = vd.agreement == null ? null : vd.agreement <= 1 ? Math.round(vd.agreement * 100) : Math.round(vd.agreement);
    fill("plot-verdicts", (vd.good || 0) + (vd.bad || 0) > 0
      ? verdictBar(vd.good || 0, vd.bad || 0, {
        label: t("con.plot.verdicts"), goodLabel: t("con.good"), badLabel: t("con.bad"),
        agreementText: agreement == null ? null : t("con.plot.agreement", { n: agreement }),
      })
      : [h("p", { class: "muted" }, t("con.plot.none"))]);
  }
  fill("plot-fairness", state.fairness ? [fairnessTable(state.fairness)] : null);
}

/** Outcomes by age band and by area, as a table; small cells come suppressed
 * (null) from the API and show as "–". */
function fairnessTable(report) {
  const cols = ["seekers", "pushed", "applied", "hired", "apply_rate", "hire_rate"];
  const cell = (v) => (v == null ? "–" : Number.isInteger(v) ? String(v) : `${Math.round(v * 100)}%`);
  const rows = [
    ...(report.by_age_band || []).map((c) => [c.band, c]),
    ...(report.by_area || []).map((c) => [c.area || "?", c]),
  ];
  if (!rows.length) return h("p", { class: "muted" }, t("con.plot.none"));
  return h("div", {},
    h("table", { class: "fair" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ""), cols.map((c) => h("th", { scope: "col" }, t(`con.fair.${c}`))))),
      h("tbody", {}, rows.map(([label, c]) =>
        h("tr", {}, h("th", { scope: "row" }, label), cols.map((k) => h("td", {}, cell(c[k]))))))),
    h("p", { class: "hint" }, t("con.fair.hint", { n: report.min_cell })));
}

window.jotrConsole = { state, getLang };
boot();
