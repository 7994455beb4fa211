// The push websocket (docs/push-protocol.md) as the app uses it: connect with
// the token, resume what was missed, ack what was handled, reconnect with
// backoff, and re-send the last position and settings after every reconnect.
//
// Events (EventTarget): "status" {state}, "match" {frame}, "withdrawn" {frame},
// "settings" {settings}, "hello" {hello}.

const SEQ_KEY = "jotr.push.seq";
const HEARTBEAT_MS = 120_000; // the server forgets positions after 10 minutes

export class PushClient extends EventTarget {
  constructor(token) {
    super();
    this.token = token;
    this.ws = null;
    this.state = "idle";
    this.attempt = 0;
    this.timer = null;
    this.heartbeat = null;
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
    return `${scheme}//${location.host}/v1/push?token=${encodeURIComponent(this.token)}`;
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
    ws.onmessage = (ev) => this._onFrame(ev.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.heartbeat);
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
    clearInterval(this.heartbeat);
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
        if (msg.last_seq > this.processed) this._send({ type: "resume", after_seq: this.processed });
        if (this.pendingSettings) this.sendSettings({});
        if (this.lastLocation) this._send(this.lastLocation);
        clearInterval(this.heartbeat);
        this.heartbeat = setInterval(() => this.lastLocation && this._send(this.lastLocation), HEARTBEAT_MS);
        break;
      case "match":
      case "withdrawn":
        // Delivery is at-least-once: a seq already handled is only acked again.
        if (msg.seq > this.processed) this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
        this._markProcessed(msg.seq);
        break;
      case "resumed":
        if (msg.more) this._send({ type: "resume", after_seq: this.processed });
        break;
      case "settings":
        this.dispatchEvent(new CustomEvent("settings", { detail: msg }));
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
