// imgsearch review: the page. Views are chosen by the address's #fragment:
//   #/dupes?page=N, #/shots?page=N, #/one?page=N (one group at a time), #/group/ID, #/photo/ID, #/clusters?page=N, #/cluster/LABEL?page=N
// Every text from the index (file names, folders) goes in through textContent, never as HTML.
"use strict";

const CSRF = document.querySelector('meta[name="csrf"]').content;
const PAGE_SIZE = 20;
const VIEWS = {dupes: ["duplicates", PAGE_SIZE], shots: ["shots", PAGE_SIZE], one: ["all", 1]};  // tier, groups a page
const main = document.getElementById("main");
const state = {view: null, page: 1, groups: [], focus: 0, skipped: new Set()};

// -- small helpers ---------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

async function api(method, url, body) {
  const options = {method, headers: {}, credentials: "same-origin"};
  if (method !== "GET") {
    options.headers["X-CSRF-Token"] = CSRF;
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body || {});
  }
  const response = await fetch(url, options);
  const data = await response.json().catch(() => ({error: response.statusText}));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function say(text, bad = false) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = bad ? "bad" : "good";
}

function bytes(n) {
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + " MB";
  return Math.max(1, Math.round(n / 1024)) + " kB";
}

function thumb(id, alt) {
  return el("img", {src: "/thumb/" + id, alt: alt || "", loading: "lazy", decoding: "async"});
}

function pager(page, pages, base) {
  if (pages <= 1) return null;
  const nav = el("nav", {class: "pager"});
  if (page > 1) nav.append(el("a", {href: `${base}?page=${page - 1}`, text: "\u2190 previous"}));
  nav.append(el("span", {text: ` page ${page} of ${pages} `}));
  if (page < pages) nav.append(el("a", {href: `${base}?page=${page + 1}`, text: "next \u2192"}));
  return nav;
}

// -- duplicate groups ------------------------------------------------------------------------
function describe(member, number) {
  const facts = [`${member.width}\u00d7${member.height}`, bytes(member.bytes), member.taken || "no date"];
  const why = member.keeper ? "suggested keeper" : `${member.reason} \u00b7 score ${member.score}` +
      (member.shot ? ` \u00b7 ${member.shot}` : "");
  return el("figcaption", {},
    el("b", {text: `${number}. ${member.name}`}),
    el("span", {class: "facts", text: facts.join(" \u00b7 ")}),
    el("span", {class: "folder", text: member.folder, title: member.path}),
    el("span", {class: "why", text: why + (member.reference ? " \u00b7 reference folder" : "")}));
}

function groupSection(group, index) {
  const section = el("section", {class: "group", "data-id": group.id, tabindex: "-1"});
  const keeperRule = group.members[0].keeper ? `keeper chosen by: ${group.keeper_reason || "rules"}` : "";
  section.append(el("h2", {},
    el("span", {text: `Group ${index + 1} \u00b7 ${group.tier} \u00b7 ${group.members.length} photos`}),
    el("small", {text: keeperRule})));
  const row = el("div", {class: "photos"});
  group.members.forEach((member, i) => {
    const figure = el("figure", {class: member.keeper ? "photo keeper" : "photo", "data-id": member.id},
      el("a", {href: "#", class: "open", title: "View large (click)",
               onclick: (e) => { e.preventDefault(); openViewer(group, i); }}, thumb(member.id, member.name)),
      describe(member, i + 1),
      member.keeper ? el("span", {class: "badge", text: "keep"}) :
        el("button", {class: "choose", text: `Keep this one (${i + 1})`,
                      onclick: () => decide(group, "keep", member.id)}));
    row.append(figure);
  });
  section.append(row);
  section.append(el("div", {class: "actions"},
    el("button", {class: "keep", text: "Keep suggested (Enter)", onclick: () => decide(group, "keep")}),
    el("button", {class: "ignore", text: "Not duplicates (N)", onclick: () => decide(group, "ignore")}),
    el("button", {class: "skip", text: "Skip (S)", onclick: () => skip(group)}),
    el("a", {href: `#/group/${group.id}`, text: "link"})));
  section.addEventListener("click", () => setFocus(state.groups.indexOf(group), false));
  return section;
}

