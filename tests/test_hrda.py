"""HRDA through the command line on a tiny MiniCity: `udalearn train --method hrda` and `--method hrda+mic` train a few
iterations at twice the given sizes, write their pictures and evaluate back to the same numbers; a run killed after a
checkpoint and resumed ends where an uninterrupted one does (the wrapper's attention head, the teacher and the detail
boxes' random draws come back from the checkpoint)."""
import json, signal, subprocess, sys, time
import pytest
from conftest import run_cli
from test_train_cli import TINY
from run_cleanup import no_weights_left   # the runs' checkpoints are deleted after each test

HRDA_PICTURES = ['hrda_crops.png', 'hrda_windows.png', 'hrda_scales.png', 'hrda_attention.png']

@pytest.mark.parametrize('method', ['hrda', 'hrda+mic[block=16]'])
def test_hrda_trains_and_evaluates(minicity_root, tmp_path, method):
    out = tmp_path/'run'
    r = run_cli('train', '--root', minicity_root, '--out', out, '--method', method, *TINY)
    assert r.returncode == 0, r.stderr
    cfg, res = (json.loads((out/f).read_text()) for f in ('config.json', 'results.json'))
    assert cfg['method'] == method.split('[')[0] and res['iters'] == 6
    # the record says what trained: twice the sizes given (TINY: crops 64², source 160×90, target 128×64)
    assert (cfg['resolution'], cfg['crop'], cfg['source_scale'], cfg['target_scale']) == (2, [128, 128], [320, 180], [256, 128])
    for f in HRDA_PICTURES + (['mic_batch.png'] if '+mic' in method else []): assert (out/f).exists(), f
    att = res['hrda']['attention_by_class']
    assert set(att) >= {'road', 'pole'} and all(v is None or 0 <= v <= 1 for v in att.values())
    if '+mic' in method: assert cfg['method_kwargs'] == {'mic.block': 16} and 0 <= res['mic']['acc_masked'] <= 100
    e = run_cli('eval', out, '--workers', '0')
    assert e.returncode == 0, e.stderr
    assert f"mIoU19 {res['miou19']:.2f}" in e.stdout          # the saved wrapper (attention head included) is the evaluated one

def test_hrda_refuses_a_bad_argument(minicity_root, tmp_path):
    r = run_cli('train', '--root', minicity_root, '--out', tmp_path/'bad', '--method', 'hrda[hr_weight=high]', *TINY)
    assert r.returncode == 2 and 'hr_weight' in r.stderr and 'Traceback' not in r.stderr
    assert not (tmp_path/'bad').exists()

ARGS = ['--model', 'daformer:mit_b0:segformer:32', '--pretrained', 'none', '--iters', '8', '--bs', '2', '--crop', '64', '64',
        '--source-scale', '160', '90', '--target-scale', '128', '64', '--eval-every', '8', '--ckpt-every', '4',
        '--lr', '1e-3', '--warmup', '2', '--workers', '1', '--threads', '1', '--seed', '3', '--quiet']

def train_cmd(root, out, *extra):
    return [sys.executable, '-m', 'udalearn.cli', 'train', '--root', str(root), '--out', str(out), '--method', 'hrda', *ARGS, *extra]

def test_killed_hrda_run_resumes_to_the_same_metrics(minicity_root, tmp_path):
    import torch
    ref = subprocess.run(train_cmd(minicity_root, tmp_path/'ref'), capture_output=True, text=True, timeout=900)
    assert ref.returncode == 0, ref.stderr
    out = tmp_path/'killed'
    p = subprocess.Popen(train_cmd(minicity_root, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ck, t0 = out/'checkpoints'/'it_0000004.pth', time.time()
    while not ck.exists():
        assert p.poll() is None, 'the run ended before it could be killed'
        assert time.time() - t0 < 600
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL); p.wait()
    assert not (out/'results.json').exists()
    time.sleep(0.5)
    saved = torch.load(ck, weights_only=False)
    assert any(k.startswith('att_head.') for k in saved['model'])                        # the wrapper's own head …
    assert any(k.startswith('att_head.') for k in saved['cbs']['dacs']['teacher'])       # … and the teacher's
    res = subprocess.run(train_cmd(minicity_root, out, '--resume'), capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    a, b = (json.loads((d/'results.json').read_text()) for d in (tmp_path/'ref', out))
    assert a['iters'] == b['iters'] == 8
    assert a['miou19'] == pytest.approx(b['miou19'], abs=1e-9)
    for c in a['iou']: assert (a['iou'][c] is None and b['iou'][c] is None) or a['iou'][c] == pytest.approx(b['iou'][c], abs=1e-9), c
