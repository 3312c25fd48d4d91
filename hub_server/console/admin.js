// Admin page of the officer console: disable / re-enable users, reset passwords, revoke
// API tokens (issue 12 item 6); retention periods per record kind (issue 14). Same origin, same session cookie and CSRF header as the
// console; every text from the server goes in through textContent, never as HTML.
(function () {
  "use strict";

  const state = { csrf: "", user: null };
  const $ = (id) => document.getElementById(id);

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
    let data = {};
    try {
      data = await response.json();
    } catch (err) {
      data = {};
    }
    if (!response.ok) {
      const error = new Error(data.message || `HTTP ${response.status}`);
      error.status = response.status;
      error.code = data.error || "";
      throw error;
    }
    return data;
  }

  function flash(text, isError) {
    const node = $("flash");
    node.textContent = text;
    node.classList.toggle("error", Boolean(isError));
    node.hidden = false;
  }

  function show(view) {
    for (const id of ["login-view", "denied-view", "users-view", "retention-view"]) {
      $(id).hidden = id !== view && !(view === "users-view" && id === "retention-view");
    }
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function button(label, cls, onClick) {
    const node = document.createElement("button");
    node.type = "button";
    node.className = cls;
    node.textContent = label;
    node.addEventListener("click", onClick);
    return node;
  }

  async function act(user, what, path, body, done) {
    try {
      const data = await api("POST", path, body);
      flash(done(data), false);
    } catch (err) {
      flash(`${what} ${user.username}: ${err.message}`, true);
    }
    await loadUsers();
  }

  function userRow(user) {
    const row = document.createElement("tr");
    row.dataset.userId = user.id;
    row.dataset.username = user.username;
    cell(row, user.username);
    cell(row, user.display_name || "");
    cell(row, user.badge || "");
    cell(row, user.role);
    const status = cell(row, user.active ? "active" : "disabled");
    status.className = "user-status";
    const actions = cell(row, "");
    const self = state.user && state.user.id === user.id;
    if (!self) {
      actions.appendChild(
        user.active
          ? button("Disable", "act-disable danger", () =>
              act(user, "Disable", `/api/v1/users/${user.id}/disable`, {}, (d) =>
                `${user.username} disabled (${(d.revoked || []).length} grants revoked)`))
          : button("Enable", "act-enable", () =>
              act(user, "Enable", `/api/v1/users/${user.id}/enable`, {}, () =>
                `${user.username} enabled`)),
      );
    }
    actions.appendChild(
      button("Revoke API tokens", "act-revoke", () =>
        act(user, "Revoke tokens of", `/api/v1/users/${user.id}/tokens/revoke`, {}, (d) =>
          `${d.revoked_tokens} API token(s) of ${user.username} revoked`)),
    );
    const password = document.createElement("input");
    password.type = "password";
    password.className = "new-password";
    password.autocomplete = "new-password";
    password.placeholder = "new password (12+)";
    password.maxLength = 1024;
    actions.appendChild(password);
    actions.appendChild(
      button("Set password", "act-password", () => {
        const value = password.value;
        password.value = "";
        return act(user, "Set the password of", `/api/v1/users/${user.id}/password`,
          { password: value }, () => `new password set for ${user.username}`);
      }),
    );
    return row;
  }

  async function loadUsers() {
    const data = await api("GET", "/api/v1/users");
    const body = $("users-body");
    body.replaceChildren(...data.users.map(userRow));
    document.body.dataset.users = String(data.users.length);
  }

  function retentionRow(period) {
    const row = document.createElement("tr");
    row.dataset.kind = period.kind;
    cell(row, period.label);
    const input = document.createElement("input");
    input.type = "number";
    input.min = "0";
    input.max = "36500";
    input.step = "1";
    input.className = "retention-days";
    input.value = String(period.days);
    cell(row, "").appendChild(input);
    cell(row, String(period.default_days));
    cell(row, period.set_by).className = "retention-set-by";
    cell(row, period.counted_from);
    cell(row, "").appendChild(
      button("Save", "act-retention", async () => {
        try {
          await api("PUT", "/api/v1/admin/retention", {
            periods: { [period.kind]: Number(input.value) },
          });
          flash(`${period.label}: ${input.value === "0" ? "kept forever" : `${input.value} days`}`, false);
        } catch (err) {
          flash(`Retention of ${period.kind}: ${err.message}`, true);
        }
        await loadRetention();
      }),
    );
    return row;
  }

  async function loadRetention() {
    const data = await api("GET", "/api/v1/admin/retention");
    $("retention-body").replaceChildren(...data.periods.map(retentionRow));
  }

  async function runRetention() {
    try {
      const data = await api("POST", "/api/v1/admin/retention/run", {});
      const counts = Object.entries(data.deleted).map(([kind, n]) => `${kind} ${n}`);
      flash(`Retention pass done; deleted: ${counts.join(", ")}`, false);
    } catch (err) {
      flash(`Retention pass: ${err.message}`, true);
    }
  }

  async function loggedIn(user, csrf) {
    state.user = user;
    state.csrf = csrf || "";
    $("who-name").textContent = `${user.display_name || user.username} (${user.role})`;
    $("who").hidden = false;
    if (user.role !== "admin") {
      show("denied-view");
      return;
    }
    show("users-view");
    await loadUsers();
    await loadRetention();
  }

  async function login(event) {
    event.preventDefault();
    $("login-error").textContent = "";
    try {
      const data = await api("POST", "/api/v1/auth/login", {
        username: $("login-username").value,
        password: $("login-password").value,
      });
      $("login-password").value = "";
      await loggedIn(data.user, data.csrf_token);
    } catch (err) {
      $("login-error").textContent = err.message;
    }
  }

  async function start() {
    $("login-form").addEventListener("submit", login);
    $("retention-run").addEventListener("click", runRetention);
    try {
      const data = await api("GET", "/api/v1/auth/me");
      await loggedIn(data.user, data.csrf_token);
    } catch (err) {
      show("login-view");
    }
    document.body.dataset.ready = "1";
  }

  start();
})();
