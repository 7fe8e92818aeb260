/* The Draw page's component: a pointer-events canvas, and the drawing's path through the model, live.
 *
 * Loaded after preprocess.js, decoder.js and encoder.js (aelab/ui/draw_page.py concatenates the four), which
 * set globalThis.AelabPreprocess, AelabEncoder and AelabDecoder. One component, mounted twice:
 *
 *   data.role === "canvas"   the heavy, stable payload (sent again only when the model or dataset changes):
 *     { key, canvas: side px, pen: px, convention, encoder: spec | null, decoder: spec | null (each spec's layers
 *       served as a file, `layers_url`, fetched once),
 *       plane: { x, y: {dtype, bdata}, labels: [int], colors: [css], names: [str], bounds: [[x0, x1], [y0, y1]],
 *                projection: { matrix: d × 2, offset: [2] } | null },
 *       strings: { pen, eraser, undo, clear, input, reconstruction, plane, hint, empty, dot, live, server } }
 *   data.role === "markers"  the small relay that changes after each pen-up:
 *     { key, markers: [{ n, x, y }], next: int, epoch: str (changes with the dataset or a clear),
 *       label: int | null (what a conditional model is told while the pen moves: the label chosen on the
 *       page, or the one the server decided for the latest drawing) }
 *
 * While the pen moves, each animation frame reads the canvas, preprocesses it (preprocess.js), encodes it
 * (encoder.js), decodes the code (decoder.js), and redraws the input, the reconstruction and the live point
 * on the small plane. The server hears one message per pen-up (and per undo): setStateValue("drawing",
 * { n, png, code, label }), n being the drawing's number (its marker's label) and label the one a
 * conditional model was told for `code` (null for other kinds).
 *
 * globalThis.__aelabDraw keeps the instances by key, and the time of every live update in ms (`timings`),
 * which bench/draw.py reads.
 */

const REG = globalThis.__aelabDraw || (globalThis.__aelabDraw = { instances: {}, pending: {}, timings: [], sent: 0 });
const PLANE_PX = 320;
const IMAGE_PX = 112;

// --- the small plane (kept apart so that the shared plane module can replace it) -----------------------

/** Draw the dataset's codes once into an offscreen canvas: dots coloured by label. */
function planeBackground(plane, size) {
  const off = document.createElement("canvas");
  off.width = size;
  off.height = size;
  const ctx = off.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, size, size);
  const xs = AelabDecoder.floats(plane.x), ys = AelabDecoder.floats(plane.y);
  ctx.globalAlpha = 0.55;
  for (let i = 0; i < xs.length; i++) {
    const [px, py] = toPixel(plane, xs[i], ys[i], size);
    ctx.fillStyle = plane.colors[plane.labels[i] % plane.colors.length];
    ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
  }
  ctx.globalAlpha = 1;
  return off;
}

function toPixel(plane, x, y, size) {
  const [[x0, x1], [y0, y1]] = plane.bounds;
  return [((x - x0) / (x1 - x0)) * size, size - ((y - y0) / (y1 - y0)) * size];
}

/** The plane: background, kept numbered markers, and the live point (null when nothing is drawn). */
function drawPlane(canvas, plane, background, live, markers) {
  const ctx = canvas.getContext("2d"), size = canvas.width;
  ctx.drawImage(background, 0, 0);
  ctx.font = "bold 11px sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  for (const m of markers) {
    const [px, py] = toPixel(plane, m.x, m.y, size);
    ctx.beginPath();
    ctx.arc(px, py, 8, 0, 2 * Math.PI);
    ctx.fillStyle = "#222222";
    ctx.fill();
    ctx.fillStyle = "#ffffff";
    ctx.fillText(String(m.n), px, py + 0.5);
  }
  if (live) {
    const [px, py] = toPixel(plane, live[0], live[1], size);
    ctx.beginPath();
    ctx.arc(px, py, 7, 0, 2 * Math.PI);
    ctx.lineWidth = 3;
    ctx.strokeStyle = "#d62728";
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(px - 11, py);
    ctx.lineTo(px + 11, py);
    ctx.moveTo(px, py - 11);
    ctx.lineTo(px, py + 11);
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
}

