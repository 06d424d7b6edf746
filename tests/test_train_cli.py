"`udalearn train`, `eval` and `bench` end to end on a tiny MiniCity with a tiny model."
import json, sys
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from conftest import run_cli
from run_cleanup import no_weights_left, drop_weights   # the runs' 40 MB checkpoints are deleted after each test

TINY = ['--model', 'daformer:mit_b0:segformer:32', '--pretrained', 'none', '--iters', '6', '--bs', '2', '--crop', '64', '64', '--source-scale', '160', '90',
        '--target-scale', '128', '64', '--eval-every', '3', '--ckpt-every', '3', '--workers', '0', '--threads', '1', '--quiet']

@pytest.fixture(scope='module')
def run(minicity_root, tmp_path_factory):
    out = tmp_path_factory.mktemp('run')/'src'
    r = run_cli('train', '--root', minicity_root, '--out', out, *TINY)
    assert r.returncode == 0, r.stderr
    yield out, r
    drop_weights(out)

def test_train_writes_results(run):
    out, r = run
    res = json.loads((out/'results.json').read_text())
    assert res['iters'] == 6 and res['method'] == 'source_only'
    assert 0 <= res['miou19'] <= 100 and set(res['iou']) >= {'road', 'bicycle'}
    assert 'mIoU19' in r.stdout and 'road' in r.stdout
    cm = np.array(res['confusion'])                              # rows: true class, columns: prediction
    assert cm.shape == (19, 19)
    road = cm[0, 0]/(cm[0].sum() + cm[:, 0].sum() - cm[0, 0])    # the IoU it implies is the reported one
    assert abs(100*road - res['iou']['road']) < 1e-6             # argmax predictions: no missed pixels
    for f in ('model.pth', 'config.json', 'results.png', 'confusion.png', 'loss_terms.png'): assert (out/f).exists(), f
    assert sorted(p.name for p in (out/'checkpoints').glob('*.pth')) == ['it_0000003.pth', 'it_0000006.pth']

def test_eval_matches_training_and_writes_cityscapes_pngs(run, minicity_root, tmp_path):
    out, _ = run
    res = json.loads((out/'results.json').read_text())
    r = run_cli('eval', out, '--pred-dir', tmp_path/'pred', '--workers', '0')
    assert r.returncode == 0, r.stderr
    assert f"mIoU19 {res['miou19']:.2f}" in r.stdout
    preds = sorted((tmp_path/'pred').glob('*_leftImg8bit.png'))
    assert len(preds) == 4
    ids = np.asarray(Image.open(preds[0]))
    assert ids.shape == (256, 512) and set(np.unique(ids)) <= {7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33}

def test_eval_bad_run_folder(tmp_path):
    r = run_cli('eval', tmp_path)
    assert r.returncode == 2 and 'config.json' in r.stderr and 'Traceback' not in r.stderr

def test_oracle_uses_target_labels(minicity_root, tmp_path):
    r = run_cli('train', '--root', minicity_root, '--out', tmp_path/'o', '--method', 'oracle', *TINY)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path/'o'/'results.json').read_text())['method'] == 'oracle'

def test_bench_report(minicity_root, tmp_path):
    r = run_cli('bench', '--root', minicity_root, '--out', tmp_path/'b', '--methods', 'source_only', '--seeds', '0,1', *TINY)
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path/'b'/'bench.json').read_text())
    assert [x['seed'] for x in rep['runs']] == [0, 1] and rep['loader_images_per_s'] > 0
    md = (tmp_path/'b'/'bench.md').read_text()
    assert '| source_only | 2 |' in md and 'images/s' in md and 'Per-class IoU' in md

def test_resume_and_bench_refuse_other_settings(run, minicity_root, tmp_path):
    "A run resumed, or reused by `bench`, under other settings than it was trained with is refused, the differing setting named, its files untouched."
    import shutil
    out, _ = run
    before = (out/'config.json').read_text()
    r = run_cli('train', '--root', minicity_root, '--out', out, '--resume', *TINY, '--iters', '9')
    assert r.returncode == 2 and 'iters: 6, now 9' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert (out/'config.json').read_text() == before and json.loads((out/'results.json').read_text())['iters'] == 6
    shutil.copytree(out, tmp_path/'b'/'source_only_s0')
    r = run_cli('bench', '--root', minicity_root, '--out', tmp_path/'b', '--methods', 'source_only', *TINY, '--crop', '32', '32')
    assert r.returncode == 2 and 'crop: [64, 64], now [32, 32]' in r.stderr and not (tmp_path/'b'/'bench.json').exists(), r.stderr

