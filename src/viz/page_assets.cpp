// The inline CSS and JavaScript of heed's HTML pages, kept here as raw strings so that a page is
// one self-contained file. Plain ES2017 (const/let, arrow functions, template strings), no library.
#include "page_assets.h"

namespace heed::viz::detail {

const std::string_view kPageCss = R"css(
:root { --ink: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --accent: #3b528b; --shade: 230, 85, 13; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
       color: var(--ink); background: #fafafa; }
header { padding: 14px 20px 8px; border-bottom: 1px solid var(--line); background: #fff; }
header h1 { margin: 0 0 4px; font-size: 19px; }
.notes { margin: 0; color: var(--muted); font-size: 12.5px; }
.notes span + span::before { content: " · "; }
main { padding: 12px 20px 40px; }
.bar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 6px 0; }
.bar label { color: var(--muted); }
select, button { font: inherit; }
select { max-width: 60ch; }
button { border: 1px solid var(--line); background: #fff; border-radius: 4px; padding: 2px 9px; cursor: pointer; }
button:hover { border-color: var(--accent); }
button.on { background: var(--accent); border-color: var(--accent); color: #fff; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
.texts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 12px; }
.texts .tag { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; padding-top: 2px; }
.texts code { font-size: 12.5px; }
h2 { font-size: 15px; margin: 4px 0 8px; }
.tabs { display: flex; gap: 4px; flex-wrap: wrap; margin-bottom: 8px; }
.viewer { display: flex; gap: 18px; align-items: flex-start; flex-wrap: wrap; }
.overview { display: grid; gap: 3px; align-items: center; font-size: 11px; color: var(--muted); }
.overview button.thumb { padding: 1px; border-radius: 2px; line-height: 0; border: 2px solid transparent; background: #fff; }
.overview button.thumb.on { border-color: #e6550d; background: #fff; }
.overview canvas { image-rendering: pixelated; }
.detail { min-width: 320px; }
.caption { color: var(--muted); font-size: 12.5px; margin: 4px 0; }
.warn { color: #a84300; }
.plot { position: relative; display: inline-block; }
.plot canvas { display: block; }
.plot canvas.overlay { position: absolute; left: 0; top: 0; cursor: crosshair; }
.tooltip { position: absolute; pointer-events: none; background: rgba(20, 20, 24, .92); color: #fff;
           padding: 4px 8px; border-radius: 4px; font-size: 12.5px; white-space: pre; display: none; z-index: 2; }
.prediction { font-size: 16px; margin-bottom: 6px; }
.prediction .label { font-weight: 600; }
.classes { display: grid; grid-template-columns: max-content 160px max-content; gap: 2px 8px; align-items: center; font-size: 12.5px; }
.classes .track { height: 10px; background: #eceef1; border-radius: 2px; overflow: hidden; }
.classes .fill { height: 100%; background: var(--accent); }
.classes .best { font-weight: 600; }
.shaded { line-height: 2.0; font-size: 15px; margin: 6px 0; }
.shaded .tok { border-radius: 3px; padding: 1px 0; }
.sentences { display: grid; grid-template-columns: 90px max-content 1fr; gap: 2px 10px; align-items: center; }
.sentences .track { height: 10px; background: #eceef1; border-radius: 2px; overflow: hidden; }
.sentences .fill { height: 100%; background: var(--accent); }
.sentences .value { font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }
.sentences .shaded { margin: 0; }
.legend { color: var(--muted); font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 14px; }
.charts figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 6px; }
.kbd { font-size: 11.5px; color: var(--muted); }
)css";

const std::string_view kAttentionPageScript = R"js(
"use strict";
(() => {
  const statusEl = document.getElementById("heed-status");
  const fail = (message) => {
    statusEl.setAttribute("data-state", "error");
    statusEl.setAttribute("data-error", String(message));
  };
  window.addEventListener("error", (e) => fail(e.message || "error"));

  const data = JSON.parse(document.getElementById("heed-data").textContent);
  const lut = data.colormap.map((c) => [1, 3, 5].map((i) => parseInt(c.substr(i, 2), 16)));
  const FONT = "system-ui, 'DejaVu Sans', sans-serif";
  const WORD = "\u2581";
  const app = document.getElementById("app");
  const state = { example: 0, group: 0, layer: 0, head: -1, stretch: false, marks: false, bySentence: true };
  let drawn = null;   // what the current render drew (reset by render())
  const meanCache = new Map();

  // ---- small helpers
  const h = (tag, props, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  };
  const fmt = (v, d = 4) => (Number.isFinite(v) ? v.toFixed(d) : String(v));
  const truncate = (s, n) => { const a = Array.from(s); return a.length <= n ? s : a.slice(0, n - 1).join("") + "\u2026"; };
  const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
  const colour = (t) => lut[clamp(Math.round(t * (lut.length - 1)), 0, lut.length - 1) | 0];
  const shade = (alpha) => `rgba(var(--shade), ${clamp(alpha, 0, 1).toFixed(3)})`;

  const example = () => data.examples[state.example];
  const group = () => example().heatmaps[state.group];

  // Matrix of (layer, head) of a group; head -1 = mean of the heads (cached).
  const matrixOf = (g, layer, head) => {
    if (head >= 0) return g.values[layer][head];
    const key = `${state.example}/${g.id}/${layer}`;
    if (!meanCache.has(key)) {
      const heads = g.values[layer];
      const mean = new Float64Array(heads[0].length);
      for (const m of heads) for (let i = 0; i < m.length; ++i) mean[i] += m[i];
      for (let i = 0; i < mean.length; ++i) mean[i] /= heads.length;
      meanCache.set(key, mean);
    }
    return meanCache.get(key);
  };
  const maxOf = (m) => { let v = 0; for (let i = 0; i < m.length; ++i) if (m[i] > v) v = m[i]; return v; };
  const headsOf = (g) => (g.heads > 1 ? [-1].concat([...Array(g.heads).keys()]) : [0]);
  const headName = (g, head) => (head < 0 ? `mean of ${g.heads} heads` : g.heads > 1 ? `head ${head}` : "");

  // The matrix as an R × C image (one pixel per weight), scaled by the caller.
  const matrixImage = (m, R, C, vmax) => {
    const off = document.createElement("canvas");
    off.width = Math.max(C, 1); off.height = Math.max(R, 1);
    const ctx = off.getContext("2d");
    const img = ctx.createImageData(off.width, off.height);
    for (let i = 0; i < R * C; ++i) {
      const c = colour(m[i] / vmax);
      img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return off;
  };

  // Thumbnails are small enough for the overview to sit beside the large heatmap.
  const thumbSize = (g) => clamp(Math.floor(320 / headsOf(g).length), 32, 64);
  const overviewWidth = (g) => (g.layers.length * headsOf(g).length > 1 ? headsOf(g).length * (thumbSize(g) + 8) + 70 : 0);

  // ---- the large heatmap: labels, colour bar, hover readout, optional row-maximum marks
  const drawHeatmap = (g, m) => {
    const R = g.rows.length, C = g.cols.length;
    const vmax = state.stretch ? Math.max(maxOf(m), 1e-9) : 1;
    const n = Math.max(R, C, 1);
    const room = clamp((window.innerWidth || 1280) - 280 - overviewWidth(g), 360, 760);  // for the cells
    const cell = clamp(Math.floor(room / n), 2, 28);
    const labels = cell >= 7;
    const font = clamp(Math.round(cell * 0.72), 8, 13);
    const measure = document.createElement("canvas").getContext("2d");
    measure.font = `${font}px ${FONT}`;
    const rowText = g.rows.map((l) => truncate(l, 18)), colText = g.cols.map((l) => truncate(l, 18));
    const colWidths = colText.map((l) => measure.measureText(l).width);
    const rowW = labels ? Math.max(0, ...rowText.map((l) => measure.measureText(l).width)) : 0;
    const colW = labels ? Math.max(0, ...colWidths) : 0;
    const left = 8 + (g.row_title ? font + 10 : 0) + (labels ? rowW + 8 : 0);
    const top = 8 + (g.col_title ? font + 10 : 0) + (labels ? colW * Math.SQRT1_2 + font + 4 : 0);
    const W = C * cell, H = R * cell, barX = left + W + 22, barH = Math.max(H, 120);
    let right = barX + 14 + 8 + 7 * font * 0.6;
    if (labels) colWidths.forEach((w, c) => { right = Math.max(right, left + (c + 0.5) * cell + (w + font) * Math.SQRT1_2); });
    const width = Math.ceil(right + 8), height = Math.ceil(top + Math.max(H, barH) + font + 8);

    const dpr = window.devicePixelRatio || 1;
    const makeCanvas = (cls) => {
      const c = h("canvas", { class: cls });
      c.width = Math.round(width * dpr); c.height = Math.round(height * dpr);
      c.style.width = `${width}px`; c.style.height = `${height}px`;
      const ctx = c.getContext("2d");
      ctx.scale(dpr, dpr);
      return [c, ctx];
    };
    const [canvas, ctx] = makeCanvas("main");
    const [overlay, octx] = makeCanvas("overlay");
    Object.assign(overlay.dataset, { left, top, cell });
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, width, height);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(matrixImage(m, R, C, vmax), left, top, W, H);
    ctx.strokeStyle = "#888"; ctx.lineWidth = 1; ctx.strokeRect(left - 0.5, top - 0.5, W + 1, H + 1);

    ctx.fillStyle = "#222"; ctx.font = `${font}px ${FONT}`;
    if (labels) {
      ctx.textAlign = "right"; ctx.textBaseline = "middle";
      rowText.forEach((l, r) => ctx.fillText(l, left - 5, top + (r + 0.5) * cell));
      ctx.textAlign = "left";
      colText.forEach((l, c) => {
        ctx.save(); ctx.translate(left + (c + 0.5) * cell + font * 0.3, top - 5); ctx.rotate(-Math.PI / 4);
        ctx.fillText(l, 0, 0); ctx.restore();
      });
    }
    ctx.fillStyle = "#5f6368"; ctx.textAlign = "center"; ctx.textBaseline = "alphabetic";
    if (g.col_title) ctx.fillText(g.col_title, left + W / 2, 8 + font);
    if (g.row_title) {
      ctx.save(); ctx.translate(8 + font, top + H / 2); ctx.rotate(-Math.PI / 2); ctx.fillText(g.row_title, 0, 0); ctx.restore();
    }
    // Colour bar (vmax at the top) with five ticks.
    for (let i = 0; i < lut.length; ++i) {
      const c = lut[i];
      ctx.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`;
      ctx.fillRect(barX, top + barH * (1 - (i + 1) / lut.length), 14, barH / lut.length + 0.6);
    }
    ctx.strokeRect(barX - 0.5, top - 0.5, 15, barH + 1);
    ctx.fillStyle = "#222"; ctx.textAlign = "left"; ctx.textBaseline = "middle";
    for (let i = 0; i <= 4; ++i) {
      const y = top + barH * (1 - i / 4);
      ctx.fillRect(barX + 14, y - 0.5, 4, 1);
      ctx.fillText(fmt((vmax * i) / 4, vmax < 0.1 ? 4 : 2), barX + 21, y);
    }
    if (state.marks) {  // the argmax of each row (the hard alignment of cross-attention)
      ctx.lineWidth = Math.max(1, cell / 10);
      for (let r = 0; r < R; ++r) {
        let best = 0;
        for (let c = 1; c < C; ++c) if (m[r * C + c] > m[r * C + best]) best = c;
        if (C === 0) break;
        ctx.beginPath();
        ctx.arc(left + (best + 0.5) * cell, top + (r + 0.5) * cell, Math.max(1.5, cell * 0.22), 0, 2 * Math.PI);
        ctx.strokeStyle = "#fff"; ctx.stroke();
      }
    }
    drawn.views += 1; drawn.cells += R * C;

    const tip = h("div", { class: "tooltip" });
    const rowSums = g.complete_rows ? null : Array.from({ length: R }, (_, r) => { let s = 0; for (let c = 0; c < C; ++c) s += m[r * C + c]; return s; });
    overlay.addEventListener("mousemove", (e) => {
      const box = overlay.getBoundingClientRect();
      const x = e.clientX - box.left, y = e.clientY - box.top;
      const c = Math.floor((x - left) / cell), r = Math.floor((y - top) / cell);
      octx.clearRect(0, 0, width, height);
      if (r < 0 || r >= R || c < 0 || c >= C) { tip.style.display = "none"; return; }
      octx.strokeStyle = "rgba(255,255,255,.75)"; octx.lineWidth = 1;
      octx.strokeRect(left + 0.5, top + r * cell + 0.5, W - 1, cell - 1);
      octx.strokeRect(left + c * cell + 0.5, top + 0.5, cell - 1, H - 1);
      octx.strokeStyle = "#e6550d"; octx.lineWidth = 2;
      octx.strokeRect(left + c * cell, top + r * cell, cell, cell);
      if (labels) {
        octx.fillStyle = "rgba(255, 200, 0, .35)";
        octx.fillRect(left - 6 - rowW, top + r * cell, rowW + 4, cell);
        octx.save(); octx.translate(left + (c + 0.5) * cell + font * 0.3, top - 5); octx.rotate(-Math.PI / 4);
        octx.fillRect(-2, -font * 0.75, colWidths[c] + 4, font * 1.3); octx.restore();
      }
      let text = `${g.rows[r]} \u2192 ${g.cols[c]}\n${fmt(m[r * C + c])}`;
      if (rowSums) text += `   (row sum ${fmt(rowSums[r], 3)})`;
      tip.textContent = text;
      tip.style.display = "block";
      tip.style.left = `${Math.min(x + 14, width - 40)}px`;
      tip.style.top = `${y + 16}px`;
    });
    overlay.addEventListener("mouseleave", () => { octx.clearRect(0, 0, width, height); tip.style.display = "none"; });
    const save = h("a", { href: "#", download: "attention.png", text: "Save PNG" });
    save.addEventListener("click", () => { save.href = canvas.toDataURL("image/png"); });
    return h("div", null, h("div", { class: "plot" }, canvas, overlay, tip), h("div", { class: "kbd" }, save));
  };

  // ---- small multiples: one row per layer, one thumbnail per head (+ the mean)
  const drawOverview = (g, onPick) => {
    const R = g.rows.length, C = g.cols.length;
    const heads = headsOf(g);
    const grid = h("div", { class: "overview" });
    grid.style.gridTemplateColumns = `max-content repeat(${heads.length}, max-content)`;
    grid.append(h("span"));
    for (const head of heads) grid.append(h("span", { text: head < 0 ? "mean" : `h${head}` }));
    const size = thumbSize(g);
    const scale = Math.min(size / Math.max(C, 1), size / Math.max(R, 1));
    // Aspect kept, but no side under 45% of the size (a 6 × 40 map stays visible).
    const w = Math.max(Math.round(size * 0.45), Math.round(C * scale));
    const hh = Math.max(Math.round(size * 0.45), Math.round(R * scale));
    for (let layer = 0; layer < g.layers.length; ++layer) {
      grid.append(h("span", { text: g.layers.length > 1 ? `layer ${layer}` : "" }));
      for (const head of heads) {
        const m = matrixOf(g, layer, head);
        const vmax = Math.max(maxOf(m), 1e-9);
        const c = h("canvas");
        c.width = w; c.height = hh;
        const ctx = c.getContext("2d");
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(matrixImage(m, R, C, vmax), 0, 0, w, hh);
        const on = layer === state.layer && head === state.head;
        grid.append(h("button", { class: on ? "thumb on" : "thumb", title: `${g.layers[layer]} ${headName(g, head)}`,
                                  onclick: () => onPick(layer, head) }, c));
        drawn.thumbnails += 1;
      }
    }
    return grid;
  };

  // ---- the heatmap section of an example
  let viewerEl = null;
  const renderViewer = () => {
    const ex = example();
    if (!ex.heatmaps.length) return;
    const g = group();
    const tabs = h("div", { class: "tabs" }, ...ex.heatmaps.map((gr, i) =>
      h("button", { class: i === state.group ? "on" : "", onclick: () => { selectGroup(i); } , text: gr.title })));
    const layerBar = h("div", { class: "bar" }, h("label", { text: "Layer" }),
      ...g.layers.map((_, l) => h("button", { class: l === state.layer ? "on" : "", text: String(l), onclick: () => select(l, state.head) })));
    const headBar = h("div", { class: "bar" }, h("label", { text: "Head" }),
      ...headsOf(g).map((hd) => h("button", { class: hd === state.head ? "on" : "", text: hd < 0 ? "mean" : String(hd), onclick: () => select(state.layer, hd) })));
    const checkbox = (label, key) => h("label", null,
      h("input", Object.assign({ type: "checkbox", onchange: (e) => { state[key] = e.target.checked; renderViewer(); } }, state[key] ? { checked: "" } : {})), ` ${label}`);
    const options = h("div", { class: "bar" }, checkbox("stretch colours to the maximum", "stretch"), checkbox("mark row maxima", "marks"));
    const m = matrixOf(g, state.layer, state.head);
    let caption = `${g.layers[state.layer]}${g.heads > 1 ? " \u00b7 " + headName(g, state.head) : ""} \u2014 rows: ${g.row_title}, columns: ${g.col_title}`;
    const captionEl = h("div", { class: "caption", text: caption });
    if (!g.complete_rows) captionEl.append(h("span", { class: "warn", text: " \u00b7 special tokens hidden: rows sum to \u2264 1" }));
    const detail = h("div", { class: "detail" }, g.layers.length > 1 ? layerBar : null, g.heads > 1 ? headBar : null, options, captionEl, drawHeatmap(g, m),
      h("div", { class: "kbd", text: "keys: \u2190 \u2192 head, \u2191 \u2193 layer, [ ] example" }));
    const showOverview = g.layers.length * headsOf(g).length > 1;
    const overview = showOverview ? h("div", null, h("div", { class: "caption", text: "All heads (each coloured up to its own maximum); click one to enlarge it" }), drawOverview(g, select)) : null;
    const content = h("div", { class: "viewer" }, detail, overview);
    const section = h("section", { class: "card" }, h("h2", { text: "Attention heatmaps" }), tabs, content);
    if (viewerEl) viewerEl.replaceWith(section);
    viewerEl = section;
    return section;
  };

  // ---- classification: prediction, shaded text, sentences
  const tokenSpans = (labels, weights, scale, maxShade) => {
    const p = h("p", { class: "shaded" });
    labels.forEach((label, i) => {
      let text = label;
      if (text.startsWith(WORD)) { text = text.slice(1); if (i > 0) p.append(" "); }
      else if (data.unit === "words" && i > 0) p.append(" ");
      const span = h("span", { class: "tok", title: `${label}: ${fmt(weights[i])}`, text: text || " " });
      span.style.background = shade((scale * weights[i]) / maxShade);
      p.append(span);
      drawn.tokens += 1;
    });
    return p;
  };

  let pooledEl = null;
  const renderPooling = () => {
    const ex = example();
    if (!ex.token_weights.length) return null;
    const han = ex.sentence_weights.length > 0;
    const scaleOf = (i) => (han && state.bySentence ? ex.sentence_weights[i] : 1);
    let maxShade = 0;
    ex.token_weights.forEach((tw, i) => tw.weights.forEach((w) => { maxShade = Math.max(maxShade, scaleOf(i) * w); }));
    if (maxShade <= 0) maxShade = 1;
    const body = [];
    if (han) {
      const list = h("div", { class: "sentences" });
      ex.token_weights.forEach((tw, i) => {
        const sw = ex.sentence_weights[i];
        const fill = h("div", { class: "fill" }); fill.style.width = `${clamp(sw, 0, 1) * 100}%`;
        list.append(h("div", { class: "track", title: `sentence ${i + 1}: ${fmt(sw)}` }, fill),
                    h("span", { class: "value", text: fmt(sw, 3) }), tokenSpans(tw.labels, tw.weights, scaleOf(i), maxShade));
        drawn.sentences += 1;
      });
      body.push(list);
      body.push(h("label", { class: "legend" }, h("input", Object.assign({ type: "checkbox", onchange: (e) => { state.bySentence = e.target.checked; renderPooling(); } }, state.bySentence ? { checked: "" } : {})),
        " shade words by sentence weight \u00d7 word weight (else by word weight alone)"));
    } else {
      body.push(tokenSpans(ex.token_weights[0].labels, ex.token_weights[0].weights, 1, maxShade));
    }
    body.push(h("div", { class: "legend", text: `Shading: attention weight \u00f7 the largest shown (${fmt(maxShade)}). Hover a token for its weight.` }));
    const section = h("section", { class: "card" }, h("h2", { text: han ? "Sentence and word attention" : "Attention pooling" }), ...body);
    if (pooledEl) pooledEl.replaceWith(section);
    pooledEl = section;
    return section;
  };

  const renderPrediction = (ex) => {
    const cl = ex.classes;
    if (!cl || !cl.names.length) return null;
    const best = cl.predicted;
    const head = h("div", { class: "prediction" }, "Predicted ", h("span", { class: "label", text: cl.names[best] }),
      ` \u00b7 ${(100 * cl.probabilities[best]).toFixed(1)}%`,
      cl.gold >= 0 ? h("span", { class: cl.gold === best ? "" : "warn", text: ` \u00b7 gold: ${cl.names[cl.gold]}${cl.gold === best ? " \u2713" : " \u2717"}` }) : null);
    const bars = h("div", { class: "classes" });
    cl.names.forEach((name, i) => {
      const fill = h("div", { class: "fill" }); fill.style.width = `${clamp(cl.probabilities[i], 0, 1) * 100}%`;
      bars.append(h("span", { class: i === best ? "best" : "", text: name }), h("div", { class: "track" }, fill),
                  h("span", { text: fmt(cl.probabilities[i], 3) }));
    });
    return h("section", { class: "card" }, head, bars);
  };

  // ---- the whole page for the current example
  const render = () => {
    drawn = { views: 0, cells: 0, thumbnails: 0, tokens: 0, sentences: 0 };
    const ex = example();
    app.textContent = "";
    viewerEl = null; pooledEl = null;
    if (data.examples.length > 1) {
      const select = h("select", { onchange: (e) => selectExample(Number(e.target.value)) },
        ...data.examples.map((x, i) => {
          const o = h("option", { value: String(i), text: `${i + 1}. ${truncate(x.input, 70)}` });
          if (i === state.example) o.selected = true;
          return o;
        }));
      app.append(h("div", { class: "bar" }, h("label", { text: "Example" }), select,
        h("button", { text: "\u25c0", title: "previous ([)", onclick: () => selectExample(state.example - 1) }),
        h("button", { text: "\u25b6", title: "next (])", onclick: () => selectExample(state.example + 1) }),
        h("span", { class: "legend", text: `${state.example + 1} of ${data.examples.length}` })));
    }
    const texts = h("div", { class: "texts" });
    const row = (tag, value, code) => texts.append(h("span", { class: "tag", text: tag }), code ? h("code", { text: value }) : h("span", { text: value }));
    row("input", ex.input);
    if (ex.output) row("output", ex.output);
    if (ex.alignment) row("alignment", ex.alignment, true);
    app.append(h("section", { class: "card" }, texts));
    const prediction = renderPrediction(ex);
    if (prediction) app.append(prediction);
    const pooled = renderPooling();
    if (pooled) app.append(pooled);
    const viewer = renderViewer();
    if (viewer) app.append(viewer);
  };

  const select = (layer, head) => {
    const g = group();
    state.layer = clamp(layer, 0, g.layers.length - 1);
    state.head = g.heads > 1 ? clamp(head, -1, g.heads - 1) : 0;
    renderViewer();
  };
  const selectGroup = (i) => {
    state.group = i;
    const g = group();
    state.layer = Math.min(state.layer, g.layers.length - 1);
    state.head = g.heads > 1 ? -1 : 0;
    renderViewer();
  };
  const selectExample = (i) => {
    state.example = (i + data.examples.length) % data.examples.length;
    const ex = example();
    state.group = 0; state.layer = 0;
    state.head = ex.heatmaps.length && ex.heatmaps[0].heads > 1 ? -1 : 0;
    render();
  };

  document.addEventListener("keydown", (e) => {
    if (e.target && ["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName)) return;
    const ex = example();
    if (e.key === "[" || e.key === "]") { selectExample(state.example + (e.key === "]" ? 1 : -1)); return; }
    if (!ex.heatmaps.length) return;
    const g = group();
    if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      const heads = headsOf(g), i = heads.indexOf(state.head), d = e.key === "ArrowRight" ? 1 : -1;
      select(state.layer, heads[(i + d + heads.length) % heads.length]);
    } else if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      select((state.layer + (e.key === "ArrowDown" ? 1 : -1) + g.layers.length) % g.layers.length, state.head);
    } else return;
    e.preventDefault();
  });

  // Hovers the middle cell of the large heatmap of the viewer; 1 if the readout names its labels.
  const probe = (g) => {
    const overlay = viewerEl.querySelector("canvas.overlay"), tip = viewerEl.querySelector(".tooltip");
    const R = g.rows.length, C = g.cols.length;
    if (!overlay || !R || !C) return 0;
    const r = Math.floor(R / 2), c = Math.floor(C / 2), d = overlay.dataset, box = overlay.getBoundingClientRect();
    overlay.dispatchEvent(new MouseEvent("mousemove", {
      clientX: box.left + Number(d.left) + (c + 0.5) * Number(d.cell),
      clientY: box.top + Number(d.top) + (r + 0.5) * Number(d.cell) }));
    const ok = tip.style.display === "block" && tip.textContent.startsWith(`${g.rows[r]} \u2192 ${g.cols[c]}\n`);
    overlay.dispatchEvent(new MouseEvent("mouseleave"));
    return ok ? 1 : 0;
  };

  // ---- status for tests: what was drawn
  const report = (mode, totals) => {
    if (statusEl.getAttribute("data-state") === "error") return;
    statusEl.setAttribute("data-state", "ok");
    statusEl.setAttribute("data-mode", mode);
    statusEl.setAttribute("data-examples", String(data.examples.length));
    for (const [k, v] of Object.entries(totals)) statusEl.setAttribute(`data-${k}`, String(v));
  };

  try {
    if (!data.examples.length) {
      app.append(h("p", { text: "No examples." }));
      report("initial", { views: 0, cells: 0, thumbnails: 0, tokens: 0, sentences: 0 });
    } else if (location.hash === "#selftest") {
      // Every view of every example: the same functions the controls call.
      const totals = { views: 0, cells: 0, thumbnails: 0, tokens: 0, sentences: 0 };
      let hovers = 0;
      const add = () => { for (const k of Object.keys(totals)) totals[k] += drawn[k]; drawn = { views: 0, cells: 0, thumbnails: 0, tokens: 0, sentences: 0 }; };
      for (let e = 0; e < data.examples.length; ++e) {
        selectExample(e);
        const tokens = drawn.tokens, sentences = drawn.sentences;
        drawn = { views: 0, cells: 0, thumbnails: 0, tokens, sentences };
        example().heatmaps.forEach((g, gi) => {
          state.group = gi;
          for (let l = 0; l < g.layers.length; ++l) for (const hd of headsOf(g)) { state.layer = l; state.head = hd; renderViewer(); }
        });
        add();
        // The other controls once per group: stretched colours, row maxima, a hover readout;
        // the HAN shading switch. (Not counted in the totals above.)
        example().heatmaps.forEach((g, gi) => {
          Object.assign(state, { group: gi, layer: 0, head: headsOf(g)[0], stretch: true, marks: true });
          renderViewer();
          hovers += probe(g);
          Object.assign(state, { stretch: false, marks: false });
        });
        if (example().sentence_weights.length) {
          state.bySentence = false; renderPooling(); state.bySentence = true; renderPooling();
        }
        drawn = { views: 0, cells: 0, thumbnails: 0, tokens: 0, sentences: 0 };
      }
      selectExample(0);
      totals.hovers = hovers;
      report("selftest", totals);
    } else {
      // A view to open on: #example=2&group=encoder&layer=last&head=3 (head=mean), &stretch, &marks.
      const want = new URLSearchParams(location.hash.slice(1));
      Object.assign(state, { stretch: want.has("stretch"), marks: want.has("marks") });
      selectExample(clamp(Number(want.get("example") || 1) - 1, 0, data.examples.length - 1));
      const ex = example();
      if (ex.heatmaps.length && ["group", "layer", "head"].some((k) => want.has(k))) {
        const key = (want.get("group") || "").toLowerCase();
        state.group = Math.max(0, ex.heatmaps.findIndex((g) => g.id.toLowerCase().includes(key) || g.title.toLowerCase().includes(key)));
        const g = group(), layer = want.get("layer"), head = want.get("head");
        drawn = { views: 0, cells: 0, thumbnails: 0, tokens: drawn.tokens, sentences: drawn.sentences };
        select(layer === null ? 0 : layer === "last" ? g.layers.length - 1 : Number(layer),
               head === null || head === "mean" ? -1 : Number(head));
      }
      report("initial", drawn);
    }
  } catch (err) {
    fail(err && err.message ? err.message : err);
    throw err;
  }
})();
)js";

const std::string_view kCurvesPageScript = R"js(
"use strict";
(() => {
  const statusEl = document.getElementById("heed-status");
  window.addEventListener("error", (e) => {
    statusEl.setAttribute("data-state", "error");
    statusEl.setAttribute("data-error", String(e.message || "error"));
  });
  // Hover readout: the nearest point of each line under the cursor's step.
  let points = 0;
  for (const svg of document.querySelectorAll("svg.chart")) {
    const readout = svg.querySelector(".readout");
    const guide = svg.querySelector(".guide");
    const plot = svg.querySelector(".plot-area");
    const series = Array.from(svg.querySelectorAll("g.series")).map((g) => ({
      name: g.getAttribute("data-name"),
      pts: Array.from(g.querySelectorAll("circle.pt")).map((c) => ({
        x: Number(c.getAttribute("cx")), y: Number(c.getAttribute("cy")),
        step: c.getAttribute("data-step"), value: c.getAttribute("data-value") })),
    }));
    series.forEach((s) => { points += s.pts.length; });
    if (!plot || !readout) continue;
    const x0 = Number(plot.getAttribute("x")), x1 = x0 + Number(plot.getAttribute("width"));
    svg.addEventListener("mousemove", (e) => {
      const box = svg.getBoundingClientRect();
      const scale = Number(svg.getAttribute("width")) / box.width;
      const x = (e.clientX - box.left) * scale;
      if (x < x0 || x > x1) { readout.textContent = ""; guide.setAttribute("visibility", "hidden"); return; }
      const parts = [];
      let gx = null;
      for (const s of series) {
        let best = null;
        for (const p of s.pts) if (!best || Math.abs(p.x - x) < Math.abs(best.x - x)) best = p;
        if (best) { parts.push(`${s.name} ${best.value} @ step ${best.step}`); if (gx === null) gx = best.x; }
      }
      readout.textContent = parts.join("   ");
      if (gx !== null) { guide.setAttribute("x1", gx); guide.setAttribute("x2", gx); guide.setAttribute("visibility", "visible"); }
    });
    svg.addEventListener("mouseleave", () => { readout.textContent = ""; guide.setAttribute("visibility", "hidden"); });
  }
  if (statusEl.getAttribute("data-state") !== "error") {
    statusEl.setAttribute("data-state", "ok");
    statusEl.setAttribute("data-charts", String(document.querySelectorAll("svg.chart").length));
    statusEl.setAttribute("data-points", String(points));
  }
})();
)js";

}  // namespace heed::viz::detail
