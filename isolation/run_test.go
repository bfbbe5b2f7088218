package isolation

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rxprobe/rxprobe/hugepages"
	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
)

const hosts = "../testdata/hosts"

func fixture(name string) hostfs.FS { return hostfs.New(filepath.Join(hosts, name)) }

func mustSet(t *testing.T, s string) cpuset.Set {
	t.Helper()
	set, err := cpuset.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// statuses maps check ID to status, for compact comparisons.
func statuses(r Report) map[string]Status {
	out := map[string]Status{}
	for _, res := range r.Results {
		out[res.ID] = res.Status
	}
	return out
}

func result(t *testing.T, r Report, id string) Result {
	t.Helper()
	for _, res := range r.Results {
		if res.ID == id {
			return res
		}
	}
	t.Fatalf("no result %q", id)
	return Result{}
}

func TestRunFixtures(t *testing.T) {
	tests := []struct {
		name string
		host string
		spec Spec
		want map[string]Status
		// reasons: check ID → substrings that must appear in its
		// Reason, Observed, Remedy or Details.
		reasons map[string][]string
	}{
		{
			name: "isolated host passes everything",
			host: "isolated-2socket",
			spec: Spec{
				RXCPUs:       mustSet(t, "2-5"),
				Housekeeping: mustSet(t, "0-1"),
				PCIDevices:   []string{"0000:3b:00.0"},
				Huge:         []hugepages.Need{{Node: 0, Size: hugepages.Size1G, Bytes: 2 << 30}, {Node: 0, Size: hugepages.Size2M, Bytes: 256 << 20}},
				ExcludePID:   3400,
			},
			want: map[string]Status{
				"isolcpus": "pass", "nohz_full": "pass", "rcu_nocbs": "pass", "irq_affinity": "pass",
				"irqbalance": "pass", "hugepages": "pass", "numa_locality": "pass", "smt_siblings": "pass",
				"cpu_power": "pass", "page_movers": "pass", "housekeeping_work": "pass", "foreign_tasks": "pass",
			},
			reasons: map[string][]string{
				"isolcpus":      {"isolcpus=managed_irq,domain,2-7,18-23", "flags: managed_irq,domain"},
				"irqbalance":    {"irqbalance not running"},
				"numa_locality": {"0000:3b:00.0 on node 0", "RX CPUs 2-5 on node 0"},
				"foreign_tasks": {"0 of ", "(pid 3400 excluded)"},
				"hugepages":     {"2 × 1 GiB on node 0", "hugetlbfs 1G at /mnt/huge 1G"},
			},
		},
		{
			name: "rxprobe's own process counts unless excluded",
			host: "isolated-2socket",
			spec: Spec{RXCPUs: mustSet(t, "2-5"), Housekeeping: mustSet(t, "0-1")},
			want: map[string]Status{
				"isolcpus": "pass", "nohz_full": "pass", "rcu_nocbs": "pass", "irq_affinity": "pass",
				"irqbalance": "pass", "hugepages": "skip", "numa_locality": "skip", "smt_siblings": "pass",
				"cpu_power": "pass", "page_movers": "pass", "housekeeping_work": "pass", "foreign_tasks": "warn",
			},
			reasons: map[string][]string{
				"hugepages":     {"config runs with no_huge"},
				"numa_locality": {"virtual devices only"},
				"foreign_tasks": {"3 threads", "tid 3401 (pid 3400) rxprobe allowed on 0-31"},
			},
		},
		{
			name: "RX CPUs on the busy side of the isolated host",
			host: "isolated-2socket",
			spec: Spec{RXCPUs: mustSet(t, "8-9"), Housekeeping: mustSet(t, "0-1,24-25"), PCIDevices: []string{"0000:af:00.0"}},
			want: map[string]Status{
				"isolcpus": "fail", "nohz_full": "fail", "rcu_nocbs": "fail", "irq_affinity": "fail",
				"irqbalance": "pass", "hugepages": "skip", "numa_locality": "pass", "smt_siblings": "fail",
				"cpu_power": "pass", "page_movers": "pass", "housekeeping_work": "fail", "foreign_tasks": "warn",
			},
			reasons: map[string][]string{
				"irq_affinity": {"irq 121 (ice-0000:af:00.0-TxRx-0)", "for i in 0 8 9 120 121 122 130 134; do echo 0-1,24-25 > /proc/irq/$i/smp_affinity_list; done", "irqaffinity=0-1,8-17,24-31 includes RX CPUs 8-9"},
				"smt_siblings": {"CPU 24 (sibling of RX CPU 8) is a housekeeping CPU"},
			},
		},
		{
			name: "misconfigured host",
			host: "misconfigured",
			spec: Spec{
				RXCPUs:       mustSet(t, "2-5"),
				Housekeeping: mustSet(t, "0-1,10"),
				PCIDevices:   []string{"0000:3b:00.0"},
				Huge:         []hugepages.Need{{Node: 0, Size: hugepages.Size1G, Bytes: 2 << 30}},
			},
			want: map[string]Status{
				"isolcpus": "fail", "nohz_full": "fail", "rcu_nocbs": "fail", "irq_affinity": "fail",
				"irqbalance": "fail", "hugepages": "fail", "numa_locality": "fail", "smt_siblings": "fail",
				"cpu_power": "warn", "page_movers": "fail", "housekeeping_work": "fail", "foreign_tasks": "warn",
			},
			reasons: map[string][]string{
				"isolcpus":     {"RX CPUs 2-3 are not isolated", "isolcpus=managed_irq,domain,2-5", "managed_irq not set"},
				"nohz_full":    {"nohz_full none", "nohz_full=2-5"},
				"rcu_nocbs":    {"rcu_nocb_poll", "rcu_nocbs=2-5"},
				"irq_affinity": {"irq 40 (eth1-TxRx-0): affinity 0-15, effective 3", "irq 41 (nvme0q3): affinity 2-3, effective 2 (managed or per-CPU: cannot be moved)", "irq 44 (ahci[0000:00:17.0]): affinity 0-1, effective 5", "default_smp_affinity ffff includes RX CPUs 2-5", "echo 403 > /proc/irq/default_smp_affinity"},
				"irqbalance":   {"irqbalance running (pid 700)", "IRQBALANCE_BANNED_CPULIST=2", "IRQBALANCE_BANNED_CPUS=00000004", "RX CPUs 3-5", "IRQBALANCE_BANNED_CPULIST=2-5"},
				"hugepages":    {"need 2 × 1 GiB hugepages on node 0, 1 free", "rxprobe hugepages reserve --node 0 --size 1G --pages 1"},
				"numa_locality": {"0000:3b:00.0 is on node 1 but RX CPUs 2-3 are on node 0",
					"0000:3b:00.0 is on node 1 but 1 GiB hugepages are taken from node 0", "node 1: CPUs 4-7,12-15"},
				"smt_siblings":      {"CPU 10 (sibling of RX CPU 2) is a housekeeping CPU", "CPU 13 (sibling of RX CPU 5) is not isolated"},
				"cpu_power":         {"governor powersave on 2-5", "intel_idle.max_cstate=0"},
				"page_movers":       {"THP always", "numa_balancing 1", "KSM run 1", "sysctl -w kernel.numa_balancing=0", "echo 2 > /sys/kernel/mm/ksm/run"},
				"housekeeping_work": {"unbound workqueues may run on RX CPUs 2-5", "echo 403 > /sys/devices/virtual/workqueue/cpumask", "sysctl -w kernel.timer_migration=0", "sysctl -w vm.stat_interval=10", "NMI watchdog fires on RX CPUs 2-5"},
				"foreign_tasks":     {"7 threads", "pid 2 kthreadd", "pid 1 systemd allowed on 0-15", "tid 901 (pid 900) stress-ng allowed on 2-5", "pid 31 kworker/u32:1-events_unbound"},
			},
		},
		{
			name:    "short PCI address is the same device",
			host:    "isolated-2socket",
			spec:    Spec{RXCPUs: mustSet(t, "2-5"), Housekeeping: mustSet(t, "0-1"), PCIDevices: []string{"3B:00.0"}, ExcludePID: 3400},
			want:    passingBut(map[string]Status{"hugepages": "skip", "numa_locality": "pass"}),
			reasons: map[string][]string{"numa_locality": {"0000:3b:00.0 on node 0"}},
		},
		{
			name:    "port without locality on a two-node host is a warning, not node 0",
			host:    "isolated-2socket",
			spec:    Spec{RXCPUs: mustSet(t, "2-5"), Housekeeping: mustSet(t, "0-1"), PCIDevices: []string{"0000:5e:00.0"}, ExcludePID: 3400},
			want:    passingBut(map[string]Status{"hugepages": "skip", "numa_locality": "warn"}),
			reasons: map[string][]string{"numa_locality": {"0000:5e:00.0 on an unknown node", "numa_node -1 on a host with nodes [0 1]", "firmware does not say"}},
		},
		{
			name:    "a cross-node port still fails next to one without locality",
			host:    "isolated-2socket",
			spec:    Spec{RXCPUs: mustSet(t, "2-5"), Housekeeping: mustSet(t, "0-1"), PCIDevices: []string{"5e:00.0", "af:00.0"}, ExcludePID: 3400},
			want:    passingBut(map[string]Status{"hugepages": "skip", "numa_locality": "fail"}),
			reasons: map[string][]string{"numa_locality": {"0000:af:00.0 is on node 1 but RX CPUs 2-5 are on node 0", "0000:5e:00.0 on an unknown node"}},
		},
		{
			name: "garbled host",
			host: "garbled",
			spec: Spec{
				RXCPUs:     mustSet(t, "2"),
				PCIDevices: []string{"0000:3b:00.0"},
				Huge:       []hugepages.Need{{Node: 0, Size: hugepages.Size2M, Bytes: 2 << 20}},
			},
			want: map[string]Status{
				"isolcpus": "skip", "nohz_full": "skip", "rcu_nocbs": "skip", "irq_affinity": "warn",
				"irqbalance": "fail", "hugepages": "skip", "numa_locality": "skip", "smt_siblings": "skip",
				"cpu_power": "warn", "page_movers": "skip", "housekeeping_work": "skip", "foreign_tasks": "warn",
			},
			reasons: map[string][]string{
				"isolcpus":          {`"abc" is not a CPU number`},
				"nohz_full":         {"/proc/cmdline: not text"},
				"irq_affinity":      {`irq 5: proc/irq/5/smp_affinity_list`, `irq 6: proc/irq/6/effective_affinity_list`, "default_smp_affinity", `bad CPU number in header: "CPU"`},
				"irqbalance":        {"IRQBALANCE_BANNED_CPULIST"},
				"hugepages":         {`not a page count: "12x"`},
				"numa_locality":     {`"bogus" is not a node number`},
				"smt_siblings":      {"CPU 2 topology"},
				"cpu_power":         {"CPU 2: governor unreadable", "C-states unknown"},
				"page_movers":       {`"sometimes" has no [selected] mode`, `kernel.numa_balancing: "x"`, `ksm/run: "9"`},
				"housekeeping_work": {"workqueue/cpumask", `kernel.timer_migration: "maybe"`},
				"foreign_tasks":     {"task 700/700", "task 701/701", "could not be parsed"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := Run(fixture(tt.host), tt.spec)
			if diff := cmp.Diff(tt.want, statuses(rep)); diff != "" {
				t.Errorf("statuses mismatch (-want +got):\n%s", diff)
				for _, r := range rep.Results {
					t.Logf("%s: %s %q %q %q", r.ID, r.Status, r.Reason, r.Observed, r.Details)
				}
			}
			for id, subs := range tt.reasons {
				res := result(t, rep, id)
				text := strings.Join(append([]string{res.Reason, res.Observed, res.Expected, res.Remedy}, res.Details...), "\n")
				for _, s := range subs {
					if !strings.Contains(text, s) {
						t.Errorf("%s: %q not found in:\n%s", id, s, text)
					}
				}
			}
			checkShape(t, rep)
			if got, want := rep.Failed(), tt.want != nil && containsFail(tt.want); got != want {
				t.Errorf("Failed() = %v, want %v", got, want)
			}
		})
	}
}

// passingBut is every check passing except those given.
func passingBut(except map[string]Status) map[string]Status {
	out := map[string]Status{}
	for _, id := range CheckIDs() {
		out[id] = StatusPass
	}
	maps.Copy(out, except)
	return out
}

func containsFail(m map[string]Status) bool {
	for _, s := range m {
		if s == StatusFail {
			return true
		}
	}
	return false
}

// checkShape verifies what every report must satisfy: every check ID in
// order, a reason for every skip, observations for every verdict and a
// remedy for every warn or fail, and a JSON round trip.
func checkShape(t *testing.T, rep Report) {
	t.Helper()
	var ids []string
	for _, r := range rep.Results {
		ids = append(ids, r.ID)
		if r.Title == "" {
			t.Errorf("%s: no title", r.ID)
		}
		if strings.HasPrefix(r.Reason, "internal error") {
			t.Errorf("%s: %s", r.ID, r.Reason)
		}
		switch r.Status {
		case StatusSkip:
			if r.Reason == "" {
				t.Errorf("%s: skip without a reason", r.ID)
			}
		case StatusWarn, StatusFail:
			if r.Observed == "" || r.Expected == "" || (r.Remedy == "" && r.Reason == "") {
				t.Errorf("%s: %s without observed/expected/remedy: %+v", r.ID, r.Status, r)
			}
		case StatusPass:
			if r.Observed == "" || r.Expected == "" {
				t.Errorf("%s: pass without observed/expected: %+v", r.ID, r)
			}
		default:
			t.Errorf("%s: unknown status %q", r.ID, r.Status)
		}
	}
	want := []string{"isolcpus", "nohz_full", "rcu_nocbs", "irq_affinity", "irqbalance", "hugepages",
		"numa_locality", "smt_siblings", "cpu_power", "page_movers", "housekeeping_work", "foreign_tasks"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("check IDs mismatch (-want +got):\n%s", diff)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	if diff := cmp.Diff(rep, back); diff != "" {
		t.Errorf("JSON round trip mismatch (-want +got):\n%s", diff)
	}
}

func TestRunNoRXCPUs(t *testing.T) {
	rep := Run(fixture("isolated-2socket"), Spec{})
	got := statuses(rep)
	for id, s := range got {
		if id == "hugepages" || id == "page_movers" {
			continue
		}
		if s != StatusSkip {
			t.Errorf("%s = %s with no RX CPUs, want skip", id, s)
		}
	}
	checkShape(t, rep)
}

func TestRunEmptyRoot(t *testing.T) {
	rep := Run(hostfs.New(t.TempDir()), Spec{RXCPUs: cpuset.Of(1), PCIDevices: []string{"0000:00:01.0"},
		Huge: []hugepages.Need{{Node: 0, Size: hugepages.Size2M, Bytes: 1}}})
	checkShape(t, rep)
	if rep.Host != "" {
		t.Errorf("Host = %q on an empty root", rep.Host)
	}
}

func TestReportJSONKeys(t *testing.T) {
	b, err := json.Marshal(Report{Host: "h", Results: []Result{{ID: "x", Title: "t", Status: StatusWarn, Observed: "o", Expected: "e", Remedy: "r", Reason: "why", Details: []string{"d"}}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"host":"h","results":[{"id":"x","title":"t","status":"warn","observed":"o","expected":"e","remedy":"r","reason":"why","details":["d"]}]}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("JSON mismatch (-want +got):\n%s", diff)
	}
}

func TestCheckIDs(t *testing.T) {
	if got := len(CheckIDs()); got != 12 {
		t.Errorf("len(CheckIDs()) = %d, want 12", got)
	}
}