async function showGroups(name, page) {
  const [tier, size] = VIEWS[name];
  const data = await api("GET", `/api/groups?tier=${tier}&page=${page}&size=${size}`);
  state.page = data.page;
  state.groups = data.groups.filter((g) => !state.skipped.has(g.id))
      .concat(data.groups.filter((g) => state.skipped.has(g.id)));
  document.getElementById("summary").textContent =
    `${data.duplicates} duplicate group(s), ${data.shots} similar-shot group(s) left \u00b7 deciding ${data.action}`;
  main.replaceChildren();
  if (data.changed_elsewhere) {
    main.append(el("p", {class: "warning", text: "The index was changed by another command since these groups were " +
      "found (new photos are not in them): restart `imgsearch review` to see every group."}));
  }
  if (!state.groups.length) {
    main.append(el("p", {class: "empty", text: {duplicates: "No duplicate group left to decide.",
      shots: "No similar-shot group left to decide.", all: "No group left to decide."}[tier]}));
    return;
  }
  main.append(el("p", {class: "total", text: `${data.total} group(s); each decision acts at once: ${data.action}`}));
  state.groups.forEach((group, i) => main.append(groupSection(group, (data.page - 1) * size + i)));
  const nav = pager(data.page, data.pages, `#/${name}`);
  if (nav) main.append(nav);
  setFocus(Math.min(state.focus, state.groups.length - 1), false);
}

async function showGroup(id) {
  const group = await api("GET", `/api/group/${id}`);
  state.groups = [group];
  main.replaceChildren(groupSection(group, 0));
  setFocus(0, false);
}

function setFocus(index, scroll = true) {
  if (index < 0 || !state.groups.length) return;
  state.focus = Math.min(index, state.groups.length - 1);
  document.querySelectorAll("section.group").forEach((s, i) => s.classList.toggle("focused", i === state.focus));
  const section = document.querySelectorAll("section.group")[state.focus];
  if (scroll && section) section.scrollIntoView({block: "nearest"});
}

async function decide(group, what, keeper) {
  try {
    const result = what === "keep" ?
      await api("POST", `/api/group/${group.id}/keep`, {keeper: keeper || null}) :
      await api("POST", `/api/group/${group.id}/not-duplicates`);
    const leftAlone = result.left_alone.length ? ` \u2014 left alone: ${result.left_alone.join("; ")}` : "";
    say(result.message + leftAlone, result.left_alone.length > 0);
  } catch (error) {
    say(error.message, true);
  }
  if (state.view === "group") location.hash = "#/dupes";  // that group is decided: back to the list
  else await route();
}

function skip(group) {
  state.skipped.add(group.id);
  say("skipped for now: it stays on the list");
  if (state.view === "one") location.hash = `#/one?page=${state.page + 1}`;
  else setFocus(state.focus + 1);
}

async function bulk() {
  try {
    const plan = await api("GET", "/api/bulk");
    if (!plan.files) { say("nothing to apply: no duplicate group left with a file to act on"); return; }
    document.getElementById("confirm-text").textContent =
      `Keep the suggested keeper in all ${plan.groups} remaining duplicate group(s)? ` +
      `This will ${plan.message}. Similar shots are left alone. Undo reverts it.`;
    const dialog = document.getElementById("confirm");
    dialog.returnValue = "";
    dialog.showModal();
    dialog.addEventListener("close", async () => {
      if (dialog.returnValue !== "ok") return;
      try {
        say((await api("POST", "/api/bulk/apply")).message);
      } catch (error) { say(error.message, true); }
      await route();
    }, {once: true});
  } catch (error) { say(error.message, true); }
}

async function undo() {
  try {
    say((await api("POST", "/api/undo")).message);
  } catch (error) { say(error.message, true); }
  await route();
}

// -- the viewer: one photo large, or two side by side with one zoom ---------------------------
const view = {group: null, index: 0, compare: false, scale: 1, x: 0, y: 0};

