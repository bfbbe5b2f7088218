// Package config is rxprobe's run specification: the YAML file, merged with
// RXPROBE_* environment variables and command-line flags through viper,
// validated into a deterministic Config from which the engine creates EAL,
// mempools and ports and nothing else.
//
// Contract:
//   - Load never returns a half-valid Config: every problem is a *FieldError
//     (errors.Is(err, ErrInvalid)) whose message is one line naming the field
//     and the fix. Unknown keys and YAML syntax errors are reported with
//     their line.
//   - Validate checks values against the host (online CPUs) and is pure
//     otherwise; sizing (MbufCount, HugepageNeeds) is deterministic.
package config
