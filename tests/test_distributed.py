"""Two processes under torchrun (gloo, on the CPU) train as one process does on the same global batch
(`udalearn.distributed`): a few iterations of DAFormer (EMA teacher, rare-class sampling, feature distance, ClassMix
and the strong augmentation) and of AdvEnt (discriminators with their own optimiser) end with the same model, teacher
and discriminators to float tolerance, after the same losses at every iteration; a checkpoint written by two
processes resumes in one; without --sync-bn the BatchNorm of the model's head normalises each process's half of the
batch and the runs part; the other commands refuse torchrun.

The runs are set up so that "the same" is a sharp test, not a loose one:
- `:nodrop` — dropout and stochastic depth draw per process and cannot repeat one process's draws;
- `--sync-bn` — the SegFormer head of MiT has a BatchNorm;
- `--recipe deeplab` (SGD) — Adam divides each gradient by its running size, so a parameter whose gradient is zero in
  exact arithmetic (a bias just before a BatchNorm, which removes it) moves by ±lr on rounding noise, differently in
  any two runs that add in another order; SGD's steps are proportional to the gradients;
- `--lr 5e-3`, no warm-up — the feature distance starts at exactly 0 (the reference is the initial model) and its
  gradient is the direction of a difference that must outgrow rounding noise; at this rate it does within a step;
- `daformer[threshold=0.06]` — the tiny model's confidences lie near 0.055, so the pseudo-label weight q moves from
  0.01 to 0.99 over the run instead of staying 0."""
import json, shutil, subprocess, sys
from pathlib import Path
import pytest, torch
from run_cleanup import no_weights_left, drop_weights   # the runs' checkpoints are deleted after the tests

ARGS = ['--model', 'daformer:mit_b0:segformer:16:nodrop', '--pretrained', 'none', '--iters', '6', '--bs', '2',
        '--crop', '128', '128', '--source-scale', '320', '180', '--target-scale', '128', '64', '--eval-every', '3',
        '--ckpt-every', '3', '--recipe', 'deeplab', '--lr', '5e-3', '--warmup', '0', '--workers', '0', '--threads', '1',
        '--seed', '3', '--quiet']
DAFORMER = 'daformer[threshold=0.06]'

