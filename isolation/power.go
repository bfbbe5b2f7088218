package isolation

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// --- 9. cpu_power

func checkCPUPower(c *ctx) Result {
	r := Result{Expected: "governor performance on RX CPUs; deep C-states off (idle=poll, intel_idle.max_cstate=0 or processor.max_cstate=1)"}
	var obs []string
	var t tally
	govs := map[string][]int{}
	noFreq := 0
	for _, cpu := range c.rx.List() {
		g, err := c.h.ReadString(fmt.Sprintf("%s/cpu%d/cpufreq/scaling_governor", hostfs.CPUDir, cpu))
		if hostfs.NotExist(err) {
			noFreq++
			continue
		}
		if err != nil {
			t.warns = append(t.warns, fmt.Sprintf("CPU %d: governor unreadable: %v", cpu, err))
			continue
		}
		if g == "" || len(g) > 32 || strings.ContainsAny(g, " \t\n") {
			t.warns = append(t.warns, fmt.Sprintf("CPU %d: governor unreadable: %q is not a governor name", cpu, g))
			continue
		}
		govs[g] = append(govs[g], cpu)
	}
	if noFreq == c.rx.Len() {
		obs = append(obs, "no cpufreq (governor check skipped)")
	}
	for _, g := range slices.Sorted(func(yield func(string) bool) {
		for k := range govs {
			if !yield(k) {
				return
			}
		}
	}) {
		obs = append(obs, fmt.Sprintf("governor %s on %s", g, cpuset.Of(govs[g]...)))
		if g != "performance" {
			t.warns = append(t.warns, fmt.Sprintf("CPUs %s use governor %s", cpuset.Of(govs[g]...), g))
		}
	}
	limited := false
	if c.cmdErr != nil {
		obs = append(obs, "C-states unknown: "+c.cmdErr.Error())
	} else {
		var cs []string
		if v, ok := c.cmd.get("idle"); ok {
			cs = append(cs, "idle="+v)
			limited = limited || v == "poll"
		}
		if v, ok := c.cmd.get("intel_idle.max_cstate"); ok {
			cs = append(cs, "intel_idle.max_cstate="+v)
			limited = limited || v == "0"
		}
		if v, ok := c.cmd.get("processor.max_cstate"); ok {
			cs = append(cs, "processor.max_cstate="+v)
			n, err := strconv.Atoi(v)
			limited = limited || (err == nil && n <= 1)
		}
		if len(cs) == 0 {
			obs = append(obs, "no C-state limit on the command line")
		} else {
			obs = append(obs, strings.Join(cs, " "))
		}
		if !limited {
			t.warns = append(t.warns, "deep C-states allowed: waking from them adds latency")
		}
	}
	r.Observed = strings.Join(obs, "; ")
	var fix []string
	if len(govs) > 0 {
		fix = append(fix, fmt.Sprintf("for c in %s; do echo performance > /sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor; done", listWords(c.rx)))
	}
	if !limited {
		fix = append(fix, "add intel_idle.max_cstate=0 processor.max_cstate=1 to the kernel command line"+grubHint)
	}
	t.observed = true
	return t.verdict(r, verdicts{warn: outcome{"RX CPUs may run slower or sleep deeply between bursts", strings.Join(fix, "; ")}})
}

// listWords prints a set as space-separated numbers for a shell loop.
func listWords(s cpuset.Set) string {
	var sb strings.Builder
	for i, c := range s.List() {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(strconv.Itoa(c))
	}
	return sb.String()
}
