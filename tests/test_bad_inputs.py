"""Broken dataset files met through the command line: `prepare` checks every image and names what it refuses, and a
file that breaks during training (after `prepare`) ends the run with one line naming it, exit 2, no traceback."""
import json, shutil
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from conftest import run_cli

def one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-3000:])
    assert 'Traceback' not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr[-3000:]
    for n in needles: assert str(n) in r.stderr, (n, r.stderr)
    return r.stderr

RAW = shutil.ignore_patterns('*_labelTrainIds.png', '*.json')    # the session's MiniCity may have been prepared by earlier tests

@pytest.fixture
def gta(minicity_root, tmp_path): return Path(shutil.copytree(minicity_root/'gta', tmp_path/'gta', ignore=RAW))

def test_prepare_refuses_a_label_twice_its_image(gta):
    lp = gta/'labels'/'00003.png'
    with Image.open(lp) as im: w, h = im.size; big = im.resize((2*w, 2*h), Image.NEAREST)
    big.save(lp)
    one_line_error(run_cli('prepare', gta, '--dataset', 'gta', '--workers', 1), lp, f'{2*w}×{2*h}')
    assert not (gta/'sample_class_stats.json').exists()

def test_prepare_names_mis_sized_labels(gta):
    r = run_cli('prepare', gta, '--dataset', 'gta', '--workers', 1)
    assert r.returncode == 0, r.stderr
    mis = [p for p in sorted((gta/'labels').glob('?????.png')) if Image.open(p).size != Image.open(gta/'images'/p.name).size]
    assert len(mis) == 2 and all(f'labels/{p.name}' in r.stdout for p in mis)   # MiniGTA's two mis-sized pairs, by name

def test_prepare_names_upper_case_files(gta):
    for p in (gta/'images').glob('*.png'): p.rename(p.with_suffix('.PNG'))
    one_line_error(run_cli('prepare', gta, '--dataset', 'gta'), gta/'images', '00001.PNG', '.png')

def test_prepare_cityscapes_without_val_labels_warns(minicity_root, tmp_path):
    root = Path(shutil.copytree(minicity_root/'cityscapes', tmp_path/'cs', ignore=RAW))
    shutil.rmtree(root/'gtFine'/'val')
    r = run_cli('prepare', root, '--dataset', 'cityscapes', '--workers', 1)
    assert r.returncode == 0 and 'warning' in r.stderr and str(root/'gtFine'/'val') in r.stderr, r.stderr

def test_image_broken_after_prepare_stops_training_with_one_line(minicity_root, tmp_path):
    "Files prepared while fine and truncated later are met by a loader worker: one line, exit 2."
    from udalearn.data.datasets import prepare
    root = Path(shutil.copytree(minicity_root, tmp_path/'mc'))
    for d in ('gta', 'cityscapes'): prepare(root/d, d, n_workers=1, progress=False)
    for p in (root/'gta'/'images').glob('*.png'): p.write_bytes(p.read_bytes()[:2000])   # every source image truncated
    args = ['--model', 'daformer:mit_b0:segformer:32', '--pretrained', 'none', '--iters', '2', '--bs', '2', '--crop', '64', '64', '--source-scale', '160', '90',
            '--target-scale', '128', '64', '--eval-every', '2', '--ckpt-every', '2', '--workers', '1', '--threads', '1', '--quiet']
    err = one_line_error(run_cli('train', '--root', root, '--out', tmp_path/'run', *args), 'cannot read image', root/'gta'/'images')
    assert 'DataLoader worker' not in err
