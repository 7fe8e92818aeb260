/* The interpolation's relay (aelab/ui/plane.py, `interpolation_ends`): after a rerun of the page's
 * interpolation section it tells the plane `data.plane` where A and B are (`a`, `b`: full codes), how many
 * images the strip has (`steps`) and which gesture this answers (`n`). The plane draws the markers and
 * decodes the strip itself; this carries a few hundred bytes and draws nothing. */
export default function ({ data }) {
  const reg = (globalThis.__aelab = globalThis.__aelab || {});
  reg.ends = reg.ends || {};
  reg.planes = reg.planes || {};
  reg.ends[data.plane] = data;
  const plane = reg.planes[data.plane];
  if (plane && plane.drawn) plane.setEnds(data);  // otherwise the plane reads reg.ends once it is drawn
}