def train(root, out, method, procs=1, *extra):
    "`udalearn train` in `procs` processes (torchrun, gloo) or in one plain process; returns the CompletedProcess."
    cmd = ['-m', 'udalearn', 'train', '--root', str(root), '--out', str(out), '--method', method, *ARGS, *extra]
    if procs > 1: cmd = ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', str(procs), *cmd]
    r = subprocess.run([sys.executable, *cmd], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r

def load(p): return torch.load(p, map_location='cpu', weights_only=False)

def assert_same(a: dict, b: dict, what: str):
    "Two state dicts hold the same tensors to float tolerance."
    assert a.keys() == b.keys(), what
    for k in a: assert torch.allclose(a[k].float(), b[k].float(), rtol=1e-4, atol=1e-5), (what, k, (a[k].float() - b[k].float()).abs().max())

def max_diff(a: dict, b: dict) -> float: return max((a[k].float() - b[k].float()).abs().max().item() for k in a)

def assert_same_log(a: list, b: list):
    "The loss terms of every iteration agree."
    assert [r['it'] for r in a] == [r['it'] for r in b]
    for ra, rb in zip(a, b):
        assert ra.keys() == rb.keys()
        for k in ra: assert ra[k] == pytest.approx(rb[k], rel=1e-4, abs=1e-6), (ra['it'], k)

@pytest.fixture(scope='module')
def daformer_runs(minicity_root, tmp_path_factory):
    "DAFormer in two processes (which also prepares the tiny MiniCity, rank 0 first) and in one, on the same global batch."
    d = tmp_path_factory.mktemp('daformer')
    two = train(minicity_root, d/'two', DAFORMER, 2, '--sync-bn')
    one = train(minicity_root, d/'one', DAFORMER, 1, '--sync-bn')
    yield d, one, two
    drop_weights(d)

def test_daformer_two_processes_train_as_one(daformer_runs):
    d, one, two = daformer_runs
    a, b = (load(d/r/'checkpoints'/'it_0000006.pth') for r in ('one', 'two'))
    assert_same_log(a['loss_log'], b['loss_log'])                         # src, mix, fd at every iteration
    assert any(r['fd'] > 0 for r in a['loss_log'])                       # the feature distance took part
    qa, qb = ([r['q'] for r in c['cbs']['dacs']['log']] for c in (a, b))
    assert qb == pytest.approx(qa, abs=1e-6) and 0 < min(qa) and max(qa) < 1   # q of the whole target batch, not 0 or 1 throughout
    assert_same(load(d/'one'/'model.pth'), load(d/'two'/'model.pth'), 'model')
    assert_same(a['cbs']['dacs']['teacher'], b['cbs']['dacs']['teacher'], 'EMA teacher')
    assert_same(a['cbs']['feature_distance']['reference'], b['cbs']['feature_distance']['reference'], 'FD reference')
    ra, rb = (json.loads((d/r/'results.json').read_text()) for r in ('one', 'two'))
    assert (ra['processes'], rb['processes']) == (1, 2)
    assert rb['miou19'] == pytest.approx(ra['miou19'], abs=0.05)         # the whole validation split, summed over the processes
    for ha, hb in zip(ra['history'], rb['history']): assert hb[1:-1] == pytest.approx(ha[1:-1], rel=1e-4)   # losses and mIoU at 3 and 6
    assert two.stdout.count('mIoU19') == 1                               # rank 0 alone prints
    assert json.loads((d/'two'/'config.json').read_text())['sync_bn'] is True

def test_two_process_checkpoint_resumes_in_one(daformer_runs, minicity_root, tmp_path):
    d, _, _ = daformer_runs
    out = tmp_path/'resumed'
    (out/'checkpoints').mkdir(parents=True)
    shutil.copy(d/'two'/'config.json', out)
    shutil.copy(d/'two'/'checkpoints'/'it_0000003.pth', out/'checkpoints')   # written by two processes at iteration 3
    train(minicity_root, out, DAFORMER, 1, '--sync-bn', '--resume')
    assert json.loads((out/'results.json').read_text())['processes'] == 1
    assert_same(load(d/'one'/'model.pth'), load(out/'model.pth'), 'model')   # = the run that was one process throughout
    a, b = (load(p/'checkpoints'/'it_0000006.pth') for p in (d/'one', out))
    assert_same(a['cbs']['dacs']['teacher'], b['cbs']['dacs']['teacher'], 'EMA teacher')
    assert_same_log(a['loss_log'], b['loss_log'])

def test_advent_two_processes_train_as_one(minicity_root, tmp_path):
    train(minicity_root, tmp_path/'two', 'advent', 2, '--sync-bn')
    train(minicity_root, tmp_path/'one', 'advent', 1, '--sync-bn')
    a, b = (load(tmp_path/r/'checkpoints'/'it_0000006.pth') for r in ('one', 'two'))
    assert_same_log(a['loss_log'], b['loss_log'])                         # src, adv, d_src, d_tgt
    assert_same(a['model'], b['model'], 'model')
    assert_same(a['cbs']['adv_ent']['disc']['nets'], b['cbs']['adv_ent']['disc']['nets'], 'discriminator')
    ea, eb = (c['cbs']['adv_ent']['entropies'] for c in (a, b))              # (iteration, mean entropy per target image)
    assert [it for it, _ in ea] == [it for it, _ in eb] and all(len(v) == 2 for _, v in eb)   # every image of the batch, in order
    assert [x for _, v in eb for x in v] == pytest.approx([x for _, v in ea for x in v], rel=1e-4)

def test_without_sync_bn_each_process_normalises_its_half(daformer_runs, minicity_root, tmp_path):
    d, _, _ = daformer_runs
    train(minicity_root, tmp_path/'two', DAFORMER, 2)
    a, b = load(d/'one'/'checkpoints'/'it_0000006.pth'), load(tmp_path/'two'/'checkpoints'/'it_0000006.pth')
    assert max_diff(a['model'], b['model']) > 1e-2 and max_diff(a['cbs']['dacs']['teacher'], b['cbs']['dacs']['teacher']) > 1e-3
    assert all(torch.isfinite(v).all() for v in b['model'].values())

PRIMITIVES = r"""
import copy, torch, torch.nn as nn, torch.distributed as dist
from timm.layers.norm_act import BatchNormAct2d
from udalearn.distributed import (convert_sync_bn, synced_step, average_grads, global_mean, global_ratio, rand_rows,
                                  gather_ragged, process_rank, world_size)
from udalearn.dacs import class_mix_masks
dist.init_process_group('gloo'); r, w = process_rank(), world_size()
close = lambda a, b: torch.allclose(a, b, rtol=1e-4, atol=1e-5)
rows = slice(2*r, 2*r + 2)                                   # this process's share of a batch of 4
for make in (lambda: nn.BatchNorm2d(3), lambda: BatchNormAct2d(3, act_layer=nn.ReLU)):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 3, 1), make()); net[1].weight.data.uniform_(0.5, 2); net[1].bias.data.uniform_(-1, 1)
    sync = convert_sync_bn(copy.deepcopy(net))
    x, t = torch.randn(4, 3, 5, 5)*3 + 1, torch.randn(4, 3, 5, 5)
    y = net(x); (y*t).mean().backward()                       # one process, the whole batch
    with synced_step():
        ys = sync(x[rows]); (ys*t[rows]).mean().backward(); average_grads(sync.parameters())
    assert close(ys, y[rows])
    for p, q in zip(net.parameters(), sync.parameters()): assert close(q.grad, p.grad)
    for k in ('running_mean', 'running_var'): assert close(sync[1].state_dict()[k], net[1].state_dict()[k])
torch.manual_seed(1)
v, m = torch.rand(4, 6, requires_grad=True), torch.rand(4, 6) > 0.4                 # unequal counts per process
param = torch.ones((), requires_grad=True)
(global_mean(v*param, m) + global_ratio((v*param*m).sum(), m.sum())).backward()
g_one = param.grad.clone(); param.grad = None
with synced_step():
    l = global_mean(v[rows]*param, m[rows]) + global_ratio((v[rows]*param*m[rows]).sum(), m[rows].sum())
    assert close(l, 2*v[m].mean()); l.backward(); average_grads([param])
assert close(param.grad, g_one)
with synced_step():
    assert torch.equal(rand_rows(2, 3, generator=torch.Generator().manual_seed(2)), torch.rand(4, 3, generator=torch.Generator().manual_seed(2))[rows])
    assert torch.equal(gather_ragged(torch.full((r + 1, 2), float(r))), torch.tensor([[0., 0.], [1., 1.], [1., 1.]]))
y = torch.randint(0, 5, (4, 8, 8)); y[0, :2] = 255
for mode in ('batch', 'image'):
    one = class_mix_masks(y, mode, torch.Generator().manual_seed(3))
    with synced_step(): assert torch.equal(class_mix_masks(y[rows], mode, torch.Generator().manual_seed(3)), one[rows]), mode
print('rank', r, 'ok')
dist.destroy_process_group()                                 # before exit: gloo torn down at interpreter exit can abort a process
"""

def test_primitives_in_two_processes_equal_one(tmp_path):
    "SyncBN (PyTorch's and timm's BatchNormAct2d) in two processes is BatchNorm on the whole batch, outputs, gradients and running statistics; global means over unequal counts, per-image draws, ragged gathering and ClassMix's masks are one process's."
    script = tmp_path/'primitives.py'; script.write_text(PRIMITIVES)
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', str(script)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert r.stdout.count(' ok') == 2

def test_other_commands_refuse_torchrun(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '-m', 'udalearn',
                        'bench', '--root', str(tmp_path/'mc'), '--quiet'], capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and 'under torchrun only `udalearn train` runs' in r.stderr
    assert not (tmp_path/'mc').exists()
