package demo

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/rxprobe/rxprobe/configs"
	"github.com/rxprobe/rxprobe/rx/config"
)

// baseConfig decodes the embedded configs/demo.yaml (with rxprobe's
// defaults applied) into a Config. dir receives the file config.Load reads.
func baseConfig(dir string) (*config.Config, error) {
	b, err := configs.Files.ReadFile("demo.yaml")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "demo.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return nil, err
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		return nil, fmt.Errorf("embedded demo config: %w", err)
	}
	if len(cfg.Ports) != 1 || cfg.Generator == nil {
		return nil, fmt.Errorf("embedded demo config: want one port and a generator, have %d ports", len(cfg.Ports))
	}
	return cfg, nil
}

// forDriver returns a copy of base that polls the veth end with driver
// (af_xdp keeps the embedded port, af_packet swaps it) and sends at rate.
func forDriver(base *config.Config, driver string, rate float64) *config.Config {
	c := *base
	c.Ports = append([]config.Port(nil), base.Ports...)
	gen := *base.Generator
	c.Generator = &gen
	if driver == "af_packet" {
		c.Ports[0].Device = "net_af_packet0"
		c.Ports[0].Devargs = "iface=" + RXIf + ",qpairs=1"
	}
	c.Generator.Rate = rate
	return &c
}

// writeConfig writes cfg as a YAML file `rxprobe run --config` reads.
func writeConfig(cfg *config.Config, path string) error {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	return os.WriteFile(path, b, 0o644)
}
