/* Connect Share officer console: plain JS over the hub's JSON API (cookie session + CSRF).
 *
 * No inline script, no innerHTML with data: every value reaches the page as text nodes.
 * The page holds only the session's CSRF token (the session cookie itself is HttpOnly).
 */
"use strict";

(() => {
  const LIVE_ROLES = ["analyst", "supervisor", "admin"];
  const SUPERVISING = ["supervisor", "admin"];
  const POLL_MS = 4000;
  const AUDIT_PAGE = 500;
  const AUDIT_MAX_PAGES = 10;

  const state = {
    user: null,
    csrf: "",
    incidents: [],
    incident: null, // the open incident (API object)
    cameras: [], // cameras in its radius
    nearby: [], // every shared camera (for the map's context)
    selected: new Set(), // "installation_id/camera_id"
    live: null, // {session_id, grant_id, camera_id, stream_path, expires_at}
    snapshotUrl: "", // blob: URL of the snapshot on show (revoked when replaced or closed)
    pollTimer: 0,
    polling: false,
  };

  // ---------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(key, String(value));
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  const pad = (n) => String(n).padStart(2, "0");

  function fmtTime(epoch) {
    if (epoch === null || epoch === undefined) return "–";
    const d = new Date(epoch * 1000);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  function toLocalInput(epoch) {
    const d = new Date(epoch * 1000);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  function fromLocalInput(value) {
    if (!value) return null;
    const ms = new Date(value).getTime();
    return Number.isFinite(ms) ? ms / 1000 : null;
  }

  function fmtMeters(m) {
    return m >= 1000 ? `${(m / 1000).toFixed(m >= 10000 ? 0 : 1)} km` : `${Math.round(m)} m`;
  }

  function fmtBytes(n) {
    if (n >= 1048576) return `${(n / 1048576).toFixed(1)} MB`;
    if (n >= 1024) return `${(n / 1024).toFixed(0)} kB`;
    return `${n} B`;
  }

  const short = (id) => (id ? String(id).slice(0, 8) : "–");
  const camKey = (installationId, cameraId) => `${installationId}/${cameraId}`;
  const isLiveRole = () => !!state.user && LIVE_ROLES.includes(state.user.role);
  const isSupervising = () => !!state.user && SUPERVISING.includes(state.user.role);

  let flashTimer = 0;
  function flash(message, kind) {
    const box = $("flash");
    box.textContent = message;
    box.className = `flash ${kind || "ok"}`;
    show(box, true);
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => show(box, false), kind === "error" ? 12000 : 6000);
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || code || `HTTP ${status}`);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      throw new ApiError(0, "network", "The hub does not answer. Check the connection.");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (!response.ok) throw failure(response, data, path);
    return data;
  }

  // The ApiError for a refused request (and back to the login on a lost session).
  function failure(response, data, path) {
    const code = data && data.error;
    const message = (data && data.message) || response.statusText;
    if (response.status === 401 && state.user && path !== "/api/v1/auth/login") {
      sessionEnded();
    }
    return new ApiError(response.status, code, message);
  }

  // One snapshot as a Blob: a POST with the session cookie and the CSRF header (so an
  // <img src> cannot be pointed at it); the hub does not keep the picture.
  async function fetchSnapshot(grantId) {
    const path = `/api/v1/grants/${grantId}/snapshot`;
    const headers = { Accept: "image/jpeg" };
    if (state.csrf) headers["X-CSRF-Token"] = state.csrf;
    let response;
    try {
      response = await fetch(path, { method: "POST", headers, credentials: "same-origin", cache: "no-store" });
    } catch (err) {
      throw new ApiError(0, "network", "The hub does not answer. Check the connection.");
    }
    if (!response.ok) {
      let data = null;
      try {
        data = await response.json();
      } catch (err) {
        data = null;
      }
      throw failure(response, data, path);
    }
    const blob = await response.blob();
    if (blob.type !== "image/jpeg") throw new ApiError(response.status, "bad_image", "The hub did not send a JPEG.");
    return blob;
  }

  function report(err) {
    if (err instanceof ApiError) {
      const hint = err.code === "wrong_role" ? " (your role may not do this)" : "";
      flash(`${err.message}${hint}`, "error");
    } else {
      flash(String(err), "error");
      console.error(err);
    }
  }

  // Run an action from a button: disabled while it runs, errors shown to the officer.
  async function act(button, fn) {
    if (button) button.disabled = true;
    try {
      await fn();
    } catch (err) {
      report(err);
    } finally {
      if (button) button.disabled = false;
    }
  }

  // ---------------------------------------------------------------- login

  function showLogin(message) {
    stopPolling();
    stopLiveView(false);
    show($("live-panel"), false);
    clearSnapshot();
    state.user = null;
    state.csrf = "";
    show($("login-view"), true);
    show($("incidents-view"), false);
    show($("audit-view"), false);
    show($("nav"), false);
    show($("who"), false);
    $("login-error").textContent = message || "";
    $("login-username").focus();
  }

  function sessionEnded() {
    showLogin("Your session ended. Please log in again.");
  }

  function loggedIn(user, csrf) {
    show($("flash"), false);
    state.user = user;
    state.csrf = csrf || "";
    show($("login-view"), false);
    show($("nav"), true);
    show($("who"), true);
    const badge = user.badge ? ` · #${user.badge}` : "";
    $("who-name").textContent = `${user.display_name || user.username} (${user.role}${badge})`;
    show($("tab-audit"), isSupervising());
    for (const node of document.querySelectorAll(".live-only")) show(node, isLiveRole());
    switchView("incidents");
    loadIncidents().then(() => {
      const match = /^#incident=([0-9a-f]{32})$/.exec(location.hash);
      if (match) openIncident(match[1]).catch(report);
    }, report);
  }

  async function onLogin(event) {
    event.preventDefault();
    const button = $("login-submit");
    button.disabled = true;
    $("login-error").textContent = "";
    try {
      const data = await api("POST", "/api/v1/auth/login", {
        username: $("login-username").value.trim(),
        password: $("login-password").value,
      });
      $("login-password").value = "";
      loggedIn(data.user, data.csrf_token);
    } catch (err) {
      $("login-error").textContent =
        err.code === "too_many_attempts" ? err.message : err.status === 401 ? "Wrong username or password." : err.message;
    } finally {
      button.disabled = false;
    }
  }

  async function onLogout() {
    try {
      await api("POST", "/api/v1/auth/logout");
    } catch (err) {
      /* the session may already be gone */
    }
    state.incident = null;
    history.replaceState(null, "", location.pathname);
    showLogin("Logged out.");
  }

  // ---------------------------------------------------------------- views

  function switchView(view) {
    show($("incidents-view"), view === "incidents");
    show($("audit-view"), view === "audit");
    for (const tab of document.querySelectorAll(".tab")) {
      tab.classList.toggle("active", tab.dataset.view === view);
    }
    if (view === "audit") loadAudit().catch(report);
  }

  // ---------------------------------------------------------------- incidents

  async function loadIncidents() {
    const data = await api("GET", "/api/v1/incidents?limit=200");
    state.incidents = data.incidents;
    renderIncidentList();
    renderAuditIncidentOptions();
  }

  function renderIncidentList() {
    const list = clear($("incident-list"));
    if (!state.incidents.length) {
      list.append(el("li", { class: "muted", text: "No incidents yet." }));
      return;
    }
    for (const inc of state.incidents) {
      const current = state.incident && state.incident.incident_id === inc.incident_id;
      list.append(
        el(
          "li",
          {},
          el(
            "button",
            {
              type: "button",
              class: `incident-item${current ? " current" : ""}${inc.status === "closed" ? " closed" : ""}`,
              "data-incident": inc.incident_id,
              onclick: () => openIncident(inc.incident_id).catch(report),
            },
            el("strong", { text: inc.case_number }),
            el("span", { class: "pill", text: inc.incident_type }),
            inc.status === "closed" ? el("span", { class: "badge closed", text: "closed" }) : null,
            el("span", { class: "small muted", text: fmtTime(inc.created_at) }),
          ),
        ),
      );
    }
  }

  async function onCreateIncident(event) {
    event.preventDefault();
    const body = {
      case_number: $("inc-case").value.trim(),
      incident_type: $("inc-type").value.trim(),
      offense_code: $("inc-offense").value.trim(),
      reason: $("inc-reason").value.trim(),
      lat: Number($("inc-lat").value),
      lon: Number($("inc-lon").value),
      radius_m: Number($("inc-radius").value),
    };
    const start = fromLocalInput($("inc-start").value);
    const end = fromLocalInput($("inc-end").value);
    if ((start === null) !== (end === null)) {
      flash("Give both ends of the footage window, or neither.", "error");
      return;
    }
    if (start !== null) {
      body.window_start = start;
      body.window_end = end;
    }
    await act($("incident-submit"), async () => {
      const data = await api("POST", "/api/v1/incidents", body);
      $("incident-form").reset();
      $("inc-radius").value = "300";
      $("new-incident-box").open = false;
      flash(`Incident ${data.incident.case_number} opened.`);
      await loadIncidents();
      await openIncident(data.incident.incident_id);
    });
  }

  async function openIncident(incidentId) {
    if (!state.incident || state.incident.incident_id !== incidentId) {
      stopLiveView(true);
      show($("live-panel"), false);
      clearSnapshot();
      state.selected.clear();
      $("manifest-box").hidden = true;
    }
    const [detail, cams, nearby] = await Promise.all([
      api("GET", `/api/v1/incidents/${incidentId}`),
      api("GET", `/api/v1/incidents/${incidentId}/cameras`),
      api("GET", "/api/v1/cameras?limit=5000").catch(() => ({ cameras: [] })),
    ]);
    state.incident = detail.incident;
    state.cameras = cams.cameras;
    state.nearby = nearby.cameras;
    history.replaceState(null, "", `#incident=${incidentId}`);
    show($("no-incident"), false);
    show($("incident-detail"), true);
    renderIncidentHead();
    prefillWindow();
    renderCameras();
    renderRequests(detail.requests);
    renderIncidentList();
    await loadEvidence();
    startPolling();
  }

  function renderIncidentHead() {
    const inc = state.incident;
    $("d-case").textContent = `Case ${inc.case_number}`;
    $("d-status").textContent = inc.status;
    $("d-status").className = `badge ${inc.status}`;
    $("d-type").textContent = inc.incident_type;
    $("d-where").textContent = `${inc.lat.toFixed(5)}, ${inc.lon.toFixed(5)} · radius ${fmtMeters(inc.radius_m)} · opened ${fmtTime(inc.created_at)}`;
    $("d-reason").textContent = inc.reason;
    $("d-window").textContent =
      inc.window_start !== null ? `Footage window: ${fmtTime(inc.window_start)} → ${fmtTime(inc.window_end)}` : "";
    const open = inc.status === "open";
    for (const id of ["close-incident", "revoke-incident", "request-clip", "request-live", "request-snapshot"]) {
      $(id).disabled = !open;
    }
  }

  function prefillWindow() {
    const inc = state.incident;
    const now = Date.now() / 1000;
    const start = inc.window_start !== null ? inc.window_start : now - 3600;
    const end = inc.window_end !== null ? inc.window_end : now;
    $("req-start").value = toLocalInput(start);
    $("req-end").value = toLocalInput(end);
  }

  // ---------------------------------------------------------------- cameras + map

  function cameraName(installationId, cameraId) {
    const cam = state.cameras.find((c) => c.installation_id === installationId && c.camera_id === cameraId);
    return cam ? cam.name : cameraId;
  }

  function toggleCamera(key, on) {
    if (on) state.selected.add(key);
    else state.selected.delete(key);
    renderCameras();
  }

  function renderCameras() {
    const body = clear($("camera-rows"));
    $("cam-count").textContent = String(state.cameras.length);
    show($("no-cameras"), state.cameras.length === 0);
    for (const cam of state.cameras) {
      const key = camKey(cam.installation_id, cam.camera_id);
      const box = el("input", {
        type: "checkbox",
        "aria-label": `Select ${cam.name}`,
        onchange: (e) => toggleCamera(key, e.target.checked),
      });
      box.checked = state.selected.has(key);
      const flags = [cam.online ? "online" : "offline"];
      if (cam.masked) flags.push("masked");
      body.append(
        el(
          "tr",
          { "data-camera": key, class: state.selected.has(key) ? "selected" : "" },
          el("td", {}, box),
          el("td", {}, el("strong", { text: cam.name }), el("div", { class: "small muted", text: cam.camera_id })),
          el("td", {}, el("span", { class: `pill ${cam.participation}`, text: cam.participation })),
          el("td", { class: "num", text: fmtMeters(cam.distance_m) }),
          el("td", { class: cam.online ? "online" : "offline", text: flags.join(", ") }),
        ),
      );
    }
    const all = $("cam-all");
    all.checked = state.cameras.length > 0 && state.cameras.every((c) => state.selected.has(camKey(c.installation_id, c.camera_id)));
    drawMap();
  }

  function niceLength(meters) {
    const p = 10 ** Math.floor(Math.log10(meters));
    for (const m of [5, 2, 1]) if (m * p <= meters) return m * p;
    return p;
  }

  function drawMap() {
    const map = clear($("map"));
    const inc = state.incident;
    if (!inc) return;
    const size = 400;
    const c = size / 2;
    const half = inc.radius_m * 1.3; // metres from the centre to the edge of the picture
    const scale = c / half; // pixels per metre
    const kx = 111320 * Math.cos((inc.lat * Math.PI) / 180);
    const ky = 110540;
    const project = (lat, lon) => {
      let dLon = lon - inc.lon;
      if (dLon > 180) dLon -= 360;
      if (dLon < -180) dLon += 360;
      return [c + dLon * kx * scale, c - (lat - inc.lat) * ky * scale];
    };
    const inView = ([x, y]) => x >= 0 && x <= size && y >= 0 && y <= size;

    map.append(svg("rect", { x: 0, y: 0, width: size, height: size, class: "map-bg" }));
    map.append(svg("circle", { cx: c, cy: c, r: inc.radius_m * scale * 0.5, class: "map-ring" }));
    map.append(svg("circle", { cx: c, cy: c, r: inc.radius_m * scale, class: "map-radius" }));
    map.append(svg("text", { x: c + 4, y: c - inc.radius_m * scale - 4, class: "map-label dim" }, fmtMeters(inc.radius_m)));
    map.append(svg("text", { x: c, y: 14, class: "map-north" }, "N ↑"));

    // Other shared cameras nearby, outside the circle: context only.
    const inside = new Set(state.cameras.map((cam) => camKey(cam.installation_id, cam.camera_id)));
    for (const cam of state.nearby) {
      if (inside.has(camKey(cam.installation_id, cam.camera_id)) || cam.lat === null) continue;
      const p = project(cam.lat, cam.lon);
      if (inView(p)) map.append(svg("circle", { cx: p[0], cy: p[1], r: 3, class: "map-outside" }));
    }

    // Incident centre.
    map.append(svg("path", { d: `M${c - 8},${c} H${c + 8} M${c},${c - 8} V${c + 8}`, class: "map-center" }));

    for (const cam of state.cameras) {
      const key = camKey(cam.installation_id, cam.camera_id);
      const [x, y] = project(cam.lat, cam.lon);
      const group = svg("g", {
        class: `map-cam ${cam.participation}${cam.online ? "" : " offline"}${state.selected.has(key) ? " selected" : ""}`,
        "data-camera": key,
        tabindex: 0,
        role: "button",
      });
      if (cam.heading_deg !== null && cam.fov_deg !== null) {
        const a1 = ((cam.heading_deg - cam.fov_deg / 2) * Math.PI) / 180;
        const a2 = ((cam.heading_deg + cam.fov_deg / 2) * Math.PI) / 180;
        const L = 26;
        const large = cam.fov_deg > 180 ? 1 : 0;
        group.append(
          svg("path", {
            d: `M${x},${y} L${x + L * Math.sin(a1)},${y - L * Math.cos(a1)} A${L},${L} 0 ${large} 1 ${x + L * Math.sin(a2)},${y - L * Math.cos(a2)} Z`,
            class: "map-fov",
          }),
        );
      }
      group.append(svg("circle", { cx: x, cy: y, r: 7, class: "map-dot" }));
      group.append(svg("title", {}, `${cam.name} · ${cam.participation} · ${fmtMeters(cam.distance_m)}${cam.online ? "" : " · offline"}`));
      const label = cam.name.length > 22 ? `${cam.name.slice(0, 21)}…` : cam.name;
      group.append(svg("text", { x: x + 10, y: y + 4, class: "map-label" }, label));
      group.addEventListener("click", () => toggleCamera(key, !state.selected.has(key)));
      group.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") toggleCamera(key, !state.selected.has(key));
      });
      map.append(group);
    }

    // Scale bar.
    const bar = niceLength(half / 2);
    const px = bar * scale;
    map.append(svg("path", { d: `M12,${size - 14} h${px} M12,${size - 18} v8 M${12 + px},${size - 18} v8`, class: "map-scale" }));
    map.append(svg("text", { x: 12, y: size - 22, class: "map-label" }, fmtMeters(bar)));
    $("map-caption").textContent = `${state.cameras.length} in radius`;
  }

  // ---------------------------------------------------------------- requests

  async function requestAccess(scope, button) {
    const inc = state.incident;
    const chosen = state.cameras.filter((c) => state.selected.has(camKey(c.installation_id, c.camera_id)));
    if (!chosen.length) {
      flash("Select at least one camera (table or map).", "error");
      return;
    }
    const cameras = (scope === "clip" ? chosen : chosen.filter((c) => c.participation === "integrated")).map((c) => ({
      installation_id: c.installation_id,
      camera_id: c.camera_id,
    }));
    if (!cameras.length) {
      flash("Live view and snapshots need integrated cameras; these are registered only (request footage).", "error");
      return;
    }
    const body = { scope, cameras };
    if (scope === "clip") {
      const start = fromLocalInput($("req-start").value);
      const end = fromLocalInput($("req-end").value);
      if (start === null || end === null) {
        flash("Give the footage window (from and to).", "error");
        return;
      }
      body.window_start = start;
      body.window_end = end;
    }
    await act(button, async () => {
      const data = await api("POST", `/api/v1/incidents/${inc.incident_id}/requests`, body);
      const skipped = chosen.length - cameras.length;
      const what = { clip: "Footage", live: "Live view", snapshot: "Snapshot" }[scope];
      flash(
        `${what} asked from ${cameras.length} camera(s) at ${data.requests.length} home(s); ` +
          `${data.delivered_now} delivered now, others when they come online.` +
          (skipped ? ` ${skipped} registered camera(s) skipped.` : ""),
      );
      await refreshIncident();
    });
  }

  function renderRequests(requests) {
    const body = clear($("request-rows"));
    show($("no-requests"), requests.length === 0);
    const me = state.user.id;
    const rows = [];
    for (const req of requests) {
      for (const cam of req.cameras) {
        rows.push({ req, cam });
      }
    }
    rows.sort((a, b) => b.req.created_at - a.req.created_at);
    for (const { req, cam } of rows) {
      const grants = req.grants.filter((g) => g.camera_ids.includes(cam.camera_id));
      const access = el("td", { class: "access" });
      for (const grant of grants) {
        const line = el("div", { class: "grant" });
        line.append(el("span", { class: `badge ${grant.state}`, text: grant.state }));
        if (grant.state === "active") {
          line.append(el("span", { class: "small muted", text: ` until ${fmtTime(grant.expires_at).slice(11)}` }));
          if (grant.scope === "live" && grant.officer_id === me && isLiveRole()) {
            line.append(
              el("button", {
                type: "button",
                class: "primary small-btn watch",
                "data-grant": grant.grant_id,
                "data-camera": cam.camera_id,
                text: "Watch live",
                onclick: (e) => openLiveView(grant, cam.camera_id, e.target),
              }),
            );
          }
          if (grant.scope === "snapshot" && grant.officer_id === me && isLiveRole()) {
            line.append(
              el("button", {
                type: "button",
                class: "primary small-btn snapshot",
                "data-grant": grant.grant_id,
                "data-camera": cam.camera_id,
                text: "Snapshot",
                onclick: (e) => takeSnapshot(grant, cam.camera_id, e.target),
              }),
            );
          }
          if (grant.officer_id === me || isSupervising()) {
            line.append(
              el("button", {
                type: "button",
                class: "danger ghost small-btn",
                text: "Revoke",
                onclick: (e) => revokeGrant(grant, e.target),
              }),
            );
          }
        }
        access.append(line);
      }
      body.append(
        el(
          "tr",
          { "data-request": req.request_id, "data-camera": camKey(req.installation_id, cam.camera_id) },
          el("td", { text: fmtTime(req.created_at) }),
          el("td", {}, el("span", { class: "pill", text: req.scope === "clip" ? "footage" : req.scope })),
          el("td", { text: cameraName(req.installation_id, cam.camera_id) }),
          el("td", {}, el("span", { class: `outcome ${cam.outcome}`, text: cam.outcome.replace("_", " ") })),
          access,
        ),
      );
    }
  }

  async function revokeGrant(grant, button) {
    if (!window.confirm("Revoke this access now? The resident's system is told at once.")) return;
    await act(button, async () => {
      await api("POST", `/api/v1/grants/${grant.grant_id}/revoke`, { reason: "revoked_by_officer" });
      flash("Access revoked.");
      if (state.live && state.live.grant_id === grant.grant_id) {
        stopLiveView(false);
        $("live-state").textContent = "Live view ended: access revoked.";
      }
      await refreshIncident();
    });
  }

  async function onRevokeIncident() {
    if (!window.confirm("Revoke every grant of this incident now?")) return;
    await act($("revoke-incident"), async () => {
      const data = await api("POST", `/api/v1/incidents/${state.incident.incident_id}/revoke`, { reason: "revoked_by_officer" });
      if (state.live) {
        stopLiveView(false);
        $("live-state").textContent = "Live view ended: access revoked.";
      }
      flash(`${data.revoked.length} grant(s) revoked.`);
      await refreshIncident();
    });
  }

  async function onCloseIncident() {
    if (!window.confirm("Close this incident? All its access is revoked and no new requests can be made.")) return;
    await act($("close-incident"), async () => {
      await api("POST", `/api/v1/incidents/${state.incident.incident_id}/close`);
      stopLiveView(false);
      show($("live-panel"), false);
      flash("Incident closed.");
      await loadIncidents();
      await openIncident(state.incident.incident_id);
    });
  }

  // ---------------------------------------------------------------- polling

  async function refreshIncident() {
    if (!state.incident || state.polling) return;
    state.polling = true;
    try {
      const id = state.incident.incident_id;
      const [detail, cams] = await Promise.all([
        api("GET", `/api/v1/incidents/${id}`),
        api("GET", `/api/v1/incidents/${id}/cameras`),
      ]);
      if (!state.incident || state.incident.incident_id !== id) return;
      state.incident = detail.incident;
      state.cameras = cams.cameras;
      renderIncidentHead();
      renderCameras();
      renderRequests(detail.requests);
      await loadEvidence();
      if (state.live) await refreshLive();
    } finally {
      state.polling = false;
    }
  }

  function startPolling() {
    stopPolling();
    state.pollTimer = setInterval(() => {
      if (document.hidden || !state.user) return;
      refreshIncident().catch((err) => {
        if (!(err instanceof ApiError && err.status === 401)) report(err);
      });
    }, POLL_MS);
  }

  function stopPolling() {
    clearInterval(state.pollTimer);
    state.pollTimer = 0;
  }

  // ---------------------------------------------------------------- live view

  async function openLiveView(grant, cameraId, button) {
    stopLiveView(true);
    show($("live-panel"), true);
    $("live-title").textContent = cameraName(grant.installation_id, cameraId);
    $("live-state").textContent = "Asking the resident's system to start the camera…";
    await act(button, async () => {
      const fps = Math.min(grant.max_fps || 2, 5);
      let data;
      try {
        data = await api("POST", "/api/v1/sessions", { grant_id: grant.grant_id, camera_id: cameraId, fps });
      } catch (err) {
        $("live-state").textContent = `Live view refused: ${err.message}`;
        throw err;
      }
      state.live = {
        session_id: data.session_id,
        grant_id: grant.grant_id,
        camera_id: cameraId,
        stream_path: data.stream_path,
        expires_at: data.expires_at,
      };
      const img = $("live-img");
      img.dataset.session = data.session_id;
      img.src = data.stream_path;
      $("live-state").textContent = `Live until ${fmtTime(data.expires_at).slice(11)}. The resident is notified.`;
      $("live-panel").scrollIntoView({ block: "nearest" });
    });
  }

  async function refreshLive() {
    const live = state.live;
    if (!live) return;
    const data = await api("GET", `/api/v1/sessions/${live.session_id}`);
    const session = data.session;
    if (session.state === "ended" || session.ended_at) {
      stopLiveView(false);
      show($("live-panel"), true);
      $("live-state").textContent = `Live view ended: ${session.end_reason || "ended"}.`;
    } else {
      $("live-state").textContent =
        `Live until ${fmtTime(live.expires_at).slice(11)} · ${session.frames_relayed} frames relayed. The resident is notified.`;
    }
  }

  // Stop showing the stream; with `close`, also tell the hub to end the session.
  function stopLiveView(close) {
    const live = state.live;
    state.live = null;
    const img = $("live-img");
    img.removeAttribute("src");
    delete img.dataset.session;
    if (live && close) {
      api("POST", `/api/v1/sessions/${live.session_id}/close`).catch(() => {});
    }
  }

  async function onCloseLive() {
    const live = state.live;
    if (!live) {
      show($("live-panel"), false);
      return;
    }
    await act($("live-close"), async () => {
      state.live = null;
      $("live-img").removeAttribute("src");
      await api("POST", `/api/v1/sessions/${live.session_id}/close`);
      $("live-state").textContent = "Live view closed.";
      show($("live-panel"), false);
      flash("Live view closed.");
    });
  }

  // ---------------------------------------------------------------- snapshot

  async function takeSnapshot(grant, cameraId, button) {
    show($("snapshot-panel"), true);
    $("snapshot-title").textContent = cameraName(grant.installation_id, cameraId);
    $("snapshot-state").textContent = "Asking the resident's system for a snapshot…";
    await act(button, async () => {
      let blob;
      try {
        blob = await fetchSnapshot(grant.grant_id);
      } catch (err) {
        $("snapshot-state").textContent = `Snapshot refused: ${err.message}`;
        throw err;
      }
      showSnapshot(blob, grant.grant_id);
      $("snapshot-state").textContent = `Taken ${fmtTime(Date.now() / 1000)}. The resident is notified; the hub does not keep it.`;
      $("snapshot-panel").scrollIntoView({ block: "nearest" });
    });
  }

  function showSnapshot(blob, grantId) {
    const img = $("snapshot-img");
    if (state.snapshotUrl) URL.revokeObjectURL(state.snapshotUrl);
    state.snapshotUrl = URL.createObjectURL(blob);
    img.dataset.grant = grantId;
    img.src = state.snapshotUrl;
  }

  // Forget the picture (logout, another incident, close): nothing stays in the page.
  function clearSnapshot() {
    const img = $("snapshot-img");
    img.removeAttribute("src");
    delete img.dataset.grant;
    if (state.snapshotUrl) URL.revokeObjectURL(state.snapshotUrl);
    state.snapshotUrl = "";
    $("snapshot-state").textContent = "";
    show($("snapshot-panel"), false);
  }

  // ---------------------------------------------------------------- evidence

  async function loadEvidence() {
    const inc = state.incident;
    const data = await api("GET", `/api/v1/incidents/${inc.incident_id}/evidence`);
    const body = clear($("evidence-rows"));
    show($("no-evidence"), data.evidence.length === 0);
    for (const ev of data.evidence) {
      body.append(
        el(
          "tr",
          { "data-evidence": ev.evidence_id },
          el("td", { text: fmtTime(ev.received_at) }),
          el("td", { text: cameraName(ev.installation_id, ev.camera_id) }),
          el(
            "td",
            {},
            el("div", { text: ev.file_name }),
            el("div", { class: "small muted", text: `${fmtBytes(ev.size)} · ${fmtTime(ev.event_start_ms / 1000)}${ev.labels.length ? " · " + ev.labels.join(", ") : ""}${ev.masked ? " · masked" : ""}` }),
          ),
          el("td", {}, el("code", { class: "hash", title: ev.sha256, text: `${ev.sha256.slice(0, 16)}…` })),
          el(
            "td",
            { class: "nowrap" },
            el("button", { type: "button", class: "small-btn", text: "Manifest", onclick: (e) => showManifest(ev, e.target) }),
            " ",
            el("a", { class: "button small-btn primary", href: `/api/v1/evidence/${ev.evidence_id}/file`, download: ev.file_name, text: "Download" }),
          ),
        ),
      );
    }
  }

  async function showManifest(ev, button) {
    await act(button, async () => {
      const data = await api("GET", `/api/v1/evidence/${ev.evidence_id}/manifest`);
      $("manifest-title").textContent = `${ev.file_name} · key ${data.key_fingerprint}`;
      $("manifest-json").textContent = JSON.stringify(data, null, 2);
      const link = el("a", {
        class: "button small-btn",
        href: `/api/v1/evidence/${ev.evidence_id}/manifest`,
        download: `${ev.evidence_id}.manifest.json`,
        text: "Download manifest",
      });
      const box = $("manifest-box");
      const old = box.querySelector("a.button");
      if (old) old.remove();
      box.insertBefore(link, $("manifest-json"));
      show(box, true);
    });
  }

  // ---------------------------------------------------------------- audit

  function renderAuditIncidentOptions() {
    const select = $("audit-incident");
    const current = select.value;
    clear(select).append(el("option", { value: "", text: "all" }));
    for (const inc of state.incidents) {
      select.append(el("option", { value: inc.incident_id, text: `${inc.case_number} (${inc.incident_type})` }));
    }
    select.value = current;
  }

  function caseOf(incidentId) {
    const inc = state.incidents.find((i) => i.incident_id === incidentId);
    return inc ? inc.case_number : short(incidentId);
  }

  function detailText(detail) {
    return Object.entries(detail || {})
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join("  ");
  }

  async function loadAudit() {
    if (!isSupervising()) return;
    const params = new URLSearchParams({ limit: String(AUDIT_PAGE) });
    const incident = $("audit-incident").value;
    const action = $("audit-action").value.trim();
    if (incident) params.set("incident_id", incident);
    if (action) params.set("action", action);
    let since = 0;
    let entries = [];
    let more = true;
    for (let page = 0; page < AUDIT_MAX_PAGES && more; page += 1) {
      params.set("since_seq", String(since));
      const data = await api("GET", `/api/v1/audit?${params}`);
      entries = entries.concat(data.entries);
      more = data.more;
      if (data.entries.length) since = data.entries[data.entries.length - 1].seq;
    }
    const capped = $("audit-capped");
    capped.textContent = more ? `Showing the first ${entries.length} matching entries; narrow the filter to see later ones.` : "";
    show(capped, more);
    const body = clear($("audit-rows"));
    show($("audit-empty"), entries.length === 0);
    for (const e of entries.reverse()) {
      body.append(
        el(
          "tr",
          { "data-seq": e.seq, "data-action": e.action, "data-incident": e.incident_id || "" },
          el("td", { class: "num", text: e.seq }),
          el("td", { class: "nowrap", text: fmtTime(e.ts) }),
          el("td", {}, el("span", { class: "pill", text: e.action })),
          el("td", { title: e.actor, text: e.actor.length > 24 ? `${e.actor.slice(0, 22)}…` : e.actor }),
          el("td", { class: "nowrap", title: e.incident_id || "", text: e.incident_id ? caseOf(e.incident_id) : "–" }),
          el("td", { title: e.installation_id || "", text: short(e.installation_id) }),
          el("td", { class: "detail-cell", title: e.hash, text: detailText(e.detail) }),
        ),
      );
    }
  }

  async function onVerifyAudit() {
    await act($("audit-verify"), async () => {
      const r = await api("GET", "/api/v1/audit/verify");
      const out = $("audit-verify-result");
      out.textContent = r.ok
        ? `Hash chain intact: ${r.entries} entries, head ${r.head_hash.slice(0, 16)}…`
        : `Hash chain BROKEN at entry ${r.first_bad_seq}: ${r.problem}`;
      out.className = r.ok ? "meta ok-text" : "meta error";
    });
  }

  // ---------------------------------------------------------------- start

  function bind() {
    $("login-form").addEventListener("submit", onLogin);
    $("logout").addEventListener("click", onLogout);
    $("incident-form").addEventListener("submit", onCreateIncident);
    $("close-incident").addEventListener("click", onCloseIncident);
    $("revoke-incident").addEventListener("click", onRevokeIncident);
    $("request-clip").addEventListener("click", (e) => requestAccess("clip", e.target));
    $("request-live").addEventListener("click", (e) => requestAccess("live", e.target));
    $("request-snapshot").addEventListener("click", (e) => requestAccess("snapshot", e.target));
    $("live-close").addEventListener("click", onCloseLive);
    $("snapshot-close").addEventListener("click", clearSnapshot);
    $("audit-form").addEventListener("submit", (e) => {
      e.preventDefault();
      act($("audit-refresh"), loadAudit);
    });
    $("audit-verify").addEventListener("click", onVerifyAudit);
    $("cam-all").addEventListener("change", (e) => {
      for (const cam of state.cameras) {
        const key = camKey(cam.installation_id, cam.camera_id);
        if (e.target.checked) state.selected.add(key);
        else state.selected.delete(key);
      }
      renderCameras();
    });
    $("live-img").addEventListener("error", () => {
      if (state.live) $("live-state").textContent = "The stream stopped (session ended or the connection dropped).";
    });
    for (const tab of document.querySelectorAll(".tab")) {
      tab.addEventListener("click", () => switchView(tab.dataset.view));
    }
    // Leaving the page ends a running live view at once (not only when its token expires).
    window.addEventListener("pagehide", () => {
      if (!state.live) return;
      fetch(`/api/v1/sessions/${state.live.session_id}/close`, {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: { "X-CSRF-Token": state.csrf },
      }).catch(() => {});
    });
  }

  async function start() {
    bind();
    try {
      const data = await api("GET", "/api/v1/auth/me");
      loggedIn(data.user, data.csrf_token);
    } catch (err) {
      showLogin("");
    }
    document.body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", start);
})();
