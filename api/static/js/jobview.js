// The whole ad in the app: text, pay, hours, where on the map, the employer, how to
// apply and why it fits, in few words and icons; and "Jeg er interesseret", which
// sends what the person chooses to share and shows the employer's answer when it
// comes (a durable push, `interest_reply`). Opens on `#job-<id>`, so a card, a pin,
// a notification (sw.js) and a share link ("Åbn i appen") all land here.
import "./strings/jobview.js";
import { REPLY_ICONS } from "./strings/jobview.js";
import { t, formatDistance, formatHours, jobTypeLabel, onLangChange } from "./i18n.js";
import { h, icon, clear, toast } from "./ui.js";
import { JobMap } from "./map.js";
import { haversine } from "./cards.js";

const ID = /^#job-([0-9a-f-]{36})$/i;
const SHARED = /vacancy=([0-9a-f-]{36})/i;
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MAX_SKILLS = 6;

let ctx = null; // {api, state, onInterest(id), notify(title, body, id)}
let root = null;
let mini = null;
let current = null; // {id, vacancy} shown now
const mine = new Map(); // vacancy id -> my interest (with the answer, if any)

/** Start routing `#job-<id>`; `c`: {api, state, onInterest, notify}. */
export function initJobView(c) {
  ctx = c;
  root = h("section", { id: "jobview", class: "jobview", hidden: true, "aria-live": "polite" });
  document.body.append(root);
  window.addEventListener("hashchange", route);
  onLangChange(() => current && render());
  loadMine().then(route);
}

/** Open a job (from a card, a pin, a toast): through the hash, so Back closes it. */
export function showJob(id) {
  if (location.hash === `#job-${id}`) openJob(id);
  else location.hash = `job-${id}`;
}

/** Whether I have shown interest in a job (the card's button shows it). */
export function interestSent(id) {
  return mine.has(id);
}

/** An `interest_reply` frame from the push connection. */
export function onReply(frame) {
  const id = frame.vacancy.id;
  mine.set(id, { ...(mine.get(id) || { vacancy_id: id }), reply: frame.reply, reply_message: frame.message,
    title: frame.vacancy.title, employer_name: frame.vacancy.employer_name });
  const title = t("reply.from", { name: frame.vacancy.employer_name });
  const body = `${REPLY_ICONS[frame.reply] || ""} ${t(`reply.${frame.reply}`)} – ${frame.vacancy.title}`;
  toast(`${title}: ${body}`, {
    symbol: "💬", kind: "match", timeout: 15_000,
    action: { label: t("notify.show"), run: () => showJob(id) },
  });
  ctx.notify?.(title, body, id);
  if (current?.id === id) render();
}

async function loadMine() {
  try {
    const res = await ctx.api.get("/v1/jobseekers/me/interest");
    for (const i of res.items) mine.set(i.vacancy_id, i);
  } catch {
    /* offline: the answers come with the next push or visit */
  }
}

function route() {
  const m = location.hash.match(ID) || location.hash.match(SHARED);
  if (m) openJob(m[1]);
  else hide();
}

function hide() {
  root.hidden = true;
  current = null;
  mini?.destroy();
  mini = null;
  document.body.classList.remove("jobview-open");
}

function close() {
  history.replaceState(null, "", location.pathname + location.search);
  hide();
  document.getElementById("main")?.focus({ preventScroll: true });
}

async function openJob(id) {
  root.hidden = false;
  document.body.classList.add("jobview-open");
  if (current?.id !== id) {
    current = { id, vacancy: null, sheet: false };
    clear(root).append(h("article", {}, h("p", { class: "muted" }, t("job.loading"))));
    try {
      current.vacancy = await ctx.api.get(`/v1/vacancies/${id}`);
    } catch {
      current.vacancy = false;
    }
    if (current?.id !== id) return; // another job was opened meanwhile
  }
  render();
}

export function payText(pay) {
  if (!pay) return null;
  const n = (x) => String(x).replace(".", ",");
  if (pay.kind === "hourly") return t("job.pay.hourly", { dkk: n(pay.dkk) });
  if (pay.kind === "range") return t("job.pay.range", { min: n(pay.min_dkk), max: n(pay.max_dkk) });
  return t("job.pay.agreement");
}

function hhmm(x) {
  return String(x).slice(0, 5);
}

function whenLines(v) {
  if (v.schedule?.length) {
    return v.schedule.map((e) => `${e.days.map((d) => t(`day.${d}`)).join(", ")} ${e.start}–${e.end}`);
  }
  if (v.shift) return [`${hhmm(v.shift.start)}–${hhmm(v.shift.end)}`];
  return [];
}

