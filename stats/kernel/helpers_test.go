package kernel

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fixture returns the contents of testdata/<rel>.
func fixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeFile writes data to root/rel, creating directories. os.WriteFile
// truncates in place, so a reader's kept descriptor sees the new content.
func writeFile(t testing.TB, root, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// wantFormatErr checks that err is a parse error (wrapping ErrFormat).
func wantFormatErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("parse succeeded, want an error wrapping ErrFormat")
	}
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("error %q does not wrap ErrFormat", err)
	}
}

// realFile reports whether the machine has the file; tests on real files
// skip, with the reason, when it does not.
func realFile(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not available on this machine: %v", path, err)
	}
}
