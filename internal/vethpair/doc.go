// Package vethpair creates and removes the veth pairs the demo, the
// benchmarks and the integration tests send traffic over: a pair A ⇄ B,
// B in a network namespace of its own when asked, made with iproute2's
// `ip` (no cgo, no netlink library).
//
// # Contract
//
//   - Names: generated ones are unique per process and across processes
//     (Prefix, the pid and a per-process sequence number n in base 36,
//     wrapping after 1296 pairs: links PREFIX<pid>-<n>a and
//     PREFIX<pid>-<n>b, namespace PREFIX-<pid>-<n>), never longer than
//     the kernel's 15 characters. Given names
//     (Options.Names) are used as they are; Options.Replace first removes
//     a namespace and links of those names left behind by an earlier run.
//     A generated name that is taken is an error, never a removal.
//   - State after New: IPv6 is off on both ends (router and neighbour
//     solicitations would be traffic nobody sent), both ends and the
//     namespace's loopback are up. Nothing else is set: MTU, offloads and
//     promiscuity are the kernel's defaults.
//   - Close removes exactly what New created: link A first (which removes
//     its peer B with it, synchronously), then the namespace. Deleting a
//     namespace would remove the pair too, but asynchronously: A may still
//     be listed for a moment, then be gone before its own delete. Deleting
//     A first leaves nothing to wait for, and an A that vanished on its own
//     is not an error; only a link or namespace that outlives its delete
//     is, with the command that removes it. Close is idempotent and safe
//     for concurrent use; after an error it can be called again.
//   - New that fails half way removes what it had created (and never what
//     existed before it) and returns the cause joined with any removal
//     error.
//   - Errors are wrapped with the command and its output. A missing `ip`
//     matches ErrNoIP, a lack of privilege (not root: CAP_NET_ADMIN and
//     CAP_SYS_ADMIN are needed) matches ErrNotPermitted; each reads as one
//     line with the remedy.
//
// Tests get a pair removed at their end from vethpairtest.New.
//
// The package works on the host it runs on (it creates devices; there is
// no host root to inject). It is not for the RX process: `ip` runs as a
// child and entering the namespace uses a locked, short-lived thread.
package vethpair
