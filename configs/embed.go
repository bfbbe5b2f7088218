// Package configs ships rxprobe's YAML configurations inside the binary, so
// `rxprobe demo` runs its embedded default without a checkout.
package configs

import "embed"

// Files holds every shipped configuration (null.yaml, demo.yaml, ...).
//
//go:embed *.yaml
var Files embed.FS
