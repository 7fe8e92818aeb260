/* The JavaScript twin of aelab.draw.preprocess: a drawing's ink -> the input a model sees, in the page.
 *
 * ink: Float64Array / Float32Array of H·W values in [0, 1], white ink on black, row-major.
 * convention (aelab.draw.Convention.to_dict): { frame: [H', W'], box: [bh, bw], centre: "mass" | "box", channels,
 *   ink_threshold, min_extent } (the last two are aelab.draw's INK_THRESHOLD and MIN_EXTENT).
 * The steps, as in Python: crop to the pixels above ink_threshold; scale the crop so its longer side fills
 * the box (aspect kept) by exact area averaging; place it with its centre of mass at the frame's centre
 * (whole-pixel shift) or the box centred; copy into each channel. tests/test_draw_js.py compares the two on
 * many generated strokes (to 1/255 per pixel), and the same file's renderStrokes with render_strokes.
 *
 * Works as a classic <script> (globalThis.AelabPreprocess) and under node (require).
 */
(function (root, factory) {
  const api = factory();
  if (typeof module === "object" && module && module.exports) module.exports = api;
  root.AelabPreprocess = api;
})(typeof globalThis !== "undefined" ? globalThis : this, function () {
  "use strict";

  /** {top, left, height, width} of the ink, or {error: "empty" | "dot"}. */
  function inkBox(ink, h, w, convention) {
    const threshold = convention.ink_threshold, minExtent = convention.min_extent;
    let top = h, bottom = -1, left = w, right = -1;
    for (let r = 0; r < h; r++) {
      const row = r * w;
      for (let c = 0; c < w; c++) {
        if (ink[row + c] > threshold) {
          if (r < top) top = r;
          if (r > bottom) bottom = r;
          if (c < left) left = c;
          if (c > right) right = c;
        }
      }
    }
    if (bottom < 0) return { error: "empty" };
    const height = bottom - top + 1, width = right - left + 1;
    if (Math.max(height, width) < minExtent * Math.max(h, w)) return { error: "dot" };
    return { top, left, height, width };
  }

  /** Rows of (start index, weights) for area averaging nIn -> nOut (aelab.draw.area_weights, sparse). */
  function areaWeights(nIn, nOut) {
    const step = nIn / nOut, rows = [];
    for (let o = 0; o < nOut; o++) {
      const start = o * step, end = (o + 1) * step, first = Math.floor(start);
      const last = Math.min(Math.ceil(end), nIn), weights = [];
      for (let i = first; i < last; i++) weights.push((Math.min(end, i + 1) - Math.max(start, i)) / step);
      rows.push({ first, weights });
    }
    return rows;
  }

  function scaledSize(height, width, box) {
    const scale = Math.min(box[0] / height, box[1] / width);
    return [Math.max(1, Math.floor(height * scale + 0.5)), Math.max(1, Math.floor(width * scale + 0.5))];
  }

  /** ink (H·W) -> {input: Float32Array C·H'·W', box} or {error}. */
  function preprocess(ink, h, w, convention) {
    const found = inkBox(ink, h, w, convention);
    if (found.error) return found;
    const { top, left, height, width } = found;
    const [ph, pw] = scaledSize(height, width, convention.box);
    const rowsW = areaWeights(height, ph), colsW = areaWeights(width, pw);
    // Columns first (crop rows × pw), then rows: the same sums as R @ crop @ Cᵀ.
    const tmp = new Float64Array(height * pw);
    for (let r = 0; r < height; r++) {
      const src = (top + r) * w + left;
      for (let q = 0; q < pw; q++) {
        const { first, weights } = colsW[q];
        let s = 0;
        for (let k = 0; k < weights.length; k++) s += weights[k] * ink[src + first + k];
        tmp[r * pw + q] = s;
      }
    }
    const patch = new Float64Array(ph * pw);
    let mass = 0, my = 0, mx = 0;
    for (let p = 0; p < ph; p++) {
      const { first, weights } = rowsW[p];
      for (let q = 0; q < pw; q++) {
        let s = 0;
        for (let k = 0; k < weights.length; k++) s += weights[k] * tmp[(first + k) * pw + q];
        s = s < 0 ? 0 : s > 1 ? 1 : s;
        patch[p * pw + q] = s;
        mass += s; my += p * s; mx += q * s;
      }
    }
    const [fh, fw] = convention.frame;
    let top0, left0;
    if (convention.centre === "mass") {
      top0 = Math.floor(fh / 2 - my / mass + 0.5);
      left0 = Math.floor(fw / 2 - mx / mass + 0.5);
    } else {
      top0 = Math.floor((fh - ph) / 2);
      left0 = Math.floor((fw - pw) / 2);
    }
    const channels = convention.channels || 1, n = fh * fw;
    const input = new Float32Array(channels * n);
    for (let p = 0; p < ph; p++) {
      const r = top0 + p;
      if (r < 0 || r >= fh) continue;
      for (let q = 0; q < pw; q++) {
        const c = left0 + q;
        if (c >= 0 && c < fw) input[r * fw + c] = patch[p * pw + q];
      }
    }
    for (let k = 1; k < channels; k++) input.copyWithin(k * n, 0, n);
    return { input, box: { top, left, height, width } };
  }

  /** aelab.draw.render_strokes: binary ink where a pixel centre is within penWidth / 2 of a stroke. */
  function renderStrokes(strokes, h, w, penWidth) {
    const ink = new Float64Array(h * w), radius = penWidth / 2;
    for (const stroke of strokes) {
      const pairs = stroke.length > 1 ? stroke.slice(1).map((p, i) => [stroke[i], p]) : [[stroke[0], stroke[0]]];
      for (const [[x0, y0], [x1, y1]] of pairs) {
        const r0 = Math.max(0, Math.floor(Math.min(y0, y1) - radius));
        const r1 = Math.min(h, Math.ceil(Math.max(y0, y1) + radius) + 1);
        const c0 = Math.max(0, Math.floor(Math.min(x0, x1) - radius));
        const c1 = Math.min(w, Math.ceil(Math.max(x0, x1) + radius) + 1);
        const dx = x1 - x0, dy = y1 - y0, length2 = dx * dx + dy * dy;
        for (let r = r0; r < r1; r++) {
          const py = r + 0.5;
          for (let c = c0; c < c1; c++) {
            const px = c + 0.5;
            let t = length2 === 0 ? 0 : ((px - x0) * dx + (py - y0) * dy) / length2;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            const ex = px - x0 - t * dx, ey = py - y0 - t * dy;
            if (ex * ex + ey * ey <= radius * radius) ink[r * w + c] = 1;
          }
        }
      }
    }
    return ink;
  }

  /** A canvas's RGBA bytes (white ink on black) -> ink H·W in [0, 1] (the red channel). */
  function inkFromRGBA(rgba, h, w) {
    const ink = new Float32Array(h * w);
    for (let i = 0; i < h * w; i++) ink[i] = rgba[4 * i] / 255;
    return ink;
  }

  return { inkBox, areaWeights, preprocess, renderStrokes, inkFromRGBA };
});
