// The resident's Connect Share panel: Now, Requests, History, Cameras (with the mask editor).
// A web component receiving `hass` (panel_custom); data only through connect_share/* websocket
// commands; colours from Home Assistant's theme variables (light and dark).
import { LitElement, html, css, nothing } from "lit";
import { ws, fmtTime, baseStyles } from "./shared.js";

const TABS = [
  ["now", "Now"],
  ["requests", "Requests"],
  ["history", "History"],
  ["cameras", "Cameras"],
];

class ConnectSharePanel extends LitElement {
  static properties = {
    hass: { attribute: false },
    narrow: { type: Boolean },
    route: { attribute: false },
    panel: { attribute: false },
    _tab: { state: true },
    _overview: { state: true },
    _requests: { state: true },
    _history: { state: true },
    _filters: { state: true },
    _cameras: { state: true },
    _camera: { state: true },
    _error: { state: true },
    _footage: { state: true },
    _focus: { state: true },
  };

  constructor() {
    super();
    this._tab = "now";
    this._filters = { page: 0, page_size: 25 };
    this._footage = {};
    this._error = "";
  }

  connectedCallback() {
    super.connectedCallback();
    const params = new URLSearchParams(window.location.search);
    if (params.get("request")) {
      this._focus = params.get("request");
      this._tab = "requests";
    }
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    if (this._unsub) {
      this._unsub.then((unsub) => unsub()).catch(() => {});
      this._unsub = undefined;
    }
  }

  updated(changed) {
    if (changed.has("hass") && this.hass && !this._unsub) {
      this._unsub = this.hass.connection.subscribeMessage(
        (msg) => {
          this._overview = msg;
          if (this._tab === "requests") this._loadRequests();
        },
        { type: "connect_share/subscribe" },
      );
      this._loadTab();
    }
  }

  async _call(type, data) {
    this._error = "";
    try {
      return await ws(this.hass, type, data);
    } catch (err) {
      this._error = err.message || String(err);
      throw err;
    }
  }

  _select(tab) {
    this._tab = tab;
    this._loadTab();
  }

  _loadTab() {
    if (this._tab === "requests") this._loadRequests();
    if (this._tab === "history") this._loadHistory();
    if (this._tab === "cameras") this._loadCameras();
  }

  async _loadRequests() {
    this._requests = await this._call("requests");
  }

  async _loadHistory() {
    const data = {};
    for (const [k, v] of Object.entries(this._filters)) if (v !== "" && v !== undefined) data[k] = v;
    this._history = await this._call("history", data);
  }

  async _loadCameras() {
    this._cameras = await this._call("cameras");
  }

  render() {
    return html`
      <div class="toolbar">
        <ha-menu-button .hass=${this.hass} .narrow=${this.narrow}></ha-menu-button>
        <div class="title">Connect Share</div>
      </div>
      <nav>
        ${TABS.map(
          ([id, label]) =>
            html`<button class="tab ${this._tab === id ? "active" : ""}" data-tab=${id} @click=${() => this._select(id)}>
              ${label}${id === "requests" && this._pendingCount() ? html` <span class="badge">${this._pendingCount()}</span>` : nothing}
            </button>`,
        )}
      </nav>
      <main>
        ${this._error ? html`<div class="card error" role="alert">${this._error}</div>` : nothing}
        ${this._tab === "now" ? this._renderNow() : nothing}
        ${this._tab === "requests" ? this._renderRequests() : nothing}
        ${this._tab === "history" ? this._renderHistory() : nothing}
        ${this._tab === "cameras" ? this._renderCameras() : nothing}
      </main>
    `;
  }

  _entries() {
    return this._overview?.entries || [];
  }

  _pendingCount() {
    return this._entries().reduce((n, e) => n + e.pending.length, 0);
  }

  // --- Now ---------------------------------------------------------------------------------

