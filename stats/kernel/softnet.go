package kernel

// SoftnetField is a bit set of the optional /proc/net/softnet_stat columns
// present in a row.
type SoftnetField uint8

// Optional softnet_stat columns. Processed, Dropped and TimeSqueeze are
// always present. The column count grew over time (softnet_seq_show, in
// net/core/dev.c until v3.10, net/core/net-procfs.c since):
//
//	 9 columns: processed dropped time_squeeze 0 0 0 0 0 cpu_collision
//	            https://elixir.bootlin.com/linux/v2.6.34/source/net/core/dev.c
//	10 columns: received_rps, with RPS in v2.6.35
//	            https://elixir.bootlin.com/linux/v2.6.35/source/net/core/dev.c
//	11 columns: flow_limit_count, v3.11
//	            https://github.com/torvalds/linux/commit/99bbc70741903c063b3ccad90a3e06fc55df9245
//	13 columns: softnet_backlog_len and the CPU index (v5.10; RHEL 8 backports it)
//	            https://elixir.bootlin.com/linux/v5.10/source/net/core/net-procfs.c
//	15 columns: the backlog split into input_qlen and process_qlen (v6.4)
//	            https://elixir.bootlin.com/linux/v6.8/source/net/core/net-procfs.c
//
// Columns beyond 15 (proposed upstream, e.g. budget squeeze) are ignored.
const (
	SoftnetCPUCollision SoftnetField = 1 << iota // column 9
	SoftnetReceivedRPS                           // column 10
	SoftnetFlowLimit                             // column 11
	SoftnetBacklogLen                            // column 12
	SoftnetCPUIndex                              // column 13
	SoftnetInputQLen                             // column 14
	SoftnetProcessQLen                           // column 15
)

// SoftnetCPU is one row of /proc/net/softnet_stat.
type SoftnetCPU struct {
	// CPU is the CPU number from the index column when Has&SoftnetCPUIndex
	// is set; otherwise it is the row ordinal, which equals the CPU number
	// only if no lower-numbered CPU is offline (older kernels skip offline
	// CPUs without saying which).
	CPU            int
	Processed      uint64
	Dropped        uint64
	TimeSqueeze    uint64
	CPUCollision   uint64 // always 0 since 4.x; kept for the 9-column format
	ReceivedRPS    uint64
	FlowLimitCount uint64
	BacklogLen     uint64
	InputQLen      uint64
	ProcessQLen    uint64
	// Has tells which optional fields the kernel reported; an absent field
	// reads 0.
	Has SoftnetField
}

// Softnet is a parsed /proc/net/softnet_stat sample.
type Softnet struct {
	// CPUs holds one entry per row, in file order. Reused by the next parse.
	CPUs []SoftnetCPU
}

// NewSoftnet returns a Softnet with room for rowCap rows.
func NewSoftnet(rowCap int) *Softnet {
	return &Softnet{CPUs: make([]SoftnetCPU, 0, max(rowCap, 1))}
}

// CPU returns the row for CPU number cpu, if present.
func (s *Softnet) CPU(cpu int) (*SoftnetCPU, bool) {
	for i := range s.CPUs {
		if s.CPUs[i].CPU == cpu {
			return &s.CPUs[i], true
		}
	}
	return nil, false
}

// ParseSoftnet parses /proc/net/softnet_stat (hexadecimal columns) into dst.
// Rows need at least the three base columns; extra columns beyond the known
// 15 are ignored. It does not allocate unless there are more rows than
// cap(dst.CPUs) (growth happens once) or the input is malformed.
func ParseSoftnet(data []byte, dst *Softnet) error {
	const file = "/proc/net/softnet_stat"
	if err := checkComplete(file, data); err != nil {
		return err
	}
	dst.CPUs = dst.CPUs[:0]
	for lines := (lineScanner{rest: data, n: 0}); lines.scan(); {
		line, lineNo := lines.line, lines.n
		var vals [15]uint64
		n := 0
		for f, r := nextField(line); len(f) > 0; f, r = nextField(r) {
			v, ok := parseHex(f)
			if !ok {
				return parseError(file, lineNo, "not a hexadecimal number", f)
			}
			if n < len(vals) {
				vals[n] = v
			}
			n++
		}
		if n < 3 {
			return parseError(file, lineNo, "fewer than 3 columns", line)
		}
		row := SoftnetCPU{
			CPU:         len(dst.CPUs),
			Processed:   vals[0],
			Dropped:     vals[1],
			TimeSqueeze: vals[2],
		}
		if n >= 9 {
			row.CPUCollision, row.Has = vals[8], row.Has|SoftnetCPUCollision
		}
		if n >= 10 {
			row.ReceivedRPS, row.Has = vals[9], row.Has|SoftnetReceivedRPS
		}
		if n >= 11 {
			row.FlowLimitCount, row.Has = vals[10], row.Has|SoftnetFlowLimit
		}
		if n >= 12 {
			row.BacklogLen, row.Has = vals[11], row.Has|SoftnetBacklogLen
		}
		if n >= 13 {
			if vals[12] > 1<<31-1 {
				return parseError(file, lineNo, "CPU index out of range", line)
			}
			row.CPU, row.Has = int(vals[12]), row.Has|SoftnetCPUIndex
		}
		if n >= 14 {
			row.InputQLen, row.Has = vals[13], row.Has|SoftnetInputQLen
		}
		if n >= 15 {
			row.ProcessQLen, row.Has = vals[14], row.Has|SoftnetProcessQLen
		}
		dst.CPUs = append(dst.CPUs, row)
	}
	return nil
}

// SoftnetReader reads ROOT/proc/net/softnet_stat through a kept descriptor.
type SoftnetReader struct {
	f    *procFile
	rows int
}

// NewSoftnetReader opens ROOT/proc/net/softnet_stat (root "" means "/").
func NewSoftnetReader(root string) (*SoftnetReader, error) {
	f, rows, err := openCounted(hostPath(root, "proc/net/softnet_stat"), 4096)
	if err != nil {
		return nil, err
	}
	return &SoftnetReader{f: f, rows: rows}, nil
}

// NewSample returns a Softnet with room for twice the rows seen at
// construction (CPUs coming online add rows).
func (r *SoftnetReader) NewSample() *Softnet { return NewSoftnet(2*r.rows + 4) }

// ReadInto reads and parses the file into dst without allocating.
func (r *SoftnetReader) ReadInto(dst *Softnet) error { return readParse(r.f, dst, ParseSoftnet) }

// Close closes the kept descriptor.
func (r *SoftnetReader) Close() error { return r.f.Close() }

func countLines(data []byte) int {
	n := 0
	for _, c := range data {
		if c == '\n' {
			n++
		}
	}
	return n
}
