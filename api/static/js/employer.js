// The employer page: a small business signs up, then posts, edits and closes
// vacancies from a phone, and sees how many young people nearby each one fits
// (a count only, with a floor: docs/clients.md).
import { Api, ApiError, newIdempotencyKey } from "./api.js";
import { t, applyI18n, bindLangButton, onLangChange, getLang, jobTypeLabel, formatHours } from "./i18n.js";
import { h, icon, clear, combobox, toast, copyText } from "./ui.js";
import { JobMap, AARHUS } from "./map.js";
import { renderEmployerStatus } from "./trust.js";
import { currentKind, fillOfferFields, mountOfferFields, offerBody, orgKind, postedFacts } from "./offers_employer.js";
import { loadInterestCounts, interestBlock } from "./employer-interest.js";
import { mountPay, fillPay, payBody } from "./employer-pay.js";
import { updateParentsNotice } from "./employer_parents.js";
import { QUIZ, quizGroups, answered } from "./workprofile.js";
import "./strings/ranking.js";

const KEY = "jotr.employer.key";
const JOB_TYPES = ["fritidsjob", "smaajob", "ordinary", "elev_laerling", "virksomhedspraktik",
  "loentilskud", "igu", "fleksjob"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
// The youth rules' questions (docs/matching.md): kinds of workplace and the hazard checklist.
const KINDS = ["shop", "office", "service_station", "kiosk", "restaurant", "hotel", "grill_bar",
  "cinema", "theatre", "concert_venue", "bar", "bakery", "farm_stable", "newspaper_delivery", "other"];
const HAZARDS = ["machines", "chemicals", "heavy_lifting", "heights", "heat_cold", "noise_vibration",
  "radiation", "biological", "violence_risk", "confined_spaces", "animals", "other"];

const $ = (sel) => document.querySelector(sel);
const api = new Api(() => localStorage.getItem(KEY));

const form = {
  editing: null, // vacancy id when editing
  occupation: null, // {uri, label}
  skills: new Map(), // uri -> {label, kind: "required"|"optional", checked}
  pin: null, // {lat, lon}
  autoTitle: "",
  idem: null, // {body, key}
  map: null,
  marker: null,
  openedAt: 0,
  wp: {}, // the work-profile pictures' answers, {dim: value}
  wpKept: {}, // other dimensions of a stored profile (sent through the API), kept on edit
};
let vacancies = [];

function show(id) {
  for (const s of ["signup", "dashboard", "editor"]) $(`#${s}`).hidden = s !== id;
  $("#logout").hidden = id === "signup";
}

async function boot() {
  mountOfferFields();
  applyI18n(document);
  bindLangButton($("#lang"));
  onLangChange(() => {
    renderJobs();
    renderTypes();
    renderDays();
    renderYouth();
    renderSkills();
    renderWorkProfile();
    setSubmitLabel();
  });
  renderTypes();
  renderDays();
  renderYouth();
  mountPay($("#f-hours").closest(".grid2"));
  $("#signup-form").addEventListener("submit", signUp);
  $("#key-form").addEventListener("submit", logIn);
  $("#new-job").addEventListener("click", () => openEditor(null));
  $("#f-cancel").addEventListener("click", () => showDashboard());
  $("#job-form").addEventListener("submit", submit);
  $("#f-walkin").addEventListener("change", (e) => ($("#f-hours-box").hidden = !e.target.checked));
  $("#f-here").addEventListener("click", useMyPosition);
  $("#copy-key").addEventListener("click", async () => {
    const ok = await copyText($("#new-key-value").textContent);
    toast(ok ? t("copied") : t("error.generic"), { symbol: "🔑" });
  });
  $("#logout").addEventListener("click", () => {
    localStorage.removeItem(KEY);
    location.reload();
  });
  setupCombos();
  if (localStorage.getItem(KEY)) await showDashboard();
  else show("signup");
}

async function signUp(e) {
  e.preventDefault();
  const name = $("#emp-name").value.trim();
  const cvr = $("#emp-cvr").value.trim();
  const err = $("#signup-error");
  err.hidden = true;
  if (!name) {
    err.textContent = t("emp.name");
    err.hidden = false;
    return $("#emp-name").focus();
  }
  try {
    const org = orgKind();
    const res = await api.post("/v1/employers", cvr ? { name, cvr, org_kind: org } : { name, org_kind: org });
    localStorage.setItem(KEY, res.api_key);
    $("#new-key-value").textContent = res.api_key;
    $("#new-key").hidden = false;
    await showDashboard();
  } catch (error) {
    err.textContent = error.message || t("error.generic");
    err.hidden = false;
  }
}

async function logIn(e) {
  e.preventDefault();
  const key = $("#emp-key").value.trim();
  localStorage.setItem(KEY, key);
  try {
    await api.get("/v1/employers/me/vacancies");
    await showDashboard();
  } catch {
    localStorage.removeItem(KEY);
    const err = $("#key-error");
    err.textContent = t("emp.key.bad");
    err.hidden = false;
  }
}

// --- dashboard ---------------------------------------------------------------

async function showDashboard(highlight) {
  show("dashboard");
  try {
    vacancies = (await api.get("/v1/employers/me/vacancies")).vacancies;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      localStorage.removeItem(KEY);
      return show("signup");
    }
    vacancies = [];
  }
  await loadInterestCounts(api);
  renderJobs(highlight);
  for (const v of vacancies) if (v.status === "open") loadReach(v.id);
  await renderEmployerStatus(api, $("#trust-status"), $("#f-walkin"));
}

