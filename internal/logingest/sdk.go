package logingest

import (
	_ "embed"
	"net/http"
)

// sdkJS is the browser SDK, plain JavaScript with no build step.
//
//go:embed sdk/blocktorch.js
var sdkJS []byte

// SDK returns the browser SDK's source.
func SDK() []byte { return sdkJS }

// ServeSDK serves the browser SDK (GET /sdk/blocktorch.js) so a dApp can load
// it from its blocktorch.
func (in *Ingester) ServeSDK(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(sdkJS)
}