function openingLines(hours) {
  if (!hours) return [];
  return DAYS.filter((d) => hours[d]?.length)
    .map((d) => `${t(`day.${d}`)} ${hours[d].map(([a, b]) => `${a}–${b}`).join(", ")}`);
}

function safeUrl(url) {
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch {
    return null;
  }
}

function section(symbol, title, ...children) {
  return h("section", { class: "card stack" }, h("h3", {}, icon(symbol), " ", title), ...children);
}

function render() {
  const v = current.vacancy;
  mini?.destroy();
  mini = null;
  const closeBtn = h("button", { type: "button", class: "btn small", id: "jobview-close", onclick: close },
    icon("✕"), t("job.close"));
  if (!v) {
    clear(root).append(h("article", {}, h("div", { class: "jv-head" }, h("h2", {}, t("job.gone")), closeBtn)));
    return;
  }
  const s = ctx.state;
  const match = s.matches.get(v.id) || s.local.saved[v.id] || null;
  const ex = match?.explanation;
  const pos = s.pos;
  const d = pos ? haversine(pos.lat, pos.lon, v.location.lat, v.location.lon) : null;
  const pay = payText(v.pay);

  const facts = h("ul", { class: "facts" },
    h("li", { class: "jv-big", dataset: { fact: "pay" } }, icon("💰"), pay || t("job.pay.unknown")),
    h("li", {}, icon("⏱"), formatHours(v.hours_per_week)),
    h("li", {}, icon("💼"), jobTypeLabel(v.job_type)),
    h("li", {}, icon("🎂"), t("job.age", { n: v.age_limit ?? v.min_age })),
    v.start_date ? h("li", {}, icon("📅"), t("job.start", { date: v.start_date })) : null);

  const when = whenLines(v);
  const mapEl = h("div", { class: "map jv-map", role: "img", "aria-label": v.address || v.title });
  const req = ex?.required_skills || { matched: [], missing: [] };
  const opt = ex?.optional_skills || { matched: [], missing: [] };
  const have = [...req.matched, ...opt.matched].map((x) => x.label);
  const why = ex
    ? section("✅", t("job.why"),
      have.length ? h("p", {}, h("span", { class: "ok", "aria-hidden": "true" }, "✓ "), t("job.have", { skills: have.join(", ") })) : null,
      req.missing.length ? h("p", {}, h("span", { class: "miss", "aria-hidden": "true" }, "✗ "),
        t("job.lack", { skills: req.missing.map((x) => x.label).join(", ") })) : null,
      d != null ? h("p", {}, icon("📍"), t("job.near", { d: formatDistance(d) })) : null)
    : null;

  clear(root).append(h("article", { "aria-labelledby": "jobview-title", dataset: { vacancyId: v.id } },
    h("div", { class: "jv-head" }, h("h2", { id: "jobview-title", tabindex: "-1" }, v.title), closeBtn),
    h("p", { class: "muted" }, icon("🏢"), " ", v.employer_name),
    h("section", { class: "card" }, facts),
    interestArea(v),
    when.length ? section("🗓", t("job.when"), h("ul", { class: "skill-list" }, when.map((x) => h("li", {}, x)))) : null,
    section("📍", t("job.where"), v.address ? h("p", {}, v.address) : null,
      d != null ? h("p", { class: "muted" }, t("job.near", { d: formatDistance(d) })) : null, mapEl),
    why,
    v.description ? section("📝", t("job.about"), h("p", { class: "jv-desc" }, v.description)) : null,
    applySection(v),
  ));
  mini = new JobMap(mapEl, { center: [v.location.lat, v.location.lon], zoom: 16 });
  mini.upsert(v.id, v.location.lat, v.location.lon, { label: v.title, symbol: v.walk_in ? "🚪" : "💼", kind: "is-chosen" });
  if (pos) mini.setMe(pos.lat, pos.lon, 0);
  root.querySelector("#jobview-title").focus({ preventScroll: true });
  root.scrollTop = 0;
}

function applySection(v) {
  const a = v.apply || {};
  const items = [];
  const url = a.url && safeUrl(a.url);
  if (url) items.push(h("a", { class: "btn block", href: url, target: "_blank", rel: "noopener" }, icon("🔗"), t("job.apply.url")));
  if (a.email) items.push(h("a", { class: "btn block", href: `mailto:${a.email}` }, icon("✉️"), `${t("job.apply.email")}: ${a.email}`));
  if (a.phone) items.push(h("a", { class: "btn block", href: `tel:${a.phone}` }, icon("📞"), `${t("job.apply.phone")}: ${a.phone}`));
  for (const c of a.contacts || []) {
    items.push(h("p", {}, icon("👤"), " ", [c.name, c.phone, c.email].filter(Boolean).join(" · ")));
  }
  if (v.walk_in || a.walk_in) {
    const open = openingLines(v.opening_hours);
    items.push(h("p", {}, icon("🚪"), " ", t("job.apply.walkin"),
      open.length ? [" · ", t("job.apply.open"), ": ", open.join("; ")] : ""));
  }
  if (a.how) items.push(h("p", {}, a.how));
  if (!items.length) items.push(h("p", { class: "muted" }, t("job.apply.none")));
  return section("✋", t("job.how"), h("div", { class: "jv-apply" }, items));
}

