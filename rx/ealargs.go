package rx

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/rxprobe/rxprobe/hugepages"
	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/rx/config"
)

// EALPlan is everything EAL is started with.
type EALPlan struct {
	Prefix  string
	HugeDir string           // hugetlbfs mount for the page size ("" with no_huge)
	Needs   []hugepages.Need // memory per NUMA node
	Workers []int            // CPU of worker lcore i+1, in order
	Devices []string         // -a / --vdev device strings with devargs
	Args    []string
}

// UniquePrefix is the --file-prefix used when the config leaves it empty:
// unique per run, so concurrent runs never share DPDK files.
func UniquePrefix(kind string) string {
	return fmt.Sprintf("rxprobe-%s-%d", kind, os.Getpid())
}

// deviceArg joins a device and its devargs.
func deviceArg(dev, devargs string) string {
	if devargs == "" {
		return dev
	}
	return dev + "," + devargs
}

// buildArgs renders an EALPlan into rte_eal_init arguments: the main lcore
// 0 floats over the housekeeping CPUs, worker lcores 1..n are pinned one per
// CPU, memory is preallocated per socket (or -m with --no-huge) and the
// devices are listed explicitly.
func buildArgs(p *EALPlan, hk cpuset.Set, noHuge, multiProcess bool, logLevel string, extra []string) []string {
	lcores := []string{"0@(" + hk.String() + ")"}
	for i, cpu := range p.Workers {
		lcores = append(lcores, strconv.Itoa(i+1)+"@"+strconv.Itoa(cpu))
	}
	args := []string{"rxprobe",
		"--file-prefix", p.Prefix,
		"--proc-type", "primary",
		"--lcores", strings.Join(lcores, ","),
		"--main-lcore", "0",
	}
	if !multiProcess {
		args = append(args, "--no-shconf")
	}
	if noHuge {
		var total uint64
		for _, n := range p.Needs {
			total += n.Bytes
		}
		mb := total>>20 + 1
		if mb < 64 {
			mb = 64
		}
		args = append(args, "--no-huge", "-m", strconv.FormatUint(mb, 10))
	} else {
		mem := config.SocketMemMB(p.Needs)
		parts := make([]string, len(mem))
		for i, m := range mem {
			parts[i] = strconv.FormatUint(m, 10)
		}
		args = append(args, "--socket-mem", strings.Join(parts, ","))
		if p.HugeDir != "" {
			args = append(args, "--huge-dir", p.HugeDir)
		}
	}
	pci := false
	for _, d := range p.Devices {
		name, _, _ := strings.Cut(d, ",")
		if config.IsPCI(name) {
			args = append(args, "-a", d)
			pci = true
		} else {
			args = append(args, "--vdev", d)
		}
	}
	if !pci {
		args = append(args, "--no-pci")
	}
	if logLevel != "" {
		args = append(args, "--log-level", logLevel)
	}
	return append(args, extra...)
}

// RXPlan computes the EAL plan of `rxprobe run` for cfg; nodeOf gives each
// port's NUMA node.
func RXPlan(cfg *config.Config, prefix, hugeDir string, nodeOf func(config.Port) int) *EALPlan {
	p := &EALPlan{Prefix: prefix, HugeDir: hugeDir}
	if cfg.EAL.FilePrefix != "" {
		p.Prefix = cfg.EAL.FilePrefix
	}
	for _, port := range cfg.Ports {
		p.Workers = append(p.Workers, port.QueueCPUs()...)
		p.Devices = append(p.Devices, deviceArg(port.Device, port.Devargs))
	}
	return p.finish(cfg, func(c *config.Config) []hugepages.Need { return c.HugepageNeeds(nodeOf) })
}

// GenPlan computes the EAL plan of `rxprobe gen`: one worker on the
// generator's CPU (it may share a housekeeping CPU: the generator is a test
// tool, not a probe).
func GenPlan(cfg *config.Config, prefix, hugeDir string, node int) *EALPlan {
	g := cfg.Generator
	p := &EALPlan{Prefix: prefix, HugeDir: hugeDir, Workers: []int{g.CPU},
		Devices: []string{deviceArg(g.Device, g.Devargs)}}
	if cfg.EAL.FilePrefix != "" {
		p.Prefix = cfg.EAL.FilePrefix + "-gen"
	}
	return p.finish(cfg, func(c *config.Config) []hugepages.Need { return c.GenHugepageNeeds(node) })
}

// finish sets the plan's memory needs from needs and builds its EAL
// arguments. On a no_huge run the sizes still matter for -m: needs is then
// given cfg as if on 2 MiB pages, and there is no hugetlbfs directory.
func (p *EALPlan) finish(cfg *config.Config, needs func(*config.Config) []hugepages.Need) *EALPlan {
	c := *cfg
	if cfg.EAL.NoHuge {
		c.EAL.NoHuge = false
		c.EAL.HugepageSize = "2M"
		p.HugeDir = ""
	}
	p.Needs = needs(&c)
	p.Args = buildArgs(p, cfg.HousekeepingSet(), cfg.EAL.NoHuge, cfg.EAL.MultiProcess, cfg.EAL.LogLevel, cfg.EAL.ExtraArgs)
	return p
}