const reach = new Map();

async function loadReach(id) {
  try {
    reach.set(id, await api.get(`/v1/employers/me/vacancies/${id}/reach`));
    renderReach(id);
  } catch {
    /* the count is a nicety; the list stands without it */
  }
}

function renderReach(id) {
  const el = document.querySelector(`[data-reach="${id}"]`);
  const r = reach.get(id);
  if (!el || !r) return;
  el.hidden = false;
  clear(el).append(
    icon("👥"),
    r.matching_seekers == null ? t("emp.reach.few", { n: r.fewer_than }) : t("emp.reach", { n: r.matching_seekers }),
  );
}

function renderJobs(highlight) {
  const list = $("#jobs");
  clear(list);
  $("#jobs-none").hidden = vacancies.length > 0;
  for (const v of vacancies) {
    const open = v.status === "open";
    list.append(h("li", { class: `card${highlight === v.id ? " match is-new" : ""}`, dataset: { vacancyId: v.id } },
      h("div", { class: "title-row" }, h("h3", {}, v.title),
        h("span", { class: `badge${open ? "" : " closed"}` }, open ? t("emp.open") : t("emp.closed"))),
      h("ul", { class: "facts" },
        postedFacts(v),
        v.job_type ? h("li", {}, icon("💼"), jobTypeLabel(v.job_type)) : null,
        v.hours_per_week != null ? h("li", {}, icon("⏱"), formatHours(v.hours_per_week)) : null,
        h("li", {}, icon("🎂"), `${v.min_age}+`),
        v.walk_in ? h("li", {}, icon("🚪"), t("match.walkin")) : null,
        v.address ? h("li", {}, icon("📍"), v.address) : null),
      open ? h("p", { class: "reach", dataset: { reach: v.id }, hidden: true, title: t("emp.reach.hint") }) : null,
      interestBlock(v),
      open
        ? h("div", { class: "row" },
          h("button", { type: "button", class: "btn small", onclick: () => openEditor(v) }, icon("✏️"), t("emp.edit")),
          h("button", { type: "button", class: "btn small", onclick: () => share(v) }, icon("↗"), t("act.share")),
          h("button", { type: "button", class: "btn small bad", onclick: () => closeJob(v) }, icon("✕"), t("emp.close")))
        : null,
    ));
    if (open) renderReach(v.id);
  }
}

async function share(v) {
  const url = `${location.origin}/v/${v.id}`;
  if (navigator.share) {
    try {
      return await navigator.share({ title: v.title, url });
    } catch {
      /* copy instead */
    }
  }
  toast((await copyText(url)) ? t("share.copied") : url, { symbol: "🔗" });
}

async function closeJob(v) {
  if (!confirm(t("emp.close.confirm"))) return;
  try {
    await api.delete(`/v1/vacancies/${v.id}`);
    toast(t("emp.closed.done"), { symbol: "✅" });
  } catch {
    toast(t("error.generic"), { symbol: "⚠️" });
  }
  await showDashboard();
}

// --- the form ------------------------------------------------------------------

