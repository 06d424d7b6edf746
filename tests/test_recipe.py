"A run trains with the learning rate and warm-up its user set, else its method's own, else its preset's — and its `config.json` says which it trained with."
import json, torch
from conftest import run_cli
from test_train_cli import TINY
from run_cleanup import no_weights_left   # the weights written by these tests are deleted after each test

def trained_lrs(out):
    "The learning rate of each iteration, from the run's last checkpoint."
    ck = sorted((out/'checkpoints').glob('it_*.pth'))[-1]
    return [r['lr'] for r in torch.load(ck, weights_only=False)['loss_log']]

def test_explicit_warmup_and_lr_win_over_the_methods_recipe(minicity_root, tmp_path):
    out = tmp_path/'dacs_warm'
    r = run_cli('train', '--root', minicity_root, '--out', out, '--method', 'dacs', '--warmup', '4', '--lr', '1e-3', *TINY)
    assert r.returncode == 0, r.stderr
    cfg = json.loads((out/'config.json').read_text())
    assert (cfg['warmup'], cfg['lr']) == (4, 1e-3)
    lrs = trained_lrs(out)
    warm = [lr/(1e-3*(1 - it/6)) for it, lr in enumerate(lrs)]         # the share of the poly-decayed lr it was given
    assert all(abs(w - it/4) < 1e-5 for it, w in enumerate(warm[:4]))  # it warmed up linearly over 4 iterations
    assert all(abs(w - 1) < 1e-9 for w in warm[4:])                    # then followed the poly decay from 1e-3

def test_method_recipe_is_the_default_and_the_record_says_so(minicity_root, tmp_path):
    out = tmp_path/'dacs'
    r = run_cli('train', '--root', minicity_root, '--out', out, '--method', 'dacs', *TINY)
    assert r.returncode == 0, r.stderr
    cfg = json.loads((out/'config.json').read_text())
    assert cfg['warmup'] == 0                                          # DACS's own: no warm-up (the MiniCity preset has 150)
    assert abs(trained_lrs(out)[0] - cfg['lr']) < 1e-12                # and it trained without one
    r = run_cli('train', '--root', minicity_root, '--out', out, '--method', 'dacs', '--resume', *TINY)
    assert r.returncode == 0, r.stderr                                 # the resolved record matches the same options
