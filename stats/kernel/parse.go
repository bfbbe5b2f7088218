package kernel

import (
	"bytes"
	"strconv"
)

// Small allocation-free scanning helpers over []byte. None of them converts
// bytes to strings.

// nextLine splits data at the first '\n': it returns the line (without the
// newline) and the rest. A final line without newline is returned as is.
func nextLine(data []byte) (line, rest []byte) {
	for i, c := range data {
		if c == '\n' {
			return data[:i], data[i+1:]
		}
	}
	return data, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

// nextField skips leading blanks and returns the next blank-separated field
// and what follows it. field is empty when s holds only blanks. It works on
// bytes (the parsers) and on strings (deviceOf) alike.
func nextField[S string | []byte](s S) (field, rest S) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !isSpace(s[j]) {
		j++
	}
	return s[i:j], s[j:]
}

// trimSpace trims blanks on both sides.
func trimSpace(s []byte) []byte {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

// parseDec parses an unsigned decimal number that fills b entirely.
func parseDec(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// parseHex parses an unsigned hexadecimal number (no 0x prefix) that fills b.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		if v>>60 != 0 {
			return 0, false // overflow
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}

// isDigits reports whether b is a non-empty run of ASCII digits.
func isDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseError builds a format error for file at 1-based line; it allocates,
// which is acceptable because it happens only on malformed input.
func parseError(file string, line int, msg string, got []byte) error {
	const maxShown = 64
	if len(got) > maxShown {
		got = got[:maxShown]
	}
	return &formatError{file: file, line: line, msg: msg, got: string(got)}
}

type formatError struct {
	file string
	line int
	msg  string
	got  string
}

func (e *formatError) Error() string {
	return "kernel: " + e.file + ": line " + strconv.Itoa(e.line) + ": " + e.msg + ": " + strconv.Quote(e.got)
}

func (e *formatError) Unwrap() error { return ErrFormat }

// checkComplete rejects empty input and input whose last line has no
// newline: the kernel terminates every line, so a missing final newline
// means the content was truncated (a short copy, a partial fixture).
func checkComplete(file string, data []byte) error {
	if len(data) == 0 {
		return parseError(file, 1, "empty", nil)
	}
	if data[len(data)-1] != '\n' {
		last := data[max(0, len(data)-32):]
		return parseError(file, countLines(data)+1, "truncated: no final newline after", last)
	}
	return nil
}

// splitKey splits a table row at its first colon into the key before it,
// trimmed, and the rest. A row without colon, or with nothing before it,
// is a format error saying noColon or noKey.
func splitKey(file string, lineNo int, line []byte, noColon, noKey string) (key, rest []byte, err error) {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return nil, nil, parseError(file, lineNo, noColon, line)
	}
	if key = trimSpace(line[:colon]); len(key) == 0 {
		return nil, nil, parseError(file, lineNo, noKey, line)
	}
	return key, line[colon+1:], nil
}

// lineScanner walks the lines of a file that are not blank, counting every
// line (1-based, blank ones included) for error messages. It is a value on
// the caller's stack: scanning allocates nothing.
type lineScanner struct {
	rest []byte // what is left to scan
	line []byte // the current line, after scan returned true
	n    int    // the current line's number
}

// scan moves to the next non-blank line and reports whether there is one.
func (s *lineScanner) scan() bool {
	for len(s.rest) > 0 {
		s.line, s.rest = nextLine(s.rest)
		s.n++
		if len(trimSpace(s.line)) > 0 {
			return true
		}
	}
	return false
}
