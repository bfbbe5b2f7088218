package rx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rxprobe/rxprobe/stats/shm"
)

// runtimeBases are the directories DPDK puts a file prefix's runtime
// directory in: /var/run/dpdk as root, otherwise $XDG_RUNTIME_DIR/dpdk or
// the temporary directory's dpdk.
func runtimeBases() []string {
	bases := []string{"/var/run/dpdk"}
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		bases = append(bases, filepath.Join(x, "dpdk"))
	}
	return append(bases, filepath.Join(os.TempDir(), "dpdk"))
}

// removeStale removes what runs killed without a chance to clean up left
// behind: every shared-memory segment in shmDir whose writer is gone (its
// flock is free: the liveness lock of stats/shm) and the DPDK runtime
// directory of the same file prefix under each of bases. A live run's
// files are never touched. It returns the paths it removed.
func removeStale(shmDir string, bases []string) ([]string, error) {
	prefixes, err := shm.RemoveStale(shmDir)
	if shmDir == "" {
		shmDir = shm.DefaultDir
	}
	var removed []string
	for _, p := range prefixes {
		removed = append(removed, filepath.Join(shmDir, shm.FilePrefix+p))
		for _, b := range bases {
			dir := filepath.Join(b, p)
			if _, serr := os.Lstat(dir); serr != nil {
				continue
			}
			if rerr := os.RemoveAll(dir); rerr != nil {
				err = errors.Join(err, fmt.Errorf("removing stale %s: %w", dir, rerr))
				continue
			}
			removed = append(removed, dir)
		}
	}
	return removed, err
}

// staleLine is the one line a start says about what it removed ("" when
// nothing).
func staleLine(removed []string, err error) string {
	var b strings.Builder
	if len(removed) > 0 {
		fmt.Fprintf(&b, "removed what killed runs left behind: %s", strings.Join(removed, ", "))
	}
	if err != nil {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "could not remove stale files: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return b.String()
}
