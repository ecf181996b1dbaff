// Package config holds blocktorch's one Config: its defaults, the command
// line flags and BLOCKTORCH_* environment variables that set it, and its
// validation.
package config
