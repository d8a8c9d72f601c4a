/**
 * The r2-assets web console: sign in with a token (kept in this tab's
 * session storage, never in a URL), see projects, their versions, aliases,
 * domains and history, and act on them through the same API as the CLI.
 * Destructive actions ask first; every failure is shown as the API said it.
 */

const TOKEN_KEY = "r2-assets-token";
const $ = (id) => document.getElementById(id);

/** The project a deploy token belongs to (r2a_<project>_<secret>), or null for the admin token. */
function projectOfToken(token) {
  return /^r2a_([a-z0-9-]{1,63})_/.exec(token)?.[1] ?? null;
}

async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const response = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const value = text ? JSON.parse(text) : null;
  if (response.status === 401) {
    // A token the platform does not take is not kept.
    sessionStorage.removeItem(TOKEN_KEY);
  }
  if (!response.ok) {
    throw new Error(value?.error?.message ?? `the API answered ${response.status}`);
  }
  return value;
}

function showError(error) {
  const banner = $("error");
  banner.textContent = error ? String(error.message ?? error) : "";
  banner.hidden = !error;
}

/** Runs an action, showing its failure and refreshing the view after it. */
async function act(action) {
  showError(null);
  try {
    await action();
  } catch (error) {
    showError(error);
  }
  await route();
}

function cell(content) {
  const td = document.createElement("td");
  if (content instanceof Node) {
    td.append(content);
  } else {
    td.textContent = content ?? "";
  }
  return td;
}

function button(label, onClick, danger = false) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  element.className = danger ? "danger" : "";
  element.addEventListener("click", onClick);
  return element;
}

function link(label, href, external = false) {
  const element = document.createElement("a");
  element.textContent = label;
  element.href = href;
  if (external) {
    element.target = "_blank";
    element.rel = "noopener noreferrer";
  }
  return element;
}

