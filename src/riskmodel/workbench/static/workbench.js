// The workbench's instant parts (no framework, no build step; served from workbench/static):
// the consistency ratio while an expert chooses judgements, saving them, weight edits that post
// to JSON endpoints and re-render the ranks table, the bump chart and the map, rank intervals,
// "what would it take", saving weight sets, and clicks on map areas (to the area's page).
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  const $$ = (sel) => Array.from(document.querySelectorAll(sel));
  const csrf = () => ($('meta[name="csrf-token"]') || {}).content || "";
  const lang = document.body.dataset.lang || "zh";
  const T = (zh, en) => (lang === "zh" ? zh : en);

  async function post(url, body) {
    const resp = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()},
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await resp.json(); } catch (e) { data = {error: resp.statusText}; }
    if (!resp.ok) { throw new Error(data.error || resp.statusText); }
    return data;
  }
  function status(el, text, isError) {
    if (!el) { return; }
    el.textContent = text;
    el.classList.toggle("error", !!isError);
  }

  // ---- map clicks: every path with data-area-id opens that area's page
  function wireMaps(root) {
    (root || document).querySelectorAll('.map-holder[data-clickable] [data-area-id]').forEach((el) => {
      el.addEventListener("click", () => {
        window.location.href = "/area/" + encodeURIComponent(el.getAttribute("data-area-id"));
      });
    });
  }
  wireMaps(document);

  // ---- pairwise judgements: CR at once
  const form = $("#pairwise");
  function judgements() {
    const out = {};
    $$("#pairwise select.judgement").forEach((s) => {
      out[s.dataset.row + "|" + s.dataset.col] = s.value;
    });
    return out;
  }
  function valueOf(s) { return parseFloat(s.options[s.selectedIndex].dataset.value); }
  function recompute() {
    if (!form) { return; }
    const kids = JSON.parse(form.dataset.children);
    const n = kids.length;
    const upper = [];
    const idx = {};
    kids.forEach((k, i) => { idx[k] = i; });
    const A = [];
    for (let i = 0; i < n; i++) { A.push(new Array(n).fill(1)); }
    $$("#pairwise select.judgement").forEach((s) => {
      const i = idx[s.dataset.row], j = idx[s.dataset.col], v = valueOf(s);
      A[i][j] = v; A[j][i] = 1 / v; upper.push(v);
    });
    const res = window.RiskmodelAHP.consistency(A, form.dataset.method);
    $("#cr-browser").textContent = res.cr.toFixed(4);
    $("#cr-browser").dataset.value = String(res.cr);
    const ok = res.cr < window.RiskmodelAHP.CR_LIMIT;
    const verdict = $("#cr-verdict");
    verdict.textContent = ok ? T("可接受（CR < 0.1）", "acceptable (CR < 0.1)") : T("不可接受（CR ≥ 0.1）：请重新考虑", "not acceptable (CR >= 0.1): revisit");
    verdict.className = ok ? "ok" : "bad";
    const rv = $("#revisit");
    if (!ok && res.revisit) {
      const a = kids[res.revisit.i], b = kids[res.revisit.j];
      const sel = document.getElementById("j-" + a + "-" + b);
      const names = JSON.parse(form.dataset.names || "{}");
      const label = (code) => names[code] || code;
      rv.hidden = false;
      rv.textContent = T("建议重新考虑的判断", "Judgement to revisit") + ": (" + label(a) + ", " + label(b) + ") = "
        + (sel ? sel.value : "") + "; " + T("其他判断隐含", "the others imply") + " " + res.revisit.implied.toPrecision(3)
        + ", " + T("最接近的 Saaty 值", "nearest Saaty value") + " " + fmtSaaty(res.revisit.saaty);
      $$("#pairwise select.judgement").forEach((s) => s.classList.toggle("revisit-me", s === sel));
    } else {
      rv.hidden = true;
      rv.textContent = "";
      $$("#pairwise select.judgement").forEach((s) => s.classList.remove("revisit-me"));
    }
    $("#jweights").textContent = kids.map((k, i) => k + " " + res.weights[i].toFixed(3)).join(" · ");
    $("#cr-server").textContent = "–";
    delete $("#cr-server").dataset.value;
    status($("#save-status"), "");
  }
  function fmtSaaty(v) { return v >= 1 ? String(Math.round(v)) : "1/" + Math.round(1 / v); }
  if (form) {
    $$("#pairwise select.judgement").forEach((s) => s.addEventListener("change", recompute));
    $$("#pairwise select.judgement").forEach((s) => s.addEventListener("input", recompute));
    recompute();
    $("#save-judgements").addEventListener("click", async () => {
      const st = $("#save-status");
      const expert = ($("#expert") || {}).value || "";
      if (!expert.trim()) { status(st, T("请填写专家姓名", "enter the expert's name"), true); return; }
      status(st, T("保存中…", "Saving..."));
      try {
        const res = await post("/api/judgements", {expert: expert, parent: form.dataset.parent, judgements: judgements()});
        $("#cr-server").textContent = res.cr.toFixed(4);
        $("#cr-server").dataset.value = String(res.cr);
        status(st, T("已保存，版本 ", "Saved, version ") + res.version);
      } catch (e) { status(st, e.message, true); }
    });
  }

  // ---- weight edits: new ranks, bump chart and map at once
  const wInputs = $$("input.w");
  function weights() {
    const out = {};
    wInputs.forEach((el) => { out[el.dataset.code] = el.value; });
    return out;
  }
  let pending = null, seq = 0;
  async function updateRanks() {
    const my = ++seq;
    const st = $("#ranks-status");
    const t0 = performance.now();
    status(st, T("计算中…", "Working..."));
    try {
      const res = await post("/api/ranks", {weights: weights()});
      if (my !== seq) { return; }
      $("#ranks").innerHTML = res.table;
      $("#bump").innerHTML = res.bump;
      $("#map").innerHTML = res.map;
      wireMaps($("#map").parentNode);
      // the time until the new ranks are painted (the frame after the update), for the status line and tests
      requestAnimationFrame(() => setTimeout(() => {
        const ms = Math.round(performance.now() - t0);
        document.body.dataset.ranksMs = String(ms);
        document.body.dataset.ranksSeq = String(my);
        status(st, T("排名已更新", "Ranks updated") + " (" + ms + " ms)");
      }, 0));
      // then the effective weights of the weights shown (slower: the whole tree)
      const eff = await post("/api/effective", {weights: weights()});
      if (my !== seq) { return; }
      $$("#weights-table td.eff").forEach((td) => {
        const v = eff[td.dataset.code];
        if (v !== undefined) { td.textContent = Number(v).toFixed(4); }
      });
    } catch (e) { if (my === seq) { status(st, e.message, true); } }
  }
  function schedule() { clearTimeout(pending); pending = setTimeout(updateRanks, 150); }
  wInputs.forEach((el) => el.addEventListener("input", schedule));
  function fill(map) {
    wInputs.forEach((el) => { if (map[el.dataset.code] !== undefined) { el.value = Number(map[el.dataset.code]).toFixed(4); } });
    schedule();
  }
  const committee = $("#committee-weights"), current = $("#current-weights");
  if ($("#use-committee")) { $("#use-committee").addEventListener("click", () => fill(JSON.parse(committee.textContent))); }
  if ($("#reset-weights")) { $("#reset-weights").addEventListener("click", () => fill(JSON.parse(current.textContent))); }

  if ($("#intervals-btn")) {
    $("#intervals-btn").addEventListener("click", async () => {
      const st = $("#intervals-status");
      status(st, T("计算中…", "Working..."));
      const t0 = performance.now();
      try {
        const res = await post("/api/intervals", {weights: weights()});
        $("#intervals").innerHTML = res.table;
        status(st, Math.round(performance.now() - t0) + " ms");
      } catch (e) { status(st, e.message, true); }
    });
  }
  if ($("#swap-btn")) {
    $("#swap-btn").addEventListener("click", async () => {
      try {
        const res = await post("/api/swap", {a: $("#swap-a").value, b: $("#swap-b").value, weights: weights()});
        $("#swap-message").textContent = res.message;
        $("#swap-message").classList.remove("error");
        $("#swap-result").innerHTML = res.table;
      } catch (e) { $("#swap-message").textContent = e.message; $("#swap-message").classList.add("error"); }
    });
  }
  if ($("#save-set")) {
    $("#save-set").addEventListener("click", async () => {
      const st = $("#set-status");
      try {
        const res = await post("/api/weightsets", {name: $("#set-name").value, method: $("#set-method").value,
          note: $("#set-note").value, weights: weights()});
        status(st, T("已保存：", "Saved: ") + res.name + " v" + res.version);
      } catch (e) { status(st, e.message, true); }
    });
  }
})();
