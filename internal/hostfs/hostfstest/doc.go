// Package hostfstest helps tests that act on a fixture host root: it
// copies a fixture tree (testdata/hosts/NAME) into a temporary directory
// so that a test can write to it (reserve hugepages, flip a knob) without
// touching the fixture. It is imported by tests only.
package hostfstest
