package kernel

import (
	"strconv"
	"strings"
	"testing"
)

// The fuzz targets check that no input makes a parser panic, that a parse
// that succeeds upholds the result's invariants, and, for the simpler
// formats, that the result agrees with a straightforward reference parser
// built on strings/strconv. Seeds are the fixtures; the corpus found by
// `go test -fuzz` is kept in testdata/fuzz/<FuzzName>/.

func addSeeds(f *testing.F, files ...string) {
	for _, p := range files {
		f.Add(fixture(f, p))
	}
}

func FuzzParseInterrupts(f *testing.F) {
	addSeeds(f, "cpu4/proc/interrupts", "hotplug/proc/interrupts", "vm2/proc/interrupts")
	f.Add([]byte("  CPU0 CPU1\n ERR: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A fresh value per input: with shared state, the interning and
		// growth paths would be covered only on first sight, and the
		// fuzzer's minimiser would chase coverage it cannot reproduce.
		s := NewInterrupts([]int{0, 2, 3}, 2)
		if err := ParseInterrupts(data, s); err != nil {
			return
		}
		for _, r := range s.Rows {
			if len(r.Counts) != len(s.CPUs) {
				t.Fatalf("row %q has %d counts for %d CPUs", r.ID, len(r.Counts), len(s.CPUs))
			}
			var sum uint64
			for j, c := range r.Counts {
				if c != 0 && (!r.PerCPU || !s.Online[j]) {
					t.Fatalf("row %q: count %d for CPU %d, which is offline or not per-CPU", r.ID, c, s.CPUs[j])
				}
				sum += c
			}
			if sum > r.Total && len(s.CPUs) == 3 && !hasDuplicateCPUColumns(data) {
				t.Fatalf("row %q: selected counts %d exceed total %d", r.ID, sum, r.Total)
			}
			if r.ID == "" || !strings.HasSuffix(r.Desc, r.Device) {
				t.Fatalf("row %+v: empty id or device not a suffix of desc", r)
			}
		}
	})
}

// hasDuplicateCPUColumns reports whether a header names a CPU twice; then a
// selected CPU takes the last column's value and sums are not comparable.
func hasDuplicateCPUColumns(data []byte) bool {
	header, _ := nextLine(data)
	seen := map[string]bool{}
	for _, f := range strings.Fields(string(header)) {
		n, _ := strconv.ParseUint(strings.TrimPrefix(f, "CPU"), 10, 64)
		k := strconv.FormatUint(n, 10)
		if seen[k] {
			return true
		}
		seen[k] = true
	}
	return false
}

func FuzzParseSoftnet(f *testing.F) {
	addSeeds(f, "softnet/9col.txt", "softnet/10col.txt", "softnet/11col.txt", "softnet/13col.txt",
		"softnet/15col.txt", "softnet/truncated.txt", "softnet/garbage.txt")
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewSoftnet(1)
		err := ParseSoftnet(data, s)
		// Reference: every non-blank line is >= 3 hexadecimal fields.
		text := string(data)
		var want []uint64
		refOK := len(text) > 0 && strings.HasSuffix(text, "\n")
		for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			fields := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\v' || r == '\f' })
			if len(fields) == 0 {
				continue
			}
			if len(fields) < 3 {
				refOK = false
			}
			for i, fl := range fields {
				v, perr := strconv.ParseUint(fl, 16, 64)
				if perr != nil || strings.HasPrefix(fl, "+") || strings.Contains(fl, "_") || strings.HasPrefix(strings.ToLower(fl), "0x") {
					refOK = false
				}
				if i == 0 {
					want = append(want, v)
				}
				if i == 12 && v > 1<<31-1 {
					refOK = false
				}
			}
		}
		if (err == nil) != refOK {
			t.Fatalf("ParseSoftnet error %v, reference ok=%v", err, refOK)
		}
		if err != nil {
			return
		}
		if len(s.CPUs) != len(want) {
			t.Fatalf("%d rows, reference %d", len(s.CPUs), len(want))
		}
		for i, w := range want {
			if s.CPUs[i].Processed != w {
				t.Fatalf("row %d: Processed %d, reference %d", i, s.CPUs[i].Processed, w)
			}
		}
	})
}