def test_bench_method_specs(minicity_root, tmp_path):
    "`bench --methods` takes method specs: a variant trains in its own folder with its arguments and has its own row; a misspelt argument is refused before any run trains."
    b = tmp_path/'b'
    r = run_cli('bench', '--root', minicity_root, '--out', b, '--methods', 'source_only,dacs[jitter=0,blur=false]', *TINY)
    assert r.returncode == 0, r.stderr
    cfg = json.loads((b/'dacs[jitter=0,blur=false]_s0'/'config.json').read_text())
    assert cfg['method'] == 'dacs' and cfg['method_kwargs'] == {'jitter': 0, 'blur': False}
    rep = json.loads((b/'bench.json').read_text())
    assert [x['method'] for x in rep['runs']] == ['source_only', 'dacs[jitter=0,blur=false]'] and rep['dacs[jitter=0,blur=false]_step_ratio'] > 0
    assert '| dacs[jitter=0,blur=false] | 1 |' in (b/'bench.md').read_text()
    r = run_cli('bench', '--root', minicity_root, '--out', tmp_path/'c', '--methods', 'source_only,dacs[jiter=0]', *TINY)
    assert r.returncode == 2 and "'jiter'" in r.stderr and 'Traceback' not in r.stderr and not (tmp_path/'c').exists(), r.stderr
    r = run_cli('train', '--root', tmp_path/'none', '--out', tmp_path/'d', '--method', 'dacs[jiter=0]', *TINY)
    assert r.returncode == 2 and "'jiter'" in r.stderr and not (tmp_path/'none').exists(), r.stderr   # refused before MiniCity is built

def test_cityscapes_to_acdc(minicity_root, tmp_path):
    "The real-data path with an adverse-weather target: MiniCity's Cityscapes copy as the source, a fake ACDC (flattened as DAFormer's README does) as the target; trained, evaluated on ACDC val, the run's settings written."
    rng, acdc = np.random.default_rng(0), tmp_path/'acdc'
    for split, n in (('train', 4), ('val', 3), ('test', 2)):
        for i in range(n):
            stem = f'GOPR0{400 + i}_frame_000001'
            (acdc/'rgb_anon'/split).mkdir(parents=True, exist_ok=True); (acdc/'gt'/split).mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (108, 192, 3), dtype=np.uint8)).save(acdc/'rgb_anon'/split/f'{stem}_rgb_anon.png')
            if split != 'test':
                Image.fromarray(rng.choice(np.array([0, 1, 2, 8, 10, 13, 255], np.uint8), (108, 192))).save(acdc/'gt'/split/f'{stem}_gt_labelTrainIds.png')
    out = tmp_path/'cs2acdc'
    r = run_cli('train', '--source', 'cityscapes', '--source-root', Path(minicity_root)/'cityscapes', '--target', 'acdc', '--target-root', acdc,
                '--pretrained', 'none', '--method', 'dacs', '--out', out, *TINY)
    assert r.returncode == 0, r.stderr
    cfg, res = json.loads((out/'config.json').read_text()), json.loads((out/'results.json').read_text())
    assert (cfg['source'], cfg['target'], cfg['target_root']) == ('cityscapes', 'acdc', str(acdc)) and res['target'] == 'acdc'
    assert res['pseudo_labels']['images'] == 3                                  # the teacher is scored on ACDC val
    e = run_cli('eval', out, '--workers', '0')
    assert e.returncode == 0 and f"mIoU19 {res['miou19']:.2f}" in e.stdout, e.stderr
    p = run_cli('predict', out, '--out', tmp_path/'preds', '--quiet')                 # the unlabelled test split, trainIds
    assert p.returncode == 0 and '2 acdc test predictions (trainids)' in p.stdout, p.stderr
    preds = sorted((tmp_path/'preds').iterdir())
    assert [f.name for f in preds] == ['GOPR0400_frame_000001_rgb_anon.png', 'GOPR0401_frame_000001_rgb_anon.png']
    for f in preds:
        a = np.asarray(Image.open(f)); assert a.shape == (108, 192) and a.max() < 19
    r = run_cli('train', '--root', minicity_root, '--target', 'acdc', '--out', tmp_path/'x', *TINY)
    assert r.returncode == 2 and 'MiniCity has no acdc copy' in r.stderr and 'Traceback' not in r.stderr, r.stderr

def test_predict_matches_eval(run, tmp_path):
    "`predict` on the val split writes what `eval --pred-dir` writes (Cityscapes label ids at full resolution, named like the images)."
    out, _ = run
    e = run_cli('eval', out, '--workers', '0', '--pred-dir', tmp_path/'e')
    p = run_cli('predict', out, '--split', 'val', '--out', tmp_path/'p')
    assert e.returncode == 0 and p.returncode == 0 and '(labelids)' in p.stdout, (e.stderr, p.stderr)
    files = sorted(f.name for f in (tmp_path/'e').iterdir())
    assert files == sorted(f.name for f in (tmp_path/'p').iterdir()) and len(files) > 0
    for f in files:
        a, b = np.asarray(Image.open(tmp_path/'e'/f)), np.asarray(Image.open(tmp_path/'p'/f))
        assert a.shape == b.shape and (a == b).mean() > 0.999
        assert set(np.unique(b)) <= {7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33}   # the 19 classes' label ids
