// The jobseeker app: sign-up, then a map and a list of nearby matches that
// follow the phone (geolocation while open), live pushes over the websocket,
// and the person's own choices (dismiss, save, "I applied", radius, pause).
import { Api, ApiError } from "./api.js";
import { t, applyI18n, bindLangButton, onLangChange, getLang, formatDistance } from "./i18n.js";
import { h, icon, clear, toast, copyText, storage, store } from "./ui.js";
import { JobMap, AARHUS } from "./map.js";
import { PushClient, resetPushState } from "./push.js";
import { Onboarding } from "./onboarding.js";
import { askLocation, myDataSection } from "./consent.js";
import { matchCard, haversine } from "./cards.js";
import { webpushSection } from "./webpush.js";
import { kindIcon, kindOf, newOfferTitle, optInSection } from "./offers.js";
import { consultantCard } from "./consultant_link.js";
import { initJobView, showJob, onReply } from "./jobview.js";
import { passkeyCard } from "./passkeys.js";
import { devicesCard } from "./devices.js";
import { interestsSection } from "./interests.js";

const TOKEN_KEY = "jotr.seeker.token";
const LOCAL_KEY = "jotr.seeker.local";
const SEND_EVERY_M = 15; // the server ignores moves under 25 m; this keeps it informed
const REFETCH_M = 150;
const REFETCH_MS = 90_000;

const $ = (sel) => document.querySelector(sel);
const api = new Api(() => localStorage.getItem(TOKEN_KEY));

const state = {
  me: null,
  pos: null, // {lat, lon, accuracy, manual}
  sentPos: null,
  fetchedPos: null,
  fetchedAt: 0,
  matches: new Map(), // vacancy id -> match
  shared: null,
  toast: null,
  settings: { radius_m: 3000, paused: false },
  local: { dismissed: [], saved: {}, applied: [], opened: [] },
  view: "jobs",
  push: null,
  map: null,
  watch: null,
  guidance: undefined, // undefined: not asked; null: not available
};

function loadLocal() {
  const l = storage(LOCAL_KEY, null);
  if (l) state.local = { dismissed: [], saved: {}, applied: [], opened: [], ...l };
}
function saveLocal() {
  store(LOCAL_KEY, state.local);
}

// --- boot ----------------------------------------------------------------

async function boot() {
  applyI18n(document);
  bindLangButton($("#lang"));
  onLangChange(async () => {
    document.title = t("app.name");
    renderAll();
    // Skill names in matches, pushes and "Flere job" follow the profile's language.
    if (state.me) {
      state.me = await api.patch("/v1/jobseekers/me", { language: getLang() }).catch(() => state.me);
    }
  });
  registerServiceWorker();
  loadLocal();
  readSharedLink();
  if (localStorage.getItem(TOKEN_KEY)) {
    const ok = await loadMe();
    if (ok) return startHome();
  }
  startOnboarding();
}

function registerServiceWorker() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  }
}

async function loadMe() {
  try {
    state.me = await api.get("/v1/jobseekers/me");
    state.settings.radius_m = state.me.preferences.radius_m;
    return true;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      localStorage.removeItem(TOKEN_KEY);
      return false;
    }
    // Offline: carry on with what we have; the push client reconnects later.
    state.me = state.me || { preferences: { radius_m: 3000 }, skills: [] };
    return true;
  }
}

