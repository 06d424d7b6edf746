"""GPU memory of one supervised training step: DAFormer (MiT-B5, DAFormer head) on 2 crops of 1024², HRDA on the same
crops, and DAFormer on 2 crops of 512² (the resolution it trains at), in fp32 and bf16 autocast.

For each: `torch.cuda.max_memory_allocated` during forward + backward, less what was allocated before the step
(weights and gradients of an earlier step), and the bytes autograd saved for backward (`saved_tensors_hooks`, as
`udalearn.hrda.activation_memory` counts them on a CPU). Prints one JSON object. Needs a CUDA device."""
import json, sys, time, torch, torch.nn.functional as F
from udalearn.models import daformer
from udalearn.hrda import HRDA, _saved_activation_bytes
from udalearn.learner import seg_ce

def step_memory(model, loss_fn, amp):
    "Peak MB allocated by one forward + backward beyond what was allocated before it, the MB autograd saved, and the step's ms."
    ctx = lambda: torch.autocast('cuda', dtype=torch.bfloat16, enabled=amp == 'bf16')
    def step():
        with ctx(): return loss_fn()
    for _ in range(2): step().backward()                  # warm-up: gradients exist, cuDNN/cuBLAS workspaces are allocated
    torch.cuda.synchronize(); base = torch.cuda.memory_allocated(); torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter(); step().backward(); torch.cuda.synchronize(); ms = 1000*(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated() - base
    saved = _saved_activation_bytes(step, model)
    model.zero_grad(set_to_none=True); torch.cuda.empty_cache()
    return dict(peak_mb=peak/2**20, saved_mb=saved/2**20, step_ms=ms)

def main(bs=2, crop=(1024, 1024)):
    torch.manual_seed(0)
    dev = torch.device('cuda')
    model = daformer('mit_b5', pretrained=None).to(dev).train()
    hrda = HRDA(model, crop=crop).to(dev).train()
    small = tuple(c//2 for c in crop)
    x, y = torch.randn(bs, 3, *crop, device=dev), torch.randint(0, 19, (bs, *crop), device=dev)
    xs, ys = F.interpolate(x, size=small, mode='bilinear', align_corners=False), y[:, :small[0], :small[1]]
    res = dict(gpu=torch.cuda.get_device_name(0), torch=torch.__version__, bs=bs, crop=list(crop), model='daformer:mit_b5')
    for amp in ('fp32', 'bf16'):
        res[amp] = dict(daformer=step_memory(hrda, lambda: seg_ce(model(x), y), amp),
                        hrda=step_memory(hrda, lambda: hrda.seg_loss(hrda(x), y, reduction='valid'), amp),
                        daformer_context=step_memory(hrda, lambda: seg_ce(model(xs), ys), amp))
        r = res[amp]
        r['hrda_vs_daformer'] = {k: r['hrda'][k]/r['daformer'][k] for k in ('peak_mb', 'saved_mb')}
        r['hrda_vs_daformer_context'] = {k: r['hrda'][k]/r['daformer_context'][k] for k in ('peak_mb', 'saved_mb')}
    print(json.dumps(res, indent=1))

if __name__ == '__main__': main()