function renderTypes() {
  const sel = $("#f-type");
  const value = sel.value || "fritidsjob";
  clear(sel);
  for (const jt of JOB_TYPES) sel.append(h("option", { value: jt }, jobTypeLabel(jt)));
  sel.value = value;
}

function renderDays() {
  const box = $("#f-days");
  const checked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
  const initial = box.children.length === 0;
  clear(box);
  for (const d of DAYS) {
    const id = `day-${d}`;
    box.append(h("label", { class: "chip", for: id },
      h("input", { type: "checkbox", id, value: d, checked: initial ? d !== "sun" : checked.has(d) }), t(`day.${d}`)));
  }
}

function renderYouth() {
  const kind = $("#f-kind");
  const value = kind.value || "other";
  clear(kind);
  for (const k of KINDS) kind.append(h("option", { value: k }, t(`kind.${k}`)));
  kind.value = value;
  for (const [boxId, prefix, items, label] of [
    ["#f-work-days", "wd", DAYS, (d) => t(`day.${d}`)],
    ["#f-hazards", "hz", HAZARDS, (x) => t(`hazard.${x}`)],
  ]) {
    const box = $(boxId);
    const checked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
    clear(box);
    for (const x of items) {
      const id = `${prefix}-${x}`;
      box.append(h("label", { class: "chip", for: id },
        h("input", { type: "checkbox", id, value: x, checked: checked.has(x) }), label(x)));
    }
  }
}

function fillYouth(v) {
  $("#f-kind").value = v?.workplace_kind || "other";
  $("#f-light").checked = !!v?.light_work;
  updateParentsNotice();
  $("#f-alcohol").checked = !!v?.alcohol_served;
  $("#f-alone").checked = !!v?.may_work_alone;
  const hazards = new Set(v?.hazards || []);
  for (const x of HAZARDS) $(`#hz-${x}`).checked = hazards.has(x);
  const entry = v?.schedule?.[0];
  const days = new Set((v?.schedule || []).flatMap((e) => e.days));
  for (const d of DAYS) $(`#wd-${d}`).checked = days.has(d);
  $("#f-work-from").value = entry?.start || v?.shift?.start?.slice(0, 5) || "";
  $("#f-work-to").value = entry?.end || v?.shift?.end?.slice(0, 5) || "";
}

// The same questions as the seeker's sign-up quiz, in pictures; the vacancy's
// work profile is what the matcher compares (matcher/scoring.py, profile part).
function fillWorkProfile(stored) {
  const quizDims = new Set(QUIZ.map((q) => q.dim));
  form.wp = {};
  form.wpKept = {};
  for (const [k, v] of Object.entries(stored || {})) {
    if (v === 0.5) continue; // neutral: not answered
    if (quizDims.has(k)) form.wp[k] = v;
    else form.wpKept[k] = v;
  }
  renderWorkProfile();
}

function renderWorkProfile() {
  const box = $("#f-wp");
  clear(box);
  box.append(...quizGroups(form.wp, ".job"));
}

function workProfileBody() {
  const wp = { ...form.wpKept, ...answered(form.wp) };
  return Object.keys(wp).length ? wp : null;
}

function youthBody() {
  const days = [...document.querySelectorAll("#f-work-days input:checked")].map((i) => i.value);
  const start = $("#f-work-from").value;
  const end = $("#f-work-to").value;
  return {
    workplace_kind: $("#f-kind").value,
    light_work: $("#f-light").checked,
    alcohol_served: $("#f-alcohol").checked,
    may_work_alone: $("#f-alone").checked,
    hazards: [...document.querySelectorAll("#f-hazards input:checked")].map((i) => i.value),
    // The form edits one span on the ticked days; a schedule with different hours on
    // different days (posted through the API) is saved back as the first span's hours.
    schedule: days.length && start && end && start !== end ? [{ days, start, end }] : [],
  };
}

function renderSkills() {
  const box = $("#f-skills");
  clear(box);
  $("#f-skills-box").hidden = form.skills.size === 0;
  let i = 0;
  for (const [uri, s] of form.skills) {
    const id = `fs-${i++}`;
    box.append(h("label", { class: "chip", for: id },
      h("input", {
        type: "checkbox", id, checked: s.checked, dataset: { uri },
        onchange: (e) => (s.checked = e.target.checked),
      }), s.label));
  }
}

