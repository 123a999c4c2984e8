#!/usr/bin/env bash
# Issue 20's device check: one ML-20M-shaped synthetic epoch (I-600-200-600-I, batch 500) and the ML-100K part of the
# default study (latentcheck study --datasets ml-100k), both inside BUDGET seconds (default 270: under 5 minutes of
# device time with the start), recording the device, every time and the versions to JSON.
#
#   benchmarks/gpu_study.sh                         # on the GPU machine, from the repository root
#   benchmarks/gpu_study.sh --dry-run /tmp/g.json   # tiny sizes on a CPU: shows the script works (no GPU figure)
#
# Environment: PYTHON (default: python3), GPU_STUDY_BUDGET_S (default 270), DATA_ROOT (default ../shared/data).
# The study part stops at the budget (recorded as finished: false, with the progress lines it wrote).
set -euo pipefail
cd "$(dirname "$0")/.."
DRY=()
if [[ "${1:-}" == "--dry-run" ]]; then DRY=(--dry-run); shift; fi
OUT="${1:-benchmarks/results/gpu_study.json}"
exec "${PYTHON:-python3}" benchmarks/_gpu_study.py --out "$OUT" --budget "${GPU_STUDY_BUDGET_S:-270}" \
    --data-root "${DATA_ROOT:-../shared/data}" "${DRY[@]}"
