// The lake at a glance, from the public API only: /api/stats/ and /api/analyses/.
// Each analysis is drawn as a bar chart of its first rows: the bars are labelled by the row's
// text and identifier columns and sized by one numeric column (the last, by default; a select
// picks another),
// so an analysis dropped into the queries folder is drawn without a change here.
"use strict";

const REFRESH_MS = 5000;
const TOP_ROWS = 10;
const KEY_ITEM = "lakestream-api-key";
const charts = new Map(); // analysis name -> Chart
const metrics = new Map(); // analysis name -> chosen numeric column
let timer = null;
let busy = false;
let again = false; // a refresh was asked for while one ran: run once more after it

const $ = (id) => document.getElementById(id);
// The sink's consumer groups: /dashboard/?group_prefix=lakestream-demo after `make demo`.
const GROUP_PREFIX = new URLSearchParams(location.search).get("group_prefix");
const STATS = GROUP_PREFIX
  ? `/api/stats/?${new URLSearchParams({ group_prefix: GROUP_PREFIX })}`
  : "/api/stats/";

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// The last answer of each URL with its ETag: sent back as If-None-Match, a 304 means the data
// under it has not changed, so the page redraws from it and no query runs.
const answers = new Map();

async function api(path, key) {
  const headers = { Accept: "application/json" };
  if (key) headers["X-API-Key"] = key;
  const known = answers.get(path);
  if (known) headers["If-None-Match"] = known.etag;
  // The page keeps the answers itself; no-store keeps the browser's cache out of it (a request
  // that sets If-None-Match bypasses that cache anyway, so the 304 reaches the page).
  const response = await fetch(path, { headers, cache: "no-store" });
  if (response.status === 304 && known) return known.body;
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(response.status, `${path} answered ${response.status} without JSON`);
  }
  if (!response.ok) {
    const message = (body && body.error && body.error.message) || response.statusText;
    throw new ApiError(response.status, message);
  }
  const etag = response.headers.get("ETag");
  if (etag) answers.set(path, { etag, body });
  return body;
}

function showProblem(text) {
  const box = $("problem");
  box.textContent = text;
  box.hidden = !text;
}

function askForKey(refused) {
  const form = $("key-form");
  form.hidden = false;
  showProblem(
    refused
      ? "The API refused this API key. Enter the right key (API_KEY of the server)."
      : "This API needs an API key: enter it below.",
  );
  $("api-key").focus();
}

const number = (v) => (v === null || v === undefined ? "–" : Number(v).toLocaleString("en-US"));
const text = (v) => (v === null || v === undefined || v === "" ? "–" : String(v));

function cell(row, value, numeric, name) {
  const td = document.createElement("td");
  td.textContent = value;
  td.dataset.field = name;
  if (numeric) td.className = "num";
  row.appendChild(td);
}

function renderStats(stats) {
  const body = document.querySelector("#stats tbody");
  body.replaceChildren();
  for (const ds of stats.datasets) {
    const raw = ds.layers.find((l) => l.layer === "raw") || {};
    const curated = ds.layers.find((l) => l.layer === "curated") || {};
    const tr = document.createElement("tr");
    tr.dataset.dataset = ds.dataset;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = ds.dataset;
    tr.appendChild(th);
    cell(tr, number(raw.rows), true, "raw_rows");
    cell(tr, curated.exists ? number(curated.rows) : "not curated yet", true, "curated_rows");
    cell(tr, text(curated.newest_event_time || raw.newest_event_day), false, "newest_event");
    cell(tr, text(raw.last_landed_at), false, "last_landed_at");
    cell(tr, number((raw.dead_letters || 0) + (curated.dead_letters || 0)), true, "dead_letters");
    cell(tr, number(ds.kafka.lag), true, "kafka_lag");
    cell(tr, number(curated.lag_records), true, "curation_lag");
    body.appendChild(tr);
  }
}

function query(analysis) {
  const params = new URLSearchParams({ limit: String(TOP_ROWS), layer: $("layer").value });
  for (const p of analysis.parameters) {
    const input = $(p.name);
    if (input && input.value) params.set(p.name, input.value);
  }
  return `${analysis.url}?${params}`;
}

// Numbers that name rather than measure (status_code, campaign_id) label the bars instead.
const isIdentifier = (name) => /(_code|_id)$/.test(name);

// Column types are the lake's (Glue's) names, as the engine typed the result: decimal(p,s) too.
const NUMERIC = /^(tinyint|smallint|int|bigint|float|double|decimal)\b/;

function numericColumns(result) {
  return result.columns
    .filter((c) => NUMERIC.test(c.type))
    .map((c) => c.name)
    .filter((name) => !isIdentifier(name));
}