function openViewer(group, index, compare = false) {
  Object.assign(view, {group, index, compare, scale: 1, x: 0, y: 0});
  drawViewer();
  document.getElementById("viewer").hidden = false;
}

function closeViewer() { document.getElementById("viewer").hidden = true; }

function drawViewer() {
  const members = view.group.members;
  const shown = view.compare ? [members[0], members[view.index === 0 ? 1 : view.index]] : [members[view.index]];
  const panes = document.getElementById("panes");
  panes.replaceChildren(...shown.map((m) => el("div", {class: "pane"},
    el("img", {src: "/large/" + m.id, alt: m.name, draggable: "false"}),
    el("p", {class: "label", text: `${m.keeper ? "keeper: " : ""}${m.name} \u00b7 ${m.width}\u00d7${m.height} \u00b7 ${bytes(m.bytes)}`}))));
  document.getElementById("viewer-title").textContent = view.compare ? "Compare" : members[view.index].path;
  document.getElementById("viewer-details").href = `#/photo/${members[view.index].id}`;
  applyZoom();
}

function applyZoom() {
  for (const img of document.querySelectorAll("#panes img")) {
    img.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
  }
}

function setupViewer() {
  const panes = document.getElementById("panes");
  panes.addEventListener("wheel", (e) => {
    e.preventDefault();
    view.scale = Math.min(16, Math.max(1, view.scale * (e.deltaY < 0 ? 1.25 : 0.8)));
    if (view.scale === 1) { view.x = 0; view.y = 0; }
    applyZoom();
  }, {passive: false});
  let drag = null;
  panes.addEventListener("pointerdown", (e) => { drag = {x: e.clientX - view.x, y: e.clientY - view.y}; });
  window.addEventListener("pointerup", () => { drag = null; });
  panes.addEventListener("pointermove", (e) => {
    if (!drag) return;
    view.x = e.clientX - drag.x; view.y = e.clientY - drag.y;
    applyZoom();
  });
  document.getElementById("viewer-close").addEventListener("click", closeViewer);
  document.getElementById("viewer-details").addEventListener("click", closeViewer);
  document.getElementById("viewer-compare").addEventListener("click", () => { view.compare = !view.compare; drawViewer(); });
}

// -- photo, clusters --------------------------------------------------------------------------
async function showPhoto(id) {
  const data = await api("GET", `/api/photo/${id}`);
  const p = data.photo;
  const facts = el("div", {class: "details"},
    el("h2", {text: p.name}),
    el("p", {class: "folder", text: p.path}),
    el("p", {text: `${p.width}\u00d7${p.height} \u00b7 ${bytes(p.bytes)} \u00b7 ${p.taken || "no date"} \u00b7 ${p.format}`}),
    data.group ? el("p", {}, el("a", {href: `#/group/${data.group}`, class: "to-group", text: "Its duplicate group \u2192"})) :
      el("p", {text: "In no duplicate group left to decide."}),
    data.cluster !== null && data.cluster !== undefined ?
      el("p", {}, el("a", {href: `#/cluster/${data.cluster}`, text: `Cluster ${data.cluster} \u2192`})) : null);
  const similar = el("div", {class: "sheet"}, ...data.similar.map((m) => el("a", {href: `#/photo/${m.id}`, class: "cell"},
    thumb(m.id, m.name), el("span", {text: `${m.score.toFixed(3)} \u00b7 ${m.name}`}))));
  main.replaceChildren(el("div", {class: "photo-page"},
    el("img", {class: "large", src: "/large/" + id, alt: p.name}), facts),
    el("h2", {text: "Similar photos"}), similar);
}

async function showClusters(page) {
  const data = await api("GET", `/api/clusters?page=${page}`);
  main.replaceChildren(el("p", {class: "total", text: `${data.total} cluster(s) of ${data.photos} photos, largest first`}));
  for (const c of data.clusters) {
    main.append(el("section", {class: "cluster"},
      el("h2", {}, el("a", {href: `#/cluster/${c.label}`, text: c.noise ? `Noise (${c.size} photos)` : `Cluster ${c.label} \u00b7 ${c.size} photos`})),
      el("div", {class: "sheet"}, ...c.photos.map((m) => el("a", {href: `#/photo/${m.id}`, class: "cell"}, thumb(m.id, m.name))))));
  }
  const nav = pager(data.page, data.pages, "#/clusters");
  if (nav) main.append(nav);
}

