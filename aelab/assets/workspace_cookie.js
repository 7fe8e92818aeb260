// The workspace token's home in the browser: a first-party cookie the server reads when a session starts.
//
// The server sends the token it opened (`data.token`); this writes the cookie when the browser does not
// hold that token yet (a new browser, or a workspace just deleted and replaced). SameSite=Strict keeps it
// off cross-site requests; Secure is added when the app is served over https. It cannot be HttpOnly,
// because only the page can set it (Streamlit answers on a websocket, which sets no cookies).
const NAME = "aelab_workspace";
const MAX_AGE_S = 400 * 24 * 3600; // the longest lifetime browsers keep a cookie

function held() {
  const entry = document.cookie.split("; ").find((part) => part.startsWith(NAME + "="));
  return entry ? entry.slice(NAME.length + 1) : "";
}

export default function ({ data }) {
  const debug = (window.__aelabWorkspace = window.__aelabWorkspace || { runs: 0, writes: 0 });
  debug.runs += 1; // for browser tests: how often this ran and wrote (never the token itself)
  if (typeof data.token !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(data.token) || held() === data.token) return;
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${NAME}=${data.token}; Path=/; Max-Age=${MAX_AGE_S}; SameSite=Strict${secure}`;
  debug.writes += 1;
}
