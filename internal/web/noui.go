package web

import "net/http"

// noUIPage is every page of a binary built without the UI assets (`go
// build` or `go install` without `make ui`). It loads nothing, so that it
// shows under the pages' Content-Security-Policy.
const noUIPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>blocktorch: the web UI was not built</title></head>
<body>
<h1>The web UI was not built into this binary</h1>
<p>This blocktorch was built with <code>go build</code> or <code>go install</code> alone. Its web UI needs assets
built with npm (the chart library is installed from npm, never committed), so they are not in the binary.
Everything else works: the API under <code>/api/v1</code>, log ingest, <code>/metrics</code>, <code>/healthz</code>
and the CLI (<code>blocktorch query</code>, <code>tail</code>, <code>trace</code>, <code>monitors</code>…).</p>
<p>To get the UI, build from a clone of the repository with Node.js 20 or later and npm:</p>
<pre>make build        # npm ci, node web/ui/build.js, then go build -o bin/blocktorch ./cmd/blocktorch</pre>
<p>and run <code>bin/blocktorch</code> with the same flags.</p>
</body>
</html>
`

// writeNoUI answers a page request in a binary built without the UI:
// 503, because the page the request asked for is not there.
func writeNoUI(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(noUIPage))
}