  _renderNow() {
    const entries = this._entries();
    if (!this._overview) return html`<div class="card muted">Loading…</div>`;
    if (!entries.length) return html`<div class="card muted">Connect Share is not set up.</div>`;
    return entries.map((e) => {
      const status = e.paused
        ? e.paused_forever
          ? "Sharing is paused until you resume it."
          : `Sharing is paused until ${fmtTime(e.paused_until)}.`
        : "Sharing follows your rules.";
      return html`
        <div class="card">
          <h2>Who is watching now</h2>
          <p class="muted">${e.title} · hub ${e.connected ? "connected" : "not connected"}</p>
          ${e.sessions.length
            ? html`<table class="sessions">
                <tr><th>Camera</th><th>Officer</th><th>Agency</th><th>Incident</th><th>Purpose</th><th>Since</th><th>Until</th><th></th></tr>
                ${e.sessions.map(
                  (s) => html`<tr data-session=${s.session_id}>
                    <td>${s.camera_name}${s.scope === "snapshot" ? " (snapshot)" : ""}</td>
                    <td>${s.officer} <span class="muted">badge ${s.badge}</span></td>
                    <td>${s.agency || ""}</td>
                    <td>${s.case_number} <span class="muted">${s.incident_id}</span></td>
                    <td>${s.purpose || s.offense_type || ""}</td>
                    <td>${fmtTime(s.since)}</td>
                    <td>${fmtTime(s.until_iso)}</td>
                    <td><button class="danger stop" @click=${() => this._stop(e, s)}>Stop</button></td>
                  </tr>`,
                )}
              </table>`
            : html`<p class="nobody">Nobody is watching your cameras.</p>`}
          <div class="row">
            <button class="danger stop-all" @click=${() => this._stopAll(e)}>Stop all and revoke every access</button>
          </div>
        </div>
        <div class="card">
          <h2>Pause sharing</h2>
          <p class="pause-status ${e.paused ? "error" : "ok"}">${status}</p>
          <div class="row">
            <button class="pause-hour" @click=${() => this._pause(e, { duration_s: 3600 })}>Pause 1 hour</button>
            <button class="pause-tomorrow" @click=${() => this._pause(e, { until: this._tomorrow() })}>Until tomorrow 7:00</button>
            <input type="datetime-local" class="pause-custom" />
            <button @click=${() => this._pauseCustom(e)}>Pause until then</button>
            <button @click=${() => this._pause(e, {})}>Until I resume</button>
            ${e.paused ? html`<button class="primary resume" @click=${() => this._call("resume", { entry_id: e.entry_id })}>Resume</button>` : nothing}
          </div>
        </div>
      `;
    });
  }

  _tomorrow() {
    const d = new Date();
    d.setDate(d.getDate() + 1);
    d.setHours(7, 0, 0, 0);
    return d.getTime() / 1000;
  }

  async _stop(entry, session) {
    await this._call("session/stop", { entry_id: entry.entry_id, session_id: session.session_id });
  }

  async _stopAll(entry) {
    if (!confirm("Stop every live view and revoke all access given so far?")) return;
    await this._call("stop_all", { entry_id: entry.entry_id });
  }

  async _pause(entry, data) {
    await this._call("pause", { entry_id: entry.entry_id, ...data });
  }

  async _pauseCustom(entry) {
    const value = this.renderRoot.querySelector(".pause-custom").value;
    if (!value) {
      this._error = "Choose a date and time first.";
      return;
    }
    await this._pause(entry, { until: new Date(value).getTime() / 1000 });
  }

  // --- Requests ----------------------------------------------------------------------------

  _renderRequests() {
    const data = this._requests;
    if (!data) return html`<div class="card muted">Loading…</div>`;
    return html`
      <div class="card">
        <h2>Requests waiting for you</h2>
        ${data.pending.length ? nothing : html`<p class="muted none-waiting">No request is waiting.</p>`}
        ${data.pending.map((r) => this._renderRequest(r))}
      </div>
      ${data.footage_requests.length
        ? html`<div class="card">
            <h2>Footage requests you approved</h2>
            <p class="muted">Pick the recorded events to share. Masks are applied before anything leaves.</p>
            ${data.footage_requests.map((f) => this._renderFootage(f))}
          </div>`
        : nothing}
    `;
  }

