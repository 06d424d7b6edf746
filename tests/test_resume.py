"""A training process killed (SIGKILL) after a checkpoint and resumed ends on the same metrics as an uninterrupted run:
for a supervised run, for DAFormer, whose EMA teacher, frozen FD reference, rare-class sampler and warm-up
schedule must all come back from the checkpoint, and for DAFormer + MIC, whose masks are drawn from the restored random
state and whose watched predictions are part of the checkpoint."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from run_cleanup import no_weights_left   # the runs' 40 MB checkpoints are deleted after each test

ARGS = ['--model', 'daformer:mit_b0:segformer:32', '--pretrained', 'none', '--iters', '24', '--bs', '2', '--crop', '64', '64',
        '--source-scale', '160', '90', '--target-scale', '128', '64', '--eval-every', '12', '--ckpt-every', '8',
        '--lr', '1e-3', '--warmup', '4', '--workers', '1', '--threads', '1', '--seed', '3', '--quiet']

def train_cmd(root, out, method, *extra):
    return [sys.executable, '-m', 'udalearn.cli', 'train', '--root', str(root), '--out', str(out), '--method', method, *ARGS, *extra]

@pytest.mark.parametrize('method', ['source_only', 'daformer', 'daformer+mic'])
def test_killed_run_resumes_to_the_same_metrics(minicity_root, tmp_path, method):
    ref = subprocess.run(train_cmd(minicity_root, tmp_path/'ref', method), capture_output=True, text=True, timeout=900)
    assert ref.returncode == 0, ref.stderr
    out = tmp_path/'killed'
    p = subprocess.Popen(train_cmd(minicity_root, out, method), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ck = out/'checkpoints'/'it_0000016.pth'
    t0 = time.time()
    while not ck.exists():
        assert p.poll() is None, 'the run ended before it could be killed'
        assert time.time() - t0 < 600
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL
    assert not (out/'results.json').exists()                       # it really died before the end
    res = subprocess.run(train_cmd(minicity_root, out, method, '--resume'), capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    a, b = (json.loads((d/'results.json').read_text()) for d in (tmp_path/'ref', out))
    assert a['iters'] == b['iters'] == 24
    assert a['miou19'] == pytest.approx(b['miou19'], abs=1e-9)
    assert a['iou'].keys() == b['iou'].keys()
    for c in a['iou']: assert (a['iou'][c] is None and b['iou'][c] is None) or a['iou'][c] == pytest.approx(b['iou'][c], abs=1e-9), c
    # the history holds both validations (iterations 12 and 24), the first from before the kill; the smoothed training
    # loss restarts on resume, so compare validation loss and mIoU
    assert len(a['history']) == len(b['history']) == 2
    for ha, hb in zip(a['history'], b['history']): assert ha[1:] == pytest.approx(hb[1:], abs=1e-6)
