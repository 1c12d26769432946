// The Chargebee month-end page: plain DOM code, no framework and nothing from the internet.
// Data comes from this plugin's API (only DAGs the user may read) and, for approvals,
// from Airflow's own REST API; the browser's Airflow session authenticates both.
"use strict";

const ROOT = location.pathname.replace(/chargebee\/.*$/, "");

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  return node;
}

function link(text, href) {
  // The page may sit in the Airflow UI's frame: links open in the whole window.
  return el("a", text, { href, target: "_top" });
}

function cell(row, content) {
  const td = el("td");
  if (content instanceof Node) td.append(content);
  else td.textContent = content === undefined || content === null ? "" : String(content);
  row.append(td);
  return td;
}

function chips(pairs) {
  const box = el("span");
  for (const [label, value] of pairs) box.append(el("span", `${label} ${value}`, { class: "chip" }));
  return box;
}

function countChips(counts) {
  return chips(Object.entries(counts));
}

function totalChips(totals) {
  return chips(Object.entries(totals).map(([outcome, amounts]) => [outcome, amounts.join(", ")]));
}

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    const error = new Error(`${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

function showStatus(text, isError) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.hidden = !text;
  status.classList.toggle("error", Boolean(isError));
}

async function loadApprovals(dagIds) {
  if (!dagIds.length) return;
  // Airflow's own API, per DAG of the ledger: its access control applies as in the UI.
  const answers = await Promise.all(dagIds.map((dagId) =>
    getJson(`${ROOT}api/v2/dags/${encodeURIComponent(dagId)}/dagRuns/~/hitlDetails?response_received=false&limit=100`)
      .catch(() => ({ hitl_details: [] }))));
  const waiting = answers.flatMap((answer) => answer.hitl_details || []);
  const list = document.getElementById("approval-list");
  list.replaceChildren();
  for (const item of waiting) {
    const ti = item.task_instance;
    const mapped = ti.map_index >= 0 ? `/mapped/${ti.map_index}` : "";
    const href = `${ROOT}dags/${encodeURIComponent(ti.dag_id)}/runs/${encodeURIComponent(ti.dag_run_id)}` +
      `/tasks/${encodeURIComponent(ti.task_id)}${mapped}/required_actions`;
    const entry = el("li");
    entry.append(link(item.subject, href), el("span", ` — ${ti.dag_id}, run ${ti.dag_run_id}`, { class: "muted" }));
    list.append(entry);
  }
  document.getElementById("approvals").hidden = waiting.length === 0;
}

function perMinute(rate) {
  return rate === null || rate === undefined ? "" : `${rate}/min`;
}

function budgetRate(site) {
  if (site.requests_per_minute === null) {
    return `none sending; configured ${perMinute(site.configured_per_minute)}`;
  }
  const learned = site.learned_per_minute === null ? "" : " (learned from a 429)";
  const sending = site.processes ? `${site.processes} process(es) sending` : "none sending now";
  return `${perMinute(site.requests_per_minute)}${learned}, ${sending}`;
}

async function loadBudgets() {
  // Only connections the user may read, and only those with a shared rate_limit_store.
  const data = await getJson("api/budgets").catch(() => ({ budgets: [] }));
  const body = document.querySelector("#budget-table tbody");
  body.replaceChildren();
  for (const site of data.budgets) {
    const row = el("tr");
    cell(row, site.conn_id);
    cell(row, site.site ? `${site.site} (${site.host})` : "");
    if (site.error) {
      cell(row, site.error).classList.add("bad");
      cell(row, "");
      cell(row, "");
    } else {
      cell(row, budgetRate(site));
      const learned = site.site_429s
        ? `${site.site_429s} since ${site.first_429_at}, last ${site.last_429_at}` : "none";
      cell(row, learned);
      cell(row, site.lowered_at ? `${site.lowered_at} to ${perMinute(site.lowered_to)}` : "");
    }
    body.append(row);
  }
  document.getElementById("budgets").hidden = data.budgets.length === 0;
}

function renderPeriods(data) {
  const body = document.querySelector("#periods tbody");
  body.replaceChildren();
  for (const period of data.periods) {
    const row = el("tr", null, { class: "period", "data-period": period.period, "data-site": period.site });
    cell(row, period.period).append(el("div", period.ranges.join("; "), { class: "muted" }));
    cell(row, period.site);
    cell(row, period.run_count);
    cell(row, countChips(period.counts));
    cell(row, totalChips(period.totals));
    const attention = cell(row, period.attention);
    if (period.attention) attention.classList.add("bad");
    row.addEventListener("click", () => openPeriod(period.site, period.period));
    body.append(row);
  }
  document.getElementById("periods-section").hidden = false;
}

function reportLink(site, period, task) {
  if (!task.report_path) return "";
  const box = el("span");
  for (const kind of ["md", "csv"]) {
    const query = new URLSearchParams({ file: task.file });
    box.append(link(kind, `api/task-reports/${encodeURIComponent(site)}/${encodeURIComponent(period)}/${kind}?${query}`), " ");
  }
  return box;
}

async function openPeriod(site, period) {
  for (const row of document.querySelectorAll("#periods tbody tr")) {
    row.classList.toggle("selected", row.dataset.site === site && row.dataset.period === period);
  }
  const detail = await getJson(`api/periods/${encodeURIComponent(site)}/${encodeURIComponent(period)}`);
  document.getElementById("detail-title").textContent = `${detail.period} — site ${detail.site}`;
  document.getElementById("detail-ranges").textContent = detail.ranges.join("; ");
  const summary = document.getElementById("detail-summary");
  summary.replaceChildren(countChips(detail.counts), el("br"), totalChips(detail.totals));

  const reports = document.getElementById("reports");
  reports.replaceChildren();
  for (const name of detail.reports) {
    const item = el("li");
    item.append(link(name, `api/reports/${encodeURIComponent(site)}/${encodeURIComponent(period)}/${encodeURIComponent(name)}`));
    reports.append(item);
  }
  if (!detail.reports.length) reports.append(el("li", "none shown", { class: "muted" }));

  const attention = document.querySelector("#attention tbody");
  attention.replaceChildren();
  for (const item of detail.attention) {
    const row = el("tr");
    cell(row, item.invoice_url ? link(item.invoice_id, item.invoice_url) : item.invoice_id);
    cell(row, item.outcome).classList.add("bad");
    cell(row, item.reason);
    cell(row, item.amount);
    cell(row, item.run_id);
    cell(row, link("log", ROOT + item.log_url));
    attention.append(row);
  }

  const runs = document.querySelector("#runs tbody");
  runs.replaceChildren();
  for (const run of detail.runs) {
    for (const task of run.tasks) {
      const row = el("tr");
      cell(row, run.run_id).append(el("div", run.dag_id, { class: "muted" }));
      cell(row, task.map_index >= 0 ? `${task.task_id}[${task.map_index}]` : task.task_id);
      cell(row, task.try_number);
      cell(row, task.dry_run ? "yes" : "no");
      cell(row, task.approver || "");
      cell(row, task.invoices ? countChips(task.counts) : "nothing to do");
      cell(row, totalChips(task.totals));
      cell(row, reportLink(site, period, task));
      cell(row, link("log", ROOT + task.log_url));
      runs.append(row);
    }
  }
  document.getElementById("detail").hidden = false;
}

async function main() {
  loadBudgets();
  let data;
  try {
    data = await getJson("api/periods");
  } catch (error) {
    showStatus(error.status === 401 || error.status === 403
      ? "Sign in to Airflow to see the Chargebee ledger."
      : `The ledger could not be read: ${error.message}`, true);
    return;
  }
  document.getElementById("ledger").textContent = `Ledger: ${data.ledger}`;
  if (!data.periods.length) {
    showStatus("No ledger entries from DAGs you may read.", false);
    return;
  }
  showStatus("", false);
  renderPeriods(data);
  loadApprovals(data.dag_ids);
  await openPeriod(data.periods[0].site, data.periods[0].period);
}

main();
