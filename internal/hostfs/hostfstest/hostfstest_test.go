package hostfstest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCopyIsAWritableCopy(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "sys/a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "sys/a/n"), []byte("1\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	dst := Copy(t, src)
	if b, err := os.ReadFile(filepath.Join(dst, "sys/a/n")); err != nil || string(b) != "1\n" {
		t.Fatalf("copied file = %q, %v", b, err)
	}
	if err := os.WriteFile(filepath.Join(dst, "sys/a/n"), []byte("2\n"), 0o644); err != nil {
		t.Fatalf("copy is not writable: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(src, "sys/a/n")); string(b) != "1\n" {
		t.Errorf("writing the copy changed the source: %q", b)
	}
}
