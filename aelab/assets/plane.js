/* aelab's latent plane: the dataset's codes drawn with plotly.js, and the decoder ψ run in the page on every
 * point the user picks. One module for the app (the Streamlit component in aelab/ui/plane.py) and for the
 * offline explorer (aelab/export.py): both hand `create(...).setData(data)` the dict that
 * aelab.plane.plane_payload builds. Needs decoder.js (globalThis.AelabDecoder) for decoding, and
 * window.Plotly by the time `setData` runs.
 *
 * What the user does, and what happens:
 *   click anywhere in the plot area      the cross jumps there, the image is decoded and drawn at once
 *   press on the cross and drag          the cross follows; one decode per display frame
 *   press elsewhere and drag             plotly's zoom box (or pan, from the modebar), as before
 *   arrow keys on the focused plot       move the cross by 1 % of the visible range (Shift: 10 %)
 *   a slider of the panel (z₁ … z_d)      sets that dimension; decoded on every `input` event
 *   press on marker A or B and drag       that end of the interpolation follows; the panel's strip A → B is
 *                                        decoded again in the same frame (a slow decoder: the images
 *                                        nearest the moved end first, the rest in the next frames)
 * The host hears only finished gestures: `options.onGesture({x, y, z, n, gesture})` once per pointer-up,
 * slider release (`change`) or key-up (after KEY_SETTLE_MS without a key). x, y: the plane point; z: the
 * full code (null without a decoder); n: a nonce; gesture: "click" | "drag" | "slider" | "key", or "a" | "b"
 * for a finished drag of an interpolation end (then x, y, z are that end's, and the cross has not moved).
 *
 * Why a press on the cross drags it and a press elsewhere zooms: both gestures stay available without a
 * mode switch, the cross is small (a press must land within GRAB_PX of its centre), and "grab the marker
 * to move it" is what every map and plotting tool does. The press is taken in the capture phase and
 * `preventDefault` keeps plotly (which listens to mouse events) from starting a zoom box.
 *
 * The cross, the extra markers and the hover preview live on an overlay canvas placed with the axes'
 * d2p/p2d, so moving them costs a canvas redraw, never a plotly relayout.
 *
 * API for other pages (e.g. a drawing that wants its code on this plane):
 *   plane.setMarkers([{x, y, label?, color?, shape?: "dot" | "ring"}])   extra markers in plane
 *        coordinates, drawn above the points and under the cross; [] removes them. E.g. numbered points of
 *        a drawing's history ({label: "3"}) and its live point ({shape: "ring"}).
 *   plane.select(x, y)         move the cross and decode, as a click would, without telling the host
 *   plane.setCode(z)           the same from a full code z (d numbers)
 *   plane.toPixel(x, y) / plane.toData(px, py)   plane coordinates <-> CSS pixels inside the plot element
 *   plane.setEnds({a, b, steps})   the interpolation's ends (full codes, d numbers each) and its number of
 *        images: draws the markers A and B and, in the panel, the strip ψ((1 − t)·a + t·b) for
 *        t = linspace(0, 1, steps) (aelab.latent.interpolate); null removes them. Needs a decoder.
 *   plane.point, plane.code    what is selected now; plane.timings, plane.dragStats: measurements
 * With `data.sprite` (a sheet of the dataset's images), hovering a point shows its real image beside the
 * decode at the pointer.
 * A conditional decoder (spec.classes > 0, a cvae) is told a label: the panel then shows the code under every
 * label in a row (the analogies: one style, every class) with `data.label`'s image large, and the strip, the
 * manifold and the hover preview are decoded as `data.label` (default 0).
 * With `data.grid` = n, the page decodes the manifold (ψ on an n × n grid of the visible window) under the
 * points and decodes it again after every zoom or pan.
 */