func FuzzParseNetDev(f *testing.F) {
	addSeeds(f, "cpu4/proc/net/dev", "vm2/proc/net/dev")
	f.Fuzz(func(t *testing.T, data []byte) {
		n := NewNetDev(1)
		if err := ParseNetDev(data, n); err != nil {
			return
		}
		// Reference for what was accepted: each device line re-parsed with
		// strings.Fields and strconv must give the same numbers.
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")[2:]
		i := 0
		for _, line := range lines {
			if strings.TrimSpace(line) == "" {
				continue
			}
			name, rest, _ := strings.Cut(line, ":")
			fields := strings.Fields(rest)
			if len(fields) != 16 {
				t.Fatalf("accepted a line with %d counters: %q", len(fields), line)
			}
			d := n.Devices[i]
			if d.Name != strings.TrimSpace(name) {
				t.Fatalf("name %q, reference %q", d.Name, strings.TrimSpace(name))
			}
			got := []uint64{d.RxBytes, d.RxPackets, d.RxErrs, d.RxDrop, d.RxFifo, d.RxFrame, d.RxCompressed, d.RxMulticast,
				d.TxBytes, d.TxPackets, d.TxErrs, d.TxDrop, d.TxFifo, d.TxColls, d.TxCarrier, d.TxCompressed}
			for k, fl := range fields {
				w, err := strconv.ParseUint(fl, 10, 64)
				if err != nil || w != got[k] {
					t.Fatalf("%q field %d: got %d, strconv %d (%v)", line, k, got[k], w, err)
				}
			}
			i++
		}
		if i != len(n.Devices) {
			t.Fatalf("%d devices, reference %d", len(n.Devices), i)
		}
	})
}

func FuzzParseSNMP(f *testing.F) {
	addSeeds(f, "cpu4/proc/net/snmp", "vm2/proc/net/snmp")
	f.Add([]byte("Udp: NoPorts Future InDatagrams\nUdp: 1 123 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var u UDPStats
		if err := ParseSNMP(data, &u); err != nil {
			return
		}
		if u.Has == 0 {
			t.Fatal("success without any counter")
		}
		// Reference: the first "Udp:" pair, by name.
		lines := strings.Split(string(data), "\n")
		for i, l := range lines {
			if !strings.HasPrefix(l, "Udp:") {
				continue
			}
			names := strings.Fields(l[4:])
			vals := strings.Fields(lines[i+1][4:])
			for k, name := range names {
				if name != "InDatagrams" {
					continue
				}
				w, _ := strconv.ParseUint(vals[k], 10, 64)
				if u.Has&UDPInDatagrams == 0 || u.InDatagrams != w {
					t.Fatalf("InDatagrams %d (has %v), reference %d", u.InDatagrams, u.Has&UDPInDatagrams != 0, w)
				}
			}
			return
		}
		t.Fatal("success without a Udp line")
	})
}

func FuzzParseUDP(f *testing.F) {
	addSeeds(f, "cpu4/proc/net/udp", "cpu4/proc/net/udp6", "vm2/proc/net/udp")
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewUDPSockets(2)
		if err := ParseUDP(data, s); err != nil {
			return
		}
		var sum uint64
		count := 0
		for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) == 0 {
				continue
			}
			d, err := strconv.ParseUint(fields[12], 10, 64)
			if err != nil {
				t.Fatalf("accepted drops %q", fields[12])
			}
			sum += d
			count++
		}
		if sum != s.Drops || count != s.Count {
			t.Fatalf("Drops %d Count %d, reference %d %d", s.Drops, s.Count, sum, count)
		}
		if len(s.Sockets) > cap(s.Sockets) || s.Truncated != (count > cap(s.Sockets)) {
			t.Fatalf("%d sockets listed of %d, truncated %v", len(s.Sockets), count, s.Truncated)
		}
	})
}

func FuzzParseCounter(f *testing.F) {
	for _, s := range []string{"0\n", "120394\n", "18446744073709551615\n", "18446744073709551616\n", "0x1f\n", " 7 \n", "-1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseCounter(data)
		s := strings.Trim(string(data), " \t\r\v\f\n")
		var want uint64
		var werr error
		if h, ok := strings.CutPrefix(s, "0x"); ok && len(s) > 2 {
			want, werr = strconv.ParseUint(h, 16, 64)
		} else if h, ok := strings.CutPrefix(s, "0X"); ok && len(s) > 2 {
			want, werr = strconv.ParseUint(h, 16, 64)
		} else {
			want, werr = strconv.ParseUint(s, 10, 64)
		}
		if werr == nil && (strings.ContainsAny(s, "+_") || s != strings.TrimSpace(s)) {
			werr = strconv.ErrSyntax // strconv accepts "_" only with base 0; keep it strict
		}
		if (err == nil) != (werr == nil) || got != want && err == nil {
			t.Fatalf("ParseCounter(%q) = %d, %v; strconv %d, %v", data, got, err, want, werr)
		}
	})
}
