package isolation

import (
	"fmt"
	"slices"

	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// knob is a kernel setting with a few known values.
type knob struct {
	rel    string // the file under the host root
	label  string // observations read "label value"
	absent string // the observation when the file is missing ("": none)
	// value extracts the value from the file (nil: the whole file).
	value func(string) (string, bool)
	good  []string           // values that pass (nil: every value not in bad)
	bad   map[string]finding // values that fail or warn
	// unknown formats (with %q of the file) a value that is neither.
	unknown string
}

// finding is what a bad knob value means.
type finding struct {
	level     Status
	what, fix string
}

// judge reads k and adds what it finds to t.
func (k knob) judge(h hostfs.FS, t *tally) {
	s, ok := t.read(h, k.rel)
	if !ok {
		if k.absent != "" && !h.Exists(k.rel) {
			t.obs = append(t.obs, k.absent)
		}
		return
	}
	v, ok := s, true
	if k.value != nil {
		v, ok = k.value(s)
	}
	f, isBad := k.bad[v]
	if !ok || (!isBad && k.good != nil && !slices.Contains(k.good, v)) {
		t.unread = append(t.unread, fmt.Sprintf(k.unknown, s))
		return
	}
	t.obs = append(t.obs, k.label+" "+v)
	if isBad {
		t.find(f.level, f.what, f.fix)
	}
}