function interestArea(v) {
  const got = mine.get(v.id);
  if (got?.reply) {
    return h("section", { class: `card stack jv-reply ${got.reply}`, id: "jobview-reply", role: "status" },
      h("p", { class: "jv-big" }, icon(REPLY_ICONS[got.reply] || "💬"), " ",
        t("reply.got", { reply: t(`reply.${got.reply}`) })),
      got.reply_message ? h("p", {}, `“${got.reply_message}”`) : null);
  }
  if (got) return h("section", { class: "card", id: "jobview-reply", role: "status" }, icon("⏳"), " ", t("interest.waiting"));
  if (current.sheet) return sheet(v);
  return h("button", {
    type: "button", class: "btn primary block", id: "interest-open",
    onclick: () => {
      current.sheet = true;
      render();
      root.querySelector("#interest-phone")?.focus();
    },
  }, icon("🙋"), t("act.interest"));
}

function sheet(v) {
  const me = ctx.state.me || {};
  const first = (me.display_name || "").trim().split(/\s+/)[0];
  const match = ctx.state.matches.get(v.id);
  const matched = new Set((match?.explanation?.required_skills?.matched || []).map((x) => x.uri));
  // The skills this job asks for first, and only a few: a short list is read.
  const skills = [...(me.skills || [])].sort((a, b) => matched.has(b.uri) - matched.has(a.uri)).slice(0, MAX_SKILLS);
  const check = (id, label, checked) => h("label", { class: "check" },
    h("input", { type: "checkbox", id, checked: checked ? "" : null }), label);
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const form = h("form", { class: "card sheet", id: "interest-sheet", "aria-labelledby": "interest-h" },
    h("h3", { id: "interest-h" }, icon("🙋"), " ", t("interest.title")),
    h("p", { class: "muted" }, t("interest.lead")),
    first ? check("interest-name", t("interest.name", { name: first }), true) : null,
    me.age != null ? check("interest-age", t("interest.age", { n: me.age }), true) : null,
    h("label", { for: "interest-phone" }, icon("📞"), " ", t("interest.phone")),
    h("input", { id: "interest-phone", type: "tel", inputmode: "tel", autocomplete: "tel", maxlength: 40 }),
    h("label", { for: "interest-email" }, icon("✉️"), " ", t("interest.email")),
    h("input", { id: "interest-email", type: "email", autocomplete: "email", maxlength: 254 }),
    skills.length
      ? h("fieldset", {}, h("legend", {}, icon("✅"), " ", t("interest.skills")),
        skills.map((x) => {
          const box = check(`interest-skill-${x.uri}`, x.label, matched.has(x.uri));
          box.querySelector("input").dataset.uri = x.uri;
          return box;
        }))
      : null,
    h("label", { for: "interest-message" }, icon("💬"), " ", t("interest.message")),
    h("textarea", { id: "interest-message", maxlength: 500, rows: 3 }),
    error,
    h("button", { type: "submit", class: "btn primary block", id: "interest-send" }, icon("📨"), t("interest.send")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    send(v, form, error);
  });
  return form;
}

async function send(v, form, error) {
  const val = (id) => form.querySelector(`#${id}`)?.value.trim() || null;
  const on = (id) => !!form.querySelector(`#${id}`)?.checked;
  const share = {
    first_name: on("interest-name"), age: on("interest-age"),
    phone: val("interest-phone"), email: val("interest-email"),
    skills: [...form.querySelectorAll("input[data-uri]:checked")].map((x) => x.dataset.uri),
  };
  const fail = (text) => {
    error.hidden = false;
    error.textContent = text;
  };
  if (!share.phone && !share.email) return fail(t("interest.need.contact"));
  const button = form.querySelector("#interest-send");
  button.disabled = true;
  try {
    const res = await ctx.api.post(`/v1/vacancies/${v.id}/interest`, { share, message: val("interest-message") });
    mine.set(v.id, { ...res, title: v.title, employer_name: v.employer_name });
    toast(t("interest.sent"), { symbol: "📨" });
  } catch (err) {
    button.disabled = false;
    if (err.status === 409) mine.set(v.id, { vacancy_id: v.id, reply: null });
    else return fail(err.code === "not_eligible" ? t("interest.not.eligible") : err.message || t("error.generic"));
  }
  current.sheet = false;
  ctx.onInterest?.(v.id);
  render();
}
