// The console's view of one person's "Jeg er interesseret": the jobs they showed
// interest in, what they chose to share, their message, and the employer's answer
// (or that it is still awaited). Applications are personal data: the API lets a
// consultant read only their caseload's and audits each read
// (GET /v1/jobseekers/{id}/interest, api/routers/interest.py); the console reads
// once per person chosen and keeps nothing after the tab closes.
import "./strings/jobview.js";
import "./strings/console_interest.js";
import { REPLY_ICONS } from "./strings/jobview.js";
import { t, getLang } from "./i18n.js";
import { h, icon, clear } from "./ui.js";
import { spaced } from "./employer-interest.js";

/** Fetch a person's interest: the items, or null when it could not be read. */
export async function loadInterest(api, jobseekerId) {
  try {
    return (await api.get(`/v1/jobseekers/${jobseekerId}/interest`)).items;
  } catch {
    return null;
  }
}

const day = (iso) =>
  new Date(iso).toLocaleDateString(getLang() === "da" ? "da-DK" : "en-GB", { day: "numeric", month: "short" });

/** The card; `items` undefined while loading, null when it failed. */
export function interestCard(items) {
  const body = items === undefined
    ? h("p", { class: "muted" }, t("loading"))
    : items === null
      ? h("p", { class: "error-text" }, t("con.int.failed"))
      : !items.length
        ? h("p", { class: "muted" }, t("con.int.none"))
        : h("ul", { class: "interest-rows" }, items.map(row));
  return h("section", { class: "card", id: "person-interest", "aria-labelledby": "person-interest-h" },
    h("h3", { id: "person-interest-h" }, icon("🙋"), " ", t("con.int.title"),
      items?.length ? h("span", { class: "muted", style: "font-weight:400" }, ` (${items.length})`) : ""),
    body);
}

function row(i) {
  const s = i.shared || {};
  const shared = [
    s.first_name, s.age != null ? t("con.age", { n: s.age }) : null,
    s.phone ? spaced(s.phone) : null, s.email,
    s.skills?.length ? s.skills.map((x) => x.label).join(", ") : null,
  ].filter(Boolean).join(" · ");
  return h("li", { dataset: { applicationId: i.id, vacancyId: i.vacancy_id } },
    h("p", {}, h("strong", {}, i.title), " · ", i.employer_name,
      h("span", { class: "muted" }, ` · ${t("con.int.sent", { date: day(i.created_at) })}`)),
    shared ? h("p", { class: "muted" }, `${t("con.int.shared")}: ${shared}`) : null,
    i.message ? h("p", {}, icon("💬"), " ", `“${i.message}”`) : null,
    i.reply
      ? h("p", { class: `reply ${i.reply}` }, icon(REPLY_ICONS[i.reply]), " ",
        t("con.int.answer", { date: day(i.replied_at), reply: t(`reply.${i.reply}`) }),
        i.reply_message ? ` – “${i.reply_message}”` : "")
      : h("p", { class: "muted" }, icon("⏳"), " ", t("con.int.waiting")));
}
