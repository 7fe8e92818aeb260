/* aelab's decoder ψ in plain JavaScript: the forward pass of an exported decoder, no libraries.
 *
 * The spec comes from `aelab.export.decoder_spec` (Python):
 *   { format: "aelab-decoder", version: 1, id, kind, latent_dim, classes, image_shape: [C, H, W],
 *     plane_map: { matrix: [[...d], [...d]], offset: [...d] } | null,
 *     layers: [ {op: "linear", in, out, weight, bias}      weight (out, in) row-major, like torch
 *               {op: "relu"} | {op: "sigmoid"}
 *               {op: "reshape", shape: [C, H, W]}
 *               {op: "conv_transpose2d", in, out, kernel: [kh, kw], stride: [sh, sw], padding: [ph, pw],
 *                weight, bias}                               weight (in, out, kh, kw), like torch
 *               {op: "crop", shape: [C, H, W]} ] }         keep the top-left H × W of every channel
 * where weight and bias are {dtype: "f4", bdata: base64 of float32 little-endian}. A conditional decoder
 * (classes > 0, kind cvae) is told a label: its first layer takes the code followed by the label one-hot,
 * and `decode(code, label)` writes both.
 *
 * Every layer writes into a buffer allocated once at load, so a decode allocates nothing: a hover at
 * display rate does not wake the garbage collector. Sums are accumulated in doubles; activations are
 * stored as float32, like torch's.
 *
 * Works as a classic <script> (sets globalThis.AelabDecoder), inside an ES module (same), and under node
 * (`require("decoder.js")`), which is how tests/test_export.py checks it against PyTorch.
 */
