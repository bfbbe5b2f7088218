package ndr

import (
	"fmt"
	"html/template"
	"io"
	"strings"
)

var indexTmpl = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>rxprobe bench ndr</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1500px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td{white-space:nowrap}th{background:#f4f4f4}td:first-child{text-align:left}.warn{color:#b00;font-weight:bold}h2{margin:1.2em 0 .4em;font-size:1.3em}.plots{display:flex;flex-wrap:wrap;gap:8px}.plots img{border:1px solid #eee;max-width:100%;height:auto}</style>
</head><body>
<h1>rxprobe bench ndr</h1>
{{if not .R.Complete}}<p class="warn">INCOMPLETE: {{.R.Error}}. The figures are what was measured until then.</p>{{end}}
{{if .R.Simulated}}<p class="warn">SIMULATED DUT (--sim {{.R.Simulated}}): not a measurement of this host.</p>{{end}}
<p>{{.R.Machine.Host}} · {{.R.Machine.CPUModel}} · kernel {{.R.Machine.Kernel}} · {{.DPDK}} · {{.R.Machine.NIC}} ({{.R.Machine.Driver}}) · {{.R.Machine.RxprobeVersion}}</p>
<p>Search {{.R.Settings.Algorithm}}, full trial {{.Full}}, short trial {{.Short}}, precision {{.Precision}}, PDR loss ≤ {{.PDR}}, {{.LineRate}}. Units: {{.R.Units}}.</p>
<table><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
<p>Details: <a href="report.md">report.md</a>, <a href="results.json">results.json</a>.</p>
{{range .Sections}}<h2>{{.Name}} frames</h2>
<div class="plots">
{{range .Plots}}<img src="{{.File}}" alt="{{.Title}}" title="{{.Title}}">
{{end}}</div>
{{end}}
</body></html>
`))

// plotSection is one frame size's plots on index.html.
type plotSection struct {
	Name  string
	Plots []Plot
}

// sections groups plots by frame size, in the order of r.Sizes: a plot
// file is named KIND-SIZE.svg.
func sections(r *Results, plots []Plot) []plotSection {
	var out []plotSection
	for _, z := range r.Sizes {
		sec := plotSection{Name: z.FrameSize.String()}
		for _, p := range plots {
			if strings.HasSuffix(p.File, "-"+z.FrameSize.Name+".svg") {
				sec.Plots = append(sec.Plots, p)
			}
		}
		if len(sec.Plots) > 0 {
			out = append(out, sec)
		}
	}
	return out
}

// WriteIndex writes index.html: the throughput table and the plots.
func WriteIndex(w io.Writer, r *Results, plots []Plot) error {
	var rows [][]string
	for _, z := range r.Sizes {
		rows = append(rows, summaryRow(z))
	}
	s := r.Settings
	dpdk := r.Machine.DPDKVersion // rte_version() says "DPDK 22.11.1"
	if !strings.HasPrefix(dpdk, "DPDK") {
		dpdk = "DPDK " + dpdk
	}
	err := indexTmpl.Execute(w, map[string]any{
		"R": r, "Header": summaryHeader, "Rows": rows, "Sections": sections(r, plots), "DPDK": dpdk,
		"Full": s.TrialDuration.String(), "Short": s.ShortDuration.String(),
		"Precision": strings.TrimSpace(fmt.Sprintf("%.3g %%", 100*s.Precision)), "PDR": fmt.Sprintf("%.3g %%", 100*s.PDRLoss), "LineRate": s.lineRate(),
	})
	if err != nil {
		return fmt.Errorf("ndr: index.html: %w", err)
	}
	return nil
}
