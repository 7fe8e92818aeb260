/* Starts loading plotly.js as soon as the page's first element arrives, before the plane exists
 * (aelab/ui/plane.py, prefetch_plotly); plane.js, loaded before this file, keeps the promise. */
export default function ({ data }) {
  globalThis.AelabPlane.loadPlotly(data.url).catch(() => {});  // a failure is reported by the plane, which tries again
}