function card(analysis) {
  let section = document.querySelector(`section[data-analysis="${analysis.name}"]`);
  if (section) return section;
  section = document.createElement("section");
  section.className = "analysis";
  section.dataset.analysis = analysis.name;
  const title = `${analysis.name}-title`;
  section.setAttribute("aria-labelledby", title);
  section.innerHTML = `
    <h3 id="${title}"></h3><p class="description"></p>
    <p class="notice" role="status" hidden></p>
    <div class="drawn">
      <label>Measure <select class="metric"></select></label>
      <div class="chart"><canvas role="img"></canvas></div>
      <details><summary>The rows as a table</summary><table class="rows"></table></details>
    </div>`;
  section.querySelector("h3").textContent = analysis.name.replaceAll("_", " ");
  section.querySelector(".description").textContent = analysis.description;
  section.querySelector(".metric").addEventListener("change", (event) => {
    metrics.set(analysis.name, event.target.value);
    refresh();
  });
  $("analyses").appendChild(section);
  return section;
}

// One analysis that cannot be drawn says why in its own panel; the others still draw.
function showNotice(analysis, message) {
  const section = card(analysis);
  const notice = section.querySelector(".notice");
  notice.textContent = message;
  notice.hidden = !message;
  section.querySelector(".drawn").hidden = Boolean(message);
}

function noDataYet(analysis, reason) {
  const layer = $("layer").value;
  const next =
    layer === "curated"
      ? "run `make curate` once data has landed"
      : "land data for it (`make produce`, `make consume`), then `make crawl`";
  showNotice(analysis, `No data yet on the ${layer} layer (${reason}): ${next}.`);
}

function renderSettled(analysis, settled) {
  if (settled.status === "fulfilled") {
    if (settled.value.rows.length === 0) noDataYet(analysis, "the analysis returned no rows");
    else {
      showNotice(analysis, "");
      renderAnalysis(analysis, settled.value);
    }
    return;
  }
  const error = settled.reason;
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) throw error;
  if (error instanceof ApiError && error.status === 404) noDataYet(analysis, error.message);
  else showNotice(analysis, `Could not draw this analysis: ${error.message}`);
}

function renderAnalysis(analysis, result) {
  const section = card(analysis);
  const numeric = numericColumns(result);
  const labels = result.columns.map((c) => c.name).filter((c) => !numeric.includes(c));
  const metric = numeric.includes(metrics.get(analysis.name))
    ? metrics.get(analysis.name)
    : numeric[numeric.length - 1];
  const select = section.querySelector(".metric");
  select.replaceChildren(...numeric.map((c) => new Option(c, c, false, c === metric)));
  const names = result.rows.map((r) => labels.map((c) => text(r[c])).join(" · "));
  const values = result.rows.map((r) => r[metric]);
  const canvas = section.querySelector("canvas");
  canvas.setAttribute(
    "aria-label",
    `${analysis.name}: ${metric} of the first ${result.rows.length} rows, ${$("layer").value} layer`,
  );
  let chart = charts.get(analysis.name);
  if (!chart) {
    chart = new Chart(canvas, {
      type: "bar",
      data: { labels: [], datasets: [{ label: metric, data: [], backgroundColor: "#0b5cad" }] },
      options: {
        indexAxis: "y",
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { ticks: { autoSkip: false } } },
      },
    });
    charts.set(analysis.name, chart);
  }
  chart.data.labels = names;
  chart.data.datasets[0].label = metric;
  chart.data.datasets[0].data = values;
  chart.update();
  const table = section.querySelector("table.rows");
  const head = `<tr>${result.columns.map(() => "<th scope='col'></th>").join("")}</tr>`;
  table.innerHTML = `<thead>${head}</thead><tbody></tbody>`;
  table.querySelectorAll("th").forEach((th, i) => (th.textContent = result.columns[i].name));
  for (const row of result.rows) {
    const tr = document.createElement("tr");
    for (const c of result.columns) cell(tr, text(row[c.name]), numeric.includes(c.name), c.name);
    table.tBodies[0].appendChild(tr);
  }
}

async function refresh() {
  if (busy) {
    again = true;
    return;
  }
  busy = true;
  const key = sessionStorage.getItem(KEY_ITEM) || "";
  try {
    $("status").textContent = "Refreshing…";
    const [stats, list] = await Promise.all([api(STATS, key), api("/api/analyses/", key)]);
    renderStats(stats);
    const results = await Promise.allSettled(list.analyses.map((a) => api(query(a), key)));
    list.analyses.forEach((a, i) => renderSettled(a, results[i]));
    $("key-form").hidden = true;
    showProblem("");
    $("status").textContent = `Updated ${new Date().toLocaleTimeString()} (stats of ${stats.generated_at}).`;
  } catch (error) {
    $("status").textContent = "";
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      // A key typed while this refresh ran is tried next, not judged by this answer.
      if ((sessionStorage.getItem(KEY_ITEM) || "") === key) askForKey(Boolean(key));
      else again = true;
    } else {
      showProblem(`Could not refresh: ${error.message}`);
    }
  } finally {
    busy = false;
    if (again) {
      again = false;
      refresh();
    }
  }
}

function schedule() {
  clearInterval(timer);
  timer = $("auto").checked ? setInterval(refresh, REFRESH_MS) : null;
}

document.addEventListener("DOMContentLoaded", () => {
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_ITEM, $("api-key").value);
    $("api-key").value = "";
    refresh();
  });
  $("controls").addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  $("layer").addEventListener("change", refresh);
  $("auto").addEventListener("change", schedule);
  refresh();
  schedule();
});
