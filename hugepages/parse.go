package hugepages

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// maxSmallFile bounds the sysfs attribute files read here (one number).
const maxSmallFile = 64

// maxTableFile bounds /proc/meminfo and /proc/mounts.
const maxTableFile = 4 << 20

// readLimited reads at most limit bytes of path; a longer file is an
// error rather than a silent truncation.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: longer than %d bytes", path, limit)
	}
	return b, nil
}

// parseCount reads a sysfs counter such as "512\n".
func parseCount(b []byte) (uint64, error) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0, errors.New("empty file")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a page count: %q", s)
	}
	return n, nil
}

// readCount reads one sysfs counter file.
func readCount(path string) (uint64, error) {
	b, err := readLimited(path, maxSmallFile)
	if err != nil {
		return 0, err
	}
	n, err := parseCount(b)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// parseMeminfo reads /proc/meminfo ("HugePages_Total:     512" and
// "Hugepagesize:       2048 kB") into a map of field to value. Values with
// a "kB" unit are converted to bytes; others are kept as they are. Lines
// that are not "Name: number [kB]" are an error.
func parseMeminfo(r io.Reader) (map[string]uint64, error) {
	out := make(map[string]uint64)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.TrimSpace(text) == "" {
			continue
		}
		name, rest, ok := strings.Cut(text, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("meminfo line %d: %q is not \"Name: value\"", line, text)
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 || len(fields) > 2 {
			return nil, fmt.Errorf("meminfo line %d: %q: want a number and an optional unit", line, text)
		}
		v, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("meminfo line %d: %q: bad number", line, text)
		}
		if len(fields) == 2 {
			if fields[1] != "kB" {
				return nil, fmt.Errorf("meminfo line %d: %q: unknown unit %q", line, text, fields[1])
			}
			if v > (1<<64-1)>>10 {
				return nil, fmt.Errorf("meminfo line %d: %q: value too large", line, text)
			}
			v <<= 10
		}
		out[name] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("meminfo: %w", err)
	}
	return out, nil
}

// mountEntry is one line of /proc/mounts.
type mountEntry struct {
	Device, Path, FSType string
	Options              []string
}

// parseMounts reads /proc/mounts. Octal escapes in paths (\040 for a
// space) are decoded. A line with fewer than four fields is an error.
func parseMounts(b []byte) ([]mountEntry, error) {
	var out []mountEntry
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		f := strings.Fields(string(line))
		if len(f) < 4 {
			return nil, fmt.Errorf("mounts line %d: %q: want at least 4 fields", i+1, line)
		}
		out = append(out, mountEntry{
			Device:  unescapeMount(f[0]),
			Path:    unescapeMount(f[1]),
			FSType:  f[2],
			Options: strings.Split(f[3], ","),
		})
	}
	return out, nil
}

// unescapeMount decodes the kernel's \ooo escapes in /proc/mounts fields.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			sb.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// parsePoolDir reads a pool directory name "hugepages-2048kB".
func parsePoolDir(name string) (Size, error) {
	kb, ok := strings.CutPrefix(name, "hugepages-")
	if !ok {
		return 0, fmt.Errorf("%q is not a hugepages-NkB directory", name)
	}
	kb, ok = strings.CutSuffix(kb, "kB")
	if !ok {
		return 0, fmt.Errorf("%q is not a hugepages-NkB directory", name)
	}
	n, err := strconv.ParseUint(kb, 10, 64)
	if err != nil || n == 0 || n > (1<<64-1)>>10 {
		return 0, fmt.Errorf("%q is not a hugepages-NkB directory", name)
	}
	return Size(n << 10), nil
}
