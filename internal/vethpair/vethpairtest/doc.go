// Package vethpairtest gives a test a veth pair (internal/vethpair) that
// is removed when the test ends.
//
// Contract: New skips the test, with the reason "needs root" or "needs
// iproute2", only when the host lacks that precondition (the error
// matches vethpair.ErrNotPermitted or vethpair.ErrNoIP); any other error
// fails the test. The pair's Close runs in t.Cleanup and an error of it
// fails the test (a link or namespace left behind).
package vethpairtest