async function showCluster(label, page) {
  const data = await api("GET", `/api/cluster/${encodeURIComponent(label)}?page=${page}`);
  main.replaceChildren(el("h2", {text: `Cluster ${label} \u00b7 ${data.total} photos`}),
    el("div", {class: "sheet"}, ...data.photos.map((m) => el("a", {href: `#/photo/${m.id}`, class: "cell"},
      thumb(m.id, m.name), el("span", {text: m.name})))));
  const nav = pager(data.page, data.pages, `#/cluster/${label}`);
  if (nav) main.append(nav);
}

// -- routing and keys -------------------------------------------------------------------------
async function route() {
  const [path, query] = (location.hash.slice(1) || "/dupes").split("?");
  const page = Number(new URLSearchParams(query || "").get("page")) || 1;
  const parts = path.split("/").filter(Boolean);
  state.view = parts[0];
  document.querySelectorAll("header nav a").forEach((a) => a.classList.toggle("current", a.dataset.view === parts[0]));
  try {
    if (parts[0] in VIEWS) await showGroups(parts[0], page);
    else if (parts[0] === "group") await showGroup(parts[1]);
    else if (parts[0] === "photo") await showPhoto(parts[1]);
    else if (parts[0] === "clusters") await showClusters(page);
    else if (parts[0] === "cluster") await showCluster(parts[1], page);
    else location.hash = "#/dupes";
  } catch (error) {
    main.replaceChildren(el("p", {class: "empty", text: error.message}));
  }
}

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest("input, textarea, dialog[open]")) return;
  const viewer = !document.getElementById("viewer").hidden;
  const key = e.key;
  if (key === "Escape") { closeViewer(); document.getElementById("help").hidden = true; return; }
  if (viewer) {
    if (key === "c" || key === "C") { view.compare = !view.compare; drawViewer(); }
    else if (key === "0") { Object.assign(view, {scale: 1, x: 0, y: 0}); applyZoom(); }
    else if (key === "+" || key === "=") { view.scale = Math.min(16, view.scale * 1.25); applyZoom(); }
    else if (key === "-") { view.scale = Math.max(1, view.scale * 0.8); applyZoom(); }
    return;
  }
  if (key === "?") { document.getElementById("help").hidden = false; return; }
  if (key === "u" || key === "U") { undo(); return; }
  const grouped = state.view in VIEWS || state.view === "group";
  if (!grouped) return;
  const group = state.groups[state.focus];
  if (key === "a" || key === "A") bulk();
  else if (key === "]" || key === "[") {
    location.hash = `#/${state.view}?page=${Math.max(1, state.page + (key === "]" ? 1 : -1))}`;
  } else if (!group) return;
  else if (key === "j" || key === "ArrowDown") setFocus(state.focus + 1);
  else if (key === "k" || key === "ArrowUp") setFocus(state.focus - 1);
  else if (key === "Enter") decide(group, "keep");
  else if (key === "n" || key === "N") decide(group, "ignore");
  else if (key === "s" || key === "S") skip(group);
  else if (key === "v" || key === "V") openViewer(group, 0);
  else if (key === "c" || key === "C") openViewer(group, 1, true);
  else if (/^[1-9]$/.test(key) && Number(key) <= group.members.length) decide(group, "keep", group.members[Number(key) - 1].id);
  else return;
  e.preventDefault();
}

document.getElementById("bulk").addEventListener("click", bulk);
document.getElementById("undo").addEventListener("click", undo);
document.getElementById("help-button").addEventListener("click", () => { document.getElementById("help").hidden = false; });
document.getElementById("help-close").addEventListener("click", () => { document.getElementById("help").hidden = true; });
document.addEventListener("keydown", onKey);
window.addEventListener("hashchange", () => { state.focus = 0; route(); });
setupViewer();
route();
