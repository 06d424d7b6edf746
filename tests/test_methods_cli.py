"Every registered adaptation method trains through `udalearn train` on a tiny MiniCity, writes its pictures, and its saved model evaluates back to the same numbers."
import json
import pytest
from conftest import run_cli
from test_train_cli import TINY
from run_cleanup import no_weights_left   # the runs' 40 MB checkpoints are deleted after each test

PICTURES = dict(dacs=['dacs_mix.png', 'dacs_pseudo_labels.png', 'dacs_confidence.png', 'dacs_pseudo_quality.png'],
                daformer=['dacs_mix.png', 'dacs_pseudo_labels.png', 'dacs_confidence.png', 'dacs_pseudo_quality.png'],
                minent=['entropy_hist.png'], advent=['entropy_hist.png'], clan=['discrepancy.png'],
                **{'daformer+mic': ['dacs_mix.png', 'dacs_pseudo_quality.png', 'mic_batch.png', 'mic_snapshots.png']})

@pytest.mark.parametrize('method', list(PICTURES))
def test_method_trains_and_evaluates(minicity_root, tmp_path, method):
    out = tmp_path/method
    r = run_cli('train', '--root', minicity_root, '--out', out, '--method', method, *TINY)
    assert r.returncode == 0, r.stderr
    res = json.loads((out/'results.json').read_text())
    assert res['method'] == method and res['iters'] == 6
    for f in PICTURES[method]: assert (out/f).exists(), f
    e = run_cli('eval', out, '--workers', '0')
    assert e.returncode == 0, e.stderr
    assert f"mIoU19 {res['miou19']:.2f}" in e.stdout          # the saved model (CLAN: both classifiers) is the evaluated one
    if method in ('dacs', 'daformer', 'daformer+mic'): check_pseudo_labels(out, res)
    if method == 'daformer+mic': assert res['mic']['iteration'] == 6 and 0 <= res['mic']['acc_masked'] <= 100

def check_pseudo_labels(out, res):
    "The teacher's pseudo-labels on the watched validation images are scored at the end of training: every labelled pixel once, the summary in `results.json` from the counts in `dacs_pseudo_quality.json`."
    import numpy as np
    from pathlib import Path
    from udalearn.data.datasets import Cityscapes
    from udalearn.dacs import pseudo_quality_summary
    cfg = json.loads((out/'config.json').read_text())
    pl, quality = res['pseudo_labels'], json.loads((out/'dacs_pseudo_quality.json').read_text())
    val = Cityscapes(Path(cfg['target_root']).expanduser(), 'val')
    assert pl['iteration'] == 6 and pl['images'] == min(16, len(val)) and '6' in quality
    n_labelled = sum(int((val[i][1] != 255).sum()) for i in range(pl['images']))
    assert np.array(quality['6']['all']).sum() == n_labelled
    assert np.array(quality['6']['sure']).sum() == round(n_labelled*pl['confident']/100)
    expect = pseudo_quality_summary(quality).loc[6]
    assert all(np.isclose(pl[k], expect[k], equal_nan=True) for k in ('confident', 'acc_confident', 'acc_all', 'miou'))   # NaN: no confident pixel yet

def test_load_run_restores_method_state_from_a_checkpoint(minicity_root, tmp_path):
    "`load_run` on a checkpoint brings back the discriminators with the model; on the run folder, `model.pth`."
    import torch
    from udalearn.experiment import load_run
    out = tmp_path/'advent'
    assert run_cli('train', '--root', minicity_root, '--out', out, '--method', 'advent', *TINY).returncode == 0
    ck = out/'checkpoints'/'it_0000003.pth'
    learn = load_run(ck, device='cpu')
    saved = torch.load(ck, weights_only=False)
    assert learn.weights == ck and learn.it == 3
    d = learn.adv_ent.disc.state()['nets']
    assert all(torch.equal(v, saved['cbs']['adv_ent']['disc']['nets'][k]) for k, v in d.items())
    final = load_run(out, device='cpu')
    assert final.weights == out/'model.pth'
    m = torch.load(out/'model.pth', weights_only=False)
    assert all(torch.equal(v, m[k]) for k, v in final.model.state_dict().items())
    assert not all(torch.equal(v, saved['model'][k]) for k, v in final.model.state_dict().items())

def test_init_starts_a_run_from_another_runs_weights(minicity_root, tmp_path):
    "`--init RUN` (a warm start): the model starts from RUN's `model.pth`, the run's config records it; a folder without weights is a clear error."
    import torch
    from udalearn.experiment import RunConfig, make_learner
    src = tmp_path/'source_only'
    assert run_cli('train', '--root', minicity_root, '--out', src, *TINY).returncode == 0
    out = tmp_path/'dacs_warm'
    r = run_cli('train', '--root', minicity_root, '--out', out, '--method', 'dacs', '--init', src, *TINY)
    assert r.returncode == 0, r.stderr
    cfg = RunConfig(**json.loads((out/'config.json').read_text()))
    assert cfg.init == str(src)
    start = make_learner(cfg).model.state_dict()
    w = torch.load(src/'model.pth', weights_only=True)
    assert all(torch.equal(v, w[k]) for k, v in start.items())
    ck = src/'checkpoints'/'it_0000003.pth'                      # a checkpoint is a starting point too
    mid = make_learner(RunConfig(**{**json.loads((out/'config.json').read_text()), 'init': str(ck)})).model.state_dict()
    saved = torch.load(ck, weights_only=False)['model']
    assert all(torch.equal(v, saved[k]) for k, v in mid.items())
    (src/'model.pth').unlink()                                   # a finished run no longer needs the weights it started from
    from udalearn.experiment import load_run
    assert all(torch.equal(v, torch.load(out/'model.pth', weights_only=True)[k]) for k, v in load_run(out, device='cpu').model.state_dict().items())
    e = run_cli('train', '--root', minicity_root, '--out', tmp_path/'bad', '--init', tmp_path/'nowhere', *TINY)
    assert e.returncode == 2 and 'no trained weights' in e.stderr and 'Traceback' not in e.stderr

def test_method_arg_reaches_the_method(minicity_root, tmp_path):
    "`--method-arg KEY=VALUE` becomes the run's `method_kwargs` and the method's callback uses it; a key or value the method refuses, or a method without arguments, exits 2 before any run folder is made."
    from udalearn.experiment import load_run
    out = tmp_path/'dacs_args'
    r = run_cli('train', '--root', minicity_root, '--out', out, '--method', 'dacs',
                '--method-arg', 'confidence=pixel', '--method-arg', 'threshold=0.5', *TINY)
    assert r.returncode == 0, r.stderr
    assert json.loads((out/'config.json').read_text())['method_kwargs'] == {'confidence': 'pixel', 'threshold': 0.5}
    dacs = load_run(out, device='cpu').dacs
    assert (dacs.confidence, dacs.threshold, dacs.alpha) == ('pixel', 0.5, 0.99)   # the other arguments keep the method's defaults
    for method, arg, says in [('dacs', 'bogus=1', "unexpected keyword argument 'bogus'"), ('dacs', 'confidence=half', 'confidence must be'),
                              ('source_only', 'alpha=0.9', 'takes no arguments')]:
        bad = tmp_path/f'{method}_{arg}'
        r = run_cli('train', '--root', minicity_root, '--out', bad, '--method', method, '--method-arg', arg, *TINY)
        assert r.returncode == 2 and says in r.stderr and 'Traceback' not in r.stderr, r.stderr
        assert not bad.exists()
