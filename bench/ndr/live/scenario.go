package live

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rxprobe/rxprobe/bench/ndr"
	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/rx/config"
)

// ErrScenario is matched (errors.Is) by every scenario validation error.
var ErrScenario = errors.New("invalid scenario")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrScenario, fmt.Sprintf(format, args...))
}

// Setups.
const (
	// SetupVeth: the runner creates a veth pair, the generator's end in a
	// network namespace of its own, and points the config's port and
	// generator at it (the iface= devargs are replaced).
	SetupVeth = "veth"
	// SetupCabled: the config's ports are real and cabled; nothing is
	// created.
	SetupCabled = "cabled"
)

// Generators.
const (
	// GenRxprobe is `rxprobe gen --serve` on the config's generator section.
	GenRxprobe = "rxprobe"
	// GenExternal is a command run once per trial (External).
	GenExternal = "external"
)

// Scenario is a bench scenario file (bench/scenarios/*.yaml): the DUT's
// rxprobe config, how the generator reaches it, and the search settings.
// Paths are relative to the scenario file.
type Scenario struct {
	// Path is the scenario file (set by LoadScenario).
	Path string `yaml:"-"`
	// Config is the rxprobe config: ports[0] is the DUT port, the
	// generator section the rxprobe generator's port.
	Config    string `yaml:"config"`
	Setup     string `yaml:"setup"`
	Generator string `yaml:"generator"`
	External  struct {
		// Start is the command sending one trial (see External).
		Start string `yaml:"start"`
	} `yaml:"external"`
	FrameSizes string        `yaml:"frame_sizes"`
	Search     string        `yaml:"search"`
	Trial      time.Duration `yaml:"trial"`
	// Short defaults to 2s, or Trial when that is shorter.
	Short     time.Duration `yaml:"short"`
	Precision string        `yaml:"precision"`
	PDRLoss   string        `yaml:"pdr_loss"`
	// MaxRate caps the search (the generator's maximum, "2Mpps");
	// empty: the port's line_rate_gbps.
	MaxRate string `yaml:"max_rate"`
	MinRate string `yaml:"min_rate"`
	// GenTolerance is the shortfall allowed before a trial is
	// generator-limited ("2%"; default 0.5%).
	GenTolerance string `yaml:"gen_tolerance"`
	// MaxRepeats is how often a disturbed trial is repeated (absent: the
	// default, 2; 0: never).
	MaxRepeats *int `yaml:"max_repeats"`
	// Confirm repeats each frame size's NDR trial that often at full
	// duration after the search (0: not repeated).
	Confirm int `yaml:"confirm"`
	// Drain and MaxDrain bound the wait for the rings to drain after the
	// generator stopped (defaults 200ms and 2s).
	Drain    time.Duration `yaml:"drain"`
	MaxDrain time.Duration `yaml:"max_drain"`
	// Latency runs every trial in latency mode: the DUT with `rxprobe run
	// --latency`, the rxprobe generator stamping its frames; each trial
	// then carries the one-way latency percentiles (valid only when
	// generator and DUT share the host's TSC; an external sender's are
	// never).
	Latency bool `yaml:"latency"`
}

// Default drain bounds.
const (
	DefaultDrain    = 200 * time.Millisecond
	DefaultMaxDrain = 2 * time.Second
)

// LoadScenario reads a scenario file strictly (an unknown key is an
// error) and applies the defaults; Validate checks it.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, invalid("%s: %s", path, firstLine(err.Error()))
	}
	s.Path = path
	s.Config = s.resolve(s.Config)
	s.defaults()
	return &s, nil
}

// NewScenario is a scenario around the rxprobe config at config with the
// given setup, the rxprobe generator and the default settings (`rxprobe
// bench ndr --config` without --scenario).
func NewScenario(config, setup string) *Scenario {
	s := &Scenario{Config: config, Setup: setup}
	s.defaults()
	return s
}

func firstLine(s string) string {
	s = strings.TrimPrefix(s, "yaml: ")
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i]) + " " + strings.TrimSpace(s[i+1:])
	}
	return s
}

func (s *Scenario) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || s.Path == "" {
		return p
	}
	return filepath.Join(filepath.Dir(s.Path), p)
}

func (s *Scenario) defaults() {
	if s.Setup == "" {
		s.Setup = SetupCabled
	}
	if s.Generator == "" {
		s.Generator = GenRxprobe
	}
	if s.FrameSizes == "" {
		s.FrameSizes = ndr.DefaultFrameSizes
	}
	if s.Search == "" {
		s.Search = ndr.MLR
	}
	if s.Precision == "" {
		s.Precision = "0.5%"
	}
	if s.PDRLoss == "" {
		s.PDRLoss = "0.5%"
	}
	if s.Drain == 0 {
		s.Drain = DefaultDrain
	}
	if s.MaxDrain == 0 {
		s.MaxDrain = DefaultMaxDrain
	}
}