function formatBytes(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function when(iso) {
  return iso.replace("T", " ").slice(0, 19);
}

function show(section) {
  // A page that was loading when its user signed out must not cover the sign-in form.
  const shown = sessionStorage.getItem(TOKEN_KEY) ? section : "sign-in";
  for (const id of ["sign-in", "projects", "project"]) {
    $(id).hidden = id !== shown;
  }
}

/** Where a project (or one of its versions or aliases) is served: the API's host, one label up. */
function siteUrl(project, label) {
  const { protocol, hostname, port } = window.location;
  const root = hostname === "127.0.0.1" || hostname === "[::1]" ? "localhost" : hostname;
  return `${protocol}//${label ? `${label}.` : ""}${project}.${root}${port ? `:${port}` : ""}/`;
}

/** Projects a page of the list holds. */
const PROJECTS_PAGE = 100;

/** The first page of projects whose names start with the search box's text; "More" adds the next. */
async function showProjects() {
  $("project-rows").replaceChildren();
  await addProjects(null);
  show("projects");
}

async function addProjects(cursor) {
  const query = new URLSearchParams({ limit: String(PROJECTS_PAGE), prefix: $("project-prefix").value.trim() });
  if (cursor) {
    query.set("cursor", cursor);
  }
  const page = await api("GET", `/api/projects?${query}`);
  const more = $("more-projects");
  more.hidden = page.cursor === null;
  more.onclick = () => void addProjects(page.cursor).catch(showError);
  $("project-rows").append(
    ...page.projects.map((project) => {
      const tr = document.createElement("tr");
      tr.append(
        cell(link(project.name, `#/projects/${project.name}`)),
        cell(
          project.state !== "active"
            ? project.state
            : project.activeVersion
              ? link(project.activeVersion, siteUrl(project.name), true)
              : "(none)",
        ),
        cell(Object.keys(project.aliases).join(", ")),
        cell(project.domains.map((domain) => domain.hostname).join(", ")),
        cell(formatBytes(project.storedBytes)),
      );
      return tr;
    }),
  );
}

/** The admin's view of a project's tokens: list, create with a scope (shown once), revoke. */
async function showTokens(base, admin) {
  $("tokens").hidden = !admin;
  $("new-token").hidden = true;
  if (!admin) {
    return;
  }
  const { tokens } = await api("GET", `${base}/tokens`);
  $("token-list").replaceChildren(
    ...tokens.map((token) => {
      const li = document.createElement("li");
      li.dataset.token = token.id;
      li.append(
        `${token.id} · ${token.scope} · created ${when(token.createdAt)} `,
        button(
          "Revoke",
          () => {
            if (confirm(`Revoke token ${token.id}? Anything using it stops working.`)) {
              void act(() => api("DELETE", `${base}/tokens/${token.id}`));
            }
          },
          true,
        ),
      );
      return li;
    }),
  );
  $("token-form").onsubmit = (event) => {
    event.preventDefault();
    void (async () => {
      showError(null);
      try {
        const created = await api("POST", `${base}/tokens`, { scope: $("token-scope").value });
        await route();
        $("new-token-value").textContent = created.token;
        $("new-token").hidden = false;
      } catch (error) {
        showError(error);
      }
    })();
  };
}

async function showProject(name) {
  const base = `/api/projects/${name}`;
  const [project, { versions }, { history }, { domains }] = await Promise.all([
    api("GET", base),
    api("GET", `${base}/versions`),
    api("GET", `${base}/history?limit=50`),
    api("GET", `${base}/domains`),
  ]);
  // Offer only what the token may do (the API refuses the rest anyway).
  const access = project.access ?? "admin";
  const admin = access === "admin";
  const canActivate = access !== "deploy";
  const canManage = admin || access === "manage";
  $("crumbs").hidden = !admin;
  $("project-name").textContent = name;
  const summary = $("project-summary");
  summary.replaceChildren(
    `Live: ${project.activeVersion ?? "nothing yet"} at `,
    link(project.url, project.url, true),
    ` · ${formatBytes(project.storedBytes)} stored · keeps ${project.retention} versions`,
  );
  // Nothing to roll back to: say so rather than fail after a confirmation.
  const rollback = $("rollback");
  rollback.hidden = !canActivate;
  rollback.disabled = versions.length < 2;
  rollback.title = rollback.disabled ? "There is no earlier version to roll back to" : "";
  rollback.onclick = () => {
    if (confirm(`Roll ${name} back to the version that was live before ${project.activeVersion}?`)) {
      void act(() => api("POST", `${base}/rollback`));
    }
  };

  $("version-rows").replaceChildren(
    ...versions.map((version) => {
      const tr = document.createElement("tr");
      tr.className = version.active ? "live" : "";
      tr.dataset.version = version.version;
      const marks = document.createElement("span");
      for (const [on, label, kind] of [
        [version.active, "live", "live"],
        [version.pinned, "pinned", ""],
      ]) {
        if (on) {
          const mark = document.createElement("span");
          mark.className = `mark ${kind}`;
          mark.textContent = label;
          marks.append(mark);
        }
      }
      const actions = document.createElement("span");
      if (!version.active && canActivate) {
        actions.append(
          button("Activate", () => void act(() => api("POST", `${base}/activate`, { version: version.version }))),
        );
      }
      if (canManage) {
        actions.append(
          button(
            version.pinned ? "Unpin" : "Pin",
            () => void act(() => api(version.pinned ? "DELETE" : "PUT", `${base}/versions/${version.version}/pin`)),
          ),
        );
      }
      if (canManage && !version.active && !version.pinned && version.aliases.length === 0) {
        actions.append(
          button(
            "Delete",
            () => {
              if (confirm(`Delete version ${version.version} of ${name}? It cannot be brought back.`)) {
                void act(() => api("DELETE", `${base}/versions/${version.version}`));
              }
            },
            true,
          ),
        );
      }
      tr.append(
        cell(marks),
        cell(link(version.version, siteUrl(name, version.version), true)),
        cell(when(version.createdAt)),
        cell(String(version.files)),
        cell(version.immutableFiles === null ? "–" : String(version.immutableFiles)),
        cell(
          version.compressedBytes
            ? `${formatBytes(version.bytes)} (+${formatBytes(version.compressedBytes)} precompressed)`
            : formatBytes(version.bytes),
        ),
        cell(version.aliases.join(", ")),
        cell(version.message),
        cell(actions),
      );
      return tr;
    }),
  );

  const options = (select, entries) =>
    select.replaceChildren(
      ...entries.map(([value, label]) => {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = label;
        return option;
      }),
    );
  options(
    $("alias-version"),
    versions.map((version) => [version.version, version.version]),
  );
  options($("domain-alias"), [["", "live"], ...Object.keys(project.aliases).map((alias) => [alias, `alias ${alias}`])]);

  $("alias-list").replaceChildren(
    ...Object.entries(project.aliases).map(([alias, version]) => {
      const li = document.createElement("li");
      li.append(link(alias, siteUrl(name, alias), true), ` → ${version} `);
      if (canActivate) {
        li.append(
          button(
            "Remove",
            () => {
              if (confirm(`Remove alias ${alias}?`)) {
                void act(() => api("DELETE", `${base}/aliases/${alias}`));
              }
            },
            true,
          ),
        );
      }
      return li;
    }),
  );
  $("alias-form").hidden = !canActivate;
  await showTokens(base, admin);
  $("alias-form").onsubmit = (event) => {
    event.preventDefault();
    void act(() => api("PUT", `${base}/aliases/${$("alias-name").value}`, { version: $("alias-version").value }));
  };

  $("domain-list").replaceChildren(
    ...domains.map((domain) => {
      const li = document.createElement("li");
      li.append(`${domain.hostname} → ${domain.alias ?? "live"} `);
      if (admin) {
        li.append(
          button(
            "Remove",
            () => {
              if (confirm(`Stop serving ${name} at ${domain.hostname}?`)) {
                void act(() => api("DELETE", `${base}/domains/${encodeURIComponent(domain.hostname)}`));
              }
            },
            true,
          ),
        );
      }
      return li;
    }),
  );
  $("domain-form").hidden = !admin;
  $("domain-form").onsubmit = (event) => {
    event.preventDefault();
    const alias = $("domain-alias").value;
    void act(() =>
      api("PUT", `${base}/domains/${encodeURIComponent($("domain-name").value.trim())}`, alias ? { alias } : {}),
    );
  };

  $("history-rows").replaceChildren(
    ...history.map((entry) => {
      const tr = document.createElement("tr");
      tr.append(
        cell(when(entry.at)),
        cell(entry.pointer),
        cell(entry.kind),
        cell(entry.from ?? "–"),
        cell(entry.to ?? "–"),
        cell(entry.actor ?? "?"),
      );
      return tr;
    }),
  );
  show("project");
}

/** Shows what the location's hash names: #/projects/<name>, or the list. */
async function route() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  $("sign-out").hidden = !token;
  if (!token) {
    $("who").textContent = "";
    show("sign-in");
    return;
  }
  const own = projectOfToken(token);
  $("who").textContent = own ? `deploy token of ${own}` : "admin";
  const match = /^#\/projects\/([a-z0-9-]+)$/.exec(window.location.hash);
  try {
    if (own || match) {
      await showProject(own ?? match[1]);
    } else {
      await showProjects();
    }
  } catch (error) {
    showError(error);
    if (!sessionStorage.getItem(TOKEN_KEY)) {
      // The token was refused: back to signing in.
      $("sign-out").hidden = true;
      $("who").textContent = "";
      show("sign-in");
    }
  }
}

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  $("token").value = "";
  showError(null);
  void route();
});

$("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showError(null);
  window.location.hash = "";
  void route();
});

$("project-search").addEventListener("submit", (event) => {
  event.preventDefault();
  showError(null);
  void showProjects().catch(showError);
});

window.addEventListener("hashchange", () => void route());
void route();
