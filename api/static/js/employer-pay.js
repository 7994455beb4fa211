// Pay in the employer's editor: none, an hourly rate, a range, or "efter overenskomst".
// The server checks it again (matcher/pay.py); this only keeps the form simple.
import "./strings/jobview.js";
import { t, onLangChange } from "./i18n.js";
import { h } from "./ui.js";

const KINDS = ["", "hourly", "range", "agreement"];
let box = null;

/** Put the pay fields after `anchor` (the hours field). */
export function mountPay(anchor) {
  const kind = h("select", { id: "f-pay-kind", "aria-labelledby": "f-pay-legend", onchange: sync });
  const num = (id, label) => h("div", { class: "field", dataset: { payPart: id } },
    h("label", { for: id }, label),
    h("input", { type: "number", id, inputmode: "decimal", min: 1, max: 2000, step: 0.5 }));
  box = h("fieldset", { class: "field", id: "f-pay" },
    h("legend", { id: "f-pay-legend" }, "💰 ", t("emp.pay")), kind,
    num("f-pay-dkk", "kr."), num("f-pay-min", t("emp.pay.from")), num("f-pay-max", t("emp.pay.to")));
  anchor.after(box);
  labels();
  onLangChange(labels);
  sync();
}

function labels() {
  const kind = box.querySelector("#f-pay-kind");
  const chosen = kind.value;
  kind.replaceChildren(...KINDS.map((k) => h("option", { value: k }, t(k ? `emp.pay.${k}` : "emp.pay.none"))));
  kind.value = chosen;
  box.querySelector("legend").textContent = `💰 ${t("emp.pay")}`;
}

function sync() {
  const kind = box.querySelector("#f-pay-kind").value;
  box.querySelector('[data-pay-part="f-pay-dkk"]').hidden = kind !== "hourly";
  box.querySelector('[data-pay-part="f-pay-min"]').hidden = kind !== "range";
  box.querySelector('[data-pay-part="f-pay-max"]').hidden = kind !== "range";
}

export function fillPay(v) {
  const pay = v?.pay || null;
  box.querySelector("#f-pay-kind").value = pay?.kind || "";
  box.querySelector("#f-pay-dkk").value = pay?.dkk ?? "";
  box.querySelector("#f-pay-min").value = pay?.min_dkk ?? "";
  box.querySelector("#f-pay-max").value = pay?.max_dkk ?? "";
  sync();
}

/** The `pay` to send: null when not given (or half given: the server would refuse it). */
export function payBody() {
  const kind = box.querySelector("#f-pay-kind").value;
  const n = (id) => {
    const x = Number(box.querySelector(`#${id}`).value);
    return box.querySelector(`#${id}`).value !== "" && Number.isFinite(x) ? x : null;
  };
  if (kind === "hourly" && n("f-pay-dkk") != null) return { kind, dkk: n("f-pay-dkk") };
  if (kind === "range" && n("f-pay-min") != null && n("f-pay-max") != null) {
    return { kind, min_dkk: n("f-pay-min"), max_dkk: n("f-pay-max") };
  }
  return kind === "agreement" ? { kind } : null;
}