  _renderRequest(r) {
    const focused = this._focus === r.request_id;
    return html`
      <div class="request ${focused ? "focused" : ""}" data-request=${r.request_id}>
        <h3>${r.officer} <span class="muted">badge ${r.badge}${r.agency ? ` · ${r.agency}` : ""}</span></h3>
        <dl>
          <dt>Incident</dt><dd>${r.case_number} · ${r.incident_type}</dd>
          <dt>Reason</dt><dd>${r.reason}</dd>
          ${r.purpose ? html`<dt>Purpose</dt><dd>${r.purpose}</dd>` : nothing}
          ${r.legal_basis ? html`<dt>Legal basis</dt><dd>${r.legal_basis}</dd>` : nothing}
          <dt>Asks for</dt><dd>${r.scope === "clip" ? "recorded footage" : r.scope === "live" ? "live view" : r.scope}</dd>
          ${r.window_start_iso ? html`<dt>Time window</dt><dd>${fmtTime(r.window_start_iso)} – ${fmtTime(r.window_end_iso)}</dd>` : nothing}
          <dt>Area</dt><dd>${r.area.radius_m} m around ${r.area.lat.toFixed(4)}, ${r.area.lon.toFixed(4)}</dd>
          <dt>Received</dt><dd>${fmtTime(r.received)}</dd>
        </dl>
        ${r.footage.length ? html`<p class="muted">Your events in the window:</p><ul>${r.footage.map((l) => html`<li>${l}</li>`)}</ul>` : nothing}
        <table>
          ${r.cameras.map(
            (c) => html`<tr data-camera=${c}>
              <td>${r.camera_names[c] || c}</td>
              <td>
                <button class="primary approve" @click=${() => this._approve(r, [c])}>Approve</button>
              </td>
            </tr>`,
          )}
        </table>
        <div class="row">
          ${r.cameras.length > 1 ? html`<button class="primary approve-all" @click=${() => this._approve(r)}>Approve all cameras</button>` : nothing}
          <button class="decline" @click=${() => this._decline(r)}>Decline</button>
        </div>
        <p class="muted small">Approving some cameras declines the others. A decline tells the hub nothing; the request lapses there.</p>
      </div>
    `;
  }

  async _approve(r, cameras) {
    await this._call("request/approve", { entry_id: r.entry_id, request_id: r.request_id, ...(cameras ? { cameras } : {}) });
    await this._loadRequests();
  }

  async _decline(r) {
    await this._call("request/decline", { entry_id: r.entry_id, request_id: r.request_id });
    await this._loadRequests();
  }

  _renderFootage(f) {
    const state = this._footage[f.request_id] || {};
    return html`
      <div class="request" data-footage=${f.request_id}>
        <h3>${f.case_number} · ${f.officer}</h3>
        <p class="muted">${fmtTime(f.window_start_iso)} – ${fmtTime(f.window_end_iso)} · cameras ${f.cameras.join(", ")}</p>
        ${state.events
          ? state.events.length
            ? html`<table>
                ${state.events.map(
                  (ev) => html`<tr>
                    <td><input type="checkbox" .checked=${!!state.chosen?.[ev.event_id]} @change=${(e) => this._choose(f, ev, e.target.checked)} /></td>
                    <td>${ev.camera_name}</td>
                    <td>${fmtTime(ev.start_iso)}</td>
                    <td>${ev.best_label}</td>
                    <td>${ev.has_snapshot ? html`<button @click=${() => this._preview(f, ev)}>Preview</button>` : nothing}</td>
                  </tr>`,
                )}
              </table>
              ${state.preview ? html`<img class="preview" src=${state.preview} alt="masked preview" />` : nothing}
              <button class="primary" @click=${() => this._share(f)}>Share chosen</button>
              ${state.shared ? html`<p class="ok">Shared ${state.shared} file(s).</p>` : nothing}`
            : html`<p class="muted">No recorded events in the window.</p>`
          : html`<button @click=${() => this._loadFootage(f)}>Show my events in the window</button>`}
      </div>
    `;
  }

  _setFootage(id, patch) {
    this._footage = { ...this._footage, [id]: { ...(this._footage[id] || {}), ...patch } };
  }

  async _loadFootage(f) {
    const res = await this._call("footage/events", { entry_id: f.entry_id, request_id: f.request_id });
    this._setFootage(f.request_id, { events: res.events, chosen: {} });
  }

