// Passkeys (WebAuthn): make one with the phone you have, sign in with it on a
// new one. The server keeps the challenge and checks the answer (docs/security.md).
import "./strings/account.js";
import { t } from "./i18n.js";

const b64uToBuf = (s) => {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0)).buffer;
};
const bufToB64u = (buf) =>
  btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

export function passkeysSupported() {
  return typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
}

function creationOptions(o) {
  return {
    ...o,
    challenge: b64uToBuf(o.challenge),
    user: { ...o.user, id: b64uToBuf(o.user.id) },
    excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: b64uToBuf(c.id) })),
  };
}

function requestOptions(o) {
  return {
    ...o,
    challenge: b64uToBuf(o.challenge),
    allowCredentials: (o.allowCredentials || []).map((c) => ({ ...c, id: b64uToBuf(c.id) })),
  };
}

function credentialJSON(cred) {
  if (typeof cred.toJSON === "function") return cred.toJSON();
  const r = cred.response;
  const response = { clientDataJSON: bufToB64u(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = bufToB64u(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = bufToB64u(r.authenticatorData);
    response.signature = bufToB64u(r.signature);
    if (r.userHandle) response.userHandle = bufToB64u(r.userHandle);
  }
  return { id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type, response, clientExtensionResults: {} };
}

/** Register a passkey for the signed-in person; returns the stored passkey. */
export async function createPasskey(api, name = "") {
  const c = await api.post("/v1/jobseekers/me/passkeys/registration/options", {});
  const cred = await navigator.credentials.create({ publicKey: creationOptions(c.options) });
  return api.post("/v1/jobseekers/me/passkeys", {
    ceremony_id: c.ceremony_id, credential: credentialJSON(cred), name,
  });
}

/** Sign in with a passkey this device's authenticator holds; returns a new token. */
export async function signInWithPasskey(api) {
  const c = await api.post("/v1/passkeys/authentication/options", {});
  const cred = await navigator.credentials.get({ publicKey: requestOptions(c.options) });
  const res = await api.post("/v1/passkeys/authentication", {
    ceremony_id: c.ceremony_id, credential: credentialJSON(cred),
  });
  return res.token;
}

/** The settings card: "Sign in on a new phone" → make a passkey. */
export function passkeyCard(api, h, toast) {
  const count = h("p", { id: "pk-count" });
  const refresh = async () => {
    const res = await api.get("/v1/jobseekers/me/passkeys").catch(() => null);
    // The settings view may have been drawn again meanwhile (a push "settings" frame).
    const shown = document.getElementById("pk-count") || count;
    if (res) shown.textContent = t("pk.count", { n: res.passkeys.length });
  };
  const button = h("button", {
    type: "button", class: "btn", id: "pk-create", disabled: !passkeysSupported(),
    onclick: async () => {
      try {
        await createPasskey(api, navigator.platform || "");
        toast(t("pk.created"), { symbol: "🔑" });
        refresh();
      } catch (err) {
        console.warn("passkey not made", err);
        toast(t("error.generic"), { symbol: "⚠️" });
      }
    },
  }, "🔑 ", t("pk.create"));
  refresh();
  return h("section", { class: "card stack", id: "passkeys" },
    h("h3", {}, t("pk.title")), h("p", {}, passkeysSupported() ? t("pk.text") : t("pk.unsupported")),
    button, count);
}
