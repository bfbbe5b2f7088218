#!/usr/bin/env bash
# deploy/check.sh: validate the Prometheus rules, their unit tests, the
# example Prometheus config and the Grafana dashboard, and check that every
# rxprobe metric they use is one the exporter publishes (the list below is
# the fixed metric set of issue 4). Exits non-zero on the first class of
# failure it finds, after reporting every failure of that class.
#
# Needs promtool (Debian: prometheus) and jq.
set -euo pipefail

cd "$(dirname "$0")/.."

# The exporter's metric names (stable). Histograms are listed by base name.
allowed_metrics=(
	rxprobe_rx_packets_total
	rxprobe_rx_bytes_total
	rxprobe_rx_missed_total
	rxprobe_rx_nombuf_total
	rxprobe_rx_errors_total
	rxprobe_rx_discards_phy_total
	rxprobe_xstat_total
	rxprobe_loop_gap_seconds
	rxprobe_cpu_interrupts_total
	rxprobe_softnet_dropped_total
	rxprobe_softnet_time_squeeze_total
	rxprobe_netdev_rx_dropped_total
	rxprobe_udp_rcvbuf_errors_total
	rxprobe_snapshot_age_seconds
	rxprobe_build_info
	rxprobe_guard_violations_total
	rxprobe_drops_total
	rxprobe_capture_packets_total
	rxprobe_capture_filtered_out_total
	rxprobe_capture_ring_dropped_total
	rxprobe_capture_disk_dropped_total
	rxprobe_capture_written_packets_total
	rxprobe_capture_written_bytes_total
	rxprobe_capture_files_total
	rxprobe_capture_files_deleted_total
	rxprobe_capture_write_errors_total
	rxprobe_capture_writer_busy_seconds_total
	rxprobe_capture_writer_wait_seconds_total
	rxprobe_capture_write_seconds_total
	rxprobe_capture_triggers_total
	rxprobe_capture_triggers_coalesced_total
	rxprobe_capture_expired_total
	rxprobe_capture_history_bytes
)
histograms=(rxprobe_loop_gap_seconds)

rules=deploy/prometheus/rxprobe-alerts.yml
tests=deploy/prometheus/rxprobe-alerts_test.yml
config=deploy/prometheus/prometheus.yml
dashboard=deploy/grafana/rxprobe.json

fail() {
	echo "deploy/check.sh: FAIL: $*" >&2
	exit 1
}

for tool in promtool jq; do
	command -v "$tool" >/dev/null || fail "$tool not found (apt-get install prometheus jq)"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== promtool check rules $rules"
promtool check rules "$rules" || fail "$rules"
echo "== promtool test rules $tests"
promtool test rules "$tests" || fail "$tests"
echo "== promtool check config $config"
promtool check config "$config" || fail "$config"

echo "== dashboard $dashboard"
jq empty "$dashboard" || fail "$dashboard is not valid JSON"
# Structure: a datasource variable DS_PROMETHEUS, port and cpu variables,
# every panel and target on ${DS_PROMETHEUS}, every target with an expr.
jq -e '
	([.templating.list[] | select(.name == "DS_PROMETHEUS" and .type == "datasource")] | length == 1)
	and ([.templating.list[].name] | index("port") != null and index("cpu") != null)
	and ([.panels[] | select(.type != "row") | .datasource.uid] | all(. == "${DS_PROMETHEUS}"))
	and ([.panels[] | select(.type != "row") | .targets[] | .datasource.uid] | all(. == "${DS_PROMETHEUS}"))
	and ([.panels[] | select(.type != "row") | .targets[] | .expr] | all(type == "string" and length > 0))
	and ([.panels[].id] | length == (unique | length))
' "$dashboard" >/dev/null || fail "$dashboard: missing DS_PROMETHEUS/port/cpu variables, a panel not on \${DS_PROMETHEUS}, a target without expr, or duplicate panel ids"

# Every dashboard query must be valid PromQL: substitute Grafana's
# variables and let promtool parse each one as a recording rule.
jq -r '.panels[] | select(.type != "row") | .targets[] | .expr' "$dashboard" >"$tmp/queries"
# shellcheck disable=SC2016 # Grafana variables, not shell ones
sed -i -e 's/\$__rate_interval/1m/g' -e 's/\$[a-z_]*/.*/g' "$tmp/queries"
{
	echo "groups:"
	echo "  - name: dashboard-queries"
	echo "    rules:"
	i=0
	while IFS= read -r expr; do
		i=$((i + 1))
		printf '      - record: dashboard:query_%d\n        expr: %s\n' "$i" "$(jq -Rn --arg e "$expr" '$e')"
	done <"$tmp/queries"
} >"$tmp/dashboard-rules.yml"
promtool check rules "$tmp/dashboard-rules.yml" >/dev/null || {
	promtool check rules "$tmp/dashboard-rules.yml" || true
	fail "$dashboard: a query is not valid PromQL"
}

echo "== metric names"
bad=0
used=$(cat "$rules" "$tests" "$config" "$dashboard" | grep -oE 'rxprobe_[a-z0-9_]+' | sort -u)
for m in $used; do
	base=$m
	for h in "${histograms[@]}"; do
		case $m in "${h}_bucket" | "${h}_sum" | "${h}_count") base=$h ;; esac
	done
	known=0
	for a in "${allowed_metrics[@]}"; do
		[[ $base == "$a" ]] && known=1
	done
	if ((!known)); then
		echo "unknown metric: $m (not published by the exporter; see the list in $0)" >&2
		bad=1
	fi
done
((!bad)) || fail "metric names"
# The dashboard shows a metric of every class the exporter publishes, and
# the rules alert on every drop counter.
for m in rxprobe_rx_packets_total rxprobe_rx_bytes_total rxprobe_loop_gap_seconds_bucket rxprobe_cpu_interrupts_total \
	rxprobe_guard_violations_total rxprobe_snapshot_age_seconds rxprobe_drops_total; do
	grep -q "$m" "$dashboard" || {
		echo "dashboard does not use $m" >&2
		bad=1
	}
done
for m in rxprobe_rx_missed_total rxprobe_rx_nombuf_total rxprobe_rx_discards_phy_total rxprobe_drops_total \
	rxprobe_cpu_interrupts_total rxprobe_loop_gap_seconds_bucket rxprobe_snapshot_age_seconds rxprobe_guard_violations_total; do
	# a selector (name followed by { or [), not a mention in a description
	grep -qE "${m}[{[]" "$rules" || {
		echo "no alert rule uses $m" >&2
		bad=1
	}
done
((!bad)) || fail "coverage"
echo "deploy/check.sh: OK"