/** A code (d) on the plane through the payload's affine projection: [x, y] = z · matrix + offset. */
function project(projection, code) {
  if (!projection) return null;
  const p = [projection.offset[0], projection.offset[1]];
  for (let i = 0; i < code.length; i++) {
    p[0] += code[i] * projection.matrix[i][0];
    p[1] += code[i] * projection.matrix[i][1];
  }
  return p;
}

// --- the drawing canvas --------------------------------------------------------------------------------

function element(tag, className, parent, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  if (parent) parent.appendChild(el);
  return el;
}

function build(root) {
  const wrap = element("div", "aelab-draw", root);
  const left = element("div", "aelab-draw-pad", wrap);
  const canvas = element("canvas", "aelab-draw-canvas", left);
  canvas.setAttribute("data-testid", "aelab-draw-canvas");
  const tools = element("div", "aelab-draw-tools", left);
  const buttons = {};
  for (const name of ["pen", "eraser", "undo", "clear"]) {
    buttons[name] = element("button", "aelab-draw-button", tools);
    buttons[name].type = "button";
    buttons[name].setAttribute("data-tool", name);
  }
  const hint = element("div", "aelab-draw-hint", left);
  hint.setAttribute("role", "status");

  const images = element("div", "aelab-draw-images", wrap);
  const inputBox = element("figure", "aelab-draw-figure", images);
  const inputCanvas = element("canvas", "aelab-draw-image", inputBox);
  inputCanvas.setAttribute("data-testid", "aelab-draw-input");
  const inputCaption = element("figcaption", "", inputBox);
  const reconBox = element("figure", "aelab-draw-figure", images);
  const reconCanvas = element("canvas", "aelab-draw-image", reconBox);
  reconCanvas.setAttribute("data-testid", "aelab-draw-reconstruction");
  const reconCaption = element("figcaption", "", reconBox);

  const planeBox = element("figure", "aelab-draw-figure", wrap);
  const planeCanvas = element("canvas", "aelab-draw-plane", planeBox);
  planeCanvas.width = planeCanvas.height = PLANE_PX;
  planeCanvas.setAttribute("data-testid", "aelab-draw-plane");
  const legend = element("div", "aelab-draw-legend", planeBox);
  const planeCaption = element("figcaption", "", planeBox);

  const st = {
    canvas, ctx: canvas.getContext("2d", { willReadFrequently: true }), buttons, hint,
    inputCanvas, inputCaption, reconCanvas, reconCaption, planeCanvas, planeCaption, legend,
    strokes: [], current: null, erasing: false, frame: 0, live: null, code: null, error: "empty",
    markers: [], number: null, next: 1, epoch: null, ids: {}, background: null, label: 0,
  };

  canvas.style.touchAction = "none";  // a finger or a pen draws; it does not scroll the page
  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== undefined && e.button > 0) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    st.current = { erase: st.erasing, width: st.erasing ? st.pen * 2.5 : st.pen, points: [point(st, e)] };
    st.strokes.push(st.current);
    paintStroke(st, st.current);
    schedule(st);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!st.current) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of events.length ? events : [e]) st.current.points.push(point(st, ev));
    paintStroke(st, st.current, events.length || 1);
    schedule(st);
  });
  const finish = () => {
    if (!st.current) return;
    st.current = null;
    update(st);
    send(st);
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  canvas.addEventListener("lostpointercapture", finish);

  buttons.pen.addEventListener("click", () => setTool(st, false));
  buttons.eraser.addEventListener("click", () => setTool(st, true));
  buttons.undo.addEventListener("click", () => {
    if (!st.strokes.length) return;
    st.strokes.pop();
    repaint(st);
    update(st);
    if (st.strokes.length && !st.error) send(st);
  });
  buttons.clear.addEventListener("click", () => {
    st.strokes = [];
    st.number = null;  // the next stroke starts a new drawing with a new number; the old marker stays
    repaint(st);
    update(st);
  });
  return st;
}

