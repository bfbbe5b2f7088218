// Package benchkit is what rxprobe's benchmark harnesses (bench/cmd/...)
// share, so that every one of them reports by the same rules:
//
//   - settings from BENCH_* environment variables, where a value that does
//     not parse is an error (Env);
//   - the identity of the machine and of the binary measured: its
//     `rxprobe version` line, never the working tree's commit (Host);
//   - the order of tools in a round, reversed every other round (Order);
//   - min/median/max over rounds and per-round ratios (Spread, Ratios);
//   - what counts as a result (Gate): at least MinRounds rounds on a
//     machine that was not LOADED. A run that fails the gate prints its
//     block marked NOT A RESULT, writes no -markdown file and exits
//     ExitNotResult: its figures are never a headline;
//   - goals stated plainly, met or NOT MET with the figure (Goal);
//   - rxprobe's JSON report as the harnesses read it (RunReport),
//     EAL worker threads and their on-CPU share (FindWorker, Share);
//   - main's skeleton: flags, signals, exit status (Main).
//
// It does not import rxprobe's packages: that would link DPDK.
package benchkit
