/**
 * The r2-assets web console: sign in with a token (kept in this tab's
 * session storage, never in a URL), see projects, their versions, aliases,
 * domains and history, their traffic and server-code logs (followed
 * live), and act on them through the same API as the CLI.
 * Destructive actions ask first; every failure is shown as the API said it.
 */

import { deployFolder, filesFromDrop, filesFromInput } from "./console-deploy.js";

const TOKEN_KEY = "r2-assets-token";
/** A deploy from this browser that has not finished, per project (so the page can say how to resume). */
const UNFINISHED_KEY = "r2-assets-unfinished:";
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

const SVG = "http://www.w3.org/2000/svg";
const VERSION_COLORS = ["#0a60c2", "#34a853", "#f38020", "#8e44ad", "#16a085", "#7f8c8d"];

function svg(tag, attributes = {}) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, String(value));
  }
  return element;
}

/**
 * The chart: requests per point stacked by version, errors (4xx and 5xx) as
 * a red line, and each move of live in the window as a dashed mark. Drawn
 * as SVG elements (no inline script or style, as the CSP wants).
 */
function drawChart(report, history) {
  const width = 720;
  const height = 180;
  const pad = 24;
  const points = report.series;
  const max = Math.max(1, ...points.map((point) => point.requests));
  const slot = (width - pad) / Math.max(1, points.length);
  const x = (i) => pad + i * slot;
  const y = (value) => height - pad - (value / max) * (height - 2 * pad);
  const versions = report.byVersion.map((entry) => entry.version);
  const colorOf = (version) => VERSION_COLORS[versions.indexOf(version) % VERSION_COLORS.length];
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Requests and errors" });
  chart.append(
    svg("line", { x1: pad, y1: height - pad, x2: width, y2: height - pad, stroke: "#c7c7cc" }),
    Object.assign(svg("text", { x: 2, y: pad, "font-size": 10, fill: "#6e6e73" }), { textContent: String(max) }),
    Object.assign(svg("text", { x: 2, y: height - pad, "font-size": 10, fill: "#6e6e73" }), { textContent: "0" }),
  );
  points.forEach((point, i) => {
    let base = 0;
    for (const version of versions) {
      const count = point.byVersion[version] ?? 0;
      if (count === 0) {
        continue;
      }
      const bar = svg("rect", {
        x: x(i) + 0.5,
        y: y(base + count),
        width: Math.max(1, slot - 1),
        height: y(base) - y(base + count),
        fill: colorOf(version),
        class: "bar",
      });
      bar.append(Object.assign(svg("title"), { textContent: `${when(point.at)}: ${count} request(s) on ${version}` }));
      chart.append(bar);
      base += count;
    }
  });
  const errors = points.map((point, i) => `${x(i) + slot / 2},${y(point["4xx"] + point["5xx"])}`).join(" ");
  chart.append(
    svg("polyline", { points: errors, fill: "none", stroke: "#d93025", "stroke-width": 1.5, class: "errors" }),
  );
  const from = Date.parse(report.from);
  const to = Date.parse(report.to);
  for (const entry of history) {
    const at = Date.parse(entry.at);
    if (entry.pointer !== "live" || at < from || at > to) {
      continue;
    }
    const mx = pad + ((at - from) / (to - from)) * (width - pad);
    const mark = svg("line", {
      x1: mx,
      y1: 4,
      x2: mx,
      y2: height - pad,
      stroke: "#1d1d1f",
      "stroke-dasharray": "3 3",
      class: "activation",
    });
    mark.append(
      Object.assign(svg("title"), {
        textContent: `${when(entry.at)}: live → ${entry.to ?? "nothing"} (${entry.kind})`,
      }),
    );
    chart.append(mark);
  }
  const legend = document.createElement("figcaption");
  for (const version of versions) {
    const item = document.createElement("span");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colorOf(version);
    item.append(swatch, version);
    legend.append(item);
  }
  const errorKey = document.createElement("span");
  errorKey.textContent = "red line: 4xx and 5xx · dashed: live moved";
  legend.append(errorKey);
  $("traffic-chart").replaceChildren(chart, legend);
}

