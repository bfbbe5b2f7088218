// Package demo runs the embedded default behind `make demo` and
// `rxprobe demo`: a veth pair with one end in a network namespace,
// `rxprobe gen` sending into it and `rxprobe run` polling the other end.
//
// # Contract
//
// The demo leaves the host as it found it: it removes the namespace and
// the veth pair, unmounts only the tracefs, bpffs and hugetlbfs it mounted,
// and gives back exactly the hugepages it added (the delta it read in
// nr_hugepages, never more), so that what `make test` set up survives a
// demo and the other way round. It keeps one file: the run's report, at
// Options.Report, whose path the run prints. Without the privileges for
// the veth demo it says so in one line and runs net_null with --no-huge.
//
// The configs it starts the run and the generator with are built from the
// embedded configs/demo.yaml as rx/config types and written as YAML.
// Errors that mean the demo could not be set up match ErrSetup.
package demo
