// The push websocket (docs/push-protocol.md) as the app uses it: connect, send
// the token in the first frame (never in the URL, which ends up in logs) with
// this browser's device id, take the server's replay of what this device has
// not acked, ack what was handled, reconnect with backoff, and re-send the last
// position and settings after every reconnect.
//
// Events (EventTarget): "status" {state}, "match" {frame}, "withdrawn" {frame}, "interest_reply" {frame},
// "settings" {settings}, "hello" {hello}.

const SEQ_KEY = "jotr.push.seq";
const DEVICE_KEY = "jotr.push.device";

// A random id for this browser, kept across visits: acks and replays are per
// device, so the phone's acks never hide what this browser missed.
function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

export class PushClient extends EventTarget {
  constructor(token) {
    super();
    this.token = token;
    this.ws = null;
    this.state = "idle";
    this.attempt = 0;
    this.timer = null;
    this.device = deviceId();
    this.lastLocation = null;
    this.pendingSettings = null;
    this.stopped = false;
    this.processed = Number(localStorage.getItem(SEQ_KEY) || 0);
    window.addEventListener("online", () => this.reconnectSoon(0));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.state !== "open") this.reconnectSoon(0);
    });
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/v1/push`;
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this._setState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.reconnectSoon();
      return;
    }
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: this.token, device: this.device }));
    ws.onmessage = (ev) => this._onFrame(ev.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this._setState("closed");
      this.reconnectSoon();
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  reconnectSoon(delay) {
    if (this.stopped || this.state === "open" || this.state === "connecting") return;
    clearTimeout(this.timer);
    // 1, 2, 4 … 30 s with jitter, so a server restart is not hit by everyone at once.
    const backoff = delay ?? Math.min(30_000, 1000 * 2 ** this.attempt) * (0.7 + Math.random() * 0.6);
    this.attempt = Math.min(this.attempt + 1, 6);
    this.timer = setTimeout(() => this.connect(), backoff);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
  }

  _setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("status", { detail: { state } }));
  }

  _send(msg) {
    if (this.ws && this.state === "open") {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  sendLocation(lat, lon, accuracy) {
    this.lastLocation = { type: "location", lat: round7(lat), lon: round7(lon) };
    if (accuracy != null && Number.isFinite(accuracy)) this.lastLocation.accuracy_m = Math.round(accuracy);
    this._send(this.lastLocation);
  }

  /** radius_m, paused, min_score, quiet_hours: sent now, or on the next hello. */
  sendSettings(settings) {
    this.pendingSettings = { ...(this.pendingSettings || {}), ...settings };
    if (this._send({ type: "settings", ...this.pendingSettings })) this.pendingSettings = null;
  }

  _markProcessed(seq) {
    if (seq > this.processed) {
      this.processed = seq;
      localStorage.setItem(SEQ_KEY, String(seq));
    }
    this._send({ type: "ack", seq: this.processed });
  }

  _onFrame(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    switch (msg.type) {
      case "hello":
        this.attempt = 0;
        this._setState("open");
        this.dispatchEvent(new CustomEvent("hello", { detail: msg }));
        if (msg.last_seq < this.processed) {
          // A new account on this phone, or the server's history was reset.
          this.processed = 0;
          localStorage.setItem(SEQ_KEY, "0");
        }
        // What this device has not acked follows now, in order, then "resumed".
        // No heartbeat: the open connection itself keeps the position alive.
        if (this.pendingSettings) this.sendSettings({});
        if (this.lastLocation) this._send(this.lastLocation);
        break;
      case "match":
      case "withdrawn":
      case "interest_reply": // an employer's answer (js/jobview.js)
        // Delivery is at-least-once: a seq already handled is only acked again.
        if (msg.seq > this.processed) this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
        this._markProcessed(msg.seq);
        break;
      case "settings":
      case "batch": // the next matches are one batch: one notification (docs/push-protocol.md)
      case "resumed": // the replay of what this device missed is done
        this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
        break;
      default:
        break;
    }
  }
}

export function resetPushState() {
  localStorage.removeItem(SEQ_KEY);
}

function round7(x) {
  return Math.round(x * 1e7) / 1e7;
}
