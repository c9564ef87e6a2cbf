#!/bin/bash
D=$(cd "$(dirname "$0")" && pwd)
echo "== glibc"; ldd --version | head -1
echo "== os"; cat /etc/os-release | head -3
echo "== nvidia-smi"; nvidia-smi 2>&1 | head -20
nvidia-smi -q 2>&1 | grep -E "Driver Version|CUDA Version|Product Name|MIG Mode|Current" | head
echo "== nvml"; ldconfig -p | grep -i nvidia-ml
echo "== python"; which python3; python3 -c "import torch; print(torch.__version__, torch.cuda.is_available())" 2>&1 | tail -1
echo "== run native"
if LD_LIBRARY_PATH=$D $D/tyto version; then echo NATIVE_OK; else echo NATIVE_FAIL; fi
