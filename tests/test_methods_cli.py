"Every registered adaptation method trains through `udalearn train` on a tiny MiniCity, writes its pictures, and its saved model evaluates back to the same numbers."
import json
import pytest
from conftest import run_cli
from test_train_cli import TINY

PICTURES = dict(dacs=['dacs_mix.png', 'dacs_pseudo_labels.png', 'dacs_confidence.png'],
                daformer=['dacs_mix.png', 'dacs_pseudo_labels.png', 'dacs_confidence.png'],
                minent=['entropy_hist.png'], advent=['entropy_hist.png'], clan=['discrepancy.png'])

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