async function showTraffic(base, history) {
  const minutes = $("traffic-window").value;
  const report = await api("GET", `${base}/analytics?minutes=${minutes}`);
  const { totals } = report;
  const share = totals.requests === 0 ? "–" : `${Math.round((totals.cacheHits / totals.requests) * 100)}%`;
  $("traffic-totals").textContent =
    `${totals.requests} request(s) · ${formatBytes(totals.bytes)} sent · 2xx ${totals["2xx"]} · 3xx ${totals["3xx"]}` +
    ` · 4xx ${totals["4xx"]} · 5xx ${totals["5xx"]} · cache hits ${share} · server code ${totals.serverCalls}`;
  drawChart(report, history);
  const rows = (list) =>
    list.length === 0
      ? [Object.assign(document.createElement("tr"), { className: "empty" })].map((tr) => {
          tr.append(cell("none yet"), cell(""));
          return tr;
        })
      : list.map((entry) => {
          const tr = document.createElement("tr");
          tr.append(cell(entry.path), cell(String(entry.requests)));
          return tr;
        });
  $("top-paths").replaceChildren(...rows(report.topPaths.slice(0, 10)));
  $("not-found").replaceChildren(...rows(report.notFound.slice(0, 10)));
  $("traffic-window").onchange = () => void showTraffic(base, history).catch(showError);
}

/** The project whose logs are being followed, and how to stop. */
let following = null;
/** How often an open project page redraws its traffic. */
const TRAFFIC_REFRESH_MS = 10_000;
/** Lines the logs pane keeps. */
const LOG_PANE_LINES = 500;

function logLine(line) {
  const div = document.createElement("div");
  div.className = line.level;
  const request = line.request ? `${line.request.method} ${line.request.path} ${line.request.status ?? "–"}  ` : "";
  div.textContent = `${when(line.at)}  ${line.level.toUpperCase().padEnd(5)}  ${line.version}  ${request}${line.message}`;
  return div;
}

function addLogLines(lines) {
  const pane = $("log-lines");
  const atEnd = pane.scrollTop + pane.clientHeight >= pane.scrollHeight - 4;
  pane.append(...lines.map(logLine));
  while (pane.childElementCount > LOG_PANE_LINES) {
    pane.firstElementChild.remove();
  }
  if (atEnd) {
    pane.scrollTop = pane.scrollHeight;
  }
}

/**
 * Shows the newest lines and follows new ones over the API's event stream
 * (read with fetch, which can send the token; EventSource cannot),
 * reconnecting where it left off until the page shows another project.
 */
