package hostfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rxprobe/rxprobe/internal/cpuset"
)

// Limits on what the readers accept.
const (
	// MaxSmall bounds one attribute or small configuration file.
	MaxSmall = 64 << 10
	// MaxTable bounds a table such as /proc/interrupts on a very large
	// machine.
	MaxTable = 4 << 20
)

// FS is a host seen through its root directory. The zero FS is the live
// host ("/").
type FS struct {
	root string
}

// New returns the host whose files are under root; "" means "/", the live
// host.
func New(root string) FS {
	if root == "" {
		root = "/"
	}
	return FS{root: root}
}

// Root returns the host root, "/" for the live host (never "").
func (fs FS) Root() string {
	if fs.root == "" {
		return "/"
	}
	return fs.root
}

// Path returns ROOT/elem... (elem relative to the root, e.g.
// "proc/interrupts").
func (fs FS) Path(elem ...string) string {
	return filepath.Join(append([]string{fs.Root()}, elem...)...)
}

// Proc returns ROOT/proc/elem...
func (fs FS) Proc(elem ...string) string { return fs.Path(append([]string{"proc"}, elem...)...) }

// Sys returns ROOT/sys/elem...
func (fs FS) Sys(elem ...string) string { return fs.Path(append([]string{"sys"}, elem...)...) }

// Etc returns ROOT/etc/elem...
func (fs FS) Etc(elem ...string) string { return fs.Path(append([]string{"etc"}, elem...)...) }

// ReadFile reads at most limit bytes of ROOT/rel; a longer file is an
// error rather than silently cut. A missing file's error matches
// fs.ErrNotExist.
func (fs FS) ReadFile(rel string, limit int64) ([]byte, error) {
	f, err := os.Open(fs.Path(rel))
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

// ReadString reads a small file (MaxSmall) and trims surrounding
// whitespace.
func (fs FS) ReadString(rel string) (string, error) {
	b, err := fs.ReadFile(rel, MaxSmall)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// ReadCPUList reads a cpulist file ("0-3,8").
func (fs FS) ReadCPUList(rel string) (cpuset.Set, error) {
	return fs.readSet(rel, cpuset.Parse)
}

// ReadCPUMask reads a hex CPU mask file ("ff,ffffffff").
func (fs FS) ReadCPUMask(rel string) (cpuset.Set, error) {
	return fs.readSet(rel, cpuset.ParseMask)
}

func (fs FS) readSet(rel string, parse func(string) (cpuset.Set, error)) (cpuset.Set, error) {
	s, err := fs.ReadString(rel)
	if err != nil {
		return cpuset.Set{}, err
	}
	set, err := parse(s)
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("%s: %w", rel, err)
	}
	return set, nil
}

// Exists reports whether ROOT/rel exists.
func (fs FS) Exists(rel string) bool {
	_, err := os.Stat(fs.Path(rel))
	return err == nil
}

// NotExist reports whether err means a file is absent.
func NotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }

// Hostname returns the host's name from ROOT/proc/sys/kernel/hostname or
// ROOT/etc/hostname, or "" if neither can be read.
func (fs FS) Hostname() string {
	for _, p := range []string{"proc/sys/kernel/hostname", "etc/hostname"} {
		if s, err := fs.ReadString(p); err == nil && s != "" && len(s) <= 255 {
			return s
		}
	}
	return ""
}
