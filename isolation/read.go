package isolation

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rxprobe/rxprobe/internal/cpuset"
)

// Limits on what is read from procfs and sysfs.
const (
	maxSmall = 64 << 10 // one attribute or small config file
	maxTable = 4 << 20  // /proc/interrupts on a very large machine
)

// path returns ROOT/elem...
func (h Host) path(elem ...string) string {
	root := h.Root
	if root == "" {
		root = "/"
	}
	return filepath.Join(append([]string{root}, elem...)...)
}

// readFile reads at most limit bytes of ROOT/rel; longer files are an
// error rather than silently cut.
func (h Host) readFile(rel string, limit int64) ([]byte, error) {
	f, err := os.Open(h.path(rel))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", rel, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: longer than %d bytes", rel, limit)
	}
	return b, nil
}

// readString reads a small file and trims surrounding whitespace.
func (h Host) readString(rel string) (string, error) {
	b, err := h.readFile(rel, maxSmall)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// readList reads a cpulist file.
func (h Host) readList(rel string) (cpuset.Set, error) {
	s, err := h.readString(rel)
	if err != nil {
		return cpuset.Set{}, err
	}
	set, err := cpuset.Parse(s)
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("%s: %w", rel, err)
	}
	return set, nil
}

// readMask reads a hex CPU mask file.
func (h Host) readMask(rel string) (cpuset.Set, error) {
	s, err := h.readString(rel)
	if err != nil {
		return cpuset.Set{}, err
	}
	set, err := cpuset.ParseMask(s)
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("%s: %w", rel, err)
	}
	return set, nil
}

// exists reports whether ROOT/rel exists.
func (h Host) exists(rel string) bool {
	_, err := os.Stat(h.path(rel))
	return err == nil
}

// notExist reports whether err means the file is absent.
func notExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
