// "Din jobkonsulent" in the app's settings, and the console's invite button
// (docs/integrations.md, "Caseloads without the command line").
import "./strings/consultant_link.js";
import { ApiError } from "./api.js";
import { t } from "./i18n.js";
import { h, icon, clear, toast } from "./ui.js";

/** A settings card: the linked consultant(s) and "stop sharing", or the code
 * field with the consent question. Fills itself in when the answer comes. */
export function consultantCard(api) {
  const card = h("section", { class: "card stack", id: "consultant-link", "aria-labelledby": "link-h" });
  const render = (mine) => {
    clear(card);
    card.append(h("h3", { id: "link-h" }, icon("🤝"), " ", t("link.title")));
    if (mine && mine.consultants.length) {
      for (const c of mine.consultants) card.append(h("p", {}, t("link.linked", { name: c.name })));
      if (mine.share_with_municipality) card.append(h("p", { class: "muted" }, t("link.sharing")));
      card.append(h("button", {
        type: "button", class: "btn small", id: "link-leave",
        onclick: async () => {
          if (!confirm(t("link.leave.confirm"))) return;
          try {
            await api.delete("/v1/jobseekers/me/consultant");
          } catch {
            return toast(t("error.generic"), { symbol: "⚠️" });
          }
          toast(t("link.left"), { symbol: "✋" });
          render({ consultants: [], share_with_municipality: false });
        },
      }, t("link.leave")));
      return;
    }
    const code = h("input", {
      id: "link-code", autocomplete: "off", autocapitalize: "characters", spellcheck: "false",
      maxlength: 12, inputmode: "text", placeholder: "ABCD-EFGH",
    });
    const consent = h("input", { type: "checkbox", id: "link-consent" });
    const error = h("p", { class: "error-text", role: "alert", hidden: true });
    const form = h("form", {
      class: "stack", novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        error.hidden = true;
        if (!consent.checked) {
          error.textContent = t("link.need_consent");
          error.hidden = false;
          return;
        }
        try {
          render(await api.post("/v1/jobseekers/me/consultant", { code: code.value.trim(), consent: true }));
        } catch (err) {
          const wrong = err instanceof ApiError && (err.status === 404 || err.status === 422);
          error.textContent = wrong ? t("link.wrong") : t("error.generic");
          error.hidden = false;
        }
      },
    },
    h("p", {}, t("link.none")),
    h("label", { for: "link-code" }, t("link.code")), code,
    h("label", { class: "chip", for: "link-consent", style: "font-weight:400" }, consent, " ", t("link.consent")),
    error,
    h("button", { type: "submit", class: "btn", id: "link-submit" }, icon("🤝"), t("link.yes")));
    card.append(form);
  };
  render(null);
  // Re-rendered only when linked, so a code being typed meanwhile is kept.
  api.get("/v1/jobseekers/me/consultant")
    .then((mine) => { if (mine.consultants.length) render(mine); })
    .catch(() => {})
    .finally(() => { card.dataset.loaded = "1"; });
  return card;
}

/** The console's "Invitér en ung" button: shows a fresh code to read aloud. */
export function inviteButton(api) {
  const out = h("p", { class: "keybox", id: "invite-code", hidden: true, "aria-live": "polite" });
  const button = h("button", {
    type: "button", class: "btn small", id: "invite",
    onclick: async () => {
      try {
        const res = await api.post("/v1/consultants/me/invites");
        const days = Math.round((new Date(res.expires_at) - Date.now()) / 86_400_000);
        out.textContent = t("invite.code", { code: res.code, days });
        out.hidden = false;
      } catch {
        toast(t("error.generic"), { symbol: "⚠️" });
      }
    },
  }, icon("➕"), t("invite.button"));
  return h("div", { class: "stack" }, button, out);
}
