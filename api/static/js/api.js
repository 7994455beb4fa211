// A small fetch wrapper for the REST API: bearer token, JSON, one error type.

import { getLang } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  /** @param {() => (string|null)} getToken */
  constructor(getToken) {
    this.getToken = getToken;
  }

  async request(method, path, { body, query, headers = {} } = {}) {
    let url = path;
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v != null && v !== "") params.set(k, String(v));
      const qs = params.toString();
      if (qs) url += (url.includes("?") ? "&" : "?") + qs;
    }
    // Skill labels come back in the reader's language (easy Danish for "da").
    const h = { Accept: "application/json", "Accept-Language": getLang(), ...headers };
    const token = this.getToken();
    if (token) h.Authorization = `Bearer ${token}`;
    if (body !== undefined) h["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(url, {
        method,
        headers: h,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, "network", String(err));
    }
    if (res.status === 204) return null;
    let data = null;
    const type = res.headers.get("content-type") || "";
    if (type.includes("json")) data = await res.json().catch(() => null);
    if (!res.ok) {
      const e = data && data.error ? data.error : {};
      throw new ApiError(res.status, e.code, e.message);
    }
    return data;
  }

  get(path, query) {
    return this.request("GET", path, { query });
  }
  post(path, body, headers) {
    return this.request("POST", path, { body, headers });
  }
  patch(path, body) {
    return this.request("PATCH", path, { body });
  }
  put(path, body) {
    return this.request("PUT", path, { body });
  }
  delete(path) {
    return this.request("DELETE", path);
  }

  /** GET that answers null instead of throwing on 404/405: for features whose
   * endpoint may not exist on this server yet (the view is then hidden). */
  async optional(path, query) {
    try {
      return await this.get(path, query);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
      throw err;
    }
  }
}

export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
