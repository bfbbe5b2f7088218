package ndr

import (
	"fmt"
	"html/template"
	"io"
	"strings"
)

var indexTmpl = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>rxprobe bench ndr</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}.warn{color:#b00;font-weight:bold}img{margin:4px;border:1px solid #eee}</style>
</head><body>
<h1>rxprobe bench ndr</h1>
{{if not .R.Complete}}<p class="warn">INCOMPLETE: {{.R.Error}}. The figures are what was measured until then.</p>{{end}}
{{if .R.Simulated}}<p class="warn">SIMULATED DUT (--sim {{.R.Simulated}}): not a measurement of this host.</p>{{end}}
<p>{{.R.Machine.Host}} · {{.R.Machine.CPUModel}} · kernel {{.R.Machine.Kernel}} · DPDK {{.R.Machine.DPDKVersion}} · {{.R.Machine.NIC}} ({{.R.Machine.Driver}}) · {{.R.Machine.RxprobeVersion}}</p>
<p>Search {{.R.Settings.Algorithm}}, full trial {{.Full}}, short trial {{.Short}}, precision {{.Precision}}, PDR loss ≤ {{.PDR}}, line rate {{.R.Settings.LineRateGbps}} Gbit/s. {{.R.Units}}.</p>
<table><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
<p>Details: <a href="report.md">report.md</a>, <a href="results.json">results.json</a>.</p>
{{range .Plots}}<img src="{{.File}}" alt="{{.Title}}" title="{{.Title}}">
{{end}}
</body></html>
`))

// WriteIndex writes index.html: the throughput table and the plots.
func WriteIndex(w io.Writer, r *Results, plots []Plot) error {
	var rows [][]string
	for _, z := range r.Sizes {
		rows = append(rows, summaryRow(z))
	}
	s := r.Settings
	err := indexTmpl.Execute(w, map[string]any{
		"R": r, "Header": summaryHeader, "Rows": rows, "Plots": plots, "Full": s.TrialDuration.String(), "Short": s.ShortDuration.String(),
		"Precision": strings.TrimSpace(fmt.Sprintf("%.3g %%", 100*s.Precision)), "PDR": fmt.Sprintf("%.3g %%", 100*s.PDRLoss),
	})
	if err != nil {
		return fmt.Errorf("ndr: index.html: %w", err)
	}
	return nil
}
