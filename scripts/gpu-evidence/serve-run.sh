#!/bin/bash
set -u
D=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH=$D
cd /tmp
cat > /tmp/load.py <<'PY'
import torch, time
x = torch.randn(8192, 8192, device="cuda"); hold = torch.empty(int(20e9)//4, device="cuda")
end = time.time() + 45
while time.time() < end:
    for _ in range(20): y = x @ x
    torch.cuda.synchronize()
PY
mkdir -p /tmp/tyto2 && printf 'storage: {data_dir: /tmp/tyto2/data}\ncollectors:\n  gpu: {interval: 1s}\n  host: {interval: 5s}\n' > /tmp/tyto2/tyto.yml
$D/tyto serve --config /tmp/tyto2/tyto.yml > /tmp/tyto2/serve.log 2>&1 &
SERVE=$!
sleep 8
python3 /tmp/load.py &
LOAD=$!
sleep 30
{
echo "## $(date -u) tyto serve with default collectors (gpu interval 1s), 30 s into a torch matmul load"
for q in 'DCGM_FI_DEV_GPU_UTIL' 'DCGM_FI_DEV_FB_USED' 'DCGM_FI_DEV_GPU_TEMP' 'DCGM_FI_DEV_POWER_USAGE' 'DCGM_FI_DEV_SM_CLOCK' \
  'rate(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[20s]) / 1000' 'tyto_gpu_process_memory_bytes' 'tyto_gpu_process_sm_utilization' \
  'min_over_time(DCGM_FI_DEV_GPU_UTIL[40s])' 'max_over_time(DCGM_FI_DEV_GPU_UTIL[40s])' \
  'count(count by (__name__) ({__name__=~"DCGM_.*|tyto_gpu_.*"}))' 'count(count by (__name__) ({__name__=~"node_.*"}))' ; do
  echo; echo "### tyto query '$q'"; $D/tyto query "$q" 2>&1
done
echo; echo "### nvidia-smi at the same moment"
nvidia-smi --query-gpu=utilization.gpu,memory.used,temperature.gpu,power.draw,clocks.sm --format=csv
wait $LOAD
echo; echo "### tyto's own CPU and memory while collecting (from its /metrics)"
python3 - <<'PY'
import urllib.request, time
def scrape():
    m = {}
    for l in urllib.request.urlopen("http://127.0.0.1:9800/metrics").read().decode().splitlines():
        if l.startswith(("process_cpu_seconds_total", "process_resident_memory_bytes")):
            k, v = l.rsplit(" ", 1); m[k] = float(v)
    return m
a = scrape(); time.sleep(20); b = scrape()
print("cpu share of one core over 20 s: %.4f" % ((b["process_cpu_seconds_total"] - a["process_cpu_seconds_total"]) / 20))
print("resident memory MiB: %.1f" % (b["process_resident_memory_bytes"] / 2**20))
PY
} > $OUT/serve-run.txt 2>&1
kill -TERM $SERVE; wait $SERVE
echo "### serve.log" >> $OUT/serve-run.txt; cat /tmp/tyto2/serve.log >> $OUT/serve-run.txt
tail -5 $OUT/serve-run.txt
