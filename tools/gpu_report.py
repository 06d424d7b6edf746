"""Write bench.md for the folder `tools/gpu_check.sh` fills: the real presets' step time and GPU memory beside the
references' figures, and the step memory of DAFormer against HRDA (tools/gpu_step_memory.py).
Usage: python tools/gpu_report.py bench/gpu_h200"""
import json, re, sys
from pathlib import Path

def _reference(preset: str) -> str:
    "The reference's card and figures as the preset records them (`udalearn reproduce --list`)."
    from udalearn.reproduce import get_preset
    try: p = get_preset(preset)
    except (KeyError, ValueError): return ''
    return f"{p.hardware or 'card not stated'}: {p.time or 'time and memory not stated'}"

def _preset(stdout: Path) -> str:
    "The preset a run trained, from the summary line `udalearn reproduce` prints (`NAME: METHOD on SOURCE → TARGET, …`)."
    m = re.search(r'^(\w+): \S+ on ', stdout.read_text(), re.M) if stdout.exists() else None
    return m.group(1) if m else '?'

def main(folder):
    folder = Path(folder)
    gpu = (folder/'gpu.txt').read_text().strip()
    rows = []
    for f in sorted(folder.glob('*/results.json'), key=lambda f: (f.parent.name.startswith('mic'), f.parent.name.endswith('bf16'), f.parent.name)):
        r, c = json.loads(f.read_text()), json.loads((f.parent/'config.json').read_text())
        preset = _preset(f.parent/'stdout.txt')
        ref = _reference(preset)
        backward = 'per pass' if c.get('backward_per_pass') else 'summed'     # runs before `backward_per_pass` existed summed
        rows.append(f"| {f.parent.name} | {preset} | {c['method']} | {c['amp'] or 'fp32'} | {backward} | {c['crop'][1]}×{c['crop'][0]} | "
                    f"{c['bs']} + {c['bs']} | {r['iters']} | {r['step_s']:.2f} | {r['gpu_peak_mb']/1024:.1f} | {ref} |")
    m = json.loads((folder/'step_memory.json').read_text())
    mem = []
    for amp in ('fp32', 'bf16'):
        d = m[amp]
        for k, what in (('daformer', f"DAFormer, {m['bs']} crops of {m['crop'][1]}²"), ('hrda', f"HRDA, the same crops"),
                        ('daformer_context', f"DAFormer, {m['bs']} crops of {m['crop'][1]//2}² (its own resolution)")):
            mem.append(f"| {amp} | {what} | {d[k]['peak_mb']/1024:.2f} | {d[k]['saved_mb']/1024:.2f} | {d[k]['step_ms']:.0f} |")
        mem.append(f"| {amp} | **HRDA ÷ DAFormer on the same crops** | **{d['hrda_vs_daformer']['peak_mb']:.2f}** | "
                   f"**{d['hrda_vs_daformer']['saved_mb']:.2f}** | |")
    md = f"""# GPU figures of the real presets ({gpu.split(',')[0]})

Card: {gpu} (name, memory, driver); torch {m['torch']}. Written by `python tools/gpu_report.py` from the runs of
`bash tools/gpu_check.sh` (7 minutes of the card; the bf16 MIC(HRDA) run came from a second, shorter call).

Data: MiniCity rendered at the real sizes (`udalearn minicity --real-sizes`): 8 images in GTA5's layout at 1914×1052,
8 training + 2 validation images in Cityscapes' at 2048×1024; for Cityscapes → ACDC, 2 + 1 images at ACDC's 1920×1080
in ACDC's layout. Model: the presets' DAFormer network, MiT-B5 from random weights (nothing to download there; the
weights do not change the cost). Every other setting is the preset's (`udalearn reproduce NAME`): crops, batch,
schedule, method settings, the teacher's sliding windows for HRDA, evaluation at full resolution.

## Training step and peak memory

s/step: mean wall time of a training iteration over the whole run, the first (slow: cuDNN's and the allocator's
warm-up) included; the loader had 16 worker processes. GPU peak: `torch.cuda.max_memory_allocated` over the run
(evaluation included), the figure mmcv's logger prints in the references' logs. backward: the loss terms summed and
back-propagated once, or each forward pass back-propagated as its loss is complete (`--backward-per-pass`, the
reference's order). mIoU after so few iterations from random weights says nothing and is not given.

| run | preset | method | precision | backward | crop | batch (source + target) | iterations | s/step | GPU peak (GiB) | reference |
|---|---|---|---|---|---|---|---|---|---|---|
""" + '\n'.join(rows) + f"""

## One supervised step: HRDA against DAFormer

`tools/gpu_step_memory.py`: one forward + backward of the supervised loss with MiT-B5 (DAFormer head), after two
warm-up steps. Peak: `torch.cuda.max_memory_allocated` during the step beyond what was allocated before it (weights,
gradients); saved: the bytes autograd keeps for backward (`saved_tensors_hooks`, as `udalearn.hrda.activation_memory`
counts them on a CPU); step: one timed step (a single step: a rough figure).

| precision | step | peak (GiB) | saved for backward (GiB) | step (ms) |
|---|---|---|---|---|
""" + '\n'.join(mem) + "\n"
    if (folder/'reading.md').exists(): md += "\n## Reading\n\n" + (folder/'reading.md').read_text()
    (folder/'bench.md').write_text(md)
    print(md)

if __name__ == '__main__': main(sys.argv[1] if len(sys.argv) > 1 else 'bench/gpu_h200')
