// The privacy notice (its own sign-up step, with pictures) and the location
// question, asked on its own right before the browser's geolocation prompt.
// docs/privacy.md, "Consent".
import { t, getLang } from "./i18n.js";
import { h, icon } from "./ui.js";
import "./strings/consent.js";

/** The notice in the app's language: {version, points: [{id, icon, title, text}]}. */
export async function loadNotice(api) {
  return api.get("/v1/privacy-notice", { lang: getLang() });
}

/** The notice's points as a list with a picture each. */
export function noticeList(notice) {
  return h("ul", { class: "notice", id: "privacy-notice" },
    notice.points.map((p) =>
      h("li", { class: "notice-point", dataset: { point: p.id } },
        h("span", { class: "big notice-icon", "aria-hidden": "true" }, p.icon),
        h("div", {}, h("strong", {}, p.title), h("p", {}, p.text)),
      ),
    ),
  );
}

/**
 * Ask for location consent unless it is given; resolves true if it is (then
 * the caller may ask the browser). The answer is stored on the server.
 */
export async function askLocation(api) {
  let consents;
  try {
    consents = await api.get("/v1/jobseekers/me/consents");
  } catch {
    return false;
  }
  if (consents.location.granted) return true;
  return new Promise((resolve) => {
    const answer = async (granted) => {
      try {
        await api.put("/v1/jobseekers/me/consents/location", { granted });
      } catch {
        granted = false;
      }
      dialog.remove();
      resolve(granted);
    };
    const dialog = h("div", { class: "consent-dialog", role: "dialog", "aria-modal": "true",
      "aria-labelledby": "loc-h", id: "location-consent" },
      h("div", { class: "card stack" },
        h("span", { class: "big", "aria-hidden": "true" }, "📍"),
        h("h2", { id: "loc-h" }, t("loc.title")),
        h("p", {}, t("loc.text")),
        h("p", { class: "hint" }, t("loc.no.text")),
        h("button", { type: "button", class: "btn primary block", id: "loc-yes", onclick: () => answer(true) },
          icon("✅"), t("loc.yes")),
        h("button", { type: "button", class: "btn block", id: "loc-no", onclick: () => answer(false) },
          t("loc.no")),
      ),
    );
    document.body.append(dialog);
    dialog.querySelector("#loc-yes").focus();
  });
}

/**
 * The "Mig" view's privacy card: location on/off (withdrawal erases the stored
 * position on the server) and a download of everything stored about me.
 * @param {(granted: boolean) => void} onLocation called after the server has the answer
 */
export function myDataSection(api, onLocation) {
  const box = h("input", { type: "checkbox", id: "loc-toggle", disabled: true,
    style: "width:1.6rem;height:1.6rem;flex-shrink:0" });
  api.get("/v1/jobseekers/me/consents").then((c) => {
    box.checked = c.location.granted;
    box.disabled = false;
  }).catch(() => {});
  box.addEventListener("change", async () => {
    const granted = box.checked;
    box.disabled = true;
    try {
      await api.put("/v1/jobseekers/me/consents/location", { granted });
      onLocation(granted);
    } catch {
      box.checked = !granted;
    }
    box.disabled = false;
  });
  const download = async () => {
    const data = await api.get("/v1/jobseekers/me/export");
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
    const a = h("a", { href: url, download: `job-on-the-run-${new Date().toISOString().slice(0, 10)}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return h("section", { class: "card stack", id: "my-data" },
    h("p", { class: "label" }, icon("🔒"), " ", t("consent.title")),
    h("div", { class: "field switch" },
      h("label", { for: "loc-toggle", style: "margin:0" }, icon("📍"), " ", t("loc.settings")), box),
    h("button", { type: "button", class: "btn small", id: "export-me", onclick: download },
      icon("📦"), t("data.download")),
  );
}
