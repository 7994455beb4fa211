// "Mine enheder": every phone or browser signed in to the profile, each with its
// own token (matcher/devices.py). A lost phone is signed out from here; the
// others stay signed in. The server says which entry is this device.
import "./strings/devices.js";
import { getLang, t } from "./i18n.js";
import { icon } from "./ui.js";

const COMPUTERS = /Windows|Mac|Linux|ChromeOS/;

function usedText(day) {
  const today = new Date().toISOString().slice(0, 10);
  if (day >= today) return t("dev.today");
  const date = new Date(`${day}T12:00:00`).toLocaleDateString(getLang() === "da" ? "da-DK" : "en-GB",
    { day: "numeric", month: "short" });
  return t("dev.used", { date });
}

/** The settings card: the list, with "Log ud" on every other device. */
export function devicesCard(api, h, toast) {
  const list = h("ul", { class: "devices stack", id: "dev-list" });
  const refresh = async () => {
    const res = await api.get("/v1/jobseekers/me/devices").catch(() => null);
    // The settings view may have been drawn again meanwhile.
    const shown = document.getElementById("dev-list") || list;
    if (!res) return;
    shown.replaceChildren(...res.devices.map((d) => row(d)));
  };
  const row = (d) => {
    const name = d.label || t("dev.unknown");
    const signOut = d.current ? h("span", { class: "pill" }, icon("✅"), " ", t("dev.this"))
      : h("button", {
        type: "button", class: "btn small bad", "aria-label": t("dev.signout.label", { name }),
        onclick: async () => {
          if (!confirm(t("dev.signout.confirm", { name }))) return;
          try {
            await api.delete(`/v1/jobseekers/me/devices/${d.id}`);
          } catch {
            return toast(t("error.generic"), { symbol: "⚠️" });
          }
          toast(t("dev.signedout", { name }), { symbol: "🚪" });
          refresh();
        },
      }, icon("🚪"), " ", t("dev.signout"));
    return h("li", { class: "row device", "data-device": d.id },
      icon(COMPUTERS.test(d.label) ? "💻" : "📱"),
      h("span", { class: "grow" }, h("strong", {}, name), h("br"),
        h("small", { class: "muted" }, usedText(d.last_used_on))),
      signOut);
  };
  refresh();
  return h("section", { class: "card stack", id: "devices" },
    h("h3", {}, icon("📱"), " ", t("dev.title")), h("p", {}, t("dev.text")), list);
}
