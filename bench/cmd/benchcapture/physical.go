package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// bandwidth is the O_DIRECT sequential write bandwidth of one target.
type bandwidth struct {
	Target string  `json:"target"`
	Dir    string  `json:"dir"`
	Tool   string  `json:"tool"` // the command line that measured it
	MBps   float64 `json:"mb_per_s"`
	Direct bool    `json:"direct"` // false: the file system refused O_DIRECT, buffered writes measured
}

// measureBandwidth writes sizeMB to dir in 4 MiB blocks with O_DIRECT:
// with fio when it is installed, else with dd. A file system that
// refuses O_DIRECT (tmpfs before Linux 6.6) is measured with buffered
// writes, and said so.
func measureBandwidth(ctx context.Context, target, dir string, sizeMB int) (bandwidth, error) {
	b := bandwidth{Target: target, Dir: dir, Direct: true}
	file := filepath.Join(dir, "benchcapture-bandwidth")
	defer os.Remove(file)
	for _, direct := range []bool{true, false} {
		var mbps float64
		var err error
		if _, lerr := exec.LookPath("fio"); lerr == nil {
			args := []string{"--name=seqwrite", "--filename=" + file, "--rw=write", "--bs=4M", fmt.Sprintf("--size=%dM", sizeMB),
				"--ioengine=libaio", "--iodepth=8", "--end_fsync=1", "--output-format=json", fmt.Sprintf("--direct=%d", btoi(direct))}
			b.Tool = "fio " + join(args)
			var out []byte
			out, err = exec.CommandContext(ctx, "fio", args...).Output()
			if err == nil {
				var bps float64
				bps, err = parseFio(out)
				mbps = bps / 1e6
			}
		} else {
			args := []string{"if=/dev/zero", "of=" + file, "bs=4M", fmt.Sprintf("count=%d", sizeMB/4), "conv=fsync"}
			if direct {
				args = append(args, "oflag=direct")
			}
			b.Tool = "dd " + join(args)
			var out []byte
			out, err = exec.CommandContext(ctx, "dd", args...).CombinedOutput()
			if err == nil {
				var bps float64
				bps, err = parseDD(string(out))
				mbps = bps / 1e6
			} else {
				err = fmt.Errorf("%w: %s", err, out)
			}
		}
		_ = os.Remove(file)
		if err == nil {
			b.MBps, b.Direct = mbps, direct
			return b, nil
		}
		if ctx.Err() != nil || !direct {
			return b, fmt.Errorf("%s bandwidth of %s: %w", target, dir, err)
		}
	}
	return b, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func join(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += " "
		}
		s += a
	}
	return s
}
