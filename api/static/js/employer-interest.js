// The employer's side of "Jeg er interesseret": a count per vacancy on the job list
// (new = not answered yet), the people who showed interest with what they chose to
// share, and one answer each: come by, call me, or no thanks. The answer reaches the
// young person's phone as a push (docs/push-protocol.md, `interest_reply`).
import "./strings/jobview.js";
import { REPLY_ICONS } from "./strings/jobview.js";
import { t } from "./i18n.js";
import { h, icon, clear, toast } from "./ui.js";

const counts = new Map(); // vacancy id -> {total, unanswered}
let api = null;

export async function loadInterestCounts(client) {
  api = client;
  counts.clear();
  try {
    const res = await api.get("/v1/employers/me/interest");
    for (const c of res.vacancies) counts.set(c.vacancy_id, c);
  } catch {
    /* the list stands without the counts */
  }
}

/** The count button under a vacancy, opening its list; null when nobody has shown interest. */
export function interestBlock(v) {
  const c = counts.get(v.id);
  if (!c) return null;
  const list = h("ul", { class: "interest-list", hidden: true, dataset: { interestList: v.id } });
  const button = h("button", {
    type: "button", class: "btn small", "aria-expanded": "false", dataset: { interest: v.id },
    onclick: async () => {
      const open = list.hidden;
      list.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      if (open) await fill(v, list);
    },
  });
  label(button, c);
  return h("div", { class: "stack" }, button, list);
}

function label(button, c) {
  clear(button).append(icon("🙋"), t("emp.interest", { n: c.total }),
    c.unanswered ? " " : "", c.unanswered ? h("span", { class: "badge new-interest" }, t("emp.interest.new", { n: c.unanswered })) : "");
}

async function fill(v, list) {
  let items = [];
  try {
    items = (await api.get(`/v1/employers/me/vacancies/${v.id}/interest`)).items;
  } catch {
    return toast(t("error.generic"), { symbol: "⚠️" });
  }
  clear(list);
  if (!items.length) list.append(h("li", { class: "muted" }, t("emp.interest.none")));
  for (const i of items) list.append(person(v, i));
}

function person(v, i) {
  const s = i.shared || {};
  const who = [s.first_name, s.age != null ? t("con.age", { n: s.age }) : null].filter(Boolean).join(", ");
  return h("li", { dataset: { interestId: i.id } },
    h("p", { class: "jv-big" }, icon("🙋"), " ", who || "–"),
    s.phone ? h("p", {}, h("a", { href: `tel:${s.phone}` }, icon("📞"), " ", spaced(s.phone))) : null,
    s.email ? h("p", {}, h("a", { href: `mailto:${s.email}` }, icon("✉️"), " ", s.email)) : null,
    s.skills?.length ? h("p", {}, icon("✅"), " ", s.skills.map((x) => x.label).join(", ")) : null,
    i.message ? h("p", {}, icon("💬"), " ", `“${i.message}”`) : null,
    i.reply ? h("p", { class: "muted", role: "status" }, icon(REPLY_ICONS[i.reply]), " ",
      t("emp.interest.answered", { reply: t(`reply.${i.reply}`) })) : replyForm(v, i));
}

// "+4520304050" as people write it: "+45 20 30 40 50".
export function spaced(phone) {
  const m = /^\+45(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(phone);
  return m ? `+45 ${m.slice(1).join(" ")}` : phone;
}

function replyForm(v, i) {
  const msg = h("input", { type: "text", maxlength: 500, id: `reply-msg-${i.id}` });
  const send = async (reply, button) => {
    button.disabled = true;
    try {
      await api.post(`/v1/interest/${i.id}/reply`, { reply, message: msg.value.trim() || null });
    } catch {
      button.disabled = false;
      return toast(t("error.generic"), { symbol: "⚠️" });
    }
    toast(t("emp.interest.sent"), { symbol: "✅" });
    const c = counts.get(v.id);
    if (c && c.unanswered) c.unanswered -= 1;
    const counter = document.querySelector(`[data-interest="${v.id}"]`);
    if (c && counter) label(counter, c);
    const li = button.closest("li");
    li.replaceWith(person(v, { ...i, reply, reply_message: msg.value.trim() || null }));
  };
  return h("div", { class: "stack" },
    h("label", { for: msg.id }, t("emp.interest.message")), msg,
    h("div", { class: "row" }, ["come_by", "call_me", "no_thanks"].map((r) =>
      h("button", { type: "button", class: `btn small${r === "no_thanks" ? " bad" : " good"}`, dataset: { reply: r },
        onclick: (e) => send(r, e.currentTarget) }, icon(REPLY_ICONS[r]), t(`reply.${r}`)))));
}