  _choose(f, ev, on) {
    const chosen = { ...(this._footage[f.request_id]?.chosen || {}) };
    if (on) chosen[ev.event_id] = ev.camera_id;
    else delete chosen[ev.event_id];
    this._setFootage(f.request_id, { chosen });
  }

  async _preview(f, ev) {
    const res = await this._call("footage/preview", { entry_id: f.entry_id, request_id: f.request_id, event_id: ev.event_id });
    this._setFootage(f.request_id, { preview: `data:${res.content_type};base64,${res.image}` });
  }

  async _share(f) {
    const chosen = this._footage[f.request_id]?.chosen || {};
    const byCamera = {};
    for (const [id, cam] of Object.entries(chosen)) (byCamera[cam] ||= []).push(id);
    let n = 0;
    for (const [camera, event_ids] of Object.entries(byCamera)) {
      const res = await this._call("footage/share", { entry_id: f.entry_id, request_id: f.request_id, camera, event_ids });
      n += res.evidence.length;
    }
    this._setFootage(f.request_id, { shared: n });
  }

  // --- History -----------------------------------------------------------------------------

  _renderHistory() {
    const h = this._history;
    const f = this._filters;
    const pages = h ? Math.max(1, Math.ceil(h.total / h.page_size)) : 1;
    return html`
      <div class="card">
        <h2>Access history</h2>
        ${h
          ? html`<p class="chain">
              Local audit log:
              ${h.chain.ok
                ? html`<span class="ok">chain verifies (${h.chain.entries} entries)</span>`
                : html`<span class="error">does not verify: ${h.chain.problems.join("; ") || "cannot be written"}</span>`}
              · Hub's log:
              ${h.crosscheck.status === "ok"
                ? html`<span class="ok">agrees (checked ${fmtTime(h.crosscheck.checked)})</span>`
                : h.crosscheck.status === "mismatch"
                  ? html`<span class="error">disagrees: ${h.crosscheck.summary}</span>`
                  : html`<span class="muted">not checked yet</span>`}
            </p>`
          : nothing}
        <div class="row filters">
          <select class="f-camera" @change=${(e) => this._filter("camera", e.target.value)}>
            <option value="">All cameras</option>
            ${Object.entries(h?.cameras || {}).map(([id, name]) => html`<option value=${id} ?selected=${f.camera === id}>${name}</option>`)}
          </select>
          <input class="f-officer" placeholder="Officer or badge" .value=${f.officer || ""} @change=${(e) => this._filter("officer", e.target.value)} />
          <input class="f-incident" placeholder="Incident or case" .value=${f.incident || ""} @change=${(e) => this._filter("incident", e.target.value)} />
          <input type="date" class="f-from" .value=${f.date_from || ""} @change=${(e) => this._filter("date_from", e.target.value)} />
          <input type="date" class="f-to" .value=${f.date_to || ""} @change=${(e) => this._filter("date_to", e.target.value)} />
          <button class="csv" @click=${() => this._csv()}>Export CSV</button>
        </div>
        ${h
          ? html`<table class="history">
                <tr><th>Time</th><th>What</th><th>Camera</th><th>Officer</th><th>Incident</th><th>Reason</th></tr>
                ${h.rows.map(
                  (r) => html`<tr data-action=${r.action} title=${JSON.stringify(r.detail)}>
                    <td>${fmtTime(r.time)}</td>
                    <td>${r.action.replaceAll("_", " ")}</td>
                    <td>${r.camera}</td>
                    <td>${r.officer}${r.badge ? html` <span class="muted">${r.badge}</span>` : nothing}</td>
                    <td>${r.case_number || r.incident_id}</td>
                    <td>${typeof r.reason === "string" ? r.reason : ""}</td>
                  </tr>`,
                )}
              </table>
              <div class="row">
                <button ?disabled=${h.page === 0} @click=${() => this._page(-1)}>Newer</button>
                <span class="muted">page ${h.page + 1} of ${pages} · ${h.total} entries</span>
                <button ?disabled=${h.page + 1 >= pages} @click=${() => this._page(1)}>Older</button>
              </div>`
          : html`<p class="muted">Loading…</p>`}
      </div>
    `;
  }

