// The workspace token's home in the browser: localStorage, under one key for this origin.
//
// The server sends `data.store` only when it has just made a new workspace (or replaced a deleted one);
// this writes it. Every run then reports what this browser holds, and reports it again only when it
// changed, so that a data change does not set off a rerun loop. Storage may be blocked (a private
// window with storage off): then "" is reported and the server works with a workspace for this tab only.
const KEY = "aelab.workspace";

export default function ({ data, parentElement, setStateValue }) {
  let held = "";
  try {
    if (typeof data.store === "string" && data.store) window.localStorage.setItem(KEY, data.store);
    held = window.localStorage.getItem(KEY) || "";
  } catch (error) {
    held = "";
  }
  if (parentElement.__aelabReported !== held) {
    parentElement.__aelabReported = held;
    setStateValue("token", held);
  }
}
