/* Connect Share officer console: the map (Leaflet, served by the hub from /console/vendor/).
 *
 * Street tiles come from the city's tile server when one is configured; without one, or
 * when it does not answer, the map still draws the incident's circle, the cameras and the
 * scale on a plain grid. Cameras closer than a marker's width (e.g. two on one house) are
 * drawn as one numbered marker whose popup lists each of them, so every camera stays
 * reachable. Nothing here touches innerHTML with data: labels are text nodes.
 */
"use strict";

(() => {
  const CS = (window.ConnectShare = window.ConnectShare || {});
  const NEAR_PX = 18; // markers closer than this share one numbered marker
  const camKey = (c) => `${c.installation_id}/${c.camera_id}`;

  function node(tag, className, text) {
    const n = document.createElement(tag);
    if (className) n.className = className;
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function fmtMeters(m) {
    return m >= 1000 ? `${(m / 1000).toFixed(m >= 10000 ? 0 : 1)} km` : `${Math.round(m)} m`;
  }

  // Great-circle distance in metres.
  function distance(lat1, lon1, lat2, lon2) {
    const r = Math.PI / 180;
    const a =
      Math.sin(((lat2 - lat1) * r) / 2) ** 2 +
      Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
  }

  // A wedge for the camera's field of view (heading and angle in degrees), ~30 m deep.
  function fovPolygon(cam, depth) {
    const pts = [[cam.lat, cam.lon]];
    const kLat = 1 / 110540;
    const kLon = 1 / (111320 * Math.cos((cam.lat * Math.PI) / 180));
    const from = cam.heading_deg - cam.fov_deg / 2;
    for (let i = 0; i <= 8; i += 1) {
      const a = ((from + (cam.fov_deg * i) / 8) * Math.PI) / 180;
      pts.push([cam.lat + depth * Math.cos(a) * kLat, cam.lon + depth * Math.sin(a) * kLon]);
    }
    return pts;
  }

  class CameraMap {
    /* config: {tile_url, attribution}; on: {toggle(key), click(latlng), tilesFailed(),
     * and for placing an incident: drag(latlng) of the centre, radius(wheelSteps) on
     * Shift + wheel} */
    constructor(container, config, on) {
      this.container = container;
      this.on = on || {};
      this.cameras = []; // in the circle (selectable)
      this.context = []; // other shared cameras (dots only)
      this.selected = new Set();
      this.markers = new Map(); // camera key -> marker element
      this.openGroup = ""; // keys of the numbered marker whose list is open
      this.signature = "";
      this.map = L.map(container, {
        zoomControl: true,
        attributionControl: Boolean(config.tile_url),
        boxZoom: false,
        zoomSnap: 0.25,
        zoomDelta: 0.5,
        minZoom: 3,
        maxZoom: 20,
      });
      L.control.scale({ imperial: false, maxWidth: 160 }).addTo(this.map);
      this.tilesOk = false;
      if (config.tile_url) {
        this.map.attributionControl.setPrefix(false);
        const tiles = L.tileLayer(config.tile_url, { maxZoom: 20, maxNativeZoom: 19 });
        tiles.getAttribution = () => (config.attribution ? node("span", "", config.attribution).outerHTML : "");
        tiles.on("tileload", () => {
          this.tilesOk = true;
          container.classList.remove("tiles-failed");
          container.dataset.tiles = "loaded";
        });
        tiles.on("tileerror", () => {
          if (this.tilesOk) return;
          container.classList.add("tiles-failed");
          container.dataset.tiles = "failed";
          if (this.on.tilesFailed) this.on.tilesFailed();
        });
        tiles.addTo(this.map);
        container.dataset.tiles = "loading";
      } else {
        container.classList.add("no-tiles");
        container.dataset.tiles = "none";
      }
      this.shapes = L.layerGroup().addTo(this.map);
      this.pins = L.layerGroup().addTo(this.map);
      this.map.on("zoomend", () => this.drawCameras());
      this.map.on("click", (e) => this.on.click && this.on.click(e.latlng));
      this.map.on("popupclose", () => {
        this.openGroup = "";
      });
      if (this.on.radius) {
        // Shift + wheel sets the radius (a plain wheel still zooms).
        container.addEventListener(
          "wheel",
          (e) => {
            if (!e.shiftKey) return;
            e.preventDefault();
            e.stopImmediatePropagation();
            e.stopPropagation();
            this.on.radius(Math.sign(e.deltaY || e.deltaX));
          },
          { capture: true, passive: false },
        );
      }
    }

    // Called when the container was hidden and is shown again.
    refresh() {
      this.map.invalidateSize(false);
    }

    /* The incident (or the place being chosen): centre, radius, cameras. */
    show({ lat, lon, radius_m: radius }, cameras, context, selected, fit) {
      this.cameras = cameras.filter((c) => c.lat !== null && c.lon !== null);
      const inside = new Set(this.cameras.map(camKey));
      this.context = context.filter((c) => c.lat !== null && c.lon !== null && !inside.has(camKey(c)));
      this.selected = selected;
      const signature = JSON.stringify([lat, lon, radius, this.cameras.map((c) => [camKey(c), c.online]), this.context.length]);
      const moved = signature !== this.signature;
      this.signature = signature;
      if (fit || !this.centre) {
        this.map.fitBounds(L.latLng(lat, lon).toBounds(radius * 2.6), { animate: false });
      }
      this.centre = { lat, lon, radius };
      if (moved) {
        this.drawShapes();
        this.drawCameras();
      } else {
        this.markSelection();
      }
    }

    drawShapes() {
      const { lat, lon, radius } = this.centre;
      this.shapes.clearLayers();
      for (const cam of this.cameras) {
        if (cam.heading_deg !== null && cam.fov_deg !== null && cam.heading_deg !== undefined) {
          L.polygon(fovPolygon(cam, 35), { className: "map-fov", interactive: false }).addTo(this.shapes);
        }
      }
      this.circle = L.circle([lat, lon], { radius, className: "map-radius", interactive: false }).addTo(this.shapes);
      L.circle([lat, lon], { radius: radius / 2, className: "map-ring", interactive: false }).addTo(this.shapes);
      for (const cam of this.context) {
        L.circleMarker([cam.lat, cam.lon], { radius: 3, className: "map-outside", interactive: false }).addTo(this.shapes);
      }
      const centre = node("div", "map-centre");
      centre.title = `Incident · radius ${fmtMeters(radius)}`;
      const draggable = Boolean(this.on.drag);
      const pin = L.marker([lat, lon], {
        icon: L.divIcon({ html: centre, className: "map-centre-icon", iconSize: [18, 18] }),
        interactive: draggable,
        draggable,
        keyboard: false,
        zIndexOffset: -100,
      }).addTo(this.shapes);
      if (draggable) pin.on("dragend", () => this.on.drag(pin.getLatLng()));
    }

    // Group cameras that would overlap at this zoom.
    groups() {
      const out = [];
      for (const cam of this.cameras) {
        const p = this.map.latLngToLayerPoint([cam.lat, cam.lon]);
        const near = out.find((g) => g.point.distanceTo(p) < NEAR_PX);
        if (near) near.cams.push(cam);
        else out.push({ point: p, cams: [cam] });
      }
      return out;
    }

    drawCameras() {
      if (!this.centre) return;
      const reopen = this.openGroup;
      this.pins.clearLayers();
      this.markers.clear();
      for (const group of this.groups()) {
        const keys = group.cams.map(camKey).sort().join(" ");
        const first = group.cams[0];
        const marker = group.cams.length === 1 ? this.single(first) : this.cluster(group.cams, keys);
        marker.addTo(this.pins);
        if (group.cams.length > 1 && keys === reopen) marker.openPopup();
      }
      this.markSelection();
    }

    single(cam) {
      const key = camKey(cam);
      const dot = node("div", `map-cam ${cam.participation}${cam.online ? "" : " offline"}`);
      dot.dataset.camera = key;
      const label = node("span", "map-cam-label", cam.name.length > 22 ? `${cam.name.slice(0, 21)}…` : cam.name);
      dot.append(label);
      const marker = L.marker([cam.lat, cam.lon], {
        icon: L.divIcon({ html: dot, className: "map-cam-icon", iconSize: [16, 16] }),
        title: `${cam.name} · ${cam.participation} · ${fmtMeters(cam.distance_m)}${cam.online ? "" : " · offline"}`,
        keyboard: true,
        riseOnHover: true,
      });
      marker.on("click", () => this.on.toggle && this.on.toggle(key));
      marker.on("keypress", (e) => {
        if (e.originalEvent.key === " ") this.on.toggle && this.on.toggle(key);
      });
      this.markers.set(key, [dot]);
      return marker;
    }

    cluster(cams, keys) {
      const badge = node("div", "map-cluster", String(cams.length));
      badge.dataset.cameras = keys;
      const list = node("div", "map-list");
      list.append(node("p", "map-list-title", `${cams.length} cameras at this spot`));
      for (const cam of cams) {
        const key = camKey(cam);
        const item = node("button", `map-list-item ${cam.participation}${cam.online ? "" : " offline"}`);
        item.type = "button";
        item.dataset.camera = key;
        item.append(node("span", "tick"), node("strong", "", cam.name), node("span", "small muted", ` ${cam.participation}${cam.online ? "" : " · offline"}`));
        item.addEventListener("click", (e) => {
          L.DomEvent.stopPropagation(e);
          if (this.on.toggle) this.on.toggle(key);
        });
        list.append(item);
        this.markers.set(key, [...(this.markers.get(key) || []), item, badge]);
      }
      const marker = L.marker([cams[0].lat, cams[0].lon], {
        icon: L.divIcon({ html: badge, className: "map-cluster-icon", iconSize: [26, 26] }),
        title: cams.map((c) => c.name).join(", "),
        keyboard: true,
      });
      marker.bindPopup(list, { closeButton: true, autoPan: true, minWidth: 180 });
      marker.on("popupopen", () => {
        this.openGroup = keys;
      });
      return marker;
    }

    // Chosen cameras: their dots and list entries, and every numbered marker holding one.
    markSelection() {
      const all = [...this.markers.values()].flat();
      for (const [key, nodes] of this.markers) {
        const on = this.selected.has(key);
        for (const n of nodes.filter((x) => !x.classList.contains("map-cluster"))) {
          n.classList.toggle("selected", on);
          if (n.tagName === "BUTTON") n.setAttribute("aria-pressed", on ? "true" : "false");
        }
      }
      for (const badge of new Set(all.filter((x) => x.classList.contains("map-cluster")))) {
        const any = badge.dataset.cameras.split(" ").some((k) => this.selected.has(k));
        badge.classList.toggle("selected", any);
      }
    }
  }

  CS.CameraMap = CameraMap;
  CS.geo = { distance, fmtMeters };
})();
