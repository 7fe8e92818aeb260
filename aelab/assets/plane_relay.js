/* The plane's small relay (aelab/ui/plane.py): after each rerun it tells the plane where the server put the
 * point (`selected` in the plane, `code` in the latent space, `n` the gesture it answers, `image` a
 * server-decoded picture where the browser cannot decode) and whether hover decoding is on. It carries no
 * points and no weights, so a rerun re-sends only this. */
export default function ({ data }) {
  const reg = (globalThis.__aelab = globalThis.__aelab || {});
  reg.selected = reg.selected || {};
  reg.hover = reg.hover || {};
  reg.planes = reg.planes || {};
  reg.selected[data.key] = data;
  if (data.hover !== undefined) reg.hover[data.key] = data.hover;
  const plane = reg.planes[data.key];
  if (!plane) return;  // the plane reads reg.selected once it is drawn
  if (data.hover === false) plane.hidePreview();
  if (plane.drawn) plane.follow(data);
}
