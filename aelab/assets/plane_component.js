/* The Streamlit side of the latent plane (aelab/ui/plane.py): an st.components.v2 module that mounts
 * plane.js (AelabPlane, loaded before this file with decoder.js) on the component's element and reports
 * each finished gesture as the component's `click` state. Streamlit runs this again on the same element
 * whenever `data` changes; the plane and its listeners live on the element, so they exist once. */
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const P = globalThis.AelabPlane;
  const reg = P.registry();
  reg.ends = reg.ends || {};
  reg.debug.runs += 1;
  let plane = parentElement.__aelabPlane;
  if (!plane) {
    plane = P.create(parentElement, {
      onGesture: (value) => plane.setStateValue("click", value),
      hoverOn: () => reg.hover[plane.key] !== false,
    });
    parentElement.__aelabPlane = plane;
  }
  plane.setStateValue = setStateValue;
  plane.key = data.key;
  reg.planes[data.key] = plane;

  const ticket = ++plane.ticket;
  P.loadPlotly(data.plotly_url)
    .then(() => {
      if (ticket !== plane.ticket) return;  // newer data arrived while plotly.js loaded
      return plane.setData(data).then(() => {
        plane.follow(reg.selected[data.key]);
        if (reg.ends[data.key]) plane.setEnds(reg.ends[data.key]);
      });
    })
    .catch((err) => {
      plane.gd.textContent = "The latent plane could not be drawn: " + err.message;
    });

  return () => {
    // Streamlit calls the cleanup of a run that was overtaken while loading; only the latest run may destroy.
    if (ticket !== plane.ticket) return;
    plane.ticket += 1;  // a draw still waiting for plotly.js must not draw into the removed element
    if (reg.planes[plane.key] === plane) delete reg.planes[plane.key];
    plane.destroy();
    delete parentElement.__aelabPlane;
  };
}