function setSubmitLabel() {
  $("#f-submit").textContent = form.editing ? t("emp.update") : t("emp.post");
  $("#form-h").textContent = form.editing ? t("emp.form.edit") : t("emp.form.new");
}

function setupCombos() {
  combobox($("#f-occ"), {
    search: async (q) => {
      const res = await api.get("/v1/occupations", { q, lang: getLang(), limit: 8 });
      return res.items.map((i) => ({ label: i.label, sub: i.matched_label !== i.label ? i.matched_label : "", value: i.uri }));
    },
    onPick: async (item) => {
      form.occupation = { uri: item.value, label: item.label };
      $("#f-occ").value = item.label;
      const title = $("#f-title");
      if (!title.value.trim() || title.value === form.autoTitle) {
        form.autoTitle = item.label.charAt(0).toUpperCase() + item.label.slice(1);
        title.value = form.autoTitle;
      }
      await suggestSkills(item.value);
    },
  });
  combobox($("#f-place"), {
    search: async (q) => (await api.get("/v1/places", { q, limit: 8 })).items.map((p) => ({ label: p.label, value: p })),
    onPick: (item) => {
      $("#f-place").value = item.label;
      form.map.focus(item.value.lat, item.value.lon, 15);
      setPin(item.value.lat, item.value.lon, item.label);
    },
  });
}

async function suggestSkills(uri) {
  try {
    const res = await api.get("/v1/occupations/skills", { uri, lang: getLang() });
    // Keep what the employer already ticked; offer the occupation's profile.
    for (const [k, s] of [...form.skills]) if (!s.checked) form.skills.delete(k);
    res.essential.slice(0, 8).forEach((s, i) => {
      if (!form.skills.has(s.uri)) form.skills.set(s.uri, { label: s.label, kind: "required", checked: i < 5 });
    });
    for (const s of res.optional.slice(0, 5)) {
      if (!form.skills.has(s.uri)) form.skills.set(s.uri, { label: s.label, kind: "optional", checked: false });
    }
  } catch {
    /* no suggestions: the employer can still post */
  }
  renderSkills();
}

function ensureMap() {
  if (form.map) return;
  form.map = new JobMap($("#pin-map"), {
    center: AARHUS,
    zoom: 13,
    onClick: (lat, lon) => setPin(lat, lon),
  });
}

function setPin(lat, lon) {
  form.pin = { lat: Math.round(lat * 1e7) / 1e7, lon: Math.round(lon * 1e7) / 1e7 };
  const L = window.L;
  if (!form.marker) {
    form.marker = L.marker([lat, lon], {
      draggable: true, keyboard: true, title: t("emp.place"),
      icon: L.divIcon({ className: "jotr-pin is-chosen", html: '<span aria-hidden="true">🏪</span>', iconSize: [34, 34] }),
    }).addTo(form.map.map);
    form.marker.on("dragend", () => {
      const p = form.marker.getLatLng();
      form.pin = { lat: Math.round(p.lat * 1e7) / 1e7, lon: Math.round(p.lng * 1e7) / 1e7 };
    });
  } else form.marker.setLatLng([lat, lon]);
  form.marker.getElement()?.setAttribute("aria-label", t("emp.place"));
  $("#pin-map").dataset.pinned = "true";
  $("#pin-status").textContent = t("emp.place.set");
}