(function (root, factory) {
  const api = factory();
  if (typeof module === "object" && module && module.exports) module.exports = api;
  root.AelabDecoder = api;
})(typeof globalThis !== "undefined" ? globalThis : this, function () {
  "use strict";

  const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

  function base64Bytes(text) {
    if (typeof atob === "function") {
      const bin = atob(text);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      return bytes;
    }
    return new Uint8Array(Buffer.from(text, "base64"));  // node without atob
  }

  /** {dtype: "f4", bdata} -> Float32Array. */
  function floats(encoded) {
    if (!encoded || encoded.dtype !== "f4") throw new Error("expected float32 weights (dtype 'f4')");
    const bytes = base64Bytes(encoded.bdata);
    if (LITTLE_ENDIAN) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const view = new DataView(bytes.buffer);  // a big-endian machine: read each value the slow way
    const out = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }

  const size = (shape) => shape.reduce((a, b) => a * b, 1);

  function check(condition, message) {
    if (!condition) throw new Error("aelab decoder: " + message);
  }

  // --- layers: each is {shape (its output), run(x, y)} writing y from x --------------------------------

  function linear(layer, shape) {
    check(size(shape) === layer.in, `linear expects ${layer.in} inputs, got shape [${shape}]`);
    const w = floats(layer.weight), b = floats(layer.bias), n = layer.in, m = layer.out;
    check(w.length === n * m && b.length === m, "linear weight or bias has the wrong size");
    return {
      shape: [m],
      run(x, y) {
        for (let o = 0; o < m; o++) {
          let s = b[o];
          const row = o * n;
          for (let i = 0; i < n; i++) s += w[row + i] * x[i];
          y[o] = s;
        }
      },
    };
  }

  function elementwise(f, shape) {
    return { shape, run(x, y) { for (let i = 0; i < x.length; i++) y[i] = f(x[i]); } };
  }

  function convTranspose2d(layer, shape) {
    check(shape.length === 3 && shape[0] === layer.in, `conv_transpose2d expects ${layer.in} channels, got [${shape}]`);
    const [ci, hi, wi] = shape, co = layer.out;
    const [kh, kw] = layer.kernel, [sh, sw] = layer.stride, [ph, pw] = layer.padding;
    const ho = (hi - 1) * sh - 2 * ph + kh, wo = (wi - 1) * sw - 2 * pw + kw;
    const w = floats(layer.weight), b = floats(layer.bias);
    check(w.length === ci * co * kh * kw && b.length === co, "conv_transpose2d weight or bias has the wrong size");
    const acc = new Float64Array(co * ho * wo);
    return {
      shape: [co, ho, wo],
      run(x, y) {
        // Scatter form: each input pixel adds kernel × value into the output window it covers.
        for (let o = 0; o < co; o++) acc.fill(b[o], o * ho * wo, (o + 1) * ho * wo);
        for (let c = 0; c < ci; c++) {
          const xc = c * hi * wi;
          for (let o = 0; o < co; o++) {
            const oc = o * ho * wo;
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const k = w[((c * co + o) * kh + ky) * kw + kx];
                for (let iy = 0; iy < hi; iy++) {
                  const oy = iy * sh - ph + ky;
                  if (oy < 0 || oy >= ho) continue;
                  const xrow = xc + iy * wi, orow = oc + oy * wo;
                  for (let ix = 0; ix < wi; ix++) {
                    const ox = ix * sw - pw + kx;
                    if (ox >= 0 && ox < wo) acc[orow + ox] += k * x[xrow + ix];
                  }
                }
              }
            }
          }
        }
        for (let i = 0; i < acc.length; i++) y[i] = acc[i];
      },
    };
  }

  function crop(layer, shape) {
    const [c, h, w] = layer.shape, [, hi, wi] = shape;
    check(shape[0] === c && h <= hi && w <= wi, `cannot crop [${shape}] to [${layer.shape}]`);
    return {
      shape: [c, h, w],
      run(x, y) {
        for (let k = 0; k < c; k++)
          for (let r = 0; r < h; r++)
            for (let q = 0; q < w; q++) y[(k * h + r) * w + q] = x[(k * hi + r) * wi + q];
      },
    };
  }

  function build(layer, shape) {
    switch (layer.op) {
      case "linear": return linear(layer, shape);
      case "relu": return elementwise((v) => (v > 0 ? v : 0), shape);
      case "sigmoid": return elementwise((v) => 1 / (1 + Math.exp(-v)), shape);
      case "reshape":
        check(size(layer.shape) === size(shape), `cannot reshape [${shape}] to [${layer.shape}]`);
        return { shape: layer.shape.slice(), run: null };  // same numbers, new shape: no copy
      case "conv_transpose2d": return convTranspose2d(layer, shape);
      case "crop": return crop(layer, shape);
      default: throw new Error(`aelab decoder: unknown layer op '${layer.op}'`);
    }
  }

  /** A decoder ready to run: `decode(z[, label])` -> Float32Array of C·H·W values in [0, 1], channel-major. */
  function load(spec) {
    check(spec && spec.format === "aelab-decoder" && spec.version === 1, "not an aelab-decoder spec (version 1)");
    const d = spec.latent_dim, classes = spec.classes || 0;
    let shape = [d + classes];
    let buffer = new Float32Array(d + classes);
    const input = buffer;
    const steps = [];
    for (const layer of spec.layers) {
      const step = build(layer, shape);
      shape = step.shape;
      if (step.run) {
        const out = new Float32Array(size(shape));
        steps.push({ run: step.run, x: buffer, y: out });
        buffer = out;
      }
    }
    const [c, h, w] = spec.image_shape;
    check(shape.length === 3 && shape[0] === c && shape[1] === h && shape[2] === w,
      `the layers end in [${shape}], not the image shape [${spec.image_shape}]`);
    const output = buffer;
    const map = spec.plane_map;
    const z = new Float32Array(d);

    function decode(code, label) {
      check(code.length === d, `expected a code of ${d} numbers, got ${code.length}`);
      for (let i = 0; i < d; i++) input[i] = code[i];
      if (classes) {
        check(Number.isInteger(label) && label >= 0 && label < classes, `expected a label in 0..${classes - 1}, got ${label}`);
        for (let k = 0; k < classes; k++) input[d + k] = k === label ? 1 : 0;
      }
      for (const s of steps) s.run(s.x, s.y);
      return output;  // reused by the next decode: copy it to keep it
    }

    /** The code under a plane point (the plane map's affine inverse: z = [x, y] · matrix + offset). */
    function toLatent(x, y) {
      check(!!map, "this decoder has no plane map");
      for (let i = 0; i < d; i++) z[i] = x * map.matrix[0][i] + y * map.matrix[1][i] + map.offset[i];
      return z;
    }

    return {
      id: spec.id,
      kind: spec.kind,
      latentDim: d,
      classes,
      imageShape: [c, h, w],
      hasPlaneMap: !!map,
      decode,
      toLatent,
      decodePlane: (x, y, label) => decode(toLatent(x, y), label),
    };
  }

  /** Pixels (C·H·W in [0, 1], C = 1 grey or 3 RGB) -> RGBA bytes (H·W·4), rounded like aelab.imaging.to_pixels. */
  function toRGBA(pixels, imageShape, out) {
    const [c, h, w] = imageShape, n = h * w;
    const rgba = out || new Uint8ClampedArray(n * 4);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) rgba[4 * i + k] = Math.round(255 * pixels[(c === 3 ? k * n : 0) + i]);
      rgba[4 * i + 3] = 255;
    }
    return rgba;
  }

  /** Draw decoded pixels on a canvas of the image's own size (scale it up with CSS `image-rendering: pixelated`). */
  function draw(canvas, pixels, imageShape) {
    const [, h, w] = imageShape;
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
      canvas.__aelabImage = null;
    }
    const ctx = canvas.getContext("2d");
    if (!canvas.__aelabImage) canvas.__aelabImage = ctx.createImageData(w, h);
    toRGBA(pixels, imageShape, canvas.__aelabImage.data);
    ctx.putImageData(canvas.__aelabImage, 0, 0);
  }

  // floats, size and linear are shared with encoder.js, which runs the same layers the other way round.
  return { load, floats, size, linear, toRGBA, draw };
});
