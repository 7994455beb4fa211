// Leaflet (vendored from the npm registry, api/static/vendor/leaflet) with a
// plain background: when tiles cannot be fetched (offline, blocked, no tile
// server configured) the map still shows the markers, the radius and a note.
import { t, onLangChange } from "./i18n.js";

const L = window.L;
export const AARHUS = [56.1535, 10.2039];

function tileSettings() {
  const url = document.querySelector('meta[name="jotr-tiles"]')?.content?.trim() || "";
  const attribution = document.querySelector('meta[name="jotr-tiles-attribution"]')?.content || "";
  return { url, attribution };
}

export class JobMap {
  constructor(el, { center = AARHUS, zoom = 14, onClick = null } = {}) {
    this.el = el;
    // No animations: a plain jump suits people who find motion hard to follow,
    // and nothing runs on after a map is hidden or destroyed.
    this.map = L.map(el, {
      zoomControl: true, keyboard: true, attributionControl: true, tap: true,
      zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false, inertia: false,
    });
    this.map.setView(center, zoom);
    el.classList.add("map-plain");
    this.markers = new Map();
    this.me = null;
    this.circle = null;
    this.tilesOk = false;
    this._note = null;
    L.control.scale({ imperial: false }).addTo(this.map);
    const { url, attribution } = tileSettings();
    if (url) {
      const layer = L.tileLayer(url, { maxZoom: 19, attribution, crossOrigin: true });
      layer.on("tileload", () => {
        this.tilesOk = true;
        el.classList.remove("tiles-failed");
        this._setNote(null);
      });
      layer.on("tileerror", () => {
        if (!this.tilesOk) this._tilesFailed();
      });
      layer.addTo(this.map);
    } else {
      this._tilesFailed();
    }
    if (onClick) this.map.on("click", (e) => onClick(e.latlng.lat, e.latlng.lng));
    // The map follows the phone until the person moves it by hand.
    this.follow = true;
    this.map.on("dragstart", () => (this.follow = false));
    onLangChange(() => this._note && this._setNote("map.tiles.failed"));
    // The container may have been hidden when the map was made.
    this._sizeTimer = setTimeout(() => this.resize(), 50);
  }

  /** Remove the map for good. Leaflet's own remove() leaves the map "loaded":
   * a later invalidateSize on it (the timer above, when the job view is
   * re-rendered within 50 ms) fired "move" into the scale control, which read
   * the removed pane's position: the `_leaflet_pos` page error. */
  destroy() {
    this.gone = true;
    clearTimeout(this._sizeTimer);
    this.map.remove();
  }

  _tilesFailed() {
    this.el.classList.add("tiles-failed");
    this.el.dataset.tiles = "failed";
    this._setNote("map.tiles.failed");
  }

  _setNote(key) {
    if (!key) {
      if (this._note) this._note.remove();
      this._note = null;
      return;
    }
    if (!this._note) {
      const Note = L.Control.extend({
        onAdd: () => {
          const div = L.DomUtil.create("div", "map-note");
          div.setAttribute("role", "note");
          return div;
        },
      });
      this._note = new Note({ position: "bottomleft" });
      this._note.addTo(this.map);
    }
    this._note.getContainer().textContent = t(key);
  }

  resize() {
    if (!this.gone) this.map.invalidateSize();
  }

  setMe(lat, lon, radiusM) {
    const ll = [lat, lon];
    if (!this.me) {
      this.me = L.marker(ll, {
        icon: L.divIcon({ className: "me-dot", iconSize: [18, 18] }),
        keyboard: false,
        interactive: false,
        zIndexOffset: -100,
      }).addTo(this.map);
      this.me.getElement()?.setAttribute("aria-label", t("map.me"));
      this.me.getElement()?.setAttribute("role", "img");
    } else this.me.setLatLng(ll);
    if (radiusM) {
      if (!this.circle) {
        this.circle = L.circle(ll, {
          radius: radiusM, color: "#1d3f91", weight: 2, fillOpacity: 0.06, interactive: false,
        }).addTo(this.map);
      } else {
        this.circle.setLatLng(ll);
        this.circle.setRadius(radiusM);
      }
    }
  }

  /** Keep a point in view (unless the person has moved the map themselves). */
  followTo(lat, lon) {
    if (!this.follow) return;
    const inner = this.map.getBounds().pad(-0.2);
    if (!inner.contains([lat, lon])) this.map.panTo([lat, lon]);
  }

  /** A job pin: `kind` in "", "walk-in", "is-new", "is-chosen". */
  upsert(id, lat, lon, { label, symbol = "💼", kind = "", onOpen = null } = {}) {
    let m = this.markers.get(id);
    const icon = L.divIcon({
      className: `jotr-pin ${kind}`.trim(),
      html: `<span aria-hidden="true">${symbol}</span>`,
      iconSize: [34, 34],
    });
    if (!m) {
      m = L.marker([lat, lon], { icon, keyboard: true, title: label, riseOnHover: true }).addTo(this.map);
      if (onOpen) m.on("click", () => onOpen(id));
      this.markers.set(id, m);
    } else {
      m.setLatLng([lat, lon]);
      m.setIcon(icon);
    }
    const el = m.getElement();
    if (el) {
      el.dataset.vacancyId = id;
      el.setAttribute("aria-label", label);
      el.setAttribute("role", "button");
    }
    return m;
  }

  remove(id) {
    const m = this.markers.get(id);
    if (m) {
      m.remove();
      this.markers.delete(id);
    }
  }

  keepOnly(ids) {
    for (const id of [...this.markers.keys()]) if (!ids.has(id)) this.remove(id);
  }

  // Programmatic moves jump too (see the constructor).
  focus(lat, lon, zoom) {
    this.map.setView([lat, lon], zoom ?? Math.max(this.map.getZoom(), 15), { animate: false });
  }

  fit(points, maxZoom = 16) {
    if (!points.length) return;
    this.map.fitBounds(L.latLngBounds(points), { padding: [48, 48], maxZoom, animate: false });
  }
}
