package kernel

import (
	"bytes"
	"fmt"
	"slices"
)

// InterruptRow is one row of /proc/interrupts restricted to the selected CPUs.
type InterruptRow struct {
	// ID is the text before the colon: a number ("24") or a kind ("LOC",
	// "CAL", "TLB", "RES", "ERR", ...). Interned: the same string value is
	// reused for every sample.
	ID string
	// IRQ is the numeric IRQ, or -1 for named rows.
	IRQ int
	// Desc is the text after the counts, trimmed: for numeric IRQs the chip,
	// hardware IRQ, trigger and action names; for named rows a description
	// such as "Local timer interrupts". Interned.
	Desc string
	// Device is the action (device) names of a numeric IRQ, e.g. "virtio2-input.0"
	// or "i8042, xhci_hcd"; empty for named rows and for IRQs without a
	// handler. It is a substring of Desc (see deviceOffset for the rule).
	Device string
	// PerCPU is true when the row has one count for every CPU column of the
	// header. Rows such as ERR and MIS print a single, system-wide number:
	// for them PerCPU is false, Counts are all zero and Total holds the value.
	PerCPU bool
	// Counts[j] is the count for CPU Interrupts.CPUs[j]; it is 0 when the row
	// is not per-CPU or the CPU is not in the header (see Interrupts.Online).
	// It aliases storage owned by the Interrupts value.
	Counts []uint64
	// Total is the sum of every count on the row, over all CPUs, selected or
	// not.
	Total uint64
}

// Interrupts is a parsed /proc/interrupts sample for a fixed set of CPUs.
// Create it with NewInterrupts or InterruptsReader.NewSample and reuse it for
// every sample: parsing into it does not allocate once its row capacity and
// name table have warmed up (see ParseInterrupts).
type Interrupts struct {
	// CPUs are the selected CPU numbers, in the order of InterruptRow.Counts.
	// Set at construction; do not modify.
	CPUs []int
	// Online[j] reports whether CPUs[j] had a column in the header of the
	// last sample (a CPU that is offline has none).
	Online []bool
	// Columns is the number of CPU columns in the header of the last sample.
	Columns int
	// Rows are the rows of the last sample in file order. The slice is
	// reused by the next parse.
	Rows []InterruptRow

	counts []uint64 // backing store of Rows[i].Counts
	colSel []int    // header column -> index into CPUs, or -1
	names  internTable
}

// NewInterrupts returns an Interrupts for the given CPUs with room for
// rowCap rows before the row storage has to grow.
func NewInterrupts(cpus []int, rowCap int) *Interrupts {
	rowCap = max(rowCap, 16)
	return &Interrupts{
		CPUs:   slices.Clone(cpus),
		Online: make([]bool, len(cpus)),
		Rows:   make([]InterruptRow, 0, rowCap),
		counts: make([]uint64, rowCap*len(cpus)),
		colSel: make([]int, 0, 64),
		names:  newInternTable(rowCap),
	}
}

// Row returns the row with the given ID from the last sample.
func (s *Interrupts) Row(id string) (*InterruptRow, bool) {
	for i := range s.Rows {
		if s.Rows[i].ID == id {
			return &s.Rows[i], true
		}
	}
	return nil, false
}

