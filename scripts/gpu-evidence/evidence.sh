#!/bin/bash
# Runs Tyto's GPU collector against the machine's real NVIDIA GPU; writes evidence to $OUT.
set -u
D=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH=$D
cd /tmp
SMI="nvidia-smi --query-gpu=index,name,uuid,utilization.gpu,utilization.memory,memory.used,memory.total,temperature.gpu,power.draw,power.limit,clocks.sm,clocks.mem,pstate,pcie.link.gen.current --format=csv"
{ date -u; nvidia-smi -q | head -40; } > $OUT/nvidia-smi-q.txt 2>&1
echo "== idle: collector round" 
TYTO_REAL_NVML=1 $D/collect_gpu_test --gtest_filter='RealNvml.*' > $OUT/real-nvml-idle.txt 2>&1; echo "rc=$?"
$SMI > $OUT/nvidia-smi-idle.csv
# A load: matrix products on the GPU for ~150 s holding ~20 GiB.
cat > /tmp/load.py <<'PY'
import torch, time
x = torch.randn(8192, 8192, device="cuda"); hold = torch.empty(int(20e9)//4, device="cuda")
end = time.time() + 150
while time.time() < end:
    for _ in range(20): y = x @ x
    torch.cuda.synchronize()
print("load done")
PY
python3 /tmp/load.py > $OUT/load.log 2>&1 &
LOAD=$!
mkdir -p /tmp/tyto && cat > /tmp/tyto/tyto.yml <<'YML'
storage: {data_dir: /tmp/tyto/data}
collectors:
  gpu: {interval: 1s}
  host: {interval: 5s}
YML
$D/tyto serve --config /tmp/tyto/tyto.yml > $OUT/tyto-serve.log 2>&1 &
SERVE=$!
sleep 25
echo "== loaded: collector round"
TYTO_REAL_NVML=1 $D/collect_gpu_test --gtest_filter='RealNvml.*' > $OUT/real-nvml-load.txt 2>&1; echo "rc=$?"
$SMI > $OUT/nvidia-smi-load.csv
{
for q in 'DCGM_FI_DEV_GPU_UTIL' 'DCGM_FI_DEV_FB_USED' 'DCGM_FI_DEV_FB_FREE' 'DCGM_FI_DEV_GPU_TEMP' 'DCGM_FI_DEV_POWER_USAGE' \
  'DCGM_FI_DEV_SM_CLOCK' 'DCGM_FI_DEV_MEM_CLOCK' 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION' 'DCGM_FI_DEV_PCIE_REPLAY_COUNTER' \
  'DCGM_FI_DEV_CLOCK_THROTTLE_REASONS' 'DCGM_FI_DEV_XID_ERRORS' 'tyto_gpu_info' 'tyto_gpu_process_memory_bytes' \
  'max_over_time(DCGM_FI_DEV_GPU_UTIL[20s])' 'count by (__name__) ({__name__=~"DCGM_.*"})' \
  'count({__name__=~"DCGM_.*|tyto_gpu_.*"})' 'count({__name__=~"node_.*"})' ; do
  echo "### tyto query '$q'"; $D/tyto query "$q" 2>&1
done
} > $OUT/tyto-queries.txt
echo "== metrics names"
$D/tyto query 'group by (__name__) ({__name__=~"DCGM_.*|tyto_gpu_.*|tyto_collector.*"})' > $OUT/tyto-gpu-names.txt 2>&1
wait $LOAD
sleep 3
$D/tyto query 'DCGM_FI_DEV_GPU_UTIL' > $OUT/tyto-after-load.txt 2>&1
$D/tyto query 'max_over_time(DCGM_FI_DEV_GPU_UTIL[3m])' >> $OUT/tyto-after-load.txt 2>&1
$D/tyto query 'max_over_time(DCGM_FI_DEV_FB_USED[3m])' >> $OUT/tyto-after-load.txt 2>&1
$D/tyto query 'rate(process_cpu_seconds_total[1m])' >> $OUT/tyto-after-load.txt 2>&1
$SMI > $OUT/nvidia-smi-after.csv
kill -TERM $SERVE; wait $SERVE; echo "serve rc=$?"
ls -la $OUT