async function followLogs(base, history) {
  if (following?.base === base) {
    return;
  }
  stopFollowing();
  const controller = new AbortController();
  // The traffic is redrawn while the page is open, as its logs are followed.
  const timer = setInterval(() => void showTraffic(base, history).catch(() => undefined), TRAFFIC_REFRESH_MS);
  following = { base, controller, timer };
  const state = $("log-state");
  const { logs, cursor } = await api("GET", `${base}/logs?limit=100`);
  $("log-lines").replaceChildren();
  addLogLines(logs);
  let last = String(cursor);
  void (async () => {
    while (!controller.signal.aborted) {
      try {
        const response = await fetch(`${base}/logs?follow=1`, {
          headers: { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}`, "last-event-id": last },
          signal: controller.signal,
        });
        if (!response.ok) {
          throw new Error(`the API answered ${response.status}`);
        }
        state.textContent = "following";
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffered = "";
        for (let read = await reader.read(); !read.done; read = await reader.read()) {
          const blocks = (buffered + read.value).split("\n\n");
          buffered = blocks.pop();
          const lines = [];
          for (const block of blocks) {
            const id = /^id: (\d+)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (id && data) {
              last = id;
              lines.push(JSON.parse(data));
            }
          }
          addLogLines(lines);
        }
      } catch (error) {
        if (controller.signal.aborted) {
          return;
        }
        state.textContent = "reconnecting";
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  })();
}

function stopFollowing() {
  following?.controller.abort();
  clearInterval(following?.timer);
  following = null;
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
  // Tokens are fetched only after every table above is drawn in one task, so
  // that the page never shows a new version list beside an old history.
  await showTokens(base, admin);
  wireDeploy(name, canActivate);
  await showTraffic(base, history);
  await followLogs(base, history);
  show("project");
}

let deploying = false;

/**
 * Deploys a folder's files to `project` with the deploy form's options,
 * showing progress in the bar under the header. Until it finishes, the
 * project's page says a deploy from this browser is unfinished and that
 * deploying the same folder again resumes it.
 */
async function runDeploy(project, files, options) {
  if (deploying) {
    throw new Error("a deploy is already under way in this tab");
  }
  deploying = true;
  const bar = $("deploy-bar");
  const progress = $("deploy-progress");
  const status = $("deploy-status");
  bar.hidden = false;
  const key = `${UNFINISHED_KEY}${project}`;
  const bytes = files.reduce((sum, entry) => sum + entry.file.size, 0);
  localStorage.setItem(key, JSON.stringify({ files: files.length, bytes, at: new Date().toISOString() }));
  try {
    const result = await deployFolder({
      base: `/api/projects/${project}`,
      token: () => sessionStorage.getItem(TOKEN_KEY),
      files,
      options,
      onProgress: ({ phase, done, total, files: sent, filesTotal }) => {
        progress.value = total > 0 ? done / total : 1;
        status.textContent =
          phase === "hashing"
            ? `Hashing ${files.length} file(s): ${formatBytes(done)} of ${formatBytes(total)}`
            : phase === "uploading"
              ? `Uploading ${sent} of ${filesTotal} file(s) the project lacks: ${formatBytes(done)} of ${formatBytes(total)}`
              : "Finalizing";
      },
    });
    localStorage.removeItem(key);
    progress.value = 1;
    status.replaceChildren(
      result.unchanged
        ? `Nothing changed: ${result.version} is kept. `
        : `Deployed ${result.version}${result.active ? ", live" : ""}. `,
      link(
        result.active ? result.url : (result.previewUrl ?? result.url),
        result.active ? result.url : (result.previewUrl ?? result.url),
        true,
      ),
    );
    status.dataset.version = result.version;
    return result;
  } catch (error) {
    status.textContent = `Deploy stopped: ${error.message}`;
    throw error;
  } finally {
    deploying = false;
  }
}

function deployOptions() {
  const target = $("deploy-target").value;
  const alias = $("deploy-alias").value.trim();
  if (target === "alias" && !alias) {
    throw new Error("alias: name the alias to point at the new version");
  }
  return {
    message: $("deploy-message").value.trim(),
    activate: target === "live",
    alias: target === "alias" ? alias : undefined,
    htmlHandling: $("deploy-html").value,
    notFoundHandling: $("deploy-not-found").value,
  };
}

/** Makes `zone` take a dropped folder, handing its files to `onFiles`. */
function dropZone(zone, onFiles) {
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    void (async () => onFiles(await filesFromDrop(event.dataTransfer)))().catch(showError);
  });
}

function wireDeploy(name, canActivate) {
  // A deploy-scoped token stages versions; going live or moving an alias is not offered.
  for (const option of $("deploy-target").options) {
    option.disabled = !canActivate && option.value !== "stage";
  }
  if (!canActivate) {
    $("deploy-target").value = "stage";
  }
  const unfinished = JSON.parse(localStorage.getItem(`${UNFINISHED_KEY}${name}`) ?? "null");
  const resume = $("deploy-resume");
  resume.hidden = !unfinished || deploying;
  if (unfinished) {
    resume.textContent =
      `A deploy of ${unfinished.files} file(s) (${formatBytes(unfinished.bytes)}) from this browser, started ` +
      `${when(unfinished.at)}, did not finish. Deploy the same folder again to resume: what arrived is not sent again.`;
  }
  const deploy = (files) =>
    act(async () => {
      await runDeploy(name, files, deployOptions());
    });
  $("deploy-form").onsubmit = (event) => {
    event.preventDefault();
    void deploy(filesFromInput($("deploy-folder").files));
  };
  if (!$("deploy").dataset.wired) {
    $("deploy").dataset.wired = "1";
    dropZone($("deploy"), (files) => void deploy(files));
  }
}

/** Creates a project (admin) and deploys a folder to it, live, then opens its page. */
async function createFromFolder(files) {
  const name = $("new-project-name").value.trim();
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) {
    throw new Error("project: name it first (a-z, 0-9 and -, as in a hostname)");
  }
  await api("PUT", `/api/projects/${name}`, {});
  await runDeploy(name, files, { activate: true, message: "deployed from the console" });
  window.location.hash = `#/projects/${name}`;
}

$("new-project-form").addEventListener("submit", (event) => {
  event.preventDefault();
  showError(null);
  void createFromFolder(filesFromInput($("new-project-folder").files)).catch(showError);
});
dropZone($("new-project"), (files) => {
  showError(null);
  void createFromFolder(files).catch(showError);
});

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
      stopFollowing();
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
  stopFollowing();
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
