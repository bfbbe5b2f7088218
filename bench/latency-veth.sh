#!/bin/bash
# Latency mode cost on a veth pair: the RX loop's busy ns per packet with
# `rxprobe run --latency` and without, stamped frames from `rxprobe gen
# --latency` in a netns, 3 rounds with the order flipped. Needs root and
# /tmp/rxprobe-lat (go build -o /tmp/rxprobe-lat ./cmd/rxprobe).
set -e
NS=rxlb-ns A=rxlba B=rxlbb
ip netns add $NS
trap 'ip netns del $NS 2>/dev/null; ip link del $A 2>/dev/null' EXIT
ip link add $A type veth peer name $B netns $NS
ip link set $A up; ip netns exec $NS ip link set $B up
echo 1 > /proc/sys/net/ipv6/conf/$A/disable_ipv6
ip netns exec $NS sysctl -qw net.ipv6.conf.$B.disable_ipv6=1
D=$(mktemp -d)
cat > $D/cfg.yaml <<EOC
eal:
  log_level: error
  no_huge: true
ports:
  - name: veth
    device: net_af_xdp0
    devargs: "iface=$A,start_queue=0,queue_count=1,busy_budget=0"
    rx_cpus: "1"
    rx_ring: 4096
generator:
  device: net_af_packet0
  devargs: "iface=$B,qpairs=1"
  cpu: 0
  size: 64
run:
  allow_unisolated: true
stats:
  exporter: false
EOC
for round in 1 2 3; do
  for mode in off on; do
    [ $((round % 2)) = 0 ] && { [ $mode = off ] && mode=on || mode=off; }
    extra=""; [ $mode = on ] && extra="--latency"
    rm -f $D/ready
    /tmp/rxprobe-lat run --config $D/cfg.yaml --report $D/r.json --ready-file $D/ready --status never $extra > $D/run.out 2>&1 &
    P=$!
    for i in $(seq 200); do [ -f $D/ready ] && break; sleep 0.05; done
    ip netns exec $NS /tmp/rxprobe-lat gen --config $D/cfg.yaml --latency --count 50000 --rate 20000 > /dev/null
    sleep 0.5; kill -TERM $P; wait $P || true
    python3 - $D/r.json $mode <<'EOP'
import json,sys
r=json.load(open(sys.argv[1])); q=r["ports"][0]["queues"][0]
ns=q["busy_cycles"]/q["rx_packets"]*1e9/r["tsc_hz"]
lat=r.get("latency",{})
print(f'{sys.argv[2]:3} packets {q["rx_packets"]} busy {ns:.1f} ns/pkt polls/pkt {q["polls"]/q["rx_packets"]:.0f} stamped {lat.get("count","-")} p50 {lat.get("p50_ns","-")} p99 {lat.get("p99_ns","-")}')
EOP
  done
done
