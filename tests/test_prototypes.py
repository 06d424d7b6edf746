"ProDA and SePiCo train through `udalearn train` on a tiny MiniCity as sums with a self-training base, write their pictures, evaluate from `model.pth` alone, and come back from a checkpoint with their prototypes and statistics."
import json
import pytest, torch
from conftest import run_cli
from test_train_cli import TINY
from run_cleanup import no_weights_left   # the runs' 40 MB checkpoints are deleted after each test

def train(root, out, method, *extra):
    r = run_cli('train', '--root', root, '--out', out, '--method', method, *TINY, *extra)
    assert r.returncode == 0, r.stderr
    return json.loads((out/'results.json').read_text())

def test_daformer_sepico_trains_evaluates_and_restores(minicity_root, tmp_path):
    from udalearn.experiment import load_run
    out = tmp_path/'daformer+sepico'
    res = train(minicity_root, out, 'daformer+sepico')
    assert res['method'] == 'daformer+sepico' and res['iters'] == 6
    for f in ('sepico_embedding.png', 'sepico_similarity.png', 'dacs_mix.png'): assert (out/f).exists(), f
    e = run_cli('eval', out, '--workers', '0')                          # the head is not in the model: model.pth evaluates alone
    assert e.returncode == 0 and f"mIoU19 {res['miou19']:.2f}" in e.stdout, e.stderr
    ck = out/'checkpoints'/'it_0000003.pth'
    saved = torch.load(ck, weights_only=False)['cbs']['sepico']
    sp = load_run(ck, device='cpu').sepico                             # rebuilt from the checkpoint, before any training
    assert saved['stats']['count'].sum() > 0 and sp.feature_map == saved['feature_map'] == 'concat'
    for k in ('mean', 'var', 'count'): assert torch.equal(getattr(sp.stats, k), saved['stats'][k]), k
    assert all(torch.equal(v, saved['proj'][k]) for k, v in sp.proj.state_dict().items())
    assert all(torch.equal(v, saved['ema_proj'][k]) for k, v in sp.ema_proj.state_dict().items())
    assert sp.head_opt.state_dict()['state'] and len(sp.head_opt.state_dict()['state']) == len(saved['head_opt']['state'])
    final = torch.load(out/'checkpoints'/'it_0000006.pth', weights_only=False)['cbs']['sepico']['stats']['count']
    assert (final >= saved['stats']['count']).all() and final.sum() > saved['stats']['count'].sum()   # the counts only grow

def test_dacs_proda_trains_and_restores_prototypes(minicity_root, tmp_path):
    from udalearn.experiment import load_run
    out = tmp_path/'dacs_proda'
    res = train(minicity_root, out, 'dacs+proda[temperature=2.0]')
    assert res['proda']['iteration'] == 6 and res['proda']['images'] == 4
    assert res['proda']['acc_after'] - res['proda']['acc_before'] == pytest.approx(res['proda']['fixed'] - res['proda']['broke'], abs=1e-6)
    for f in ('proda_rectification.png', 'proda_distances.png', 'dacs_pseudo_quality.png'): assert (out/f).exists(), f
    cfg = json.loads((out/'config.json').read_text())
    assert cfg['method'] == 'dacs+proda' and cfg['method_kwargs'] == {'proda.temperature': 2.0}
    ck = out/'checkpoints'/'it_0000003.pth'
    saved = torch.load(ck, weights_only=False)['cbs']['proda']
    learn = load_run(ck, device='cpu')
    assert learn.proda.temperature == 2.0 and learn.proda.momentum == pytest.approx(1e-2)   # the method's scaled momentum, the run's argument
    assert torch.equal(learn.proda.protos, saved['protos']) and torch.equal(learn.proda.counts, saved['counts'])
    assert saved['counts'].sum() > 0 and saved['protos'].abs().sum() > 0

@pytest.mark.parametrize('method', ['sepico', 'proda'])
def test_method_without_a_base_is_refused(minicity_root, tmp_path, method):
    "ProDA and SePiCo ride on DACS's teacher: alone they are refused with the sums to use, before `config.json` is written."
    out = tmp_path/method
    r = run_cli('train', '--root', minicity_root, '--out', out, '--method', method, *TINY)
    assert r.returncode == 2 and 'self-training base' in r.stderr and f'dacs+{method}' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert not (out/'config.json').exists()
