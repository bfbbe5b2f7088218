package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/viper"

	"github.com/rxprobe/rxprobe/rx/capture"
	"gopkg.in/yaml.v3"
)

// EnvPrefix is the prefix of environment overrides: RXPROBE_EAL_NO_HUGE=true
// sets eal.no_huge, RXPROBE_RUN_DURATION=10s sets run.duration.
const EnvPrefix = "RXPROBE"

// scalar defaults; every key here can also come from the environment.
var defaults = map[string]any{
	"housekeeping_cpus":      "",
	"eal.file_prefix":        "",
	"eal.hugepage_size":      "2M",
	"eal.no_huge":            false,
	"eal.extra_memory_mb":    0,
	"eal.multi_process":      false,
	"eal.log_level":          "notice",
	"eal.extra_args":         []string{},
	"stats.interval":         time.Second,
	"stats.shm_dir":          "/dev/shm",
	"stats.exporter":         true,
	"stats.metrics_addr":     "127.0.0.1:9470",
	"guard.gap_threshold_us": 0.0,
	"guard.hz":               1000,
	"guard.drift_interval":   10 * time.Second,
	"guard.attribution":      true,
	"run.duration":           time.Duration(0),
	"run.report":             "",
	"run.allow_unisolated":   false,
	"run.share_rx_cpus":      false,
	"capture.min_free_mb":    capture.DefaultMinFreeMB,
}

var portDefaults = map[string]any{
	"rx_queues":      1,
	"rx_ring":        DefaultRXRing,
	"burst":          DefaultBurst,
	"mbufs":          0,
	"mbuf_cache":     DefaultMbufCache,
	"mbuf_data_room": DefaultDataRoom,
	"promiscuous":    true,
	"line_rate_gbps": 0.0,
}

var genDefaults = map[string]any{
	"cpu":      0,
	"rate":     100000.0,
	"size":     64,
	"count":    0,
	"duration": "0s",
	"burst":    32,
	"flows":    1,
	"tx_ring":  1024,
	"src_mac":  "",
	"dst_mac":  "ff:ff:ff:ff:ff:ff",
	"src_ip":   "10.99.0.1",
	"dst_ip":   "10.99.0.2",
	"src_port": 1024,
	"dst_port": 9,
	"spin":     false,
}

// NewViper returns a viper instance with rxprobe's defaults and environment
// binding. Commands bind their flags to it before calling Load.
func NewViper() *viper.Viper {
	v := viper.New()
	for k, d := range defaults {
		v.SetDefault(k, d)
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	return v
}

// Load reads the YAML file at path, merges it with v's environment and
// flags (v may be nil), applies defaults and returns the decoded Config.
// It does not validate against the host: call Validate.
func Load(path string, v *viper.Viper) (*Config, error) {
	if v == nil {
		v = NewViper()
	}
	if path == "" {
		return nil, &FieldError{Field: "--config", Reason: "missing: pass --config FILE (see configs/null.yaml)"}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &FieldError{Field: "--config", Reason: fmt.Sprintf("cannot read %s: %v: pass an existing file (see configs/)", path, err)}
	}
	if err := strictCheck(path, data); err != nil {
		return nil, err
	}
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, &FieldError{Field: path, Reason: "YAML: " + firstLine(err.Error())}
	}
	if err := applyListDefaults(v); err != nil {
		return nil, err
	}
	var c Config
	if err := v.Unmarshal(&c); err != nil {
		return nil, &FieldError{Field: path, Reason: firstLine(err.Error())}
	}
	return &c, nil
}

// applyListDefaults fills the per-port and generator keys the file left out,
// so that an explicit bad value (burst: 0) stays distinguishable from an
// omitted one.
func applyListDefaults(v *viper.Viper) error {
	if raw := v.Get("ports"); raw != nil {
		list, ok := raw.([]any)
		if !ok {
			return &FieldError{Field: "ports", Reason: "must be a list of ports (- device: ...)"}
		}
		for i, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				return &FieldError{Field: fmt.Sprintf("ports[%d]", i), Reason: "must be a mapping with device, rx_cpus, ..."}
			}
			for k, d := range portDefaults {
				if _, set := m[k]; !set {
					m[k] = d
				}
			}
		}
		v.Set("ports", list)
	}
	if raw := v.Get("generator"); raw != nil {
		m, ok := raw.(map[string]any)
		if !ok {
			return &FieldError{Field: "generator", Reason: "must be a mapping with device, cpu, rate, ..."}
		}
		for k, d := range genDefaults {
			if _, set := m[k]; !set {
				m[k] = d
			}
		}
		v.Set("generator", m)
	}
	return nil
}

var (
	unknownRe = regexp.MustCompile(`^line (\d+): field (\S+) not found in type config\.(\w+)`)
	syntaxRe  = regexp.MustCompile(`^yaml: (line \d+: .*)`)
)

// strictCheck decodes the file with unknown keys forbidden, to report typos
// and syntax errors with their line before viper (which ignores both) runs.
func strictCheck(path string, data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	err := dec.Decode(&c)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		if m := unknownRe.FindStringSubmatch(msg); m != nil {
			return &FieldError{Field: path, Reason: fmt.Sprintf("line %s: unknown key %q in %s: check the spelling against configs/null.yaml", m[1], m[2], section(m[3]))}
		}
		return &FieldError{Field: path, Reason: msg}
	}
	if m := syntaxRe.FindStringSubmatch(err.Error()); m != nil {
		return &FieldError{Field: path, Reason: "YAML syntax error at " + m[1]}
	}
	return &FieldError{Field: path, Reason: "YAML: " + firstLine(err.Error())}
}

func section(typ string) string {
	switch typ {
	case "Config":
		return "the top level"
	case "Port":
		return "a port"
	case "Generator":
		return "generator"
	default:
		return strings.ToLower(typ)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		rest := strings.Join(strings.Fields(s[i+1:]), " ")
		return strings.TrimSpace(s[:i]) + " " + rest
	}
	return s
}