function useMyPosition() {
  if (!navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition(
    (p) => {
      form.map.focus(p.coords.latitude, p.coords.longitude, 16);
      setPin(p.coords.latitude, p.coords.longitude);
    },
    () => toast(t("home.noloc"), { symbol: "📍" }),
    { enableHighAccuracy: true, timeout: 15_000 },
  );
}

function openEditor(v) {
  show("editor");
  ensureMap();
  form.editing = v ? v.id : null;
  form.idem = null;
  form.openedAt = performance.now();
  form.skills = new Map();
  form.occupation = v?.occupation ? { uri: v.occupation.uri, label: v.occupation.label } : null;
  form.autoTitle = "";
  for (const s of v?.required_skills || []) form.skills.set(s.uri, { label: s.label, kind: "required", checked: true });
  for (const s of v?.optional_skills || []) form.skills.set(s.uri, { label: s.label, kind: "optional", checked: true });
  $("#f-occ").value = form.occupation?.label || "";
  $("#f-title").value = v?.title || "";
  $("#f-address").value = v?.address || "";
  $("#f-type").value = v?.job_type || "fritidsjob";
  $("#f-hours").value = v?.hours_per_week ?? 10;
  $("#f-age").value = String(v?.min_age ?? 15);
  updateParentsNotice();
  $("#f-walkin").checked = !!v?.walk_in;
  $("#f-hours-box").hidden = !v?.walk_in;
  $("#f-desc").value = v?.description || "";
  fillYouth(v);
  fillOfferFields(v);
  fillPay(v);
  fillWorkProfile(v?.work_profile);
  $("#f-place").value = "";
  $("#form-error").hidden = true;
  if (v?.opening_hours) {
    for (const d of DAYS) $(`#day-${d}`).checked = !!v.opening_hours[d];
    const first = Object.values(v.opening_hours)[0]?.[0];
    if (first) {
      $("#f-open").value = first[0];
      $("#f-close").value = first[1];
    }
  }
  if (form.marker) {
    form.marker.remove();
    form.marker = null;
  }
  form.pin = null;
  $("#pin-map").dataset.pinned = "false";
  $("#pin-status").textContent = t("emp.place.pin");
  if (v) {
    setPin(v.location.lat, v.location.lon);
    form.map.focus(v.location.lat, v.location.lon, 15);
  }
  renderSkills();
  setSubmitLabel();
  setTimeout(() => form.map.resize(), 0);
  $("#form-h").focus();
}

function formBody() {
  const walkIn = $("#f-walkin").checked;
  let body = {
    title: $("#f-title").value.trim(),
    location: form.pin,
    address: $("#f-address").value.trim() || null,
    occupation_uri: form.occupation?.uri || null,
    required_skills: [...form.skills].filter(([, s]) => s.checked && s.kind === "required").map(([uri]) => ({ uri })),
    optional_skills: [...form.skills].filter(([, s]) => s.checked && s.kind === "optional").map(([uri]) => uri),
    job_type: $("#f-type").value,
    hours_per_week: Number($("#f-hours").value),
    min_age: Number($("#f-age").value),
    walk_in: walkIn,
    opening_hours: null,
    description: $("#f-desc").value.trim(),
    pay: payBody(),
    work_profile: workProfileBody(),
    ...youthBody(),
  };
  body = offerBody(body); // the kind and what it needs (offers_employer.js)
  if (walkIn) {
    const span = [$("#f-open").value, $("#f-close").value];
    const days = [...document.querySelectorAll("#f-days input:checked")].map((i) => i.value);
    if (span[0] && span[1] && span[0] < span[1] && days.length) {
      body.opening_hours = Object.fromEntries(days.map((d) => [d, [span]]));
    }
  }
  return body;
}

function fail(message, focus) {
  const err = $("#form-error");
  err.textContent = message;
  err.hidden = false;
  if (focus) $(focus).focus();
}

async function submit(e) {
  e.preventDefault();
  const body = formBody();
  if (!body.title) return fail(t("emp.title.missing"), "#f-title");
  if (!body.location) return fail(t("emp.place.missing"), "#f-place");
  const hoursOptional = currentKind() !== "job" && body.hours_per_week == null;
  if (!hoursOptional && !(body.hours_per_week >= 1 && body.hours_per_week <= 80)) return fail(t("emp.hours.bad"), "#f-hours");
  $("#form-error").hidden = true;
  const button = $("#f-submit");
  button.disabled = true;
  try {
    let saved;
    if (form.editing) {
      saved = await api.patch(`/v1/vacancies/${form.editing}`, body);
      toast(t("emp.updated"), { symbol: "✅" });
    } else {
      // A retry of the same form (lost answer, double tap) must not post twice.
      const text = JSON.stringify(body);
      if (!form.idem || form.idem.body !== text) form.idem = { body: text, key: newIdempotencyKey() };
      saved = await api.post("/v1/vacancies", body, { "Idempotency-Key": form.idem.key });
      toast(t("emp.posted"), { symbol: "✅" });
    }
    document.body.dataset.lastPostSeconds = ((performance.now() - form.openedAt) / 1000).toFixed(1);
    await showDashboard(saved.id);
  } catch (err) {
    fail(err.status === 0 ? t("error.network") : `${t("error.generic")} (${err.message})`);
  } finally {
    button.disabled = false;
  }
}

boot();
