/* aelab's encoder φ in plain JavaScript: the forward pass of an exported encoder, no libraries.
 *
 * The spec comes from `aelab.export.encoder_spec` (Python):
 *   { format: "aelab-encoder", version: 1, id, kind, latent_dim, classes, image_shape: [C, H, W],
 *     layers: [ {op: "flatten"}                               same numbers, flat shape
 *               {op: "linear", in, out, weight, bias}         weight (out, in) row-major, like torch
 *               {op: "relu"}
 *               {op: "conv2d", in, out, kernel: [kh, kw], stride: [sh, sw], padding: [ph, pw],
 *                weight, bias}                                 weight (out, in, kh, kw), like torch
 *               {op: "condition", classes}                    append the label one-hot (a conditional kind)
 *               {op: "take", count} ] }                        the first `count` numbers (a VAE's μ)
 * where weight and bias are {dtype: "f4", bdata: base64 of float32 little-endian}.
 *
 * Like decoder.js, whose weight reader and linear layer it uses: buffers allocated once at load, sums in
 * doubles, activations stored as float32. Works as a classic <script> after decoder.js (sets
 * globalThis.AelabEncoder) and under node (`require("encoder.js")`, which requires decoder.js beside it),
 * which is how tests/test_draw_js.py checks it against PyTorch.
 */
(function (root, factory) {
  const api = factory();
  if (typeof module === "object" && module && module.exports) module.exports = api;
  root.AelabEncoder = api;
})(typeof globalThis !== "undefined" ? globalThis : this, function () {
  "use strict";

  // The weights' reader and the linear layer are decoder.js's: one reading of the export format. In a page
  // decoder.js is loaded first (it sets globalThis.AelabDecoder); under node it is required beside this file.
  const shared = globalThis.AelabDecoder || (typeof require === "function" ? require("./decoder.js") : null);
  if (!shared) throw new Error("aelab encoder: load decoder.js before encoder.js");
  const { floats, size, linear } = shared;

  function check(condition, message) {
    if (!condition) throw new Error("aelab encoder: " + message);
  }

  function conv2d(layer, shape) {
    check(shape.length === 3 && shape[0] === layer.in, `conv2d expects ${layer.in} channels, got [${shape}]`);
    const [ci, hi, wi] = shape, co = layer.out;
    const [kh, kw] = layer.kernel, [sh, sw] = layer.stride, [ph, pw] = layer.padding;
    const ho = Math.floor((hi + 2 * ph - kh) / sh) + 1, wo = Math.floor((wi + 2 * pw - kw) / sw) + 1;
    const w = floats(layer.weight), b = floats(layer.bias);
    check(w.length === co * ci * kh * kw && b.length === co, "conv2d weight or bias has the wrong size");
    // Each kernel tap's valid output columns, computed once: the inner loop then has no bounds checks.
    const oxFirst = new Int32Array(kw), oxLast = new Int32Array(kw);
    for (let kx = 0; kx < kw; kx++) {
      oxFirst[kx] = Math.max(0, Math.ceil((pw - kx) / sw));
      oxLast[kx] = Math.min(wo - 1, Math.floor((wi - 1 + pw - kx) / sw));
    }
    const acc = new Float64Array(co * ho * wo);
    return {
      shape: [co, ho, wo],
      run(x, y) {
        // Gather by kernel tap: for each (o, c, ky, kx) add weight × the shifted input plane.
        for (let o = 0; o < co; o++) acc.fill(b[o], o * ho * wo, (o + 1) * ho * wo);
        for (let o = 0; o < co; o++) {
          const oc = o * ho * wo;
          for (let c = 0; c < ci; c++) {
            const xc = c * hi * wi;
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const k = w[((o * ci + c) * kh + ky) * kw + kx];
                const first = oxFirst[kx], last = oxLast[kx];
                for (let oy = 0; oy < ho; oy++) {
                  const iy = oy * sh - ph + ky;
                  if (iy < 0 || iy >= hi) continue;
                  const xrow = xc + iy * wi - pw + kx, orow = oc + oy * wo;
                  for (let ox = first; ox <= last; ox++) acc[orow + ox] += k * x[xrow + ox * sw];
                }
              }
            }
          }
        }
        for (let i = 0; i < acc.length; i++) y[i] = acc[i];
      },
    };
  }

  function build(layer, shape, told) {
    switch (layer.op) {
      case "flatten": return { shape: [size(shape)], run: null };
      case "condition": {
        check(shape.length === 1 && layer.classes > 0, `cannot append a label to [${shape}]`);
        const n = shape[0], k = layer.classes;
        return {
          shape: [n + k],
          run(x, y) {
            for (let i = 0; i < n; i++) y[i] = x[i];
            for (let j = 0; j < k; j++) y[n + j] = j === told.label ? 1 : 0;
          },
        };
      }
      case "linear": return linear(layer, shape);
      case "relu": return { shape, run(x, y) { for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : 0; } };
      case "conv2d": return conv2d(layer, shape);
      case "take": {
        check(shape.length === 1 && layer.count <= shape[0], `cannot take ${layer.count} of [${shape}]`);
        const n = layer.count;
        return { shape: [n], run(x, y) { for (let i = 0; i < n; i++) y[i] = x[i]; } };
      }
      default: throw new Error(`aelab encoder: unknown layer op '${layer.op}'`);
    }
  }

  /** An encoder ready to run: `encode(pixels[, label])` (C·H·W floats, channel-major; the label for a
   *  conditional kind) -> Float32Array code (d). */
  function load(spec) {
    check(spec && spec.format === "aelab-encoder" && spec.version === 1, "not an aelab-encoder spec (version 1)");
    let shape = spec.image_shape.slice();
    const input = new Float32Array(size(shape));
    let buffer = input;
    const steps = [];
    const classes = spec.classes || 0, told = { label: 0 };
    for (const layer of spec.layers) {
      const step = build(layer, shape, told);
      shape = step.shape;
      if (step.run) {
        const out = new Float32Array(size(shape));
        steps.push({ run: step.run, x: buffer, y: out });
        buffer = out;
      }
    }
    check(shape.length === 1 && shape[0] === spec.latent_dim,
      `the layers end in [${shape}], not a code of ${spec.latent_dim}`);
    const output = buffer;

    function encode(pixels, label) {
      check(pixels.length === input.length, `expected ${input.length} pixels, got ${pixels.length}`);
      if (classes) {
        check(Number.isInteger(label) && label >= 0 && label < classes, `expected a label in 0..${classes - 1}, got ${label}`);
        told.label = label;
      }
      for (let i = 0; i < input.length; i++) input[i] = pixels[i];
      for (const s of steps) s.run(s.x, s.y);
      return output;  // reused by the next encode: copy it to keep it
    }

    return {
      id: spec.id, kind: spec.kind, latentDim: spec.latent_dim, classes, imageShape: spec.image_shape.slice(), encode,
    };
  }

  return { load };
});
