package trialapi

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// DefaultAddr is the trial API's address unless told otherwise.
const DefaultAddr = "127.0.0.1:9471"

// ErrListen is matched (errors.Is) by every error of CheckListen.
var ErrListen = errors.New("trial api: bad listen options")

type listenError struct{ msg string }

func (e *listenError) Error() string        { return e.msg }
func (e *listenError) Is(target error) bool { return target == ErrListen }

func errorsJoin(errs ...error) error { return errors.Join(errs...) }

// CheckListen validates where the trial API listens and returns the
// bearer token requests must carry ("" when none). A loopback address
// (127.0.0.0/8, ::1, localhost) is served as is, or with the token of
// tokenFile when one is given. Any other address (a wildcard included) is
// refused unless public is set, and public needs tokenFile: a non-empty
// first line, the token. Errors are one line naming the flag and the fix.
func CheckListen(addr string, public bool, tokenFile string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", &listenError{fmt.Sprintf("--trial-api %q: want HOST:PORT, e.g. %s", addr, DefaultAddr)}
	}
	if !loopback(host) && !public {
		return "", &listenError{fmt.Sprintf("--trial-api %s is not a loopback address: the trial API is served beyond this host only with --trial-api-public and --trial-api-token-file FILE", addr)}
	}
	if tokenFile == "" {
		if public && !loopback(host) {
			return "", &listenError{fmt.Sprintf("--trial-api-public needs --trial-api-token-file FILE: the bearer token that requests to %s must carry", addr)}
		}
		return "", nil
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		return "", &listenError{fmt.Sprintf("--trial-api-token-file: %v", err)}
	}
	token, _, _ := strings.Cut(string(b), "\n")
	token = strings.TrimSpace(token)
	if token == "" {
		return "", &listenError{fmt.Sprintf("--trial-api-token-file %s: the first line is empty: write the token there", tokenFile)}
	}
	return token, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
