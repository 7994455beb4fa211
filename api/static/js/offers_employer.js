// The employer page's part of offer kinds (issue #15): a forening, club or
// volunteer centre posts leisure and volunteering offers with the same form.
// The kind chooser hides the job type (and makes hours optional) for non-jobs,
// and shows price and age range instead. Kept apart from employer.js.
import "./strings/offers.js";
import { t } from "./i18n.js";
import { h, icon } from "./ui.js";
import { KINDS, kindIcon, kindOf, offerFacts } from "./offers.js";

const ORG_KINDS = ["business", "association", "volunteer_centre", "club"];
const $ = (sel) => document.querySelector(sel);

function kindRadio(kind) {
  return h("label", { class: "chip" },
    h("input", {
      type: "radio", name: "offer-kind", value: kind, checked: kind === "job",
      onchange: applyKind,
    }),
    " ", icon(kindIcon(kind)), " ", h("span", { "data-i18n": `kind.${kind}` }, t(`kind.${kind}`)));
}

/** Adds the kind chooser and the leisure/volunteering fields to the form. */
export function mountOfferFields() {
  const jobForm = $("#job-form");
  jobForm.prepend(h("fieldset", { class: "card", id: "f-offer-kind" },
    h("legend", { "data-i18n": "offer.emp.kind" }, t("offer.emp.kind")),
    h("div", { class: "chips" }, KINDS.map(kindRadio))));
  const typeField = $("#f-type").closest(".field");
  typeField.after(h("div", { id: "f-offer-box", class: "stack", hidden: true },
    h("div", { class: "grid2" },
      h("div", { class: "field", id: "f-cost-box" },
        h("label", { for: "f-cost", "data-i18n": "offer.emp.cost" }, t("offer.emp.cost")),
        h("input", { type: "number", id: "f-cost", inputmode: "numeric", min: 0, max: 100000, step: 1 })),
      h("div", { class: "field" },
        h("label", { for: "f-max-age", "data-i18n": "offer.emp.max_age" }, t("offer.emp.max_age")),
        h("input", { type: "number", id: "f-max-age", inputmode: "numeric", min: 13, max: 99, step: 1 }))),
    h("div", { class: "field", id: "f-cost-note-box" },
      h("label", { for: "f-cost-note", "data-i18n": "offer.emp.cost.note" }, t("offer.emp.cost.note")),
      h("input", { type: "text", id: "f-cost-note", maxlength: 100 })),
    h("div", { class: "field switch", id: "f-vol-work-box" },
      h("label", { for: "f-vol-work", style: "margin:0", "data-i18n": "offer.emp.vol.work" }, t("offer.emp.vol.work")),
      h("input", { type: "checkbox", id: "f-vol-work", checked: true, style: "width:1.6rem;height:1.6rem;flex-shrink:0" }))));
  // Who signs up: the words the pages use for the poster.
  const cvr = $("#emp-cvr")?.closest(".field");
  cvr?.after(h("div", { class: "field" },
    h("label", { for: "emp-org-kind", "data-i18n": "offer.emp.org" }, t("offer.emp.org")),
    h("select", { id: "emp-org-kind" },
      ORG_KINDS.map((k) => h("option", { value: k, "data-i18n": `offer.org.${k}` }, t(`offer.org.${k}`))))));
}

export function currentKind() {
  return document.querySelector('input[name="offer-kind"]:checked')?.value || "job";
}

export function orgKind() {
  return $("#emp-org-kind")?.value || "business";
}

function applyKind() {
  const kind = currentKind();
  const job = kind === "job";
  $("#f-type").closest(".field").hidden = !job;
  $("#f-offer-box").hidden = job;
  $("#f-cost-box").hidden = kind !== "leisure";
  $("#f-cost-note-box").hidden = kind !== "leisure";
  $("#f-vol-work-box").hidden = kind !== "volunteering";
  const hoursLabel = document.querySelector('label[for="f-hours"]');
  hoursLabel.dataset.i18n = job ? "emp.hours" : "offer.emp.hours.optional";
  hoursLabel.textContent = t(hoursLabel.dataset.i18n);
  $("#f-hours").required = job;
}

/** Sets the chooser and fields from a stored offer (or a new job). */
export function fillOfferFields(v) {
  const kind = kindOf(v);
  for (const r of document.querySelectorAll('input[name="offer-kind"]')) r.checked = r.value === kind;
  $("#f-cost").value = v?.cost_dkk ?? "";
  $("#f-cost-note").value = v?.cost_note ?? "";
  $("#f-max-age").value = v?.max_age ?? "";
  $("#f-vol-work").checked = v?.volunteering_is_work ?? true;
  if (!v?.hours_per_week && kind !== "job") $("#f-hours").value = "";
  applyKind();
}

/** The form body as the chosen kind needs it (matcher/offers.py checks it again). */
export function offerBody(body) {
  const kind = currentKind();
  const num = (sel) => ($(sel).value === "" ? null : Number($(sel).value));
  const out = { ...body, kind, max_age: num("#f-max-age") };
  if (kind !== "job") {
    delete out.job_type;
    if ($("#f-hours").value === "") out.hours_per_week = null;
  }
  if (kind === "leisure") {
    out.cost_dkk = num("#f-cost");
    out.cost_note = $("#f-cost-note").value.trim() || null;
  }
  if (kind === "volunteering") out.volunteering_is_work = $("#f-vol-work").checked;
  return out;
}

/** Facts for a posted offer in the employer's list: kind, price, ages. */
export function postedFacts(v) {
  const kind = kindOf(v);
  return kind === "job" ? [] : [h("li", {}, icon(kindIcon(kind)), t(`kind.${kind}.long`)), ...offerFacts(v)];
}