function readSharedLink() {
  const m = location.hash.match(/vacancy=([0-9a-f-]{36})/i);
  if (m) state.shared = { id: m[1], vacancy: null };
  // A notification's link: show that job once the list has it.
  const job = location.hash.match(/^#job-([0-9a-f-]{36})$/i);
  if (job) state.focusAfterLoad = job[1];
}

function startOnboarding() {
  $("#home").hidden = true;
  $("#tabbar").hidden = true;
  const root = $("#onboarding");
  root.hidden = false;
  const flow = new Onboarding(root, api, {
    onDone: async (token) => {
      localStorage.setItem(TOKEN_KEY, token);
      resetPushState();
      state.local = { dismissed: [], saved: {}, applied: [], opened: [] };
      saveLocal();
      await loadMe();
      root.hidden = true;
      startHome();
    },
    useKey: async (key) => {
      if (!key.startsWith("jotr_js_")) return false;
      localStorage.setItem(TOKEN_KEY, key);
      resetPushState();
      if (!(await loadMe())) return false;
      root.hidden = true;
      startHome();
      return true;
    },
  });
  flow.start();
  renderShared(root, true);
}

// --- home --------------------------------------------------------------------

function startHome() {
  $("#onboarding").hidden = true;
  $("#conn").hidden = false;
  $("#home").hidden = false;
  $("#tabbar").hidden = false;
  document.body.classList.add("signed-in");
  if (!state.map) {
    state.map = new JobMap($("#map"), {
      center: AARHUS,
      zoom: 14,
      onClick: (lat, lon) => {
        if (!state.pos || state.pos.manual) setPosition(lat, lon, null, true);
      },
    });
  }
  bindTabs();
  // The job view (#job-<id>) and "Jeg er interesseret": js/jobview.js.
  initJobView({ api, state, onInterest: markInterest, notify: systemNotification });
  connectPush();
  // Location consent is asked on its own, right before the browser's prompt.
  askLocation(api).then((ok) => (ok ? watchPosition() : ((state.locError = true), renderBanner())));
  loadShared();
  checkGuidance();
  loadMarks();
  renderAll();
}

// Back online: read the list again now, not after the next move.
window.addEventListener("online", () => {
  if (state.pos && localStorage.getItem(TOKEN_KEY)) fetchMatches();
});

function bindTabs() {
  for (const b of document.querySelectorAll("#tabbar button")) {
    b.onclick = () => showView(b.dataset.view);
  }
}

function showView(view) {
  state.view = view;
  for (const b of document.querySelectorAll("#tabbar button")) {
    if (b.dataset.view === view) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  for (const sec of document.querySelectorAll("[data-panel]")) sec.hidden = sec.dataset.panel !== view;
  if (view === "jobs") state.map?.resize();
  if (view === "unlock") renderUnlock(true);
  if (view === "saved") renderSaved();
  if (view === "settings") renderSettings();
  $("#main").focus({ preventScroll: true });
}

function connectPush() {
  if (state.push) return;
  const push = new PushClient(localStorage.getItem(TOKEN_KEY));
  state.push = push;
  push.addEventListener("status", (e) => renderConn(e.detail.state));
  push.addEventListener("hello", (e) => {
    Object.assign(state.settings, e.detail.settings);
    renderBanner();
    state.replayed = 0; // matches until "resumed" were missed while away: one notice
    fetchMatches(); // back online: the list is read afresh, not only on the next move
  });
  push.addEventListener("resumed", () => {
    if (state.replayed > 0) systemNotification(t("notify.title"), t("notify.batch", { n: state.replayed }));
    state.replayed = null;
  });
  push.addEventListener("batch", (e) => {
    state.batch = e.detail;
    systemNotification(t("notify.title"), t("notify.batch", { n: e.detail.count }));
  });
  push.addEventListener("settings", (e) => {
    Object.assign(state.settings, e.detail);
    renderBanner();
    if (state.view === "settings") renderSettings();
  });
  push.addEventListener("match", (e) => onPushedMatch(e.detail));
  push.addEventListener("interest_reply", (e) => onReply(e.detail));
  push.addEventListener("withdrawn", (e) => {
    state.matches.delete(e.detail.vacancy_id);
    state.map?.remove(e.detail.vacancy_id);
    renderList();
    toast(t("notify.withdrawn"), { symbol: "🚫" });
  });
  push.connect();
}

function renderConn(s) {
  const el = $("#conn");
  el.className = `conn ${s === "open" ? "online" : s === "connecting" ? "" : "offline"}`;
  el.textContent = t(s === "open" ? "conn.online" : s === "connecting" ? "conn.connecting" : "conn.offline");
  el.dataset.state = s;
}

function watchPosition() {
  if (!("geolocation" in navigator)) {
    state.locError = true;
    renderBanner();
    return;
  }
  state.watch = navigator.geolocation.watchPosition(
    (p) => setPosition(p.coords.latitude, p.coords.longitude, p.coords.accuracy, false),
    () => {
      state.locError = true;
      renderBanner();
    },
    { enableHighAccuracy: true, maximumAge: 10_000, timeout: 30_000 },
  );
}

function setPosition(lat, lon, accuracy, manual) {
  state.pos = { lat, lon, accuracy, manual };
  if (!manual) state.locError = false;
  state.map.setMe(lat, lon, state.settings.radius_m);
  if (!state.sentPos || haversine(state.sentPos.lat, state.sentPos.lon, lat, lon) >= SEND_EVERY_M) {
    state.sentPos = { lat, lon };
    state.push?.sendLocation(lat, lon, accuracy);
  }
  const far = !state.fetchedPos || haversine(state.fetchedPos.lat, state.fetchedPos.lon, lat, lon) >= REFETCH_M;
  if (far || Date.now() - state.fetchedAt > REFETCH_MS) fetchMatches();
  else updateDistances();
  if (!state.centred) {
    state.centred = true;
    state.map.focus(lat, lon, 15);
    checkGuidance();
  } else state.map.followTo(lat, lon);
  renderBanner();
}

async function fetchMatches() {
  if (!state.pos) return;
  const { lat, lon } = state.pos;
  state.fetchedPos = { lat, lon };
  state.fetchedAt = Date.now();
  try {
    const res = await api.get("/v1/jobseekers/me/matches", { lat, lon, limit: 30, min_score: 0.3 });
    const next = new Map();
    for (const m of res.matches) next.set(m.vacancy.id, { ...state.matches.get(m.vacancy.id), ...m });
    // Pushed ones stay until they are withdrawn or out of reach.
    for (const [id, m] of state.matches) {
      if (!next.has(id) && m.isNew) next.set(id, m);
    }
    state.matches = next;
    updateDistances(false);
    renderList();
  } catch (err) {
    if (err.status === 401) {
      localStorage.removeItem(TOKEN_KEY);
      location.reload();
    }
  }
}

function updateDistances(render = true) {
  if (!state.pos) return;
  for (const m of state.matches.values()) {
    m.distance_m = haversine(state.pos.lat, state.pos.lon, m.vacancy.lat, m.vacancy.lon);
  }
  if (render) renderList();
}

function onPushedMatch(frame) {
  const v = frame.vacancy;
  if (state.local.dismissed.includes(v.id)) return;
  const m = { ...frame, isNew: true };
  if (state.pos) m.distance_m = haversine(state.pos.lat, state.pos.lon, v.lat, v.lon);
  state.matches.set(v.id, m);
  renderList();
  // Show where it is, with where you are.
  if (state.pos && state.map.follow) state.map.fit([[state.pos.lat, state.pos.lon], [v.lat, v.lon]]);
  const body = t("notify.body", { title: v.title, d: formatDistance(m.distance_m) });
  matchToast(v, body);
  // Part of a batch or of the replay: already announced once, as "6 job i nærheden".
  if (state.replayed != null) state.replayed += 1;
  else if (!(state.batch && frame.seq >= state.batch.from_seq && frame.seq <= state.batch.to_seq)) {
    systemNotification(newOfferTitle(v) || t("notify.title"), body, v.id);
  }
}

// One in-app notice for a burst of matches (the first location of a walk can
// bring several at once); the system shows one notification per match.
function matchToast(v, body) {
  const live = state.toast && state.toast.isConnected ? state.toast : null;
  const count = live ? Number(live.dataset.count) + 1 : 1;
  const title = newOfferTitle(v) || t("notify.title");
  const text = count === 1 ? `${title}: ${body}` : `${t("notify.many", { n: count })}: ${body}`;
  live?.remove();
  state.toast = toast(text, {
    symbol: v.walk_in ? "🚪" : kindOf(v) === "job" ? "🔔" : kindIcon(kindOf(v)),
    kind: "match",
    timeout: 12_000,
    action: { label: t("notify.show"), run: () => focusJob(v.id) },
  });
  state.toast.dataset.count = String(count);
  state.toast.dataset.vacancyIds = `${live?.dataset.vacancyIds || ""} ${v.id}`.trim();
}

async function systemNotification(title, body, id) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const options = {
    body, tag: id ? `match-${id}` : "matches", icon: "/static/icons/icon-192.png",
    data: { url: id ? `/app#job-${id}` : "/app" },
  };
  try {
    const reg = await navigator.serviceWorker?.getRegistration();
    if (reg) {
      await reg.showNotification(title, options);
      return;
    }
  } catch {
    /* fall through */
  }
  try {
    new Notification(title, options);
  } catch {
    /* some browsers allow notifications only from a service worker */
  }
}

function focusJob(id) {
  showView("jobs");
  const m = state.matches.get(id) || (state.shared?.vacancy?.id === id ? { vacancy: state.shared.vacancy } : null);
  if (m) state.map.focus(m.vacancy.lat, m.vacancy.lon, 16);
  const card = document.getElementById(`job-${id}`);
  if (card) {
    card.scrollIntoView({ block: "center" });
    card.focus({ preventScroll: true });
  }
}

// --- actions -------------------------------------------------------------------

async function feedback(id, action) {
  // Recorded on the server where it supports it; the phone remembers either way.
  try {
    await api.post("/v1/jobseekers/me/feedback", { vacancy_id: id, action });
  } catch {
    /* not available (yet), or offline: the local state still holds */
  }
}

const actions = {
  // Employer trust: the report goes to the job centre's moderation list (js/trust.js).
  report: (id, body) => api.post(`/v1/vacancies/${id}/reports`, body),
  dismiss(id) {
    const m = state.matches.get(id);
    state.local.dismissed.push(id);
    saveLocal();
    renderList();
    feedback(id, "dismissed");
    mark(id, "dismissed");
    toast(t("act.dismissed"), {
      symbol: "🙈",
      action: {
        label: t("act.undo"),
        run: () => {
          state.local.dismissed = state.local.dismissed.filter((x) => x !== id);
          saveLocal();
          mark(id, null);
          if (m) state.matches.set(id, m);
          renderList();
        },
      },
    });
  },
  save(id) {
    const m = state.matches.get(id) || savedMatch(id);
    if (state.local.saved[id]) {
      delete state.local.saved[id];
      mark(id, null);
    } else if (m) {
      state.local.saved[id] = { vacancy: m.vacancy, score: m.score, explanation: m.explanation };
      feedback(id, "saved");
      mark(id, "saved");
    }
    saveLocal();
    renderList();
    if (state.view === "saved") renderSaved();
  },
  applied(id) {
    if (state.local.applied.includes(id)) return;
    state.local.applied.push(id);
    saveLocal();
    feedback(id, "applied");
    renderList();
    if (state.view === "saved") renderSaved();
  },
  async share(v) {
    const url = `${location.origin}/v/${v.id}?lang=${getLang()}`;
    if (navigator.share) {
      try {
        await navigator.share({ title: v.title, text: t("share.text", { title: v.title }), url });
        return;
      } catch {
        /* cancelled, or not allowed: copy instead */
      }
    }
    const ok = await copyText(url);
    toast(ok ? t("share.copied") : url, { symbol: "🔗" });
  },
  opened(id) {
    if (state.local.opened.includes(id)) return;
    state.local.opened.push(id);
    saveLocal();
    feedback(id, "opened");
  },
  focus: (id) => showJob(id),
  interest: (id) => showJob(id),
};

// Interest was sent from the job view: the card shows it (the server recorded
// the "applied" feedback event with it).
function markInterest(id) {
  if (!state.local.applied.includes(id)) state.local.applied.push(id);
  saveLocal();
  renderList();
}

// Dismissed and saved live on the server (every device honours them); the local
// copy is the cache that makes the app work offline.
function mark(id, what) {
  const path = `/v1/jobseekers/me/marks/${id}`;
  (what ? api.put(path, { mark: what }) : api.delete(path)).catch(() => {});
}

async function loadMarks() {
  const res = await api.get("/v1/jobseekers/me/marks").catch(() => null);
  if (!res) return;
  const dismissed = res.marks.filter((m) => m.mark === "dismissed").map((m) => m.vacancy_id);
  const saved = new Set(res.marks.filter((m) => m.mark === "saved").map((m) => m.vacancy_id));
  state.local.dismissed = dismissed;
  for (const id of Object.keys(state.local.saved)) if (!saved.has(id)) delete state.local.saved[id];
  for (const id of saved) {
    if (!state.local.saved[id]) {
      const v = await api.get(`/v1/vacancies/${id}`).catch(() => null);
      if (v) state.local.saved[id] = { vacancy: v, score: null, explanation: null };
    }
  }
  saveLocal();
  renderAll();
}

function savedMatch(id) {
  return state.local.saved[id] || null;
}

// --- rendering -------------------------------------------------------------------

function renderAll() {
  if ($("#home").hidden) return;
  renderConn(state.push?.state || "connecting");
  renderBanner();
  renderList();
  if (state.view === "saved") renderSaved();
  if (state.view === "settings") renderSettings();
  if (state.view === "unlock") renderUnlock(false);
}

function renderBanner() {
  const el = $("#banner");
  let key = null;
  let warn = false;
  if (state.locError && (!state.pos || state.pos.manual)) {
    key = state.pos ? "home.manual" : "home.noloc";
    warn = !state.pos;
  } else if (!state.pos) key = "home.where";
  else if (state.settings.paused) key = "home.paused";
  el.hidden = !key;
  el.className = `banner${warn ? " warn" : ""}`;
  el.textContent = key ? t(key) : "";
}

function visibleMatches() {
  const dismissed = new Set(state.local.dismissed);
  return [...state.matches.values()]
    .filter((m) => !dismissed.has(m.vacancy.id))
    .sort((a, b) => (b.isNew === true) - (a.isNew === true) || b.score - a.score);
}

function renderList() {
  if (!state.map) return;
  const list = $("#matches");
  clear(list);
  const shown = visibleMatches();
  const ids = new Set();
  for (const m of shown) {
    const id = m.vacancy.id;
    ids.add(id);
    list.append(matchCard(m, { saved: !!state.local.saved[id], applied: state.local.applied.includes(id) }, actions));
    state.map.upsert(id, m.vacancy.lat, m.vacancy.lon, {
      label: `${m.vacancy.title} – ${m.vacancy.employer_name}`,
      symbol: m.vacancy.walk_in ? "🚪" : kindIcon(kindOf(m.vacancy)),
      kind: m.isNew ? "is-new" : m.vacancy.walk_in ? "walk-in" : "",
      onOpen: showJob,
    });
  }
  if (state.shared?.vacancy) {
    const v = state.shared.vacancy;
    ids.add(v.id);
    state.map.upsert(v.id, v.lat, v.lon, { label: v.title, symbol: "⭐", kind: "is-chosen", onOpen: focusJob });
  }
  state.map.keepOnly(ids);
  $("#none").hidden = shown.length > 0 || !state.pos;
  if (state.focusAfterLoad && document.getElementById(`job-${state.focusAfterLoad}`)) {
    const id = state.focusAfterLoad;
    state.focusAfterLoad = null;
    setTimeout(() => focusJob(id), 0);
  }
  renderShared($("#shared"), false);
}

async function loadShared() {
  if (!state.shared || state.shared.vacancy) return;
  try {
    const v = await api.get(`/v1/vacancies/${state.shared.id}`);
    state.shared.vacancy = {
      id: v.id, title: v.title, employer_name: v.employer_name, job_type: v.job_type,
      hours_per_week: v.hours_per_week, walk_in: v.walk_in, lat: v.location.lat, lon: v.location.lon,
      address: v.address, kind: v.kind, min_age: v.min_age, max_age: v.max_age,
      cost_dkk: v.cost_dkk, cost_note: v.cost_note,
    };
    renderList();
    state.map?.focus(v.location.lat, v.location.lon, 15);
  } catch {
    state.shared = null;
  }
}

function renderShared(root, beforeSignup) {
  if (!root) return;
  const old = root.querySelector(".shared");
  if (old) old.remove();
  const v = state.shared?.vacancy;
  if (!v) {
    if (beforeSignup && state.shared) loadShared().then(() => renderShared(root, true));
    return;
  }
  const d = state.pos ? haversine(state.pos.lat, state.pos.lon, v.lat, v.lon) : null;
  const card = matchCard({ vacancy: v, score: null, distance_m: d, explanation: null },
    { saved: !!state.local.saved[v.id], applied: state.local.applied.includes(v.id) },
    beforeSignup ? { save: () => {}, applied: () => {}, share: actions.share } : actions);
  const wrap = h("section", { class: "shared", "aria-label": t("shared.title") }, h("h2", {}, icon("⭐"), " ", t("shared.title")),
    h("ul", { class: "matches" }, card));
  if (beforeSignup) wrap.querySelector(".actions").remove();
  root.prepend(wrap);
}

async function renderSaved() {
  const root = $("#saved-list");
  const draw = (server) => {
    clear(root);
    const local = Object.values(state.local.saved);
    const ids = new Set(local.map((s) => s.vacancy.id));
    // Saved on another phone: the server remembers the title and employer.
    const remote = (server || []).filter((i) => !ids.has(i.vacancy_id));
    $("#saved-none").hidden = local.length + remote.length > 0;
    for (const s of local) {
      const v = s.vacancy;
      const m = { ...s, distance_m: state.pos ? haversine(state.pos.lat, state.pos.lon, v.lat, v.lon) : null };
      root.append(matchCard(m, { saved: true, applied: state.local.applied.includes(v.id) }, { ...actions, dismiss: null }));
    }
    for (const i of remote) {
      root.append(h("li", { class: "card", dataset: { vacancyId: i.vacancy_id } },
        h("h3", {}, i.title), h("p", { class: "muted" }, t("match.employer", { name: i.employer_name })),
        i.open ? h("a", { class: "btn small", href: `/v/${i.vacancy_id}` }, icon("↗"), t("map.open"))
          : h("p", { class: "badge closed" }, t("emp.closed"))));
    }
  };
  draw(null);
  try {
    const res = await api.optional("/v1/jobseekers/me/feedback", { action: "saved" });
    if (res && state.view === "saved") draw(res.items);
  } catch {
    /* offline: what this phone remembers */
  }
}

async function checkGuidance() {
  try {
    const q = state.pos ? { lat: state.pos.lat, lon: state.pos.lon } : {};
    state.guidance = await api.optional("/v1/jobseekers/me/guidance", q);
  } catch (err) {
    // 409: the server knows no position yet; the view exists, the answer comes later.
    state.guidance = err instanceof ApiError && err.status === 409 ? { skills: [] } : null;
  }
  $("#tab-unlock").hidden = !state.guidance;
  $("#tabbar").style.gridTemplateColumns = `repeat(${state.guidance ? 4 : 3}, 1fr)`;
}

async function renderUnlock(refresh) {
  if (refresh) await checkGuidance();
  const root = $("#unlock-list");
  clear(root);
  const g = state.guidance;
  if (!g) return;
  $("#unlock-none").hidden = g.skills?.length > 0;
  for (const s of g.skills || []) {
    root.append(h("li", { class: "card" },
      h("div", { class: "title-row" }, h("h3", {}, s.label), h("span", { class: "badge" }, t("unlock.more", { n: s.unlocks }))),
      s.examples?.length
        ? h("p", { class: "muted" }, `${t("unlock.examples")}: `,
          s.examples.slice(0, 3).map((e, i) => [i ? ", " : "", e.title, e.distance_m != null ? ` (${formatDistance(e.distance_m)})` : ""]))
        : null,
      s.courses?.length
        ? h("div", {}, h("strong", {}, icon("🎓"), " ", t("unlock.courses")),
          h("ul", { class: "skill-list" }, s.courses.map((c) =>
            h("li", {}, safeUrl(c.url) ? h("a", { href: safeUrl(c.url), target: "_blank", rel: "noopener" }, c.title) : c.title,
              c.provider ? ` – ${c.provider}` : ""))))
        : null,
      h("button", {
        type: "button", class: "btn small",
        onclick: async (e) => {
          e.currentTarget.disabled = true;
          const skills = [...new Set([...(state.me.skills || []).map((x) => x.uri), s.uri])];
          state.me = await api.patch("/v1/jobseekers/me", { skills }).catch(() => state.me);
          state.fetchedAt = 0;
          fetchMatches();
          renderUnlock(true);
        },
      }, icon("✅"), t("unlock.have")),
    ));
  }
}

function safeUrl(url) {
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch {
    return null;
  }
}

function renderSettings() {
  const root = $("#settings-body");
  clear(root);
  const out = h("output", { for: "radius", id: "radius-out" }, formatDistance(state.settings.radius_m));
  const range = h("input", {
    type: "range", id: "radius", min: 500, max: 20000, step: 500, value: state.settings.radius_m,
    "aria-valuetext": formatDistance(state.settings.radius_m),
    oninput: (e) => {
      out.textContent = formatDistance(Number(e.target.value));
      e.target.setAttribute("aria-valuetext", out.textContent);
    },
    onchange: (e) => setRadius(Number(e.target.value)),
  });
  const paused = !!state.settings.paused;
  const pause = h("button", {
    type: "button", class: "btn", id: "pause", "aria-pressed": String(paused),
    onclick: () => state.push.sendSettings({ paused: !state.settings.paused }),
  }, icon(paused ? "⏸" : "🔔"), t("settings.pause"));
  const notif = "Notification" in window ? Notification.permission : "denied";
  const key = localStorage.getItem(TOKEN_KEY) || "";
  const keyBox = h("p", { class: "keybox", hidden: true, id: "key-box" }, key);
  root.append(
    h("section", { class: "card stack" },
      h("h3", {}, t("settings.profile")),
      h("p", {}, state.me?.display_name ? `${state.me.display_name} · ` : "",
        t("con.age", { n: state.me?.age ?? "?" }), " · ", t("settings.skills", { n: state.me?.skills?.length ?? 0 }))),
    interestsSection(api, state.me, (me) => {
      state.me = me;
      profileChanged();
    }),
    h("section", { class: "card stack" },
      h("label", { for: "radius" }, icon("📍"), " ", t("settings.radius")), range, out),
    h("section", { class: "card stack" },
      h("p", { role: "status" }, t(paused ? "settings.pause.on" : "settings.pause.off")), pause),
    optInSection(state.me?.preferences?.offer_kinds, setOfferKinds),
    h("section", { class: "card stack" },
      notif === "granted"
        ? h("p", {}, icon("🔔"), " ", t("notify.enabled"))
        : notif === "denied"
          ? h("p", {}, icon("🔕"), " ", t("notify.blocked"))
          : h("button", {
            type: "button", class: "btn",
            onclick: async () => {
              await Notification.requestPermission();
              renderSettings();
            },
          }, icon("🔔"), t("notify.enable"))),
    webpushSection(api, { position: () => state.pos }),
    passkeyCard(api, h, toast),
    devicesCard(api, h, toast),
    h("section", { class: "card stack" },
      h("p", { class: "label" }, t("settings.key")),
      h("div", { class: "row" },
        h("button", { type: "button", class: "btn small", onclick: () => (keyBox.hidden = !keyBox.hidden) }, t("settings.key.show")),
        h("button", {
          type: "button", class: "btn small",
          onclick: async () => toast((await copyText(key)) ? t("copied") : key, { symbol: "🔑" }),
        }, t("copy"))),
      keyBox),
    consultantCard(api),
    myDataSection(api, (granted) => {
      if (granted) return watchPosition();
      if (state.watch != null) navigator.geolocation.clearWatch(state.watch);
      state.watch = null;
    }),
    h("section", { class: "card stack" },
      h("button", {
        type: "button", class: "btn bad", id: "erase",
        onclick: async () => {
          if (!confirm(t("settings.delete.confirm"))) return;
          try {
            await api.delete("/v1/jobseekers/me");
          } catch {
            return toast(t("error.generic"), { symbol: "⚠️" });
          }
          state.push?.stop();
          localStorage.removeItem(TOKEN_KEY);
          localStorage.removeItem(LOCAL_KEY);
          resetPushState();
          alert(t("settings.deleted"));
          location.reload();
        },
      }, icon("🗑"), t("settings.delete"))),
  );
}

async function setOfferKinds(kinds) {
  try {
    state.me = await api.patch("/v1/jobseekers/me", { preferences: { offer_kinds: kinds } });
  } catch {
    return toast(t("error.generic"), { symbol: "⚠️" });
  }
  toast(t("offer.optin.saved"), { symbol: "✓" });
  profileChanged();
}

// The profile changed on the server (offer kinds, interests): the list is read
// again, and the push server learns it too.
function profileChanged() {
  // A settings frame makes the push server read the seeker afresh at the next
  // position (push/hub.py on_settings), which we send at once: what is pushed
  // follows the change from now on, also when nothing moves.
  if (state.push?.state === "open") {
    state.push.sendSettings({ radius_m: state.settings.radius_m });
    if (state.sentPos) state.push.sendLocation(state.sentPos.lat, state.sentPos.lon);
  }
  state.fetchedAt = 0;
  fetchMatches();
}

async function setRadius(radius) {
  state.settings.radius_m = radius;
  if (state.push?.state === "open") state.push.sendSettings({ radius_m: radius });
  else await api.patch("/v1/jobseekers/me", { preferences: { radius_m: radius } }).catch(() => {});
  if (state.pos) state.map.setMe(state.pos.lat, state.pos.lon, radius);
  state.fetchedAt = 0;
  fetchMatches();
}

// Exposed for the end-to-end tests and for debugging in the console.
window.jotrApp = { state, getLang };

boot();