// ParseInterrupts parses the contents of /proc/interrupts into dst, keeping
// only the columns of dst.CPUs.
//
// The header line ("CPU0 CPU2 CPU3" when CPU1 is offline) maps columns to CPU
// numbers. A row with fewer counts than the header (ERR, MIS) is recorded as
// not per-CPU. The number of rows may differ from one sample to the next.
//
// Allocation: none in steady state. Row IDs and descriptions are interned
// in a table owned by dst the first time they are seen (and again if a
// description changes, e.g. a device renamed); the row storage grows once if
// a sample has more rows than ever before. All of that stops after warm-up
// because the set of IRQs on a host is bounded. Error paths allocate.
func ParseInterrupts(data []byte, dst *Interrupts) error {
	const file = "/proc/interrupts"
	if err := checkComplete(file, data); err != nil {
		return err
	}
	header, rest := nextLine(data)
	// Header: CPU columns.
	dst.colSel = dst.colSel[:0]
	for i := range dst.Online {
		dst.Online[i] = false
	}
	for f, r := nextField(header); len(f) > 0; f, r = nextField(r) {
		if !bytes.HasPrefix(f, []byte("CPU")) {
			return parseError(file, 1, "header field is not CPUn", f)
		}
		n, ok := parseDec(f[3:])
		if !ok {
			return parseError(file, 1, "bad CPU number in header", f)
		}
		sel := -1
		for j, c := range dst.CPUs {
			if uint64(c) == n {
				sel = j
				dst.Online[j] = true
			}
		}
		dst.colSel = append(dst.colSel, sel) // grows only past 64 CPUs, once
	}
	ncols := len(dst.colSel)
	if ncols == 0 {
		return parseError(file, 1, "no CPU columns in header", header)
	}
	dst.Columns = ncols
	dst.Rows = dst.Rows[:0]
	for lines := (lineScanner{rest: rest, n: 1}); lines.scan(); {
		line, lineNo := lines.line, lines.n
		id, after, err := splitKey(file, lineNo, line, "row without colon", "row without id")
		if err != nil {
			return err
		}
		i := len(dst.Rows)
		counts := dst.rowCounts(i)
		clear(counts)
		var total uint64
		k := 0
		for k < ncols {
			f, r := nextField(after)
			v, ok := parseDec(f)
			if !ok {
				break
			}
			total += v
			if j := dst.colSel[k]; j >= 0 {
				counts[j] = v
			}
			after = r
			k++
		}
		perCPU := k == ncols
		if !perCPU {
			clear(counts)
		}
		desc := trimSpace(after)
		name := dst.names.lookup(id, desc)
		dst.Rows = append(dst.Rows, InterruptRow{
			ID:     name.id,
			IRQ:    name.irq,
			Desc:   name.desc,
			Device: name.device,
			PerCPU: perCPU,
			Counts: counts,
			Total:  total,
		})
	}
	return nil
}

// rowCounts returns the count storage for row i, growing the backing array
// (once, copying and re-pointing earlier rows) if needed.
func (s *Interrupts) rowCounts(i int) []uint64 {
	n := len(s.CPUs)
	if (i+1)*n > len(s.counts) {
		grown := make([]uint64, 2*(i+1)*n)
		copy(grown, s.counts)
		s.counts = grown
		for r := range s.Rows {
			s.Rows[r].Counts = s.counts[r*n : (r+1)*n : (r+1)*n]
		}
	}
	return s.counts[i*n : (i+1)*n : (i+1)*n]
}

// irqName is an interned row identity.
type irqName struct {
	id, desc, device string
	irq              int
}

// internTable maps row IDs to interned strings. Lookups with a []byte key do
// not allocate (the compiler elides the string conversion in m[string(b)]).
type internTable struct {
	idx   map[string]int
	names []irqName
}

func newInternTable(capacity int) internTable {
	return internTable{idx: make(map[string]int, capacity), names: make([]irqName, 0, capacity)}
}

func (t *internTable) lookup(id, desc []byte) *irqName {
	if i, ok := t.idx[string(id)]; ok {
		n := &t.names[i]
		if n.desc != string(desc) { // comparison does not allocate
			n.desc = string(desc)
			n.device = deviceOf(n.irq, n.desc)
		}
		return n
	}
	if t.idx == nil {
		t.idx = make(map[string]int)
	}
	n := irqName{id: string(id), desc: string(desc), irq: -1}
	if v, ok := parseDec(id); ok && v <= 1<<31-1 {
		n.irq = int(v)
	}
	n.device = deviceOf(n.irq, n.desc)
	t.names = append(t.names, n)
	t.idx[n.id] = len(t.names) - 1
	return &t.names[len(t.names)-1]
}