function point(st, e) {
  // offsetX/Y are in CSS pixels of the canvas; the bitmap may be drawn at another size.
  const scale = st.canvas.width / st.canvas.clientWidth;
  return [e.offsetX * scale, e.offsetY * scale];
}

function setTool(st, erasing) {
  st.erasing = erasing;
  st.buttons.pen.setAttribute("aria-pressed", String(!erasing));
  st.buttons.eraser.setAttribute("aria-pressed", String(erasing));
}

/** Paint a stroke's last `added` segments (all of it when added is undefined): white ink, black to erase. */
function paintStroke(st, stroke, added) {
  const ctx = st.ctx, pts = stroke.points;
  ctx.strokeStyle = ctx.fillStyle = stroke.erase ? "#000000" : "#ffffff";
  ctx.lineWidth = stroke.width;
  ctx.lineCap = ctx.lineJoin = "round";
  if (pts.length === 1) {
    ctx.beginPath();
    ctx.arc(pts[0][0], pts[0][1], stroke.width / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  const from = added === undefined ? 0 : Math.max(0, pts.length - 1 - added);
  ctx.beginPath();
  ctx.moveTo(pts[from][0], pts[from][1]);
  for (let i = from + 1; i < pts.length; i++) ctx.lineTo(pts[i][0], pts[i][1]);
  ctx.stroke();
}

function repaint(st) {
  st.ctx.fillStyle = "#000000";
  st.ctx.fillRect(0, 0, st.canvas.width, st.canvas.height);
  for (const stroke of st.strokes) paintStroke(st, stroke);
}

function schedule(st) {
  if (!st.frame) st.frame = requestAnimationFrame(() => update(st));  // at most one update per display frame
}

/** Preprocess, encode, decode and redraw: the live path, timed into REG.timings. */
function update(st) {
  if (st.frame) cancelAnimationFrame(st.frame);
  st.frame = 0;
  const t0 = performance.now();
  const w = st.canvas.width, h = st.canvas.height;
  const ink = AelabPreprocess.inkFromRGBA(st.ctx.getImageData(0, 0, w, h).data, h, w);
  const result = AelabPreprocess.preprocess(ink, h, w, st.convention);
  st.error = result.error || null;
  if (result.error) {
    st.live = st.code = null;
    blank(st.inputCanvas);
    blank(st.reconCanvas);
    st.hint.textContent = result.error === "empty" ? st.strings.hint : st.strings.dot;
  } else {
    st.hint.textContent = "";
    AelabDecoder.draw(st.inputCanvas, result.input, st.imageShape);
    if (st.encoder) {
      // A conditional model is told the relay's label (0 if a stale relay names one it lacks); others ignore it.
      const label = st.label < st.encoder.classes ? st.label : 0;
      st.code = Array.from(st.encoder.encode(result.input, label));
      st.codeLabel = st.encoder.classes ? label : null;
      st.live = project(st.projection, st.code);
      if (st.decoder) AelabDecoder.draw(st.reconCanvas, st.decoder.decode(st.code, label), st.imageShape);
    }
  }
  drawPlane(st.planeCanvas, st.plane, st.background, st.live, st.markers);
  REG.timings.push(performance.now() - t0);
}

function blank(canvas) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#000000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
}

/** One message to the server for the drawing as it stands (pen-up or undo). */
function send(st) {
  if (st.error === "empty" || !st.setStateValue) return;
  if (st.number === null) st.number = st.next++;
  REG.sent += 1;
  // State, not a trigger: a rerun sees the last drawing again, and `sent` (a nonce) tells the server it has it.
  const nonce = `${Date.now()}-${REG.sent}`;
  const png = st.canvas.toDataURL("image/png");
  st.setStateValue("drawing", { n: st.number, png, code: st.code, label: st.code ? st.codeLabel : null, sent: nonce });
}

/** A spec's layers, inline or served as a file (`layers_url`, aelab/ui/draw_page.py): one fetch per URL and page. */
function withLayers(spec) {
  if (!spec || spec.layers || !spec.layers_url) return Promise.resolve(spec);
  REG.layers = REG.layers || {};
  const url = spec.layers_url;
  if (!REG.layers[url]) {
    REG.layers[url] = fetch(url)
      .then((response) => {
        if (!response.ok) throw new Error(`could not load the model's weights from ${url} (${response.status})`);
        return response.json();
      })
      .catch((err) => {
        delete REG.layers[url];  // let a later run try again
        throw err;
      });
  }
  return REG.layers[url].then((layers) => ({ ...spec, layers }));
}

/** Load st[role] (the encoder or decoder) from a new spec; the live path skips it until its layers are in. */
function loadSpec(st, role, spec, runner) {
  const id = spec && spec.id;
  if (st.ids[role] === id) return;
  st.ids[role] = id;
  st[role] = null;
  withLayers(spec).then(
    (full) => {
      if (st.ids[role] !== id) return;  // another model arrived meanwhile
      st[role] = full ? runner.load(full) : null;
      update(st);
    },
    (err) => { st.hint.textContent = String(err.message || err); },
  );
}

function configure(st, data) {
  st.key = data.key;
  st.strings = data.strings;
  st.pen = data.pen;
  st.convention = data.convention;
  st.imageShape = data.convention.channels
    ? [data.convention.channels, data.convention.frame[0], data.convention.frame[1]] : [1, 28, 28];
  if (st.canvas.width !== data.canvas) {
    st.canvas.width = st.canvas.height = data.canvas;
    st.canvas.style.width = st.canvas.style.height = data.canvas + "px";
    st.strokes = [];
    repaint(st);
  }
  loadSpec(st, "encoder", data.encoder, AelabEncoder);
  loadSpec(st, "decoder", data.decoder, AelabDecoder);
  if (st.ids.plane !== data.plane.id) {
    st.plane = data.plane;
    st.projection = data.plane.projection;
    st.background = planeBackground(data.plane, PLANE_PX);
    st.ids.plane = data.plane.id;
    st.legend.replaceChildren();
    data.plane.names.forEach((name, i) => {
      const item = element("span", "aelab-draw-legend-item", st.legend);
      const dot = element("span", "aelab-draw-legend-dot", item);
      dot.style.background = data.plane.colors[i % data.plane.colors.length];
      item.appendChild(document.createTextNode(name));
    });
  }
  const s = data.strings;
  st.buttons.pen.textContent = s.pen;
  st.buttons.eraser.textContent = s.eraser;
  st.buttons.undo.textContent = s.undo;
  st.buttons.clear.textContent = s.clear;
  st.inputCaption.textContent = s.input;
  st.reconCaption.textContent = s.reconstruction;
  st.planeCaption.textContent = s.plane;
  st.canvas.setAttribute("aria-label", s.hint);
  setTool(st, st.erasing);
  update(st);
}

function setMarkers(st, relay) {
  st.markers = relay.markers;
  if (st.epoch !== relay.epoch) {  // first relay, another dataset, or markers cleared: the server's numbering
    st.epoch = relay.epoch;
    st.next = relay.next;
    if (!relay.markers.some((m) => m.n === st.number)) st.number = null;
  }
  st.next = Math.max(st.next, relay.next);
  const label = Number.isInteger(relay.label) ? relay.label : 0;
  if (label !== st.label) {  // the server decided (or the page chose) another label: the live point follows
    st.label = label;
    if (st.plane && !st.current) {
      update(st);
      return;
    }
  }
  if (st.plane) drawPlane(st.planeCanvas, st.plane, st.background, st.live, st.markers);
}

export default function (component) {
  const { data, parentElement } = component;
  if (data.role === "markers") {
    REG.pending[data.key] = data;  // kept: a canvas mounted later (another page, then back) starts from it
    const target = REG.instances[data.key];
    if (target) setMarkers(target, data);
    return;
  }
  let st = parentElement.__aelabDraw;
  if (!st) st = parentElement.__aelabDraw = build(parentElement);
  st.setStateValue = component.setStateValue;
  configure(st, data);
  REG.instances[data.key] = st;
  if (REG.pending[data.key]) setMarkers(st, REG.pending[data.key]);
}
