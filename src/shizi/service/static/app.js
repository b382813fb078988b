// shizi web page: upload a file to POST v1/ocr, draw the line boxes over the page image (SVG),
// list the text beside it; click a line to highlight its box. Plain JS, no build step.
"use strict";

(function () {
  const $ = (sel) => document.querySelector(sel);
  const SVG = "http://www.w3.org/2000/svg";
  const state = { file: null, result: null, text: "", busy: false };

  const fileInput = $("#file");
  const drop = $("#drop");
  const status = $("#status");

  function setStatus(msg, kind) {
    status.textContent = msg || "";
    status.className = kind || "";
  }

  function stem(name) {
    const base = (name || "shizi").split(/[\\/]/).pop();
    const i = base.lastIndexOf(".");
    return (i > 0 ? base.slice(0, i) : base) || "shizi";
  }

  function params(extra) {
    const q = new URLSearchParams(extra || {});
    const det = $("#det").value, rec = $("#rec").value, dpi = $("#dpi").value;
    if (det && det !== $("#det").dataset.default) q.set("det", det);
    if (rec && rec !== $("#rec").dataset.default) q.set("rec", rec);
    if (dpi) q.set("dpi", dpi);
    return q.toString();
  }

  async function post(query) {
    const form = new FormData();
    form.append("file", state.file, state.file.name || "upload");
    const resp = await fetch("v1/ocr?" + query, { method: "POST", body: form });
    if (!resp.ok) {
      let msg = resp.status + " " + resp.statusText;
      try {
        const j = await resp.json();
        if (j && j.error) msg = j.error + " (" + resp.status + ")";
      } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    return resp;
  }

  // ------------------------------------------------------------------ models and limits

  async function loadModels() {
    try {
      const resp = await fetch("v1/models");
      const m = await resp.json();
      for (const [id, task, key] of [["#det", "detection", "detector"], ["#rec", "recognition", "recognizer"]]) {
        const sel = $(id);
        sel.innerHTML = "";
        sel.dataset.default = (m.defaults && m.defaults[key]) || "";
        for (const model of m[task] || []) {
          const o = document.createElement("option");
          o.value = model.name;
          o.textContent = model.name + (model.name === sel.dataset.default ? " (默认 default)" : "");
          if (model.name === sel.dataset.default) o.selected = true;
          sel.appendChild(o);
        }
      }
      if (m.limits) {
        const L = m.limits;
        $("#dpi").value = L.dpi;
        $("#dpi").min = L.min_dpi;
        $("#dpi").max = L.max_dpi;
        $("#limits").textContent =
          "限制 Limits: " + (L.max_upload_bytes / 1048576).toFixed(0) + " MB, " +
          (L.max_pixels / 1e6).toFixed(0) + " MP / page, " + L.max_pages + " pages, " + L.timeout_s + " s";
      }
    } catch (e) {
      setStatus("无法读取模型列表 Cannot list models: " + e.message, "error");
    }
  }

  // ------------------------------------------------------------------ reading

  async function run(file) {
    if (!file || state.busy) return;
    state.file = file;
    state.busy = true;
    setStatus("识别中… Reading " + file.name + " …", "busy");
    const t0 = performance.now();
    try {
      const resp = await post(params({ format: "json", include: "text,images" }));
      const result = await resp.json();
      state.result = result;
      state.text = result.text || "";
      render(result);
      const n = result.pages.reduce((a, p) => a + p.lines.length, 0);
      const secs = ((performance.now() - t0) / 1000).toFixed(2);
      setStatus("完成 Done: " + n + " 行 lines, " + result.pages.length + " 页 page(s), " + secs + " s", "done");
    } catch (e) {
      // the previous file's result must not stay on the page as if it were this file's
      state.result = null;
      state.text = "";
      $("#result").hidden = true;
      setStatus("出错 Error: " + e.message, "error");
    } finally {
      state.busy = false;
    }
  }

  function render(result) {
    const pages = $("#pages");
    const list = $("#lines");
    pages.innerHTML = "";
    list.innerHTML = "";
    let total = 0;
    result.pages.forEach((page, p) => {
      const div = document.createElement("div");
      div.className = "page";
      div.dataset.page = String(p);
      const img = document.createElement("img");
      img.alt = "page " + (p + 1);
      if (page.image) img.src = page.image;
      img.width = page.width;
      img.height = page.height;
      div.appendChild(img);
      const svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("viewBox", "0 0 " + page.width + " " + page.height);
      svg.setAttribute("preserveAspectRatio", "none");
      div.appendChild(svg);
      if (result.pages.length > 1) {
        const lab = document.createElement("span");
        lab.className = "label";
        lab.textContent = "第 " + (p + 1) + " 页 · page " + (p + 1);
        div.appendChild(lab);
        const head = document.createElement("li");
        head.className = "page-head";
        head.textContent = "第 " + (p + 1) + " 页 · Page " + (p + 1);
        list.appendChild(head);
      }
      page.lines.forEach((line, i) => {
        const id = p + "-" + i;
        const poly = document.createElementNS(SVG, "polygon");
        poly.setAttribute("points", line.polygon.map((pt) => pt[0] + "," + pt[1]).join(" "));
        poly.setAttribute("class", "box");
        poly.dataset.line = id;
        const title = document.createElementNS(SVG, "title");
        title.textContent = line.text;
        poly.appendChild(title);
        poly.addEventListener("click", () => select(id, "list"));
        svg.appendChild(poly);

        const li = document.createElement("li");
        li.className = "line" + (i > 0 && line.block !== page.lines[i - 1].block ? " new-block" : "");
        li.dataset.line = id;
        li.tabIndex = 0;
        const num = document.createElement("span");
        num.className = "num";
        num.textContent = String(i + 1);
        const text = document.createElement("span");
        text.className = "text";
        text.textContent = line.text;
        const conf = document.createElement("span");
        conf.className = "conf" + (line.confidence < 0.5 ? " low" : "");
        conf.textContent = Math.round(line.confidence * 100) + "%";
        li.append(num, text, conf);
        li.addEventListener("click", () => select(id, "page"));
        li.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(id, "page"); } });
        list.appendChild(li);
        total++;
      });
      pages.appendChild(div);
    });
    if (!total) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = "没有找到文字 · No text found";
      list.appendChild(li);
    }
    $("#summary").textContent = (result.file || "") + " — " + total + " 行 lines";
    $("#result").hidden = false;
  }

  function select(id, reveal) {
    document.querySelectorAll(".active").forEach((el) => el.classList.remove("active"));
    const poly = document.querySelector('polygon.box[data-line="' + id + '"]');
    const li = document.querySelector('li.line[data-line="' + id + '"]');
    if (poly) {
      poly.classList.add("active");
      poly.parentNode.appendChild(poly); // draw on top
    }
    if (li) li.classList.add("active");
    const target = reveal === "page" ? poly : li;
    if (target && target.scrollIntoView) target.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  // ------------------------------------------------------------------ copy / download

  function download(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function plainRecord() {
    // the jsonl-shaped record, without the page images and text added for this page
    const r = state.result;
    return {
      file: r.file,
      pages: r.pages.map((p) => ({
        index: p.index, width: p.width, height: p.height, rotation: p.rotation, blocks: p.blocks, lines: p.lines,
      })),
    };
  }

  async function copyText() {
    try {
      await navigator.clipboard.writeText(state.text);
    } catch (e) {
      const ta = document.createElement("textarea");
      ta.value = state.text;
      document.body.appendChild(ta);
      ta.select();
      document.execCommand("copy");
      ta.remove();
    }
    setStatus("已复制 Copied " + state.text.length + " 字符 characters", "done");
  }

  async function downloadPdf(btn) {
    if (!state.file) return;
    btn.disabled = true;
    setStatus("生成 PDF… Making the searchable PDF …", "busy");
    try {
      const resp = await post(params({ format: "pdf" }));
      download(await resp.blob(), stem(state.file.name) + ".pdf");
      setStatus("PDF 已下载 · PDF downloaded", "done");
    } catch (e) {
      setStatus("出错 Error: " + e.message, "error");
    } finally {
      btn.disabled = false;
    }
  }

  // ------------------------------------------------------------------ wiring

  fileInput.addEventListener("change", () => run(fileInput.files[0]));
  ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (ev) => { ev.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    ev.stopPropagation();
    const f = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
    if (f) run(f);
  });
  document.addEventListener("dragover", (ev) => ev.preventDefault());
  document.addEventListener("drop", (ev) => {
    ev.preventDefault();
    const f = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
    if (f) run(f);
  });
  $("#try-sample").addEventListener("click", async () => {
    try {
      const resp = await fetch("sample.png");
      if (!resp.ok) throw new Error(resp.status + " " + resp.statusText);
      run(new File([await resp.blob()], "sample.png", { type: "image/png" }));
    } catch (e) {
      setStatus("出错 Error: " + e.message, "error");
    }
  });
  $("#copy").addEventListener("click", copyText);
  $("#dl-txt").addEventListener("click", () =>
    download(new Blob([state.text], { type: "text/plain;charset=utf-8" }), stem(state.file.name) + ".txt"));
  $("#dl-json").addEventListener("click", () =>
    download(new Blob([JSON.stringify(plainRecord(), null, 2)], { type: "application/json" }),
      stem(state.file.name) + ".json"));
  $("#dl-pdf").addEventListener("click", (ev) => downloadPdf(ev.currentTarget));

  loadModels();
})();