// deviceOf extracts the action names from the description of a numeric IRQ.
//
// kernel/irq/proc.c show_interrupts prints, after the counts: the chip name,
// the hardware IRQ number (when there is a domain), "Level"/"Edge" (only with
// CONFIG_GENERIC_IRQ_SHOW_LEVEL), "-name" of the flow handler (x86 glues it
// to the hwirq: "5-edge"), then "  " and the comma-separated action names.
// We skip those leading fields and return the rest:
//
//	"IO-APIC   5-edge      ACPI:Ged"            -> "ACPI:Ged"
//	"PCI-MSIX-0000:00:03.0   1-edge  virtio2-input.0" -> "virtio2-input.0"
//	"GICv3  27 Level     arch_timer"            -> "arch_timer"
func deviceOf(irq int, desc string) string {
	if irq < 0 {
		return ""
	}
	_, s := nextField(desc) // chip
	if f, r := nextField(s); len(f) > 0 && f[0] >= '0' && f[0] <= '9' {
		s = r // hwirq, possibly "5-edge"
	}
	if f, r := nextField(s); f == "Level" || f == "Edge" {
		s = r
	}
	if f, r := nextField(s); len(f) > 0 && f[0] == '-' {
		s = r // flow handler name without hwirq
	}
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return s[i:]
}

// InterruptsReader reads /proc/interrupts under a host root through a kept
// descriptor (see the package documentation).
type InterruptsReader struct {
	f    *procFile
	cpus []int
	rows int // rows seen at construction, for NewSample
}

// NewInterruptsReader opens ROOT/proc/interrupts for the given CPUs (root ""
// means "/"). It reads the file once to size its buffer.
func NewInterruptsReader(root string, cpus []int) (*InterruptsReader, error) {
	f, rows, err := openCounted(hostPath(root, "proc/interrupts"), 0)
	if err != nil {
		return nil, err
	}
	return &InterruptsReader{f: f, cpus: slices.Clone(cpus), rows: rows}, nil
}

// NewSample returns an Interrupts sized for this reader's CPUs and for twice
// the rows present at construction, with its name table warmed up by one
// read, so that ReadInto does not allocate.
func (r *InterruptsReader) NewSample() *Interrupts {
	s := NewInterrupts(r.cpus, 2*r.rows+16)
	_ = r.ReadInto(s) // warm-up only; errors resurface on the next read
	return s
}

// ReadInto reads the file and parses it into dst, which must have been made
// for the same CPUs (NewSample or NewInterrupts with an equal list).
// It does not allocate in steady state (see ParseInterrupts).
func (r *InterruptsReader) ReadInto(dst *Interrupts) error {
	if !slices.Equal(dst.CPUs, r.cpus) {
		return fmt.Errorf("kernel: interrupts: sample is for CPUs %v, reader for %v", dst.CPUs, r.cpus)
	}
	return readParse(r.f, dst, ParseInterrupts)
}

// Close closes the kept descriptor.
func (r *InterruptsReader) Close() error { return r.f.Close() }

// ParseInterruptsAll parses /proc/interrupts keeping every CPU column of
// its header: the whole table, for one-off readers (preflight, the drift
// watcher, benchmarks). It is ParseInterrupts with the CPUs taken from the
// header, so both read the format the same way; unlike a reused
// Interrupts it allocates on every call.
func ParseInterruptsAll(data []byte) (*Interrupts, error) {
	header, _ := nextLine(data)
	var cpus []int
	for f, r := nextField(header); len(f) > 0; f, r = nextField(r) {
		if n, ok := parseDec(bytes.TrimPrefix(f, []byte("CPU"))); ok && n <= 1<<31-1 {
			cpus = append(cpus, int(n)) // a bad field is reported by ParseInterrupts
		}
	}
	s := NewInterrupts(cpus, bytes.Count(data, []byte{'\n'}))
	if err := ParseInterrupts(data, s); err != nil {
		return nil, err
	}
	return s, nil
}

// Column returns the count of cpu on every per-CPU row of the last sample,
// by row ID, and whether cpu had a column in its header. Rows that are
// not per-CPU (ERR, MIS) are left out. It allocates the map.
func (s *Interrupts) Column(cpu int) (map[string]uint64, bool) {
	j := slices.Index(s.CPUs, cpu)
	if j < 0 || !s.Online[j] {
		return nil, false
	}
	out := make(map[string]uint64, len(s.Rows))
	for _, r := range s.Rows {
		if r.PerCPU {
			out[r.ID] = r.Counts[j]
		}
	}
	return out, true
}
