// Employer trust in the three front ends (docs/security.md, "Employer trust"):
// the employer's verification status, the seeker's "Rapportér" on a job, and the
// console's list of employers to verify and of reported jobs to moderate.
import "./strings/trust.js";
import { t } from "./i18n.js";
import { h, icon, clear, toast } from "./ui.js";

const REASONS = ["unsafe", "fake", "offensive", "wrong_info", "other"];

// --- employer page ------------------------------------------------------------------

/** Fill `box` with the employer's status; returns the status ("verified", ...),
 * or null when it could not be read. Walk-ins are offered only once verified. */
export async function renderEmployerStatus(api, box, walkIn) {
  let me;
  try {
    me = await api.get("/v1/employers/me");
  } catch {
    box.hidden = true;
    return null;
  }
  const status = me.verification.status;
  clear(box);
  box.dataset.status = status;
  box.hidden = false;
  if (status === "verified") {
    box.className = "trust-status is-verified";
    box.append(icon("✅"), " ", t("trust.verified"));
  } else {
    const rejected = status === "rejected";
    box.className = `card trust-status ${rejected ? "is-rejected" : "is-pending"}`;
    box.append(
      h("p", {}, h("strong", {}, icon(rejected ? "⛔" : "⏳"), " ", t(rejected ? "trust.rejected" : "trust.pending"))),
      h("p", {}, t(rejected ? "trust.rejected.why" : "trust.pending.why")),
      rejected ? null : h("p", { class: "muted" }, icon("🚪"), " ", t("trust.pending.walkin")),
    );
  }
  if (walkIn) {
    const ok = status === "verified";
    walkIn.disabled = !ok;
    if (!ok) walkIn.checked = false;
    walkIn.closest(".field")?.classList.toggle("is-disabled", !ok);
    walkIn.title = ok ? "" : t("trust.pending.walkin");
  }
  return status;
}

// --- the seeker's app -----------------------------------------------------------------

/** A small "⚑ Rapportér" that opens to a reason, optional words and Send.
 * `send(body)` posts it; the control says thanks and closes. */
export function reportControl(vacancyId, send) {
  const name = `report-${vacancyId}`;
  const text = h("textarea", { maxlength: "500", rows: "2", "aria-label": t("trust.report.text"), placeholder: t("trust.report.text") });
  const error = h("p", { class: "error-text", role: "alert", hidden: true });
  const form = h("form", { class: "stack report-form", novalidate: true },
    h("fieldset", {},
      h("legend", {}, t("trust.report.q")),
      h("div", { class: "chips" }, REASONS.map((r) =>
        h("label", { class: "chip" }, h("input", { type: "radio", name, value: r }), " ", t(`trust.reason.${r}`))))),
    text,
    h("p", { class: "hint" }, t("trust.report.who")),
    error,
    h("button", { type: "submit", class: "btn small" }, t("trust.report.send")));
  const box = h("details", { class: "report", dataset: { reportFor: vacancyId } },
    h("summary", {}, icon("⚑"), " ", t("trust.report")), form);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const reason = form.querySelector("input[type=radio]:checked")?.value;
    if (!reason) {
      error.textContent = t("trust.report.q");
      error.hidden = false;
      return;
    }
    error.hidden = true;
    try {
      await send({ reason, text: text.value.trim() });
      box.open = false;
      box.dataset.reported = "true";
      toast(t("trust.report.thanks"), { symbol: "⚑" });
    } catch (err) {
      error.textContent = err.message || t("error.generic");
      error.hidden = false;
    }
  });
  return box;
}

// --- the console ----------------------------------------------------------------------

/** Employers waiting for verification, each with Approve / Reject. */
export async function renderEmployers(api, box) {
  let list;
  try {
    list = (await api.get("/v1/consultants/me/employers", { verification: "unverified" })).employers;
  } catch {
    box.hidden = true;
    return;
  }
  clear(box);
  box.hidden = false;
  box.append(h("h2", { id: "employers-h" }, icon("🏪"), " ", t("trust.employers")));
  if (!list.length) box.append(h("p", { class: "muted" }, t("trust.employers.none")));
  const ul = h("ul", { class: "trust-list" });
  for (const e of list) {
    const decide = async (status) => {
      try {
        await api.post(`/v1/consultants/me/employers/${e.id}/verify`, { status });
        toast(t("trust.done"), { symbol: "✅" });
        await renderEmployers(api, box);
      } catch (err) {
        toast(err.message || t("error.generic"), { symbol: "⚠️" });
      }
    };
    ul.append(h("li", { class: "card row", dataset: { employerId: e.id } },
      h("div", { class: "grow" },
        h("strong", {}, e.name),
        h("p", { class: "muted" }, e.cvr ? `CVR ${e.cvr}` : t("trust.nocvr"), " · ",
          t("trust.open.jobs", { n: e.open_vacancies }))),
      h("button", { type: "button", class: "btn small primary", dataset: { action: "verify" }, onclick: () => decide("verified") },
        icon("✅"), " ", t("trust.verify")),
      h("button", { type: "button", class: "btn small", dataset: { action: "reject" }, onclick: () => decide("rejected") },
        icon("⛔"), " ", t("trust.reject"))));
  }
  box.append(ul);
}

/** Reported open jobs, hidden ones first: reasons, words, Keep / Close. */
export async function renderModeration(api, box) {
  let data;
  try {
    data = await api.get("/v1/consultants/me/moderation");
  } catch {
    box.hidden = true;
    return;
  }
  clear(box);
  box.hidden = false;
  box.append(h("h2", { id: "moderation-h" }, icon("⚑"), " ", t("trust.moderation")));
  if (!data.vacancies.length) box.append(h("p", { class: "muted" }, t("trust.moderation.none")));
  const ul = h("ul", { class: "trust-list" });
  for (const v of data.vacancies) {
    const decide = async (decision) => {
      try {
        await api.post(`/v1/consultants/me/moderation/${v.vacancy_id}`, { decision });
        toast(t(decision === "keep" ? "trust.kept" : "trust.closed"), { symbol: "✅" });
        await renderModeration(api, box);
      } catch (err) {
        toast(err.message || t("error.generic"), { symbol: "⚠️" });
      }
    };
    ul.append(h("li", { class: `card${v.hidden ? " is-hidden-job" : ""}`, dataset: { vacancyId: v.vacancy_id } },
      h("div", { class: "row" },
        h("strong", { class: "grow" }, v.title, " · ", v.employer_name),
        v.hidden ? h("span", { class: "badge" }, icon("🙈"), " ", t("trust.hidden")) : null),
      h("p", {}, t("trust.reporters", { n: v.reporters }), ": ",
        Object.entries(v.reasons).map(([r, n]) => `${t(`trust.reason.${r}`)} (${n})`).join(", ")),
      v.texts.length ? h("ul", { class: "muted" }, v.texts.map((x) => h("li", {}, `“${x}”`))) : null,
      h("div", { class: "row" },
        h("button", { type: "button", class: "btn small", dataset: { action: "keep" }, onclick: () => decide("keep") },
          icon("👍"), " ", t("trust.keep")),
        h("button", { type: "button", class: "btn small danger", dataset: { action: "close" }, onclick: () => decide("close") },
          icon("🗑"), " ", t("trust.close")))));
  }
  box.append(ul);
}