// Settings turns the scenario into validated search settings for the DUT
// config cfg (line rate from ports[0]).
func (s *Scenario) Settings(cfg *config.Config) (ndr.Config, error) {
	var c ndr.Config
	text := ndr.Text{FrameSizes: s.FrameSizes, Precision: s.Precision, PDRLoss: s.PDRLoss, MaxRate: s.MaxRate, MinRate: s.MinRate, GenTolerance: s.GenTolerance}
	if err := text.Parse(&c, func(key string) string { return key }); err != nil {
		return c, err
	}
	c.Algorithm, c.TrialDuration, c.ShortDuration = s.Search, s.Trial, s.Short
	if c.ShortDuration == 0 && c.TrialDuration > 0 {
		c.ShortDuration = min(ndr.DefaultShort, c.TrialDuration) // a short trial is never longer than a full one
	}
	if s.MaxRepeats != nil {
		if c.MaxRepeats = *s.MaxRepeats; c.MaxRepeats == 0 {
			c.MaxRepeats = ndr.NoRepeats
		}
	}
	c.Confirm = s.Confirm
	if len(cfg.Ports) > 0 {
		c.LineRateGbps = cfg.Ports[0].LineRateGbps
	}
	if s.Latency {
		c.LatencyLoads = ndr.DefaultLatencyLoads
	}
	c = c.WithDefaults()
	if c.LineRateGbps == 0 && c.MaxRatePPS == 0 {
		return c, invalid("no maximum rate: set max_rate in the scenario or --max-rate (e.g. 2Mpps), or ports[0].line_rate_gbps in %s", s.Config)
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, checkSizes(c.FrameSizes, s.Generator == GenExternal)
}

// Validate checks the scenario against the rxprobe config cfg (already
// loaded and validated) and says in one line what is wrong.
func (s *Scenario) Validate(cfg *config.Config) error {
	switch {
	case s.Config == "":
		return invalid("%s: config is missing: name the DUT's rxprobe config (relative to the scenario)", s.Path)
	case s.Setup != SetupVeth && s.Setup != SetupCabled:
		return invalid("setup %q: want veth or cabled", s.Setup)
	case s.Generator != GenRxprobe && s.Generator != GenExternal:
		return invalid("generator %q: want rxprobe or external", s.Generator)
	case s.Generator == GenExternal:
		if err := CheckStart(s.External.Start); err != nil {
			return err
		}
	case s.External.Start != "":
		return invalid("external.start is set but generator is %s: set generator: external or drop external", s.Generator)
	}
	switch {
	case s.Drain < 0 || s.MaxDrain < s.Drain:
		return invalid("drain %v, max_drain %v: want 0 ≤ drain ≤ max_drain", s.Drain, s.MaxDrain)
	case len(cfg.Ports) == 0:
		return invalid("config %s has no ports: ports[0] is the DUT port", s.Config)
	case s.Generator == GenRxprobe && cfg.Generator == nil:
		return invalid("config %s has no generator section: add one for the rxprobe generator (or use generator: external)", s.Config)
	}
	if s.Setup == SetupVeth {
		if _, err := withIface(cfg.Ports[0].Devargs, "x"); err != nil {
			return invalid("setup veth: config %s ports[0].devargs %q: %v", s.Config, cfg.Ports[0].Devargs, err)
		}
		if cfg.Generator != nil {
			if _, err := withIface(cfg.Generator.Devargs, "x"); err != nil {
				return invalid("setup veth: config %s generator.devargs %q: %v", s.Config, cfg.Generator.Devargs, err)
			}
		}
	}
	_, err := s.Settings(cfg)
	return err
}

// LoadConfig loads the scenario's rxprobe config and validates it against
// online (the host's CPUs; AnyCPUs for a dry run off the target host).
func (s *Scenario) LoadConfig(online cpuset.Set) (*config.Config, error) {
	if s.Config == "" {
		return nil, invalid("%s: config is missing: name the DUT's rxprobe config (relative to the scenario)", s.Path)
	}
	cfg, err := config.Load(s.Config, nil)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(online); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Config, err)
	}
	return cfg, nil
}

// AnyCPUs is CPUs 0-1023: a dry run checks a config for another host
// without this host's CPU list.
func AnyCPUs() cpuset.Set {
	s, _ := cpuset.Parse("0-1023")
	return s
}

// errNoIface says devargs name no interface.
var errNoIface = errors.New("no iface= item to point at the veth pair")

// withIface returns devargs with its iface= item set to name.
func withIface(devargs, name string) (string, error) {
	items := strings.Split(devargs, ",")
	found := false
	for i, it := range items {
		if strings.HasPrefix(strings.TrimSpace(it), "iface=") {
			items[i], found = "iface="+name, true
		}
	}
	if !found {
		return "", errNoIface
	}
	return strings.Join(items, ","), nil
}