(function (root, factory) {
  const api = factory();
  if (typeof module === "object" && module && module.exports) module.exports = api;
  root.AelabPlane = api;
})(typeof globalThis !== "undefined" ? globalThis : this, function () {
  "use strict";

  const GRAB_PX = 14;  // a press this close to the cross (or to A or B) drags it
  const END_PX = 8;  // radius of the lettered discs of the interpolation's ends A and B ...
  const END_TAG_PX = 11;  // ... drawn this far up and right of the end itself (the cross may sit on it)
  const STRIP_ROW = 5;  // the strip A → B is one row up to this many images, two rows past it
  const STRIP_BUDGET_MS = 8;  // while A or B is dragged, a frame decodes strip images for at most about this long
  const KEY_SETTLE_MS = 250;  // arrow keys: the server hears the point once the keys have rested this long
  const ARM_PX = 9;  // half the cross's size; pixels, so it keeps its size while zooming
  const PREVIEW_PX = 112;  // about this many CSS pixels for the hover preview's side
  const IMAGE_PX = 224;  // about this many CSS pixels for the decoded image's side
  const MARGIN = { l: 44, r: 8, t: 8, b: 36 };
  const MODEBAR_PX = 24;  // room above the legend for plotly's modebar, so neither covers the other

  // --- pure helpers (node tests run these against their Python twins) --------------------------------

  function base64Bytes(text) {
    if (typeof atob === "function") {
      const bin = atob(text);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      return bytes;
    }
    return new Uint8Array(Buffer.from(text, "base64"));
  }

  /** {dtype: "f4" | "i4", bdata} (aelab.plane.encode_array) -> Float32Array | Int32Array (little-endian data). */
  function array(encoded) {
    const bytes = base64Bytes(encoded.bdata);
    const copy = new Uint8Array(bytes);  // aligned, whatever the offset of the decoded bytes
    return encoded.dtype === "i4" ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
  }

  /** Distance from (x, y) to its k-th nearest point of the lists xs[j], ys[j] (aelab.plane.kth_distance). */
  function kthDistance(xs, ys, x, y, k) {
    const best = new Float64Array(k).fill(Infinity);  // the k smallest squared distances, ascending
    for (let j = 0; j < xs.length; j++) {
      const px = xs[j], py = ys[j];
      for (let i = 0; i < px.length; i++) {
        const dx = px[i] - x, dy = py[i] - y, d = dx * dx + dy * dy;
        if (d >= best[k - 1]) continue;
        let at = k - 1;
        while (at > 0 && best[at - 1] > d) { best[at] = best[at - 1]; at--; }
        best[at] = d;
      }
    }
    return Math.sqrt(best[k - 1]);
  }

  /** The plane point of a code z: the plane map's rows are orthonormal, so (z − offset) · matrixᵀ. */
  function toPlane(map, z) {
    let x = 0, y = 0;
    for (let i = 0; i < z.length; i++) {
      x += (z[i] - map.offset[i]) * map.matrix[0][i];
      y += (z[i] - map.offset[i]) * map.matrix[1][i];
    }
    return [x, y];
  }

  /** The codes of aelab.latent.interpolate: (1 − t)·a + t·b for t = linspace(0, 1, steps), in doubles, then float32. */
  function interpolationCodes(a, b, steps) {
    const codes = [];
    const delta = steps > 1 ? 1 / (steps - 1) : 0;
    for (let i = 0; i < steps; i++) {
      const t = i === steps - 1 && steps > 1 ? 1 : i * delta;  // numpy's linspace ends exactly on 1
      codes.push(Float32Array.from(a, (v, k) => (1 - t) * v + t * b[k]));
    }
    return codes;
  }

  // --- page-wide state: plotly.js loading, debug counters, planes by key --------------------------------

  function registry() {
    const reg = (globalThis.__aelab = globalThis.__aelab || {});
    reg.planes = reg.planes || {};
    reg.selected = reg.selected || {};
    reg.hover = reg.hover || {};
    reg.debug = reg.debug || {
      runs: 0, plotlyLoads: 0, clickHandlers: 0, draws: 0, markerMoves: 0, clicks: 0, hoverDecodes: 0,
      imageDraws: 0, gestures: 0, stripDraws: 0,
    };
    return reg;
  }

  function loadPlotly(url) {
    const reg = registry();
    if (globalThis.Plotly) return Promise.resolve(globalThis.Plotly);
    if (!reg.plotly) {
      reg.debug.plotlyLoads += 1;
      reg.plotly = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = url;
        script.async = true;
        script.onload = () => (globalThis.Plotly ? resolve(globalThis.Plotly) : reject(new Error("plotly.js defined no window.Plotly")));
        script.onerror = () => {
          reg.plotly = null;  // let a later run try again
          reject(new Error("could not load plotly.js from " + url));
        };
        document.head.appendChild(script);
      });
    }
    return reg.plotly;
  }

  /** JSON served as a file (a decoder's layers, the plane's points; content-addressed, so one fetch per URL
   * and page). `what` names it in the error. */
  function fetchServed(url, what) {
    const reg = registry();
    reg.served = reg.served || {};
    if (!reg.served[url]) {
      reg.served[url] = fetch(url)
        .then((response) => {
          if (!response.ok) throw new Error(`could not load ${what} from ${url} (${response.status})`);
          return response.json();
        })
        .catch((err) => {
          delete reg.served[url];  // let a later run try again
          throw err;
        });
    }
    return reg.served[url];
  }

  function webglAvailable() {
    const reg = registry();
    if (reg.webgl === undefined) {
      try {
        const canvas = document.createElement("canvas");
        reg.webgl = !!(canvas.getContext("webgl2") || canvas.getContext("webgl"));
      } catch (e) {
        reg.webgl = false;
      }
    }
    return reg.webgl;
  }

  function element(tag, className, parent) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (parent) parent.appendChild(el);
    return el;
  }

  function themeColor(el, name, fallback) {
    const value = getComputedStyle(el).getPropertyValue(name).trim();
    return value && value !== "unset" ? value : fallback;
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, (m, name) => (name in values ? values[name] : m));
  }

  // --- the plane ----------------------------------------------------------------------------------------

  function create(root, options) {
    const opts = options || {};
    const reg = registry();
    const wrap = element("div", "aelab-plane-wrap", root);
    const box = element("div", "aelab-plot-box", wrap);
    box.tabIndex = 0;  // arrow keys move the cross
    const underlay = element("canvas", "aelab-underlay", box);
    const gd = element("div", "aelab-plane", box);
    const overlay = element("canvas", "aelab-overlay", box);
    const preview = element("canvas", "aelab-hover-preview", box);
    const sample = element("canvas", "aelab-hover-preview aelab-hover-sample", box);  // a hovered point's real image
    const panel = element("div", "aelab-panel", wrap);
    panel.hidden = true;

    const plane = {
      root, wrap, box, gd, overlay, preview, panel,
      data: null, decoder: null, decoderId: null, decoderError: null,
      point: null, code: null, markers: [], ends: null, drawn: false, draws: 0, handlers: 0,
      ticket: 0, lastSent: null, sending: false,
      timings: { click: [], drag: [], slider: [], key: [], ends: [], endsFull: [] },
      dragStats: { frames: 0, drawn: 0 },
      imageDraws: 0, stripDraws: 0, rowDraws: 0, hoverDecodes: 0, gestures: 0, lastDecodeMs: 0,
      hoverOn: opts.hoverOn || (() => true),
    };
    const ui = {};  // the panel's elements, built by buildPanel

    // --- coordinates ---
    function axes() {
      const full = gd._fullLayout;
      return full && full.xaxis && full.yaxis ? [full.xaxis, full.yaxis] : null;
    }
    plane.toPixel = (x, y) => {
      const a = axes();
      return a ? [a[0]._offset + a[0].d2p(x), a[1]._offset + a[1].d2p(y)] : null;
    };
    plane.toData = (px, py) => {
      const a = axes();
      if (!a) return null;
      const x = a[0].p2d(px - a[0]._offset), y = a[1].p2d(py - a[1]._offset);
      return Number.isFinite(x) && Number.isFinite(y) ? [x, y] : null;
    };
    function inPlotArea(target) {
      // plotly's main drag rectangle covers exactly the plotting area; axes, legend and modebar are elsewhere.
      return !!(target && target.classList && target.classList.contains("nsewdrag"));
    }

    // --- drawing: overlay (cross, markers), the decoded image, the panel's readouts ---
    function sizeOverlay() {
      // Reading the plot's size forces a layout: done when plotly draws or the size changes, never per move.
      const ratio = globalThis.devicePixelRatio || 1;
      const w = gd.clientWidth, h = gd.clientHeight;
      plane.overlaySize = [w, h, ratio];
      if (overlay.width !== Math.round(w * ratio) || overlay.height !== Math.round(h * ratio)) {
        overlay.width = Math.round(w * ratio);
        overlay.height = Math.round(h * ratio);
        overlay.style.width = w + "px";
        overlay.style.height = h + "px";
      }
    }
    function redrawOverlay() {
      sizeOverlay();
      drawOverlay();
      drawGrid();
    }

    function drawOverlay() {
      const a = axes();
      if (!plane.overlaySize) sizeOverlay();
      const [w, h, ratio] = plane.overlaySize;
      const ctx = overlay.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, w, h);
      if (!a) return;
      ctx.save();
      ctx.beginPath();
      ctx.rect(a[0]._offset, a[1]._offset, a[0]._length, a[1]._length);
      ctx.clip();
      for (const m of plane.markers) {
        const [px, py] = plane.toPixel(m.x, m.y);
        ctx.beginPath();
        ctx.arc(px, py, m.shape === "ring" ? 8 : 5, 0, 2 * Math.PI);
        ctx.lineWidth = m.shape === "ring" ? 3 : 1.5;
        ctx.strokeStyle = m.shape === "ring" ? (m.color || "#e4572e") : "#fff";
        if (m.shape !== "ring") {
          ctx.fillStyle = m.color || "#e4572e";
          ctx.fill();
        }
        ctx.stroke();
        if (m.label !== undefined && m.label !== null) {
          ctx.font = "bold 11px system-ui, sans-serif";
          ctx.lineWidth = 3;
          ctx.strokeStyle = "rgba(255,255,255,0.9)";
          ctx.strokeText(String(m.label), px + 7, py - 6);
          ctx.fillStyle = "#111";
          ctx.fillText(String(m.label), px + 7, py - 6);
        }
      }
      drawEnds(ctx);
      if (plane.point) {
        const [px, py] = plane.toPixel(plane.point[0], plane.point[1]);
        plane.crossPixel = [px, py];
        // A white cross under a dark one stays visible on points, on the background image and on both themes.
        for (const [width, color] of [[5, "rgba(255,255,255,0.9)"], [2, "#111111"]]) {
          ctx.beginPath();
          ctx.moveTo(px - ARM_PX, py); ctx.lineTo(px + ARM_PX, py);
          ctx.moveTo(px, py - ARM_PX); ctx.lineTo(px, py + ARM_PX);
          ctx.lineWidth = width;
          ctx.strokeStyle = color;
          ctx.stroke();
        }
      } else {
        plane.crossPixel = null;
      }
      ctx.restore();
      plane.overlayDraws = (plane.overlayDraws || 0) + 1;
    }

    /** A and B: a dashed line (the straight path in the code space projects to one on the plane), a dot on
     * each end and, up and to the right of it, a lettered disc, dark on a white rim so that it reads on points,
     * on the grid and on both themes, and stays visible when the cross sits on that end. */
    function drawEnds(ctx) {
      const e = plane.ends;
      if (!e || !e.pa || !e.pb) {
        plane.endPixels = null;
        return;
      }
      const a = plane.toPixel(e.pa[0], e.pa[1]), b = plane.toPixel(e.pb[0], e.pb[1]);
      plane.endPixels = { a, b };
      ctx.save();
      ctx.setLineDash([5, 4]);
      for (const [width, color] of [[3, "rgba(255,255,255,0.8)"], [1.5, "rgba(17,17,17,0.85)"]]) {
        ctx.beginPath();
        ctx.moveTo(a[0], a[1]);
        ctx.lineTo(b[0], b[1]);
        ctx.lineWidth = width;
        ctx.strokeStyle = color;
        ctx.stroke();
      }
      ctx.restore();
      for (const [letter, [px, py]] of [["A", a], ["B", b]]) {
        const color = plane.dragging && plane.dragging.what === letter.toLowerCase() ? "#e4572e" : "#111111";
        const tx = px + END_TAG_PX, ty = py - END_TAG_PX;
        ctx.beginPath();
        ctx.moveTo(px, py);
        ctx.lineTo(tx, ty);
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = color;
        ctx.stroke();
        for (const [x, y, r] of [[px, py, 3.5], [tx, ty, END_PX]]) {
          ctx.beginPath();
          ctx.arc(x, y, r, 0, 2 * Math.PI);
          ctx.fillStyle = color;
          ctx.fill();
          ctx.lineWidth = 1.5;
          ctx.strokeStyle = "rgba(255,255,255,0.95)";
          ctx.stroke();
        }
        ctx.font = "bold 11px system-ui, sans-serif";
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.fillStyle = "#ffffff";
        ctx.fillText(letter, tx, ty + 0.5);
      }
      ctx.textAlign = "start";
      ctx.textBaseline = "alphabetic";
    }

    /** Decode the strip A → B (interpolationCodes) into the panel's canvas, 1 px of white between images (as
     * aelab.imaging.tile), A top-left and B bottom-right: one row up to STRIP_ROW images, else two rows, so
     * that the panel's width shows each image at least twice its size for the default 8 steps.
     * The whole strip is drawn at once, or, while an end is dragged
     * (`drag` = {from: "a" | "b", since: the move's timeStamp}), as many images as fit in STRIP_BUDGET_MS,
     * nearest the moved end first; stripSlice() goes on with the rest in the following frames unless the end
     * moves again. A slow decoder (conv: about 4 ms an image) thus never holds a frame for the whole strip, and
     * the images that change most are always the freshest. An image whose code has not changed (B's, while
     * A moves) is not decoded again. */
    function drawStrip(drag) {
      const e = plane.ends;
      if (!ui.strip) return;
      const on = !!(e && plane.decoder);
      ui.stripBox.hidden = !on;
      plane.stripJob = null;
      if (!on) return;
      const [, h, w] = plane.decoder.imageShape;
      const columns = e.steps <= STRIP_ROW ? e.steps : Math.ceil(e.steps / 2), rows = Math.ceil(e.steps / columns);
      plane.stripLayout = { columns, rows };
      const width = columns * (w + 1) + 1, height = rows * (h + 1) + 1;
      const canvas = ui.strip;
      const drawnBy = plane.decoderId + "|" + plane.label;  // another decoder or label: every cell anew
      if (canvas.width !== width || canvas.height !== height || ui.stripDecoder !== drawnBy) {
        canvas.width = width;
        canvas.height = height;
        sizeStrip();
        const ctx = canvas.getContext("2d");
        ctx.fillStyle = "#ffffff";
        ctx.fillRect(0, 0, width, height);
        ui.stripShown = [];  // the code each cell shows now
        ui.stripDecoder = drawnBy;
      }
      const order = [...Array(e.steps).keys()];
      if (drag && drag.from === "b") order.reverse();
      plane.stripJob = { codes: interpolationCodes(e.a, e.b, e.steps), order, next: 0, columns, since: drag && drag.since,
                         budget: drag ? STRIP_BUDGET_MS : Infinity, first: true };
      stripSlice();
    }
    /** Decode and draw the next images of the strip's job within its budget (at least one); true if it drew. */
    function stripSlice() {
      const job = plane.stripJob;
      if (!job) return false;
      const [, h, w] = plane.decoder.imageShape;
      const ctx = ui.strip.getContext("2d"), cell = ui.stripCell, start = performance.now();
      let drew = false;
      while (job.next < job.order.length && (!drew || performance.now() - start < job.budget)) {
        const i = job.order[job.next++], z = job.codes[i], shown = ui.stripShown[i];
        if (shown && shown.every((v, k) => v === z[k])) continue;
        globalThis.AelabDecoder.draw(cell, plane.decoder.decode(z, plane.label), plane.decoder.imageShape);
        ctx.drawImage(cell, 1 + (i % job.columns) * (w + 1), 1 + Math.floor(i / job.columns) * (h + 1));
        ui.stripShown[i] = z;
        drew = true;
      }
      const now = performance.now();
      if (job.since !== undefined && job.first) (plane.timings.ends = plane.timings.ends || []).push(now - job.since);
      job.first = false;
      if (job.next >= job.order.length) {
        if (job.since !== undefined) (plane.timings.endsFull = plane.timings.endsFull || []).push(now - job.since);
        plane.stripJob = null;
        plane.stripDraws += 1;
        reg.debug.stripDraws += 1;
      }
      return drew;
    }
    function sizeStrip() {
      // A whole-number scale keeps the pixels square where the strip fits; wider strips shrink to the panel.
      const room = panel.clientWidth || 280, natural = ui.strip.width;
      const scale = Math.max(1, Math.floor(room / natural));
      ui.strip.style.width = natural * scale <= room ? natural * scale + "px" : "100%";
    }

    /** Where the interpolation's ends are: full codes a, b (d each) and the strip's length; null removes them. */
    function setEnds(spec) {
      if (!spec || !plane.decoder) {
        plane.ends = null;
        drawStrip();
        drawOverlay();
        return;
      }
      const d = plane.decoder.latentDim, steps = Math.round(Number(spec.steps));
      const usable = (z) => Array.isArray(z) || ArrayBuffer.isView(z) ? z.length === d && Array.from(z).every(Number.isFinite) : false;
      if (!usable(spec.a) || !usable(spec.b) || !(steps >= 1 && steps <= 64)) return;
      const map = plane.data && plane.data.decoder && plane.data.decoder.plane_map;
      const a = Float32Array.from(spec.a), b = Float32Array.from(spec.b);
      plane.ends = { a, b, steps, pa: map ? toPlane(map, a) : null, pb: map ? toPlane(map, b) : null };
      drawStrip();
      drawOverlay();
    }

    /** Move end "a" or "b" to plane point (x, y): its code is the plane's inverse there; redraw at once. */
    function moveEnd(which, x, y, since) {
      const e = plane.ends;
      e[which] = Float32Array.from(plane.decoder.toLatent(x, y));
      e["p" + which] = [x, y];
      drawOverlay();
      drawStrip({ from: which, since });
    }

    function farCue() {
      const p = plane.data && plane.data.panel;
      if (!p || !ui.far || !plane.point || !(p.spacing > 0)) return;
      const kth = kthDistance(plane.xs, plane.ys, plane.point[0], plane.point[1], p.far_k);
      plane.farRatio = kth / p.spacing;
      const far = plane.farRatio > p.far_ratio;
      ui.far.hidden = !far;
      ui.image.classList.toggle("aelab-far", far);
    }

    function showPoint() {
      if (ui.readout && plane.code) {
        ui.readout.textContent = "z = (" + Array.from(plane.code, (v) => v.toFixed(2)).join(", ") + ")";
      }
      if (ui.sliders && plane.code) {
        ui.sliders.forEach((s, i) => {
          if (document.activeElement !== s.input) s.input.value = String(plane.code[i]);
          s.output.textContent = plane.code[i].toFixed(s.decimals);
        });
      }
      farCue();
      drawOverlay();
    }

    function drawImage() {
      if (!plane.decoder || !plane.code || !ui.image) return;
      const start = performance.now();
      if (ui.row) drawRow();
      else globalThis.AelabDecoder.draw(ui.image, plane.decoder.decode(plane.code), plane.decoder.imageShape);
      plane.lastDecodeMs = performance.now() - start;
      plane.imageDraws += 1;
      reg.debug.imageDraws += 1;
    }

    /** A conditional decoder (cvae): the code under every label, side by side in the row (1 px of white
     * between images, as aelab.imaging.tile), and the chosen label's image large. One decode per label. */
    function drawRow() {
      const shape = plane.decoder.imageShape, [, h, w] = shape, ctx = ui.row.getContext("2d");
      for (let k = 0; k < plane.decoder.classes; k++) {
        const pixels = plane.decoder.decode(plane.code, k);
        globalThis.AelabDecoder.draw(ui.rowCell, pixels, shape);
        ctx.drawImage(ui.rowCell, 1 + k * (w + 1), 1);
        if (k === plane.label) globalThis.AelabDecoder.draw(ui.image, pixels, shape);
      }
      plane.rowDraws += 1;
    }

    /** Select plane point (x, y): decode its code, draw everything; `since` (an event's timeStamp) is timed. */
    function pickPoint(x, y, gesture, since) {
      plane.point = [x, y];
      plane.code = plane.decoder ? Float32Array.from(plane.decoder.toLatent(x, y)) : null;
      drawImage();
      showPoint();
      if (gesture && since !== undefined) plane.timings[gesture].push(performance.now() - since);
    }

    function pickCode(z, gesture, since) {
      plane.code = Float32Array.from(z);
      const map = plane.data && plane.data.decoder && plane.data.decoder.plane_map;
      if (map) plane.point = toPlane(map, plane.code);
      drawImage();
      showPoint();
      if (gesture && since !== undefined) plane.timings[gesture].push(performance.now() - since);
    }

    function send(gesture) {
      const end = gesture === "a" || gesture === "b";
      const at = end ? plane.ends && plane.ends["p" + gesture] : plane.point;
      if (!at || !opts.onGesture) return;
      const code = end ? plane.ends[gesture] : plane.code;
      plane.gestures += 1;
      reg.debug.gestures += 1;
      const n = Date.now() * 10 + (plane.gestures % 10);  // a second gesture on the same spot is still a change
      plane.lastSent = n;
      opts.onGesture({ x: at[0], y: at[1], z: code ? Array.from(code) : null, n, gesture });
    }

    plane.select = (x, y) => pickPoint(x, y);
    plane.setCode = (z) => pickCode(z);
    /** The host's ends (e.g. after its rerun); ignored during a drag or while the user's own gesture is newer. */
    plane.setEnds = (spec) => {
      if (plane.dragging) return;
      if (spec && spec.n !== undefined && spec.n !== null && plane.lastSent !== null && spec.n !== plane.lastSent) return;
      setEnds(spec);
    };
    plane.setMarkers = (markers) => {
      plane.markers = Array.isArray(markers) ? markers.filter((m) => Number.isFinite(m.x) && Number.isFinite(m.y)) : [];
      drawOverlay();
    };

    /** Where the host says the point is (e.g. after its rerun); ignored while the user's own gesture is newer. */
    plane.follow = (selected) => {
      if (!selected) return;
      if (plane.dragging || plane.keyTimer) return;
      if (selected.n !== undefined && selected.n !== null && plane.lastSent !== null && selected.n !== plane.lastSent) return;
      if (selected.image) showServerImage(selected.image);
      const xy = selected.selected;
      if (!xy) {
        if (plane.point) { plane.point = null; drawOverlay(); }
        return;
      }
      const z = selected.code;
      // The server keeps codes in float32, as the page does: equal within float32's precision is the same point.
      const close = (u, v) => Math.abs(u - v) <= 1e-6 * (1 + Math.abs(u));
      const same = plane.point && close(plane.point[0], xy[0]) && close(plane.point[1], xy[1])
        && (!z || !plane.code || z.every((v, i) => close(v, plane.code[i])));
      if (same) return;
      reg.debug.markerMoves += 1;
      if (z && plane.decoder) pickCode(z);
      else {
        plane.point = [xy[0], xy[1]];
        plane.code = z ? Float32Array.from(z) : plane.code;
        drawImage();
        showPoint();
      }
    };

    function showServerImage(url) {
      if (!ui.image || plane.decoder) return;
      const img = new Image();
      img.onload = () => {
        ui.image.width = img.naturalWidth;
        ui.image.height = img.naturalHeight;
        ui.image.getContext("2d").drawImage(img, 0, 0);
        sizeImage(img.naturalHeight, img.naturalWidth);
        plane.imageDraws += 1;
      };
      img.src = url;
    }

    function sizeImage(h, w) {
      const scale = Math.max(1, Math.round(IMAGE_PX / Math.max(h, w)));
      ui.image.style.width = w * scale + "px";
      ui.image.style.height = h * scale + "px";
    }

    // --- the panel: decoded image, readout, far cue, sliders ---
    function buildPanel(spec) {
      const classes = plane.decoder ? plane.decoder.classes : 0;
      const signature = JSON.stringify(spec ? [spec.sliders, spec.texts, classes, plane.decoderId] : null);
      if (signature === plane.panelSignature) return;
      plane.panelSignature = signature;
      panel.textContent = "";
      panel.hidden = !spec;
      wrap.classList.toggle("aelab-with-panel", !!spec);
      for (const key of Object.keys(ui)) delete ui[key];
      if (!spec) return;
      const texts = spec.texts || {};
      element("div", "aelab-panel-title", panel).textContent = texts.decoded || "x̂ = ψ(z)";
      const frame = element("div", "aelab-image-frame", panel);
      ui.image = element("canvas", "aelab-decoded", frame);
      ui.image.setAttribute("role", "img");
      ui.image.setAttribute("aria-label", texts.decoded || "decoded image");
      ui.far = element("div", "aelab-far-note", panel);
      ui.far.textContent = texts.far || "far from every training code: the decoder is extrapolating here";
      ui.far.hidden = true;
      ui.readout = element("div", "aelab-readout", panel);
      if (classes) buildRow(texts, classes);
      if (texts.where) element("div", "aelab-where", panel).textContent = texts.where;
      ui.stripBox = element("div", "aelab-strip-box", panel);
      ui.stripBox.hidden = true;
      element("div", "aelab-panel-title", ui.stripBox).textContent = texts.strip || "A → B";
      ui.strip = element("canvas", "aelab-strip", ui.stripBox);
      ui.strip.setAttribute("role", "img");
      ui.strip.setAttribute("aria-label", texts.strip || "A → B");
      ui.stripCell = document.createElement("canvas");
      if (texts.strip_hint) element("div", "aelab-where", ui.stripBox).textContent = texts.strip_hint;
      const list = element("div", "aelab-sliders", panel);
      ui.sliders = spec.sliders.map((s, i) => {
        const row = element("label", "aelab-slider", list);
        const name = "z" + String(i + 1).replace(/\d/g, (c) => "₀₁₂₃₄₅₆₇₈₉"[c]);
        element("span", "aelab-slider-name", row).textContent = name;
        const input = element("input", null, row);
        Object.assign(input, { type: "range", min: String(s.low), max: String(s.high), step: String(s.step) });
        input.setAttribute("aria-label", fill(texts.slider || "latent dimension {i}", { i: i + 1, name }));
        input.dataset.dim = String(i);
        const output = element("output", "aelab-slider-value", row);
        input.addEventListener("input", (e) => {
          const z = plane.code ? Float32Array.from(plane.code) : new Float32Array(spec.sliders.length);
          z[i] = Number(input.value);
          pickCode(z, "slider", e.timeStamp);
        });
        input.addEventListener("change", () => send("slider"));
        return { input, output, decimals: s.decimals };
      });
      const [, h, w] = plane.decoder ? plane.decoder.imageShape : [1, 28, 28];
      ui.image.width = w;
      ui.image.height = h;
      sizeImage(h, w);
      if (plane.ends) drawStrip();
    }

    /** The analogy row of a conditional decoder: one cell per label, with the labels' names under it. */
    function buildRow(texts, classes) {
      const [, h, w] = plane.decoder.imageShape;
      const box = element("div", "aelab-row-box", panel);
      element("div", "aelab-panel-title", box).textContent = texts.row || "ψ(z, y) for every label y";
      ui.row = element("canvas", "aelab-row", box);
      ui.row.width = classes * (w + 1) + 1;
      ui.row.height = h + 2;
      ui.row.setAttribute("role", "img");
      ui.row.setAttribute("aria-label", texts.row || "the code under every label");
      const ctx = ui.row.getContext("2d");
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, ui.row.width, ui.row.height);
      ui.rowCell = document.createElement("canvas");
      const names = element("div", "aelab-row-names", box);
      const traces = (plane.data && plane.data.traces) || [];
      for (let k = 0; k < classes; k++) {
        const name = element("span", k === plane.label ? "aelab-row-chosen" : null, names);
        name.textContent = traces[k] ? traces[k].name : String(k);
      }
    }

    // --- events ---
    // A click is taken (and timed) at its pointer-up, before plotly's mouse handlers run. plotly covers the
    // page with its own element while the button is down, so the release reaches the window, not the plot.
    function release(e) {
      plane.releasedAt = e.timeStamp;
      const press = plane.press;
      plane.press = null;
      // A release where the press was (plotly's own click tolerance) is a click; farther, plotly zoomed.
      if (!press || e.button !== 0 || Math.hypot(e.clientX - press.cx, e.clientY - press.cy) > 3) return;
      // The second click of a double-click is plotly's "reset axes", not a new point.
      const double = plane.lastClick && e.timeStamp - plane.lastClick.t < 400
        && Math.hypot(e.clientX - plane.lastClick.cx, e.clientY - plane.lastClick.cy) < 6;
      plane.lastClick = double ? null : { t: e.timeStamp, cx: e.clientX, cy: e.clientY };
      if (double || !gd._fullLayout) return;
      const at = plane.toData(press.ox, press.oy);
      if (!at) return;
      reg.debug.clicks += 1;
      pickPoint(at[0], at[1], "click", e.timeStamp);
      box.focus({ preventScroll: true });
      send("click");
    }
    globalThis.addEventListener("pointerup", release, true);
    gd.addEventListener("pointerdown", (e) => {
      plane.press = null;
      if (e.button !== 0 || !inPlotArea(e.target)) return;
      // The nearest of the cross, A and B within GRAB_PX is grabbed (A or B only where the page decodes).
      // Ties go to the cross. Each entry: [what, where a press grabs it, where the grabbed thing is].
      let what = null, anchor = null, best = GRAB_PX;
      const grabbable = [["point", plane.crossPixel, plane.crossPixel]];
      if (plane.endPixels && plane.decoder) {
        for (const name of ["a", "b"]) {
          const end = plane.endPixels[name];
          grabbable.push([name, end, end], [name, [end[0] + END_TAG_PX, end[1] - END_TAG_PX], end]);  // end, disc
        }
      }
      for (const [name, c, at] of grabbable) {
        const distance = c ? Math.hypot(e.offsetX - c[0], e.offsetY - c[1]) : Infinity;
        if (distance < best || (distance === best && !what)) { what = name; anchor = at; best = distance; }
      }
      if (what) {
        // Grab it: plotly (mouse events) must not see this press, or it would draw a zoom box.
        e.preventDefault();
        e.stopPropagation();
        box.focus({ preventScroll: true });
        // The grabbed thing keeps its offset from the pointer (a disc grabbed beside its end does not jump).
        const offset = [anchor[0] - e.offsetX, anchor[1] - e.offsetY];
        plane.dragging = { what, offset, pointer: e.pointerId, pending: null, frame: 0, drewInFrame: false };
        try {
          gd.setPointerCapture(e.pointerId);  // the drag goes on outside the plot
        } catch (err) {
          // a synthetic pointer (a script driving the plane) cannot be captured; its moves come to gd anyway
        }
        box.classList.add("aelab-grabbing");
        // A move is drawn at once when it is the frame's first, otherwise it waits for the frame's end
        // (requestAnimationFrame), so a fast pointer costs at most two decodes per frame, never a queue.
        const tick = () => {
          const drag = plane.dragging;
          if (!drag) return;
          if (drag.pending) {
            const at = drag.pending;
            drag.pending = null;
            dragTo(drag, at);
            drag.drewInFrame = true;
          } else if (plane.stripJob && stripSlice()) {
            drag.drewInFrame = true;  // the rest of a strip that did not fit in the last frame
          }
          plane.dragStats.frames += 1;
          if (drag.drewInFrame) plane.dragStats.drawn += 1;
          drag.drewInFrame = false;
          drag.frame = requestAnimationFrame(tick);
        };
        plane.dragging.frame = requestAnimationFrame(tick);
        return;
      }
      plane.press = { ox: e.offsetX, oy: e.offsetY, cx: e.clientX, cy: e.clientY };
    }, true);
    gd.addEventListener("pointermove", (e) => {
      const drag = plane.dragging;
      if (drag) {
        e.stopPropagation();
        const at = plane.toData(e.offsetX + drag.offset[0], e.offsetY + drag.offset[1]);
        if (!at) return;
        if (drag.drewInFrame) {
          drag.pending = [at[0], at[1], e.timeStamp];
        } else {
          drag.pending = null;
          dragTo(drag, [at[0], at[1], e.timeStamp]);
          drag.drewInFrame = true;
        }
        return;
      }
      hover(e);
    }, true);
    const endDrag = (e) => {
      const drag = plane.dragging;
      if (!drag || e.pointerId !== drag.pointer) return;
      e.stopPropagation();
      cancelAnimationFrame(drag.frame);
      if (drag.pending) dragTo(drag, drag.pending);
      if (plane.stripJob) {
        plane.stripJob.budget = Infinity;  // the released strip is drawn whole
        stripSlice();
      }
      plane.dragging = null;
      box.classList.remove("aelab-grabbing");
      if (drag.what !== "point") drawOverlay();  // the end's disc back to its resting colour
      // An end pressed and let go where it was is not a change: the server would rerun the page for nothing.
      if (drag.what === "point" || drag.moved) send(drag.what === "point" ? "drag" : drag.what);
    };
    function dragTo(drag, at) {
      drag.moved = true;
      if (drag.what === "point") pickPoint(at[0], at[1], "drag", at[2]);
      else moveEnd(drag.what, at[0], at[1], at[2]);
    }
    gd.addEventListener("pointerup", endDrag, true);
    gd.addEventListener("pointercancel", endDrag, true);
    plane.handlers += 1;
    reg.debug.clickHandlers += 1;

    box.addEventListener("keydown", (e) => {
      const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
      const move = moves[e.key];
      const a = axes();
      if (!move || !a || !plane.point || e.target !== box) return;
      e.preventDefault();
      const share = e.shiftKey ? 0.1 : 0.01;
      const xs = a[0].range, ys = a[1].range;
      pickPoint(plane.point[0] + move[0] * share * (xs[1] - xs[0]), plane.point[1] + move[1] * share * (ys[1] - ys[0]),
        "key", e.timeStamp);
      if (plane.keyTimer) clearTimeout(plane.keyTimer);
      plane.keyTimer = 0;
    });
    box.addEventListener("keyup", (e) => {
      if (!(e.key in { ArrowLeft: 1, ArrowRight: 1, ArrowUp: 1, ArrowDown: 1 })) return;
      if (plane.keyTimer) clearTimeout(plane.keyTimer);
      plane.keyTimer = setTimeout(() => {
        plane.keyTimer = 0;
        send("key");
      }, KEY_SETTLE_MS);
    });

    // --- the manifold under the points: ψ on an n × n grid over the visible window, decoded in the page ---
    // Re-decoded whenever the view changes (zoom, pan, resize), a few rows per frame so that a slow
    // decoder never blocks the page; a newer view cancels an unfinished one.
    plane.gridDraws = 0;
    plane.gridDecodes = 0;
    let gridJob = 0;
    function drawGrid() {
      const n = plane.data && plane.data.grid;
      const a = axes();
      const ctx = underlay.getContext("2d");
      if (!n || !plane.decoder || !a) {
        underlay.width = 0;
        plane.gridRanges = null;
        return;
      }
      const xr = a[0].range.slice(), yr = a[1].range.slice();
      const key = JSON.stringify([n, xr, yr, a[0]._length, a[1]._length, plane.decoderId, plane.label]);
      if (key === plane.gridKey) return;
      plane.gridKey = key;
      const job = ++gridJob;
      const [, h, w] = plane.decoder.imageShape;
      const sheet = document.createElement("canvas");
      sheet.width = n * w;
      sheet.height = n * h;
      const cell = document.createElement("canvas");
      let row = 0;
      const step = () => {
        if (job !== gridJob) return;
        const start = performance.now();
        while (row < n && performance.now() - start < 8) {
          for (let c = 0; c < n; c++) {
            const x = xr[0] + (c + 0.5) * (xr[1] - xr[0]) / n, y = yr[1] - (row + 0.5) * (yr[1] - yr[0]) / n;
            // Dark strokes on light grey under the points, so the coloured dots stay readable.
            const pixels = plane.decoder.decodePlane(x, y, plane.label).map((v) => 1 - 0.55 * v);
            globalThis.AelabDecoder.draw(cell, pixels, plane.decoder.imageShape);
            sheet.getContext("2d").drawImage(cell, c * w, row * h);
            plane.gridDecodes += 1;
          }
          row += 1;
        }
        if (row < n) {
          requestAnimationFrame(step);
          return;
        }
        const [ww, hh, ratio] = plane.overlaySize || [gd.clientWidth, gd.clientHeight, 1];
        underlay.width = Math.round(ww * ratio);
        underlay.height = Math.round(hh * ratio);
        underlay.style.width = ww + "px";
        underlay.style.height = hh + "px";
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(sheet, a[0]._offset, a[1]._offset, a[0]._length, a[1]._length);
        plane.gridRanges = [xr, yr];
        plane.gridDraws += 1;
      };
      step();
    }

    // --- hover preview: the decode under the pointer, once per display frame ---
    let hoverAt = null, hoverFrame = 0;
    function hidePreview() {
      preview.style.display = "none";
      sample.style.display = "none";
    }
    // Real images on hover: the sprite sheet (aelab.plane.sprite_sheet) is loaded once per payload.
    function loadSprite(spec) {
      const url = spec ? spec.url : null;
      if (url === plane.spriteUrl) return;
      plane.spriteUrl = url;
      plane.sprite = null;
      if (!spec) return;
      const img = new Image();
      img.onload = () => { if (plane.spriteUrl === url) plane.sprite = { img, ...spec }; };
      img.src = url;
    }
    function showSample(at, pw, ph) {
      const s = plane.sprite, index = plane.hoverSample;
      if (!s || index === null || index === undefined || index >= s.count) { sample.style.display = "none"; return; }
      const [, h, w] = s.shape;
      if (sample.width !== w || sample.height !== h) { sample.width = w; sample.height = h; }
      const ctx = sample.getContext("2d");
      ctx.drawImage(s.img, (index % s.columns) * w, Math.floor(index / s.columns) * h, w, h, 0, 0, w, h);
      plane.sampleShown = index;
      plane.sampleDraws = (plane.sampleDraws || 0) + 1;
      sample.style.width = pw + "px";
      sample.style.height = ph + "px";
      sample.style.left = at.left - pw - 6 >= 0 ? at.left - pw - 6 + "px" : at.left + pw + 6 + "px";
      sample.style.top = at.top + "px";
      sample.style.display = "block";
    }
    plane.hidePreview = hidePreview;
    function renderHover() {
      hoverFrame = 0;
      const at = hoverAt;
      hoverAt = null;
      if (!at || !plane.decoder || !plane.hoverOn()) return;
      const start = performance.now();
      const [, h, w] = plane.decoder.imageShape;
      globalThis.AelabDecoder.draw(preview, plane.decoder.decodePlane(at.x, at.y, plane.label), plane.decoder.imageShape);
      plane.lastHoverMs = performance.now() - start;
      plane.hoverDecodes += 1;
      reg.debug.hoverDecodes += 1;
      // Whole-number scale keeps the pixels square; the preview sits up-left of the pointer (plotly's
      // hover label goes to the right), flipping where it would leave the element.
      const scale = Math.max(1, Math.round(PREVIEW_PX / Math.max(h, w)));
      const pw = w * scale, ph = h * scale, gap = 14;
      preview.style.width = pw + "px";
      preview.style.height = ph + "px";
      let left = at.px - pw - gap, top = at.py - ph - gap;
      if (left < 0) left = at.px + gap;
      if (top < 0) top = at.py + gap;
      preview.style.left = left + "px";
      preview.style.top = top + "px";
      preview.style.display = "block";
      plane.previewAt = [{ left, top }, pw, ph];
      showSample(...plane.previewAt);
    }
    function hover(e) {
      if (!inPlotArea(e.target)) { hidePreview(); return; }
      if (!plane.decoder || !plane.hoverOn()) { hidePreview(); return; }
      const at = plane.toData(e.offsetX, e.offsetY);
      if (!at) return;
      hoverAt = { x: at[0], y: at[1], px: e.offsetX, py: e.offsetY };
      if (!hoverFrame) hoverFrame = requestAnimationFrame(renderHover);
    }
    gd.addEventListener("pointerleave", hidePreview);

    // --- data ---
    function setDecoder(spec) {
      const id = spec ? spec.id : null;
      if (id === plane.decoderId) return;
      plane.decoderId = id;
      plane.decoder = null;
      plane.decoderError = null;
      hidePreview();
      if (!spec) return;
      try {
        plane.decoder = globalThis.AelabDecoder.load(spec);
      } catch (err) {
        plane.decoderError = String(err && err.message ? err.message : err);
      }
    }

    function fitHeight(data) {
      // Equal scale on both axes: the plot is as tall as its width asks for the bounds' aspect, within limits.
      const [[x0, x1], [y0, y1]] = data.bounds;
      const width = Math.max(200, box.clientWidth || 600);
      const plotH = (width - MARGIN.l - MARGIN.r) * (y1 - y0) / (x1 - x0);
      return Math.round(Math.min(data.height, Math.max(300, plotH + MARGIN.t + MARGIN.b + legendRoom(data) + MODEBAR_PX)));
    }
    function legendRoom(data) {
      // Rows of the one-line legend: about 7 px a character plus the swatch, wrapped to the plot's width.
      if (data.traces.length < 2) return 0;
      const width = Math.max(200, (box.clientWidth || 600) - MARGIN.l - MARGIN.r);
      const total = data.traces.reduce((sum, t) => sum + 44 + 7 * String(t.name).length, 0);
      return 20 * Math.ceil(total / width) + 4;
    }

    function figure(data, height) {
      const type = webglAvailable() ? "scattergl" : "scatter";
      plane.xs = [];
      plane.ys = [];
      const traces = data.traces.map((t, label) => {
        const x = array(t.x), y = array(t.y);
        plane.xs.push(x);
        plane.ys.push(y);
        return {
          type, mode: "markers", name: t.name,
          uid: "label-" + label,  // lets plotly keep a class hidden from the legend across redraws
          x, y, customdata: array(t.index),
          marker: { color: t.color, size: 5, opacity: 0.85 },
          hovertemplate: "%{fullData.name}<br>sample %{customdata}<extra></extra>",
        };
      });
      const [[x0, x1], [y0, y1]] = data.bounds;
      const text = themeColor(root, "--st-text-color", "#31333F");
      const axis = { zeroline: false, showgrid: true, gridcolor: "rgba(128,128,128,0.2)", linecolor: "rgba(128,128,128,0.5)", mirror: true, showline: true };
      const layout = {
        uirevision: data.view,
        height,
        margin: { ...MARGIN, t: MARGIN.t + legendRoom(data) + MODEBAR_PX },
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)",
        font: { color: text, size: 11 },
        xaxis: { ...axis, range: [x0, x1], title: { text: "z₁", standoff: 4 } },
        yaxis: { ...axis, range: [y0, y1], title: { text: "z₂", standoff: 4 }, scaleanchor: "x", scaleratio: 1 },
        // A compact legend: one row of swatches above the plot, not a column that takes a third of the width.
        legend: { orientation: "h", x: 0, y: 1, yanchor: "bottom", itemsizing: "constant", itemwidth: 30, font: { size: 11 } },
        hovermode: "closest",
        dragmode: "zoom",
        images: data.background
          ? [{ source: data.background, xref: "x", yref: "y", x: x0, y: y1, sizex: x1 - x0, sizey: y1 - y0, sizing: "stretch", layer: "below" }]
          : [],
      };
      const config = { displaylogo: false, responsive: false, doubleClick: "reset", modeBarButtonsToRemove: ["select2d", "lasso2d"] };
      return [traces, layout, config];
    }

    /** Draw `data` (aelab.plane.plane_payload); resolves once plotly has drawn. Needs window.Plotly. */
    plane.setData = (data) => {
      // The app sends the decoder's layers and the points as files (`layers_url`, `traces_url`,
      // aelab/ui/plane.py); the offline explorer inline. Both are fetched at once, then drawn.
      const served = [];
      if (data.decoder && !data.decoder.layers && data.decoder.layers_url) {
        served.push(fetchServed(data.decoder.layers_url, "the decoder's weights").then((layers) => ({ decoder: { ...data.decoder, layers } })));
      }
      if (!data.traces && data.traces_url) {
        served.push(fetchServed(data.traces_url, "the plane's points").then((traces) => ({ traces })));
      }
      if (served.length) return Promise.all(served).then((parts) => plane.setData(Object.assign({}, data, ...parts)));
      const Plotly = globalThis.Plotly;
      plane.data = data;
      setDecoder(data.decoder || null);
      const label = plane.label;
      plane.label = plane.decoder && plane.decoder.classes ? Math.min(Number(data.label) || 0, plane.decoder.classes - 1) : undefined;
      // Ends of another model's code space cannot be decoded by this one (the host sends new ends after).
      if (plane.ends && (!plane.decoder || plane.ends.a.length !== plane.decoder.latentDim)) plane.ends = null;
      buildPanel(data.panel || null);
      if (plane.label !== label && ui.row) {  // "Draw as" changed: the names' highlight and the strip follow
        ui.row.parentNode.querySelectorAll(".aelab-row-names span").forEach((el, k) => el.classList.toggle("aelab-row-chosen", k === plane.label));
        if (plane.ends) drawStrip();
      }
      loadSprite(data.sprite || null);
      if (plane.decoder && plane.code && plane.code.length !== plane.decoder.latentDim) plane.code = null;
      const height = fitHeight(data);
      plane.height = height;
      const fig = figure(data, height);
      if (plane.drawn && plane.view === data.view && gd._fullLayout) {
        // Same view, new data (a background, the language): keep the user's zoom. uirevision alone loses it
        // once the axes are tied by scaleanchor.
        fig[1].xaxis.range = gd._fullLayout.xaxis.range.slice();
        fig[1].yaxis.range = gd._fullLayout.yaxis.range.slice();
      }
      plane.view = data.view;
      return Plotly.react(gd, ...fig).then(() => {
        if (!plane.eventsAttached) {
          plane.eventsAttached = true;
          // Zoom, pan, resize, legend: the overlay follows the axes.
          gd.on("plotly_afterplot", redrawOverlay);
          gd.on("plotly_hover", (e) => {
            const point = e && e.points && e.points[0];
            plane.hoverSample = point && point.customdata !== undefined ? Number(point.customdata) : null;
            // plotly finds the hovered point after its own throttle, often after the frame's decode.
            if (plane.previewAt && preview.style.display === "block") showSample(...plane.previewAt);
          });
          gd.on("plotly_unhover", () => { plane.hoverSample = null; sample.style.display = "none"; });
          gd.on("plotly_relayouting", drawOverlay);
        }
        plane.drawn = true;
        plane.draws += 1;
        reg.debug.draws += 1;
        if (plane.point && !plane.code && plane.decoder) plane.code = Float32Array.from(plane.decoder.toLatent(...plane.point));
        drawImage();
        showPoint();
      });
    };

    // Streamlit changes the width without a window resize (sidebar, columns); plotly's own `responsive`
    // only follows the window, and the height follows the width here.
    plane.resize = new ResizeObserver(() => {
      if (!plane.drawn || !globalThis.Plotly || !plane.data) return;
      const height = fitHeight(plane.data);
      if (Math.abs(height - plane.height) > 2) {
        plane.height = height;
        globalThis.Plotly.relayout(gd, { height });
      } else {
        globalThis.Plotly.Plots.resize(gd);
      }
    });
    plane.resize.observe(box);

    plane.destroy = () => {
      globalThis.removeEventListener("pointerup", release, true);
      plane.resize.disconnect();
      if (plane.dragging) cancelAnimationFrame(plane.dragging.frame);
      if (hoverFrame) cancelAnimationFrame(hoverFrame);
      if (plane.keyTimer) clearTimeout(plane.keyTimer);
      if (globalThis.Plotly) globalThis.Plotly.purge(gd);
      wrap.remove();
    };
    return plane;
  }

  return { create, registry, loadPlotly, array, kthDistance, toPlane, interpolationCodes, GRAB_PX, END_TAG_PX, KEY_SETTLE_MS };
});