  _filter(key, value) {
    this._filters = { ...this._filters, [key]: value, page: 0 };
    this._loadHistory();
  }

  _page(delta) {
    this._filters = { ...this._filters, page: Math.max(0, this._filters.page + delta) };
    this._loadHistory();
  }

  async _csv() {
    const data = {};
    for (const k of ["camera", "officer", "incident", "date_from", "date_to"]) if (this._filters[k]) data[k] = this._filters[k];
    const res = await this._call("history/csv", data);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([res.csv], { type: "text/csv" }));
    a.download = res.filename;
    a.click();
    URL.revokeObjectURL(a.href);
  }

  // --- Cameras -----------------------------------------------------------------------------

  _renderCameras() {
    const c = this._cameras;
    if (!c) return html`<div class="card muted">Loading…</div>`;
    return html`
      <div class="card">
        <h2>Cameras</h2>
        <div class="row">
          ${c.cameras.map(
            (cam) => html`<button class="cam ${this._camera?.camera === cam.camera ? "primary" : ""}" data-camera=${cam.camera} @click=${() => this._openCamera(cam)}>${cam.name}</button>`,
          )}
        </div>
      </div>
      ${this._camera ? html`<connect-share-camera-editor .hass=${this.hass} .camera=${this._camera} .modes=${c.modes} .incidentTypes=${c.incident_types} .entryId=${c.entry_id} @saved=${() => this._loadCameras()}></connect-share-camera-editor>` : nothing}
    `;
  }

  _openCamera(cam) {
    this._camera = cam;
  }

  static styles = [
    baseStyles,
    css`
      :host {
        display: block;
        background: var(--primary-background-color);
        min-height: 100vh;
      }
      .toolbar {
        display: flex;
        align-items: center;
        height: var(--header-height, 56px);
        padding: 0 12px;
        background: var(--app-header-background-color, var(--primary-color));
        color: var(--app-header-text-color, var(--text-primary-color, #fff));
      }
      .title {
        font-size: 20px;
        margin-left: 8px;
      }
      nav {
        display: flex;
        gap: 4px;
        padding: 8px 16px 0;
        border-bottom: 1px solid var(--divider-color);
        background: var(--card-background-color);
      }
      nav .tab {
        border: none;
        border-bottom: 3px solid transparent;
        border-radius: 0;
        background: none;
      }
      nav .tab.active {
        border-bottom-color: var(--primary-color);
        color: var(--primary-color);
      }
      .badge {
        background: var(--error-color, #db4437);
        color: var(--text-primary-color, #fff);
        border-radius: 10px;
        padding: 0 6px;
        font-size: 12px;
      }
      main {
        padding: 16px;
        max-width: 1100px;
        margin: 0 auto;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 4px;
        margin-top: 8px;
      }
      .request {
        border-top: 1px solid var(--divider-color);
        padding: 12px 0;
      }
      .request.focused {
        outline: 2px solid var(--primary-color);
        outline-offset: 4px;
        border-radius: 4px;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 2px 12px;
        margin: 4px 0 8px;
      }
      dt {
        color: var(--secondary-text-color);
      }
      dd {
        margin: 0;
      }
      .small {
        font-size: 12px;
      }
      img.preview {
        max-width: 100%;
        display: block;
        margin: 8px 0;
      }
    `,
  ];
}

// The mask editor: polygons over a current snapshot, points dragged with the pointer.
class ConnectShareCameraEditor extends LitElement {
  static properties = {
    hass: { attribute: false },
    camera: { attribute: false },
    modes: { attribute: false },
    incidentTypes: { attribute: false },
    entryId: { attribute: false },
    _settings: { state: true },
    _polygons: { state: true },
    _current: { state: true },
    _image: { state: true },
    _preview: { state: true },
    _error: { state: true },
    _message: { state: true },
  };

