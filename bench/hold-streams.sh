#!/usr/bin/env bash
# Holds N ADS streams (the peer-bench Go client, ../shared/peer-bench/adsload) on a healthmesh for HOLD
# seconds without changes, sampling the server's RSS every SAMPLE_S seconds, then fires TRIALS changes.
# Prints the RSS series and the client's summary line. Loopback only.
# Usage: N=5000 HOLD=600 bench/hold-streams.sh   (after ../shared/peer-bench/run.sh built the Go binaries)
set -euo pipefail
HM_DIR=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-5000} HOLD=${HOLD:-600} SAMPLE_S=${SAMPLE_S:-30} TRIALS=${TRIALS:-10} PROTO=${PROTO:-sotw}
XDS_PORT=${XDS_PORT:-28600} ADMIN_PORT=${ADMIN_PORT:-28690} TOKEN=bench-token-0123456789abcdef
BIN=${BIN:-$HM_DIR/.tmp/peer-bench/bin}
OUT=${OUT:-$HM_DIR/.tmp/hold-$PROTO-n$N-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
cfg="$OUT/healthmesh.yaml"
{
  printf 'xds:\n  listen: 127.0.0.1:%s\n  debounceMs: 50\nlog:\n  level: warn\nstore:\n  path: ":memory:"\n' "$XDS_PORT"
  printf 'admin:\n  listen: 127.0.0.1:%s\n  token: %s\nclusters:\n  - name: bench\n    endpoints:\n' "$ADMIN_PORT" "$TOKEN"
  for i in $(seq 0 9); do echo "      - { address: 127.0.0.1, port: $((20000 + i)) }"; done
} > "$cfg"
(cd "$HM_DIR" && exec npx tsx src/cli.ts serve -c "$cfg") > "$OUT/server.log" 2>&1 &
launcher=$!
trap 'kill -TERM "${pid:-$launcher}" 2>/dev/null || true; wait "$launcher" 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.25; done
pid=$(ss -ltnpH "sport = :$XDS_PORT" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
[ -n "$pid" ] || { cat "$OUT/server.log"; exit 1; }
sleep 2
rss() { awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$pid/status"; }
echo "RSS before any stream: $(rss) MiB" | tee "$OUT/rss.txt"
delta=false; [ "$PROTO" = delta ] && delta=true
U="http://127.0.0.1:$ADMIN_PORT/endpoints/bench/127.0.0.1:20000"
"$BIN/adsload" -server "127.0.0.1:$XDS_PORT" -n "$N" -delta="$delta" -trials "$TRIALS" -pid "$pid" -idle "${HOLD}s" -sync-timeout 300s \
  -trigger "$U/drain,$U/undrain" -token "$TOKEN" > "$OUT/client.json" 2> "$OUT/client.log" &
client=$!
start=$(date +%s)
while kill -0 "$client" 2>/dev/null; do
  sleep "$SAMPLE_S"
  streams=$(curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$ADMIN_PORT/metrics" | awk '/^healthmesh_xds_streams\{/{s+=$2} END{print s+0}')
  echo "t=$(( $(date +%s) - start ))s streams=$streams rss=$(rss) MiB" | tee -a "$OUT/rss.txt"
done
wait "$client" || true
tail -1 "$OUT/client.log"
echo "results: $OUT"
