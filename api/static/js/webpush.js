// Alerts when the app is closed (docs/push-protocol.md "Web Push"): the settings
// card with the home area (postcode, or the position rounded to 500 m by the
// server) and the switch that subscribes this browser with the Push API.
// The service worker (/sw.js) shows the alert and opens /app#job-<id>.
import "./strings/webpush.js";
import { t } from "./i18n.js";
import { h, icon, toast } from "./ui.js";

const supported = () =>
  "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

function keyBytes(b64url) {
  const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (b64url.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

async function currentSubscription() {
  if (!supported()) return null;
  const reg = await navigator.serviceWorker.getRegistration();
  return reg ? reg.pushManager.getSubscription() : null;
}

async function subscribe(api) {
  if ((await Notification.requestPermission()) !== "granted") throw new Error("blocked");
  const reg = await navigator.serviceWorker.ready;
  const { application_server_key: key } = await api.get("/v1/push/vapid-public-key");
  const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  await api.post("/v1/jobseekers/me/webpush", sub.toJSON());
}

async function unsubscribe(api) {
  const sub = await currentSubscription();
  if (!sub) return;
  await api.request("DELETE", "/v1/jobseekers/me/webpush", { body: { endpoint: sub.endpoint } }).catch(() => {});
  await sub.unsubscribe().catch(() => {});
}

function areaText(area) {
  if (!area) return t("wp.area.none");
  return area.source === "postcode" ? t("wp.area.postcode", { code: area.postcode }) : t("wp.area.position");
}

/**
 * The settings card. `opts.position()` gives the app's last {lat, lon} if it has
 * one (else the browser is asked once).
 */
export function webpushSection(api, opts = {}) {
  const root = h("section", { class: "card stack", id: "webpush", "aria-labelledby": "wp-h" });
  const state = { area: undefined, on: false };

  async function load() {
    try {
      state.area = await api.optional("/v1/jobseekers/me/home-area");
    } catch {
      state.area = null;
    }
    state.on = !!(await currentSubscription().catch(() => null));
    render();
  }

  async function setArea(body) {
    try {
      state.area = await api.put("/v1/jobseekers/me/home-area", { ...body, consent: true });
      toast(t("wp.saved"), { symbol: "📍" });
    } catch (err) {
      toast(err.status === 422 && body.postcode ? t("wp.bad.postcode") : t("error.generic"), { symbol: "⚠️" });
    }
    render();
  }

  async function toggle(want) {
    try {
      if (want) {
        if (!state.area) {
          toast(t("wp.need.area"), { symbol: "📍" });
          return render();
        }
        await subscribe(api);
      } else {
        await unsubscribe(api);
      }
      state.on = want;
    } catch (err) {
      toast(String(err.message) === "blocked" ? t("wp.blocked") : t("error.generic"), { symbol: "🔕" });
    }
    render();
  }

  async function usePosition() {
    let pos = opts.position?.();
    if (!pos) {
      pos = await new Promise((resolve) =>
        navigator.geolocation.getCurrentPosition(
          (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude }),
          () => resolve(null),
          { maximumAge: 600_000, timeout: 10_000 },
        ),
      );
    }
    if (pos) await setArea({ lat: Number(pos.lat.toFixed(7)), lon: Number(pos.lon.toFixed(7)) });
  }

  function render() {
    root.replaceChildren();
    root.append(h("h3", { id: "wp-h" }, icon("🔔"), " ", t("wp.title")));
    if (!supported()) {
      root.append(h("p", {}, t("wp.unsupported")));
      return;
    }
    const sw = h("input", {
      type: "checkbox", role: "switch", id: "wp-switch", checked: state.on,
      "aria-describedby": "wp-why", onchange: (e) => toggle(e.target.checked),
    });
    root.append(
      h("label", { class: "switch", for: "wp-switch" }, h("span", {}, t(state.on ? "wp.on" : "wp.off")), sw),
      h("p", { id: "wp-why", class: "muted" }, t("wp.why")),
      h("p", { class: "label" }, icon("📍"), " ", t("wp.area"), ": ", h("strong", { id: "wp-area" }, areaText(state.area))),
    );
    const code = h("input", {
      type: "text", id: "wp-postcode", inputmode: "numeric", pattern: "[0-9]{4}", maxlength: 4,
      autocomplete: "postal-code", value: state.area?.postcode || "", "aria-label": t("wp.postcode"),
      placeholder: "8000",
    });
    root.append(
      h("form", {
        class: "row",
        onsubmit: (e) => {
          e.preventDefault();
          if (/^\d{4}$/.test(code.value.trim())) setArea({ postcode: code.value.trim() });
          else toast(t("wp.bad.postcode"), { symbol: "⚠️" });
        },
      }, code, h("button", { type: "submit", class: "btn small" }, t("wp.save"))),
      h("div", { class: "row" },
        h("button", { type: "button", class: "btn small", id: "wp-position", onclick: usePosition }, icon("🎯"), " ", t("wp.use.position")),
        state.area
          ? h("button", {
            type: "button", class: "btn small", id: "wp-remove",
            onclick: async () => {
              await unsubscribe(api);
              await api.delete("/v1/jobseekers/me/home-area").catch(() => {});
              state.area = null;
              state.on = false;
              render();
            },
          }, icon("🗑"), " ", t("wp.remove"))
          : null),
      h("p", { class: "muted" }, t("wp.consent")),
    );
  }

  render();
  load();
  return root;
}