  willUpdate(changed) {
    if (changed.has("camera") && this.camera) {
      const s = this.camera.settings;
      this._settings = { ...s, auto_incident_types: [...(s.auto_incident_types || [])] };
      this._polygons = (s.masks || []).map((p) => p.map((pt) => [...pt]));
      this._current = this._polygons.length ? this._polygons.length - 1 : -1;
      this._image = undefined;
      this._preview = undefined;
      this._error = "";
      this._message = "";
      this._loadSnapshot();
    }
  }

  async _loadSnapshot() {
    try {
      const res = await ws(this.hass, "camera/snapshot", { entry_id: this.entryId, camera: this.camera.camera, raw: true });
      this._image = `data:${res.content_type};base64,${res.image}`;
    } catch (err) {
      this._error = err.message;
    }
  }

  render() {
    const s = this._settings;
    return html`
      <div class="card">
        <h2>${this.camera.name}</h2>
        <div class="grid">
          <label>Mode
            <select class="mode" @change=${(e) => this._set("mode", e.target.value)}>
              ${this.modes.map((m) => html`<option value=${m} ?selected=${s.mode === m}>${m.replaceAll("_", " ")}</option>`)}
            </select>
          </label>
          <label>Schedule <input class="schedule" placeholder="e.g. mon-fri 08:00-18:00" .value=${s.schedule || ""} @change=${(e) => this._set("schedule", e.target.value)} /></label>
          <label>Auto-approve within (m) <input type="number" class="distance" .value=${String(s.auto_max_distance_m ?? 200)} @change=${(e) => this._set("auto_max_distance_m", Number(e.target.value))} /></label>
          <label>Longest session (s) <input type="number" .value=${String(s.max_session_s ?? 900)} @change=${(e) => this._set("max_session_s", Number(e.target.value))} /></label>
          <label>Frames per second <input type="number" step="0.1" .value=${String(s.max_fps ?? 2)} @change=${(e) => this._set("max_fps", Number(e.target.value))} /></label>
        </div>
        <p class="muted">Auto-approve these incident types (mode "auto"):</p>
        <div class="row">
          ${this.incidentTypes.map(
            (t) => html`<label class="chip"><input type="checkbox" .checked=${s.auto_incident_types.includes(t)} @change=${(e) => this._toggleType(t, e.target.checked)} />${t.replaceAll("_", " ")}</label>`,
          )}
        </div>
        <h3>Privacy masks</h3>
        <p class="muted">Click on the picture to add a point to the selected polygon; drag a point to move it. Masked areas are blacked out in the house before any frame leaves.</p>
        <div class="editor">
          ${this._image
            ? html`<div class="stage">
                <img class="snapshot" src=${this._image} alt="current snapshot" @load=${() => this.requestUpdate()} />
                <svg viewBox="0 0 1000 1000" preserveAspectRatio="none" @pointerdown=${this._down} @pointermove=${this._move} @pointerup=${this._up}>
                  ${this._polygons.map(
                    (poly, i) => html`<polygon points=${poly.map(([x, y]) => `${x * 1000},${y * 1000}`).join(" ")} class=${i === this._current ? "current" : ""}></polygon>
                      ${poly.map(([x, y], j) => html`<circle data-p=${i} data-q=${j} cx=${x * 1000} cy=${y * 1000} r="12"></circle>`)}`,
                  )}
                </svg>
              </div>`
            : html`<p class="muted">Loading the camera's picture…</p>`}
          ${this._preview ? html`<div class="stage"><img class="masked-preview" src=${this._preview} alt="what an officer receives" /><p class="muted">What an officer would receive</p></div>` : nothing}
        </div>
        <div class="row">
          <button class="new-polygon" @click=${this._newPolygon}>New polygon</button>
          <button ?disabled=${this._current < 0} @click=${this._deletePolygon}>Delete selected polygon</button>
          ${this._polygons.map((_, i) => html`<button class=${i === this._current ? "primary" : ""} @click=${() => (this._current = i)}>Polygon ${i + 1}</button>`)}
          <button class="preview-masks" @click=${this._previewMasks}>Preview as an officer sees it</button>
          <button class="primary save" @click=${this._save}>Save</button>
        </div>
        ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
        ${this._message ? html`<p class="ok saved">${this._message}</p>` : nothing}
      </div>
    `;
  }

  _set(key, value) {
    this._settings = { ...this._settings, [key]: value };
  }

  _toggleType(t, on) {
    const list = this._settings.auto_incident_types.filter((x) => x !== t);
    if (on) list.push(t);
    this._set("auto_incident_types", list);
  }

  _point(ev) {
    const svg = this.renderRoot.querySelector("svg");
    const r = svg.getBoundingClientRect();
    const clamp = (v) => Math.min(1, Math.max(0, Math.round(v * 10000) / 10000));
    return [clamp((ev.clientX - r.left) / r.width), clamp((ev.clientY - r.top) / r.height)];
  }

  _down = (ev) => {
    const t = ev.target;
    if (t.tagName === "circle") {
      this._drag = [Number(t.dataset.p), Number(t.dataset.q)];
      this._current = this._drag[0];
      t.setPointerCapture?.(ev.pointerId);
      return;
    }
    if (this._current < 0) this._newPolygon();
    const polys = this._polygons.map((p) => p.slice());
    polys[this._current].push(this._point(ev));
    this._polygons = polys;
  };

  _move = (ev) => {
    if (!this._drag) return;
    const [i, j] = this._drag;
    const polys = this._polygons.map((p) => p.slice());
    polys[i][j] = this._point(ev);
    this._polygons = polys;
  };

  _up = () => {
    this._drag = undefined;
  };

  _newPolygon = () => {
    this._polygons = [...this._polygons, []];
    this._current = this._polygons.length - 1;
  };

  _deletePolygon = () => {
    this._polygons = this._polygons.filter((_, i) => i !== this._current);
    this._current = this._polygons.length - 1;
  };

  _masks() {
    return this._polygons.filter((p) => p.length);
  }

  _previewMasks = async () => {
    this._error = "";
    try {
      const res = await ws(this.hass, "camera/snapshot", { entry_id: this.entryId, camera: this.camera.camera, masks: this._masks() });
      this._preview = `data:${res.content_type};base64,${res.image}`;
    } catch (err) {
      this._error = err.message;
    }
  };

  _save = async () => {
    this._error = "";
    this._message = "";
    const s = this._settings;
    const settings = {
      mode: s.mode,
      schedule: s.schedule || "",
      auto_incident_types: s.auto_incident_types,
      auto_max_distance_m: s.auto_max_distance_m,
      max_session_s: s.max_session_s,
      max_fps: s.max_fps,
      masks: this._masks(),
    };
    try {
      await ws(this.hass, "camera/save", { entry_id: this.entryId, camera: this.camera.camera, settings });
      this._message = "Saved. The next frame an officer receives uses these settings.";
      this.dispatchEvent(new CustomEvent("saved"));
      await this._previewMasks();
    } catch (err) {
      this._error = err.message;
    }
  };

  static styles = [
    baseStyles,
    css`
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(220px, 1fr));
        gap: 8px;
      }
      label {
        display: flex;
        flex-direction: column;
        gap: 2px;
        color: var(--secondary-text-color);
      }
      label.chip {
        flex-direction: row;
        align-items: center;
        gap: 4px;
        color: var(--primary-text-color);
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 6px;
        margin-top: 8px;
      }
      .editor {
        display: flex;
        flex-wrap: wrap;
        gap: 12px;
      }
      .stage {
        position: relative;
        display: inline-block;
        max-width: 100%;
        width: 480px;
      }
      .stage img {
        width: 100%;
        display: block;
      }
      svg {
        position: absolute;
        inset: 0;
        width: 100%;
        height: 100%;
        cursor: crosshair;
        touch-action: none;
      }
      polygon {
        fill: rgba(0, 0, 0, 0.55);
        stroke: var(--primary-color);
        stroke-width: 4;
      }
      polygon.current {
        stroke: var(--accent-color, var(--primary-color));
        stroke-width: 6;
      }
      circle {
        fill: var(--primary-color);
        stroke: var(--text-primary-color, #fff);
        stroke-width: 3;
        cursor: grab;
      }
    `,
  ];
}

customElements.define("connect-share-camera-editor", ConnectShareCameraEditor);
customElements.define("connect-share-panel", ConnectSharePanel);
