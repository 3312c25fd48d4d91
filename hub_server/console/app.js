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

  const CS = window.ConnectShare;
  const state = {
    config: { tile_url: null, attribution: "", geocoder_url: null, time_zone: "UTC" },
    map: null, // the incident's map (ConnectShare.CameraMap)
    placeMap: null, // the map for placing a new incident
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

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  // Times: the hub's zone, 24-hour (time.js).
  const fmtTime = (epoch) => CS.time.fmt(epoch);
  const fmtShort = (epoch) => CS.time.fmtShort(epoch);
  const toInput = (epoch) => CS.time.toInput(epoch);
  const fmtMeters = (m) => CS.geo.fmtMeters(m);

  // An optional "YYYY-MM-DD HH:MM" field: {ok, value} (value null when empty).
  function readWhen(id) {
    const text = $(id).value.trim();
    if (!text) return { ok: true, value: null };
    const value = CS.time.parse(text);
    $(id).classList.toggle("invalid", value === null);
    return { ok: value !== null, value };
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
    if (view === "audit") audit.loadActions().then(audit.loadAudit).catch(report);
    else if (state.map) setTimeout(() => state.map.refresh(), 0);
  }

  // ---------------------------------------------------------------- incidents

  async function loadIncidents() {
    const data = await api("GET", "/api/v1/incidents?limit=200");
    state.incidents = data.incidents;
    renderIncidentList();
    audit.renderAuditIncidentOptions();
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
    const from = readWhen("inc-start");
    const to = readWhen("inc-end");
    if (!from.ok || !to.ok) {
      flash(`Write times as YYYY-MM-DD HH:MM (24 h, ${CS.time.zone()}).`, "error");
      return;
    }
    const start = from.value;
    const end = to.value;
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
      $("inc-radius-range").value = "300";
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
    show($("place-panel"), false);
    $("new-incident-box").open = false;
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
    $("req-start").value = toInput(start);
    $("req-end").value = toInput(end);
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

  function ensureMap() {
    if (!state.map) {
      state.map = new CS.CameraMap($("map"), state.config, {
        toggle: (key) => toggleCamera(key, !state.selected.has(key)),
        tilesFailed: tilesFailed,
      });
    }
    return state.map;
  }

  function drawMap() {
    const inc = state.incident;
    if (!inc) return;
    const map = ensureMap();
    const fresh = map.incidentId !== inc.incident_id;
    map.incidentId = inc.incident_id;
    if (fresh) map.refresh();
    map.show(inc, state.cameras, state.nearby, state.selected, fresh);
    $("map-caption").textContent = `${state.cameras.length} in radius ${fmtMeters(inc.radius_m)}`;
  }

  // The city's tile server does not answer: say so; circle, cameras and scale stay.
  function tilesFailed() {
    for (const note of document.querySelectorAll(".map-tiles-note")) {
      note.textContent = "Street map unavailable (the tile server does not answer): circle, cameras and scale are drawn without streets.";
    }
  }

  function tilesNote() {
    const text = state.config.tile_url ? "" : "No street map is configured for this hub: circle, cameras and scale are drawn on a plain grid.";
    for (const note of document.querySelectorAll(".map-tiles-note")) note.textContent = text;
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
      const from = readWhen("req-start");
      const to = readWhen("req-end");
      const start = from.value;
      const end = to.value;
      if (start === null || end === null) {
        flash(`Give the footage window, from and to, as YYYY-MM-DD HH:MM (24 h, ${CS.time.zone()}).`, "error");
        return;
      }
      body.window_start = start;
      body.window_end = end;
    }
    await act(button, async () => {
      const data = await api("POST", `/api/v1/incidents/${inc.incident_id}/requests`, body);
      flash(requestSentText(scope, cameras.length, data, chosen.length - cameras.length));
      await refreshIncident();
    });
  }

  // What the officer needs to know right after asking.
  function requestSentText(scope, cameraCount, data, skipped) {
    const what = { clip: "Footage", live: "Live view", snapshot: "Snapshot" }[scope];
    const homes = data.requests.length;
    const offline = homes - data.delivered_now;
    const lapse = data.requests.length ? fmtShort(data.requests[0].expires_at) : "";
    let text = `${what} asked from ${cameraCount} camera(s) at ${homes} home(s). `;
    if (offline === 0) text += `Every home got the request now; the residents have until ${lapse} to answer.`;
    else if (data.delivered_now === 0) text += `None is online now: each gets the request when its system reconnects, until ${lapse}.`;
    else text += `${data.delivered_now} got it now; ${offline} offline get it when their system reconnects, until ${lapse}.`;
    if (skipped) text += ` ${skipped} registered camera(s) skipped (footage only).`;
    return text;
  }

  const STATE_TEXT = {
    waiting_for_resident: "Waiting for the resident",
    waiting_for_upload: "Approved · waiting for upload",
    active: "Approved",
    delivered: "Delivered",
    no_footage: "No footage",
    expired: "Expired",
    revoked: "Revoked",
  };

  // The line under a request's state: what happens next, and until when.
  function stateNote(req, cam) {
    const window = req.window_start !== null ? `Footage ${fmtShort(req.window_start)} → ${fmtShort(req.window_end)}` : "";
    switch (cam.state) {
      case "waiting_for_resident":
        return `The request lapses at ${fmtShort(cam.until)}; without an approval by then: no footage.`;
      case "waiting_for_upload":
        return `${window}. The resident's system picks and uploads the clips, usually within minutes${cam.until ? `; the approval lapses at ${fmtShort(cam.until)}` : ""}.`;
      case "active":
        return cam.until ? `Usable until ${fmtShort(cam.until)}.` : "";
      case "delivered":
        return "See Evidence below.";
      case "expired":
        return req.scope === "clip" ? "The approval lapsed with nothing uploaded." : "The access ended.";
      default:
        return "";
    }
  }

  function renderRequests(requests) {
    state.requests = requests;
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
          line.append(el("span", { class: "small muted", text: ` until ${fmtShort(grant.expires_at)}` }));
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
          el(
            "td",
            { class: "state-cell" },
            el("span", { class: `state ${cam.state}`, "data-state": cam.state, text: STATE_TEXT[cam.state] || cam.state }),
            el("div", { class: "small muted state-note", text: stateNote(req, cam) }),
          ),
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
      $("live-state").textContent = `Live until ${fmtShort(data.expires_at)}. The resident is notified.`;
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
        `Live until ${fmtShort(live.expires_at)} · ${session.frames_relayed} frames relayed. The resident is notified.`;
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
    $("no-evidence").textContent = noEvidenceText();
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

  // With no file yet: what the officer is waiting for, and until when.
  function noEvidenceText() {
    const cams = (state.requests || [])
      .filter((r) => r.scope === "clip")
      .flatMap((r) => r.cameras);
    const uploading = cams.filter((c) => c.state === "waiting_for_upload");
    const asking = cams.filter((c) => c.state === "waiting_for_resident");
    const last = (list) => fmtShort(Math.max(...list.map((c) => c.until || 0)));
    if (uploading.length) {
      return `No footage yet. ${uploading.length} camera(s) approved: the resident's system uploads the clips, usually within minutes (approval lapses at ${last(uploading)}).`;
    }
    if (asking.length) return `No footage yet: ${asking.length} camera(s) wait for the resident's answer (until ${last(asking)}).`;
    if (cams.length) return "No footage shared for this incident.";
    return "No footage shared yet. Select cameras and request footage.";
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
      act($("audit-refresh"), audit.loadAudit);
    });
    $("audit-verify").addEventListener("click", audit.onVerifyAudit);
    $("audit-incident").addEventListener("change", audit.updateExportLink);
    $("audit-action").addEventListener("change", audit.updateExportLink);
    placing.bind();
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

  // The city's settings: tiles, geocoder, time zone (public; needed before the login).
  async function loadConfig() {
    try {
      state.config = await api("GET", "/api/v1/console/config");
    } catch (err) {
      /* keep the defaults: no tiles, no geocoder, UTC */
    }
    CS.time.setZone(state.config.time_zone || "UTC");
    $("hub-zone").textContent = `Times: ${CS.time.zoneLabel()}, 24 h`;
    for (const node of document.querySelectorAll(".zone-name")) node.textContent = CS.time.zone();
    show($("geo-form"), Boolean(state.config.geocoder_url));
    tilesNote();
  }

  // The other modules (audit.js, place.js) get the helpers they share with this one.
  let audit = null;
  let placing = null;

  async function start() {
    const ui = { $, el, clear, show, api, act, report, flash, ApiError, state, isSupervising, short, fmtTime, fmtMeters, tilesFailed };
    audit = CS.audit(ui);
    placing = CS.placing(ui);
    bind();
    await loadConfig();
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
