#!/usr/bin/env bash
# The GPU figures of the real presets: DAFormer and HRDA (MiT-B5 from random weights, the presets' crops and batch)
# on MiniCity rendered at the real datasets' sizes, ITERS iterations each in fp32 and in bf16, then short MIC(HRDA)
# runs (GTA5 → Cityscapes in fp32 and bf16, Cityscapes → ACDC) and the step memory of DAFormer vs HRDA (tools/gpu_step_memory.py).
# Writes every run's config.json/results.json/stdout into OUT (default gpu_check/) as gpu_check.tgz.
set -u
OUT=${OUT:-gpu_check}; ITERS=${ITERS:-50}; MIC_ITERS=${MIC_ITERS:-10}; W=${WORKERS:-$(nproc)}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT" runs
U="python3 -m udalearn"
pack() { tar czf "$OUT/gpu_check.tgz" runs/*/config.json runs/*/results.json runs/*/stdout.txt runs/*.json runs/*.txt 2>/dev/null; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > runs/gpu.txt
python3 -c "import torch; print(torch.__version__, torch.cuda.get_device_name(0))"
if [ ! -d mc_real/cityscapes ]; then
  $U minicity mc_real --real-sizes --n-gta 8 --n-synthia 0 --n-cityscapes-train 8 --n-cityscapes-val 2 --workers $W --quiet
  $U prepare mc_real/gta --dataset gta --workers $W --quiet
  $U prepare mc_real/cityscapes --dataset cityscapes --workers $W --quiet
fi
python3 tools/gpu_step_memory.py > runs/step_memory.json; pack
run() {  # name preset iters extra...
  local name=$1 preset=$2 iters=$3; shift 3; mkdir -p runs/$name
  $U reproduce $preset --out runs/$name --overwrite --pretrained none --iters $iters --eval-every $iters --ckpt-every 100000 \
     --workers $W --quiet "$@" 2>&1 | tee runs/$name/stdout.txt | tail -4
  pack
}
G="--source-root mc_real/gta --target-root mc_real/cityscapes"
run daformer_fp32 daformer_gta2cs $ITERS $G
run hrda_fp32     hrda_gta2cs     $ITERS $G
run daformer_bf16 daformer_gta2cs $ITERS $G --amp bf16
run hrda_bf16     hrda_gta2cs     $ITERS $G --amp bf16
[ $SECONDS -gt ${BUDGET_S:-420} ] && { echo "stopped before the MIC(HRDA) runs: ${SECONDS} s used"; exit 0; }
run mic_hrda_gta2cs mic_hrda_gta2cs $MIC_ITERS $G
run mic_hrda_gta2cs_summed mic_hrda_gta2cs $MIC_ITERS $G --no-backward-per-pass
run mic_hrda_gta2cs_bf16 mic_hrda_gta2cs $MIC_ITERS $G --amp bf16
[ $SECONDS -gt ${BUDGET_S:-420} ] && { echo "stopped before the ACDC run: ${SECONDS} s used"; exit 0; }
$U minicity mc_acdc --set 'cityscapes.size=[1920,1080]' --n-gta 0 --n-synthia 0 --n-cityscapes-train 2 --n-cityscapes-val 1 --workers $W --quiet
python3 -c "from udalearn.reproduce import cityscapes_as_target; cityscapes_as_target('mc_acdc/cityscapes', 'mc_acdc/acdc')"
run mic_hrda_cs2acdc mic_hrda_cs2acdc $MIC_ITERS --source-root mc_real/cityscapes --target-root mc_acdc/acdc
