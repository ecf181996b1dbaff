package logingest

import (
	_ "embed"
)

// sdkJS is the browser SDK, plain JavaScript with no build step.
//
//go:embed sdk/blocktorch.js
var sdkJS []byte

// SDK returns the browser SDK's source.
func SDK() []byte { return sdkJS }
