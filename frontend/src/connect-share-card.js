// custom:connect-share-card: who is watching now, pending requests, the pause switch.
// Loaded on every page by the integration (frontend extra module); for residents' dashboards.
import { LitElement, html, css, nothing } from "lit";
import { ws, fmtTime, baseStyles } from "./shared.js";

class ConnectShareCard extends LitElement {
  static properties = {
    hass: { attribute: false },
    _config: { state: true },
    _overview: { state: true },
    _error: { state: true },
  };

  setConfig(config) {
    this._config = { title: "Connect Share", ...config };
  }

  getCardSize() {
    return 3;
  }

  static getStubConfig() {
    return {};
  }

  updated(changed) {
    if (changed.has("hass") && this.hass && !this._unsub) {
      this._unsub = this.hass.connection.subscribeMessage((msg) => (this._overview = msg), {
        type: "connect_share/subscribe",
      });
    }
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    if (this._unsub) {
      this._unsub.then((unsub) => unsub()).catch(() => {});
      this._unsub = undefined;
    }
  }

  async _togglePause(entry) {
    this._error = "";
    try {
      await ws(this.hass, entry.paused ? "resume" : "pause", { entry_id: entry.entry_id });
    } catch (err) {
      this._error = err.message;
    }
  }

  render() {
    const entries = this._overview?.entries || [];
    const admin = this.hass?.user?.is_admin;
    return html`<ha-card .header=${this._config?.title}>
      <div class="content">
        ${entries.map(
          (e) => html`
            <div class="line">
              <span>Sharing ${e.paused ? "paused" : "on"}</span>
              <label class="switch"><input type="checkbox" class="pause" .checked=${e.paused} ?disabled=${!admin} @change=${() => this._togglePause(e)} /> Pause</label>
            </div>
            ${e.sessions.length
              ? e.sessions.map(
                  (s) => html`<div class="watching"><b>${s.officer}</b> (badge ${s.badge}) watches ${s.camera_name} · ${s.case_number} · since ${fmtTime(s.since)}</div>`,
                )
              : html`<div class="muted nobody">Nobody is watching.</div>`}
            ${e.pending.map(
              (r) => html`<div class="pending"><a href="/connect-share?request=${encodeURIComponent(r.request_id)}">Request from ${r.officer} (${r.case_number}, ${r.incident_type})</a></div>`,
            )}
          `,
        )}
        ${this._error ? html`<div class="error">${this._error}</div>` : nothing}
      </div>
    </ha-card>`;
  }

  static styles = [
    baseStyles,
    css`
      .content {
        padding: 0 16px 16px;
      }
      .line {
        display: flex;
        justify-content: space-between;
        align-items: center;
      }
      .watching,
      .pending,
      .nobody {
        padding: 4px 0;
      }
      a {
        color: var(--primary-color);
      }
    `,
  ];
}

if (!customElements.get("connect-share-card")) {
  customElements.define("connect-share-card", ConnectShareCard);
  window.customCards = window.customCards || [];
  window.customCards.push({
    type: "connect-share-card",
    name: "Connect Share",
    description: "Who is watching your cameras, requests waiting, and the pause switch.",
  });
}
