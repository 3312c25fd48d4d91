/* Connect Share officer console: the audit log (supervisors and admins).
 *
 * Names instead of ids (the hub sends them beside the entries), an action filter of the
 * names that really occur, the hash-chain check, and a CSV export of the filtered entries
 * (a plain link: the hub writes the file and audits the export).
 */
"use strict";

(() => {
  const CS = (window.ConnectShare = window.ConnectShare || {});

  CS.audit = (ui) => {
    const { $, el, clear, show, api, act, state, isSupervising, short, fmtTime } = ui;
    const AUDIT_PAGE = 500;
    const AUDIT_MAX_PAGES = 10;

    function renderAuditIncidentOptions() {
      const select = $("audit-incident");
      const current = select.value;
      clear(select).append(el("option", { value: "", text: "all" }));
      for (const inc of state.incidents) {
        select.append(el("option", { value: inc.incident_id, text: `${inc.case_number} (${inc.incident_type})` }));
      }
      select.value = current;
    }

    // The filter lists the action names that really occur in the log.
    async function loadActions() {
      if (!isSupervising()) return;
      const data = await api("GET", "/api/v1/audit/actions");
      const select = $("audit-action");
      const current = select.value;
      clear(select).append(el("option", { value: "", text: "all" }));
      for (const action of data.actions) select.append(el("option", { value: action, text: action }));
      select.value = data.actions.includes(current) ? current : "";
    }

    function auditFilter() {
      const params = new URLSearchParams();
      if ($("audit-incident").value) params.set("incident_id", $("audit-incident").value);
      if ($("audit-action").value) params.set("action", $("audit-action").value);
      return params;
    }

    function updateExportLink() {
      const params = auditFilter().toString();
      $("audit-export").href = `/api/v1/audit/export.csv${params ? `?${params}` : ""}`;
    }

    // "Dana Reyes #4711" for user:<id>, the installation's label for installation:<id>.
    function actorName(actor, names) {
      const [kind, id] = actor.split(":", 2);
      if (kind === "user" && names.users[id]) {
        const u = names.users[id];
        return `${u.display_name || u.username}${u.badge ? ` #${u.badge}` : ""}`;
      }
      if (kind === "installation" && names.installations[id]) return `${names.installations[id]} (home)`;
      if (kind === "ip") return `unknown at ${id}`;
      return actor.length > 24 ? `${actor.slice(0, 22)}…` : actor;
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
      const params = auditFilter();
      params.set("limit", String(AUDIT_PAGE));
      updateExportLink();
      let since = 0;
      let entries = [];
      let more = true;
      const names = { users: {}, installations: {} };
      for (let page = 0; page < AUDIT_MAX_PAGES && more; page += 1) {
        params.set("since_seq", String(since));
        const data = await api("GET", `/api/v1/audit?${params}`);
        entries = entries.concat(data.entries);
        Object.assign(names.users, data.names.users);
        Object.assign(names.installations, data.names.installations);
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
            el("td", { class: "actor", title: e.actor, text: actorName(e.actor, names) }),
            el("td", { class: "nowrap", title: e.incident_id || "", text: e.incident_id ? caseOf(e.incident_id) : "–" }),
            el("td", {
              class: "installation",
              title: e.installation_id || "",
              text: e.installation_id ? names.installations[e.installation_id] || short(e.installation_id) : "–",
            }),
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

    return { renderAuditIncidentOptions, loadActions, loadAudit, onVerifyAudit, updateExportLink };
  };
})();
