package hugepages

import (
	"errors"
	"fmt"
)

// The *Saying methods are the pool and mount changes of FS that also say
// what they did in one line each, as `rxprobe hugepages` and Ensure print
// it.

// ReserveSaying is Reserve that says the outcome: "node 1 2M: reserved 8
// pages", or "node 1 2M: granted 3 of 8 pages" on a partial grant (a
// *PartialGrantError). Nothing is said on any other error.
func (fs FS) ReserveSaying(node int, size Size, pages uint64, say func(string)) (granted uint64, err error) {
	granted, err = fs.Reserve(node, size, pages)
	var pe *PartialGrantError
	switch {
	case err == nil:
		say(fmt.Sprintf("%s %s: reserved %d pages", NodeLabel(node), size.Flag(), granted))
	case errors.As(err, &pe):
		say(fmt.Sprintf("%s %s: granted %d of %d pages", NodeLabel(node), size.Flag(), granted, pages))
	}
	return granted, err
}

// ReleaseSaying is Release that says "node 0 1G: released 1 pages" when it
// succeeds.
func (fs FS) ReleaseSaying(node int, size Size, pages uint64, say func(string)) error {
	if err := fs.Release(node, size, pages); err != nil {
		return err
	}
	say(fmt.Sprintf("%s %s: released %d pages", NodeLabel(node), size.Flag(), pages))
	return nil
}

// EnsureMountSaying is EnsureMount that says MountedLine when it mounted
// hugetlbfs (and nothing when one was already there).
func (fs FS) EnsureMountSaying(dir string, size Size, say func(string)) error {
	mounted, err := fs.EnsureMount(dir, size)
	if mounted {
		say(MountedLine(dir, size))
	}
	return err
}
