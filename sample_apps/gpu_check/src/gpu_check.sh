#!/bin/bash
# gpu_check: what a GPU job sees (nvidia-smi -L, CUDA_VISIBLE_DEVICES) and a CUDA computation through torch.
# torch is not in the runner's images: run it where python3 has torch (the local backend on a GPU host).

main() {
    echo "CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-<unset>} NVIDIA_VISIBLE_DEVICES=${NVIDIA_VISIBLE_DEVICES:-<unset>}"
    gpus=$(nvidia-smi -L)
    echo "$gpus"
    computation=$(python3 -c '
import torch
assert torch.cuda.is_available(), "torch sees no CUDA device"
a = torch.arange(1, 1025, dtype=torch.float32, device="cuda").reshape(32, 32)
total = float((a @ a.T).sum())
print(f"{torch.cuda.device_count()} device(s), {torch.cuda.get_device_name(0)}: sum(a @ a.T) = {total:.0f}")
')
    echo "$computation"
    # shellcheck disable=SC2154 # $hold is the applet's input: the launcher sets it before calling main
    sleep "$hold"
    dx-jobutil-add-output gpus "$gpus" --class=string
    dx-jobutil-add-output cuda_visible_devices "${CUDA_VISIBLE_DEVICES:-}" --class=string
    dx-jobutil-add-output computation "$computation" --class=string
}
