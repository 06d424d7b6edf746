"Tests for `udalearn.pretrain`: the formula database (reproducible, colour independent of class) and pre-training that writes an encoder the models load."
import json
import numpy as np, pytest, torch
from udalearn.pretrain import formula_classes, render_formula, formula_pattern, pretrain_encoder, TEXTURES
from udalearn.models import daformer
from conftest import run_cli
from run_cleanup import no_weights_left   # the weights written by these tests are deleted after each test

def test_formula_images_are_reproducible_and_labelled():
    cls = formula_classes(8, seed=3)
    assert formula_classes(8, seed=3) == cls and formula_classes(8, seed=4) != cls
    im, lb = render_formula(5, cls, size=64, seed=3)
    im2, lb2 = render_formula(5, cls, size=64, seed=3)
    assert (im == im2).all() and (lb == lb2).all()
    assert (render_formula(6, cls, size=64, seed=3)[0] != im).any()
    labels = np.concatenate([render_formula(i, cls, size=64, seed=3)[1].ravel() for i in range(20)])
    assert labels.max() <= len(cls) and (labels == 0).any()                 # background 0, classes 1…n
    assert len(np.unique(labels)) >= len(cls)                               # every class occurs in 20 images

def test_class_colour_is_random():
    "A class carries no colour: the mean colour of one flat-textured class varies from instance to instance as much as colours can."
    cls = formula_classes(6, seed=0)
    flat = next(i for i, c in enumerate(cls) if c.texture == 'flat')
    means = []
    for i in range(60):
        im, lb = render_formula(i, cls, size=64, seed=0, objects=(1, 2))
        m = lb == flat + 1
        if m.sum() > 30: means.append(im[m].mean(0))
    assert len(means) >= 5
    assert np.array(means).std(0).min() > 40                                # uniform colours in 0–255 have std 74

def test_patterns():
    rng = np.random.default_rng(0)
    u, v = np.meshgrid(np.arange(32.) + 0.5, np.arange(32.) + 0.5)     # pixel centres
    for t in TEXTURES:
        p = formula_pattern(t, u, v, 0.5, rng)
        assert p.shape == (32, 32) and p.min() >= 0 and p.max() <= 1
    assert (formula_pattern('flat', u, v, 0.5, rng) == 0).all()
    s = formula_pattern('stripes', u, v, 0.5, rng)                          # period 2/0.5 = 4 pixels along u
    assert (s[:, :28] == s[:, 4:]).all() and s[0, :4].sum() == 2
    with pytest.raises(ValueError): formula_pattern('plaid', u, v, 0.5, rng)

def test_pretrain_writes_an_encoder_the_models_load(tmp_path):
    res = pretrain_encoder(tmp_path, n_classes=4, iters=200, bs=4, size=64, n_images=48, n_val=16, warmup=20, progress=False)
    assert json.loads((tmp_path/'pretrain.json').read_text())['iters'] == 200
    assert res['loss'][-1] < res['loss'][0]                                 # it learns: mean loss of the last 100 steps below the first 100
    torch.manual_seed(0); rand = daformer('mit_b0', 19, 'segformer', 32, pretrained=None)
    torch.manual_seed(0); m = daformer('mit_b0', 19, 'segformer', 32, pretrained=tmp_path/'model.pth')
    rep = m.pretrained_report
    assert rep.missing == [] and rep.loaded == len([k for k in m.backbone.state_dict() if 'num_batches' not in k])
    sd = torch.load(tmp_path/'model.pth', weights_only=True)
    mine, fresh = m.backbone.state_dict(), rand.backbone.state_dict()
    for k in [k for k in sd if k.startswith('backbone.')]:                 # the encoder is the file's, not the random one
        assert torch.equal(mine[k[9:]], sd[k])
    assert any(not torch.equal(fresh[k[9:]], sd[k]) for k in sd if k.startswith('backbone.'))
    for a, b in zip(m.head.state_dict().values(), rand.head.state_dict().values()): assert torch.equal(a, b)   # the formula head is not

def test_pretrain_cli(tmp_path):
    r = run_cli('pretrain', '--out', tmp_path/'p', '--iters', 3, '--bs', 2, '--images', 8, '--classes', 3)
    assert r.returncode == 0, r.stderr
    assert (tmp_path/'p'/'model.pth').exists() and 'held-out mIoU' in r.stdout

def test_pretrain_cli_in_parts(tmp_path):
    "`--stop-after` leaves a checkpoint and no weights; `--resume` finishes the run and removes the checkpoint."
    args = ('pretrain', '--out', tmp_path/'p', '--iters', 4, '--bs', 2, '--images', 8, '--classes', 3)
    r = run_cli(*args, '--stop-after', 2)
    assert r.returncode == 0 and 'stopped after iteration 2 of 4' in r.stdout, r.stderr
    assert (tmp_path/'p'/'checkpoint.pth').exists() and not (tmp_path/'p'/'model.pth').exists()
    r = run_cli(*args[:-2], '--classes', 4, '--resume')              # other settings than the checkpoint's: refused
    assert r.returncode == 2 and 'other settings' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    r = run_cli(*args, '--resume')
    assert r.returncode == 0 and 'held-out mIoU' in r.stdout, r.stderr
    assert (tmp_path/'p'/'model.pth').exists() and not (tmp_path/'p'/'checkpoint.pth').exists()

def test_train_from_a_formula_encoder(minicity_root, tmp_path):
    "`--pretrained DIR/model.pth`: a run starts from the formula encoder; once trained, `load_run` no longer needs that file."
    from test_train_cli import TINY
    from udalearn.experiment import load_run
    assert run_cli('pretrain', '--out', tmp_path/'p', '--iters', 2, '--bs', 2, '--images', 4, '--classes', 3).returncode == 0
    w = tmp_path/'p'/'model.pth'
    r = run_cli('train', '--root', minicity_root, '--out', tmp_path/'run', '--method', 'dacs', *TINY, '--pretrained', w)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path/'run'/'config.json').read_text())['pretrained'] == str(w)
    w.unlink()
    trained = torch.load(tmp_path/'run'/'model.pth', weights_only=True)
    assert all(torch.equal(v, trained[k]) for k, v in load_run(tmp_path/'run', device='cpu').model.state_dict().items())
