/* Swin live: the two shipped digits Swins (v1, v2) in the browser, with ONNX Runtime Web (WebAssembly, one thread).
 *
 * Files (made by tools/export_live.py at `make site` time, beside this one): digits_v1.onnx, digits_v2.onnx
 * (outputs: logits, attn_s{i}_b{j} (nW, heads, N, N), bias_s{i}_b{j} (heads, N, N)), live.json (the geometry
 * of every block as swin_tutor computes it: window, shift, token order, mask groups; normalisation; test digits)
 * and ort/ (onnxruntime-web). Plain JS, no build step. Tests read window.swinLive (tests/e2e/test_live_page.py).
 */
(function () {
  'use strict';
  const root = document.getElementById('swin-live-app');
  if (!root) return;
  const BASE = root.dataset.base || 'live/';
  const VERSIONS = ['v1', 'v2'];
  const DRAW = 224; // drawing canvas, CSS and backing pixels
  const VIEW = 256; // attention views
  const NB = (name, text) => `<a href="notebooks/${name}.html">${text}</a>`;
  const api = { ready: false, runs: 0, error: null, probs: {}, input: null };
  window.swinLive = api;

  // ---- the page ------------------------------------------------------------------------------------------------
  root.innerHTML = `
  <div class="sl-row">
    <div class="sl-card">
      <h4>1. Draw a digit</h4>
      <canvas id="sl-draw" width="${DRAW}" height="${DRAW}" aria-label="drawing pad"></canvas>
      <div class="sl-buttons"><button type="button" id="sl-clear">Clear</button>
        <span>or a test digit:</span><span id="sl-digits"></span></div>
      <p class="sl-note">Mouse, finger or pen. The models were trained on scikit-learn's 8x8 digits
        (${NB('09_train_tiny_swin', 'notebook 09')}), so your drawing is cropped, averaged down to 8x8 and
        upsampled again, exactly as the training images were.</p>
    </div>
    <div class="sl-card">
      <h4>2. What the model sees</h4>
      <canvas id="sl-input" width="32" height="32" class="sl-pixels" aria-label="the 32x32 input"></canvas>
      <p class="sl-note">32x32, bilinear from 8x8, normalised with mean <span id="sl-mean"></span> and std
        <span id="sl-std"></span>. Patches of 2x2 pixels become a 16x16 map of tokens
        (${NB('01_patchify', 'notebook 01')}); each stage merges 2x2 tokens (${NB('02_patch_merging', 'notebook 02')}).</p>
    </div>
    <div class="sl-card">
      <h4>3. Prediction</h4>
      <div id="sl-probs" class="sl-probs"></div>
      <p class="sl-note" id="sl-status">Loading the models...</p>
    </div>
  </div>
  <div class="sl-controls">
    <label>Block <select id="sl-block"></select></label>
    <label>Head <select id="sl-head"></select></label>
    <span id="sl-token"></span>
  </div>
  <div class="sl-row">
    ${VERSIONS.map((v) => `
    <div class="sl-card sl-model">
      <h4>Swin ${v} <small id="sl-acc-${v}"></small></h4>
      <canvas id="sl-attn-${v}" width="${VIEW}" height="${VIEW}" class="sl-attn" aria-label="attention, ${v}"></canvas>
      <canvas id="sl-bias-${v}" width="${VIEW}" height="${VIEW}" class="sl-bias" aria-label="position bias, ${v}"></canvas>
      <p class="sl-note" id="sl-bias-note-${v}"></p>
    </div>`).join('')}
  </div>
  <p class="sl-note"><b>Left picture of each model:</b> the token grid of the chosen block on the input; thick lines
    are the windows (${NB('03_cyclic_shift', 'notebook 03')}): a shifted block's windows are moved by the shift, and the
    pieces at the border that the cyclic shift wraps around (opposite edges, the four corners) form one window. The
    mask keeps those pieces apart: a token there attends only to its own piece (${NB('04_attention_masks', 'notebook 04')}).
    Click a token: its attention weights over the keys of its window (the chosen head) are drawn in orange; masked
    keys are crossed out. <b>Right picture:</b> the head's relative position bias, one cell per offset (key minus
    query, centre = same token): v1 learns a free table (${NB('05_relative_position_bias', 'notebook 05')}), v2 computes
    it with a small MLP of log-spaced offsets (${NB('06_cpb_log_coords', 'notebook 06')}) and uses cosine attention
    (${NB('07_v1_vs_v2_norm', 'notebook 07')}); the whole model is ${NB('08_full_model', 'notebook 08')}.</p>`;
  const $ = (id) => document.getElementById(id);

  // ---- numbers ---------------------------------------------------------------------------------------------------
  let facts = null;
  const sessions = {};
  const results = {}; // per version: {name: ort.Tensor}
  let ink8 = null; // Float32Array(64) in [0, 1], or null (nothing drawn)
  let token = [0, 0]; // (row, col) on the chosen block's map

  function bilinear8to32(src) {
    // torch.nn.functional.interpolate(mode="bilinear", align_corners=False), 8x8 -> 32x32
    const out = new Float32Array(32 * 32);
    const coord = (i) => {
      const s = Math.max((i + 0.5) * (8 / 32) - 0.5, 0);
      const i0 = Math.min(Math.floor(s), 7);
      return [i0, Math.min(i0 + 1, 7), s - i0];
    };
    for (let y = 0; y < 32; y++) {
      const [y0, y1, ly] = coord(y);
      for (let x = 0; x < 32; x++) {
        const [x0, x1, lx] = coord(x);
        const top = src[y0 * 8 + x0] * (1 - lx) + src[y0 * 8 + x1] * lx;
        const bottom = src[y1 * 8 + x0] * (1 - lx) + src[y1 * 8 + x1] * lx;
        out[y * 32 + x] = top * (1 - ly) + bottom * ly;
      }
    }
    return out;
  }

  function inkFromDrawing(canvas) {
    // The ink's bounding box, made square with a margin, averaged down to 8x8 cells (like the 4x4 blocks of the
    // original 32x32 bitmaps), in [0, 1].
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const w = canvas.width, h = canvas.height;
    let x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      if (data[(y * w + x) * 4] > 25) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    }
    if (x1 < 0) return null;
    const side = Math.max(x1 - x0 + 1, y1 - y0 + 1) * 1.15 + 8;
    const left = (x0 + x1 + 1) / 2 - side / 2, top = (y0 + y1 + 1) / 2 - side / 2;
    const sum = new Float32Array(64), count = new Float32Array(64);
    for (let y = Math.floor(top); y < top + side; y++) for (let x = Math.floor(left); x < left + side; x++) {
      const cx = Math.floor(((x + 0.5 - left) / side) * 8), cy = Math.floor(((y + 0.5 - top) / side) * 8);
      if (cx < 0 || cx > 7 || cy < 0 || cy > 7) continue;
      const v = x >= 0 && x < w && y >= 0 && y < h ? data[(y * w + x) * 4] / 255 : 0;
      sum[cy * 8 + cx] += v; count[cy * 8 + cx] += 1;
    }
    return sum.map((s, i) => Math.min(1, (1.6 * s) / Math.max(count[i], 1)));
  }

  function softmax(logits) {
    const m = Math.max(...logits);
    const e = Array.from(logits, (v) => Math.exp(v - m));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  }

  let running = false, pending = false;
  async function predict() {
    if (!facts || !sessions.v1) return;
    if (running) { pending = true; return; }
    running = true;
    try {
      if (!ink8) { api.input = null; api.probs = {}; render(); return; }
      const x = bilinear8to32(ink8).map((v) => (v - facts.mean) / facts.std);
      api.input = Array.from(x);
      for (const v of VERSIONS) {
        results[v] = await sessions[v].run({ x: new ort.Tensor('float32', x, [1, 1, 32, 32]) });
        api.probs[v] = softmax(results[v].logits.data);
      }
      api.runs += 1;
      render();
    } catch (err) {
      api.error = String(err); $('sl-status').textContent = 'Error: ' + err;
    } finally {
      running = false;
      if (pending) { pending = false; predict(); }
    }
  }

  // ---- geometry of the chosen block (all from live.json) ---------------------------------------------------------
  const blockIndex = () => Number($('sl-block').value || 0);
  const headIndex = () => Number($('sl-head').value || 0);

  function attentionRow(v, b, head, row, col) {
    // The chosen token's weights over the keys of its window: map positions, weights, masked flags.
    const blk = facts.models[v].blocks[b];
    const [, wp] = blk.padded, n = blk.window * blk.window;
    const k = blk.order.indexOf(row * wp + col);
    const win = Math.floor(k / n), q = k % n;
    const attn = results[v][`attn_s${blk.stage}_b${blk.block}`];
    const heads = attn.dims[1];
    const off = ((win * heads + head) * n + q) * n;
    const keys = blk.order.slice(win * n, win * n + n);
    const weights = Array.from(attn.data.slice(off, off + n));
    const masked = keys.map((p) => blk.group[p] !== blk.group[row * wp + col]);
    return { keys, weights, masked, window: win, query: q };
  }
  api.attentionRow = (v, b, head, row, col) => attentionRow(v, b, head, row, col);

  // ---- drawing -------------------------------------------------------------------------------------------------
  function greyInput(ctx, size) {
    const img = ctx.createImageData(32, 32);
    api.input.forEach((v, i) => {
      const g = Math.max(0, Math.min(255, Math.round((v * facts.std + facts.mean) * 255)));
      img.data.set([g, g, g, 255], i * 4);
    });
    const tmp = document.createElement('canvas'); tmp.width = tmp.height = 32;
    tmp.getContext('2d').putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(tmp, 0, 0, size, size);
  }

  function drawBlock(v) {
    const ctx = $(`sl-attn-${v}`).getContext('2d');
    ctx.fillStyle = '#000'; ctx.fillRect(0, 0, VIEW, VIEW);
    if (api.input) greyInput(ctx, VIEW);
    const blk = facts.models[v].blocks[blockIndex()];
    const [h, w] = blk.tokens, [, wp] = blk.padded, n = blk.window * blk.window;
    const cell = VIEW / w;
    const win = new Array(blk.padded[0] * wp);
    blk.order.forEach((p, k) => { win[p] = Math.floor(k / n); });
    const at = (r, c) => r * wp + c;
    // windows tinted in two colours, like a chessboard of windows
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) {
      ctx.fillStyle = win[at(r, c)] % 2 ? 'rgba(80,140,255,0.18)' : 'rgba(80,255,160,0.12)';
      ctx.fillRect(c * cell, r * cell, cell, cell);
    }
    if (results[v]) {
      const row = attentionRow(v, blockIndex(), headIndex(), token[0], token[1]);
      const top = Math.max(...row.weights);
      row.keys.forEach((p, j) => {
        const r = Math.floor(p / wp), c = p % wp;
        if (r >= h || c >= w) return;
        ctx.fillStyle = `rgba(255,140,0,${(0.85 * row.weights[j]) / top})`;
        ctx.fillRect(c * cell, r * cell, cell, cell);
        if (row.masked[j]) {
          ctx.strokeStyle = '#ff3030'; ctx.lineWidth = 2; ctx.beginPath();
          ctx.moveTo(c * cell + 3, r * cell + 3); ctx.lineTo((c + 1) * cell - 3, (r + 1) * cell - 3);
          ctx.moveTo((c + 1) * cell - 3, r * cell + 3); ctx.lineTo(c * cell + 3, (r + 1) * cell - 3); ctx.stroke();
        }
      });
    }
    const line = (x0, y0, x1, y1) => { ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke(); };
    ctx.strokeStyle = 'rgba(255,255,255,0.25)'; ctx.lineWidth = 1;
    for (let i = 1; i < w; i++) { line(i * cell, 0, i * cell, VIEW); line(0, i * cell, VIEW, i * cell); }
    ctx.strokeStyle = '#ffffff'; ctx.lineWidth = 3; // window borders (pieces of a wrapped window meet only across the edge)
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) {
      if (c + 1 < w && win[at(r, c)] !== win[at(r, c + 1)]) line((c + 1) * cell, r * cell, (c + 1) * cell, (r + 1) * cell);
      if (r + 1 < h && win[at(r, c)] !== win[at(r + 1, c)]) line(c * cell, (r + 1) * cell, (c + 1) * cell, (r + 1) * cell);
    }
    ctx.strokeStyle = '#ffffff'; ctx.lineWidth = 3; ctx.strokeRect(1.5, 1.5, VIEW - 3, VIEW - 3);
    ctx.strokeStyle = '#ffe000'; ctx.lineWidth = 3;
    ctx.strokeRect(token[1] * cell + 1.5, token[0] * cell + 1.5, cell - 3, cell - 3);
  }

  function colour(t) { // 0..1 -> dark blue .. yellow
    const r = Math.round(255 * Math.min(1, Math.max(0, 1.8 * t - 0.5)));
    const g = Math.round(255 * Math.min(1, Math.max(0, 1.2 * t)));
    const b = Math.round(255 * Math.max(0, 0.55 - 0.6 * t));
    return `rgb(${r},${g},${b + 40})`;
  }

  function drawBias(v) {
    const ctx = $(`sl-bias-${v}`).getContext('2d');
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, VIEW, VIEW);
    if (!results[v]) return;
    const blk = facts.models[v].blocks[blockIndex()], ws = blk.window, n = ws * ws, side = 2 * ws - 1;
    const bias = results[v][`bias_s${blk.stage}_b${blk.block}`].data, head = headIndex();
    const grid = new Float32Array(side * side);
    for (let q = 0; q < n; q++) for (let k = 0; k < n; k++) {
      const dy = Math.floor(k / ws) - Math.floor(q / ws), dx = (k % ws) - (q % ws);
      grid[(dy + ws - 1) * side + dx + ws - 1] = bias[(head * n + q) * n + k];
    }
    const lo = Math.min(...grid), hi = Math.max(...grid), cell = VIEW / side;
    grid.forEach((g, i) => {
      ctx.fillStyle = colour(hi > lo ? (g - lo) / (hi - lo) : 0.5);
      ctx.fillRect((i % side) * cell, Math.floor(i / side) * cell, cell + 0.5, cell + 0.5);
    });
    ctx.strokeStyle = '#ff3030'; ctx.lineWidth = 2; ctx.strokeRect((ws - 1) * cell + 1, (ws - 1) * cell + 1, cell - 2, cell - 2);
    $(`sl-bias-note-${v}`).textContent = `Bias of head ${head}, offsets -${ws - 1}..${ws - 1} in each direction: from ` +
      `${lo.toFixed(2)} (dark) to ${hi.toFixed(2)} (yellow)` + (v === 'v2' ? ', always inside (0, 16).' : '.');
  }

  function drawProbs() {
    const box = $('sl-probs');
    if (!api.input) { box.innerHTML = '<p>Draw something.</p>'; return; }
    box.innerHTML = VERSIONS.map((v) => {
      const p = api.probs[v], best = p.indexOf(Math.max(...p));
      return `<div class="sl-col"><b>${v}: ${best}</b>` + p.map((x, c) =>
        `<div class="sl-bar${c === best ? ' sl-best' : ''}"><span>${c}</span><i style="width:${(60 * x).toFixed(1)}%"></i>` +
        `<em>${(100 * x).toFixed(1)}%</em></div>`).join('') + '</div>';
    }).join('');
  }

  function render() {
    const inp = $('sl-input').getContext('2d');
    if (api.input) greyInput(inp, 32); else { inp.fillStyle = '#000'; inp.fillRect(0, 0, 32, 32); }
    drawProbs();
    const blk = facts.models.v1.blocks[blockIndex()];
    $('sl-token').textContent = `token (row ${token[0]}, col ${token[1]}) of the ${blk.tokens[0]}x${blk.tokens[1]} map`;
    for (const v of VERSIONS) { drawBlock(v); drawBias(v); }
  }

  // ---- input ---------------------------------------------------------------------------------------------------
  const pad = $('sl-draw'), pctx = pad.getContext('2d');
  function clearPad() { pctx.fillStyle = '#000'; pctx.fillRect(0, 0, DRAW, DRAW); ink8 = null; predict(); }
  let last = null;
  function point(e) { const r = pad.getBoundingClientRect(); return [((e.clientX - r.left) * DRAW) / r.width, ((e.clientY - r.top) * DRAW) / r.height]; }
  pad.addEventListener('pointerdown', (e) => { pad.setPointerCapture(e.pointerId); last = point(e); stroke(last); });
  pad.addEventListener('pointermove', (e) => { if (last) stroke(point(e)); });
  for (const ev of ['pointerup', 'pointercancel']) pad.addEventListener(ev, () => { last = null; });
  function stroke(p) {
    pctx.strokeStyle = '#fff'; pctx.lineWidth = 18; pctx.lineCap = 'round'; pctx.lineJoin = 'round';
    pctx.beginPath(); pctx.moveTo(last[0], last[1]); pctx.lineTo(p[0], p[1]); pctx.stroke();
    last = p; ink8 = inkFromDrawing(pad); predict();
  }
  $('sl-clear').addEventListener('click', clearPad);
  api.loadDigit = (i) => {
    const d = facts.digits[i];
    ink8 = Float32Array.from(d.pixels, (p) => p / 16);
    pctx.fillStyle = '#000'; pctx.fillRect(0, 0, DRAW, DRAW);
    const tmp = document.createElement('canvas'); tmp.width = tmp.height = 8;
    const img = tmp.getContext('2d').createImageData(8, 8);
    ink8.forEach((v, j) => img.data.set([255 * v, 255 * v, 255 * v, 255], j * 4));
    tmp.getContext('2d').putImageData(img, 0, 0);
    pctx.imageSmoothingEnabled = true; pctx.drawImage(tmp, 20, 20, DRAW - 40, DRAW - 40);
    return predict();
  };
  for (const v of VERSIONS) {
    $(`sl-attn-${v}`).addEventListener('click', (e) => {
      const r = e.currentTarget.getBoundingClientRect(), blk = facts.models[v].blocks[blockIndex()];
      const [h, w] = blk.tokens;
      token = [Math.min(h - 1, Math.floor(((e.clientY - r.top) / r.height) * h)), Math.min(w - 1, Math.floor(((e.clientX - r.left) / r.width) * w))];
      render();
    });
  }
  api.selectToken = (row, col) => { token = [row, col]; render(); };
  api.select = (b, head) => { $('sl-block').value = String(b); fillHeads(); $('sl-head').value = String(head); clampToken(); render(); };

  function fillHeads() {
    const blk = facts.models.v1.blocks[blockIndex()], old = headIndex();
    $('sl-head').innerHTML = Array.from({ length: blk.heads }, (_, i) => `<option value="${i}">${i}</option>`).join('');
    $('sl-head').value = String(Math.min(old, blk.heads - 1));
  }
  function clampToken() { const [h, w] = facts.models.v1.blocks[blockIndex()].tokens; token = [Math.min(token[0], h - 1), Math.min(token[1], w - 1)]; }

  // ---- start -----------------------------------------------------------------------------------------------------
  async function start() {
    const t0 = performance.now();
    ort.env.wasm.numThreads = 1; // no SharedArrayBuffer, so no special headers needed
    ort.env.wasm.wasmPaths = new URL(BASE + 'ort/', location.href).href;
    facts = await (await fetch(BASE + 'live.json')).json();
    $('sl-mean').textContent = facts.mean; $('sl-std').textContent = facts.std;
    $('sl-block').innerHTML = facts.models.v1.blocks.map((b, i) =>
      `<option value="${i}">stage ${b.stage}, block ${b.block}: ${b.shift ? 'SW-MSA, shift ' + b.shift : 'W-MSA'}, ` +
      `${b.tokens[0]}x${b.tokens[1]} tokens, window ${b.window}</option>`).join('');
    $('sl-block').value = '1';
    fillHeads();
    $('sl-block').addEventListener('change', () => { fillHeads(); clampToken(); render(); });
    $('sl-head').addEventListener('change', render);
    api.timings = { facts: (performance.now() - t0) / 1000 };
    for (const v of VERSIONS) {
      sessions[v] = await ort.InferenceSession.create(BASE + facts.models[v].file, { executionProviders: ['wasm'] });
      api.timings[v] = (performance.now() - t0) / 1000;
      const m = facts.models[v];
      $(`sl-acc-${v}`).textContent = `(${(100 * m.test_accuracy).toFixed(1)}% of ${m.test_examples} test digits)`;
    }
    $('sl-digits').innerHTML = facts.digits.map((d, i) => `<button type="button" data-i="${i}">${d.label}</button>`).join('');
    $('sl-digits').addEventListener('click', (e) => { if (e.target.dataset.i) api.loadDigit(Number(e.target.dataset.i)); });
    api.loadSeconds = (performance.now() - t0) / 1000;
    $('sl-status').textContent = `Both models loaded in ${api.loadSeconds.toFixed(1)} s; they run in your browser ` +
      '(ONNX Runtime Web, WebAssembly), nothing is sent anywhere.';
    await api.loadDigit(3);
    api.ready = true;
  }
  clearPad();
  start().catch((err) => { api.error = String(err); $('sl-status').textContent = 'Could not start: ' + err; });
})();
