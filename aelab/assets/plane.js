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
 * The host hears only finished gestures: `options.onGesture({x, y, z, n, gesture})` once per pointer-up,
 * slider release (`change`) or key-up (after KEY_SETTLE_MS without a key). x, y: the plane point; z: the
 * full code (null without a decoder); n: a nonce; gesture: "click" | "drag" | "slider" | "key".
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
 *   plane.point, plane.code    what is selected now; plane.timings, plane.dragStats: measurements
 * With `data.sprite` (a sheet of the dataset's images), hovering a point shows its real image beside the
 * decode at the pointer.
 * With `data.grid` = n, the page decodes the manifold (ψ on an n × n grid of the visible window) under the
 * points and decodes it again after every zoom or pan.
 */
(function (root, factory) {
  const api = factory();
  if (typeof module === "object" && module && module.exports) module.exports = api;
  root.AelabPlane = api;
})(typeof globalThis !== "undefined" ? globalThis : this, function () {
  "use strict";

  const GRAB_PX = 14;  // a press this close to the cross drags it
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

  // --- page-wide state: plotly.js loading, debug counters, planes by key --------------------------------

  function registry() {
    const reg = (globalThis.__aelab = globalThis.__aelab || {});
    reg.planes = reg.planes || {};
    reg.selected = reg.selected || {};
    reg.hover = reg.hover || {};
    reg.debug = reg.debug || {
      runs: 0, plotlyLoads: 0, clickHandlers: 0, draws: 0, markerMoves: 0, clicks: 0, hoverDecodes: 0,
      imageDraws: 0, gestures: 0,
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

  /** A decoder's layers served as a file (content-addressed, so one fetch per URL and page). */
  function fetchLayers(url) {
    const reg = registry();
    reg.layers = reg.layers || {};
    if (!reg.layers[url]) {
      reg.layers[url] = fetch(url)
        .then((response) => {
          if (!response.ok) throw new Error(`could not load the decoder's weights from ${url} (${response.status})`);
          return response.json();
        })
        .catch((err) => {
          delete reg.layers[url];  // let a later run try again
          throw err;
        });
    }
    return reg.layers[url];
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
      point: null, code: null, markers: [], drawn: false, draws: 0, handlers: 0,
      ticket: 0, lastSent: null, sending: false,
      timings: { click: [], drag: [], slider: [], key: [] },
      dragStats: { frames: 0, drawn: 0 },
      imageDraws: 0, hoverDecodes: 0, gestures: 0, lastDecodeMs: 0,
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
      globalThis.AelabDecoder.draw(ui.image, plane.decoder.decode(plane.code), plane.decoder.imageShape);
      plane.lastDecodeMs = performance.now() - start;
      plane.imageDraws += 1;
      reg.debug.imageDraws += 1;
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
      if (!plane.point || !opts.onGesture) return;
      plane.gestures += 1;
      reg.debug.gestures += 1;
      const n = Date.now() * 10 + (plane.gestures % 10);  // a second gesture on the same spot is still a change
      plane.lastSent = n;
      opts.onGesture({ x: plane.point[0], y: plane.point[1], z: plane.code ? Array.from(plane.code) : null, n, gesture });
    }

    plane.select = (x, y) => pickPoint(x, y);
    plane.setCode = (z) => pickCode(z);
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
      const signature = JSON.stringify(spec ? [spec.sliders, spec.texts] : null);
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
      if (texts.where) element("div", "aelab-where", panel).textContent = texts.where;
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
      const c = plane.crossPixel;
      if (c && Math.hypot(e.offsetX - c[0], e.offsetY - c[1]) <= GRAB_PX) {
        // Grab the cross: plotly (mouse events) must not see this press, or it would draw a zoom box.
        e.preventDefault();
        e.stopPropagation();
        box.focus({ preventScroll: true });
        plane.dragging = { pointer: e.pointerId, pending: null, frame: 0, drewInFrame: false };
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
            pickPoint(at[0], at[1], "drag", at[2]);
            drag.drewInFrame = true;
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
        const at = plane.toData(e.offsetX, e.offsetY);
        if (!at) return;
        if (drag.drewInFrame) {
          drag.pending = [at[0], at[1], e.timeStamp];
        } else {
          drag.pending = null;
          pickPoint(at[0], at[1], "drag", e.timeStamp);
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
      if (drag.pending) pickPoint(drag.pending[0], drag.pending[1], "drag", drag.pending[2]);
      plane.dragging = null;
      box.classList.remove("aelab-grabbing");
      send("drag");
    };
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
      const key = JSON.stringify([n, xr, yr, a[0]._length, a[1]._length, plane.decoderId]);
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
            const pixels = plane.decoder.decodePlane(x, y).map((v) => 1 - 0.55 * v);
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
      globalThis.AelabDecoder.draw(preview, plane.decoder.decodePlane(at.x, at.y), plane.decoder.imageShape);
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
      // The app sends the decoder's layers as a file (`layers_url`, aelab/ui/plane.py); the offline explorer inline.
      if (data.decoder && !data.decoder.layers && data.decoder.layers_url) {
        return fetchLayers(data.decoder.layers_url).then((layers) => plane.setData({ ...data, decoder: { ...data.decoder, layers } }));
      }
      const Plotly = globalThis.Plotly;
      plane.data = data;
      setDecoder(data.decoder || null);
      buildPanel(data.panel || null);
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

  return { create, registry, loadPlotly, array, kthDistance, toPlane, GRAB_PX, KEY_SETTLE_MS };
});
