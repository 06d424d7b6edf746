"The `udalearn` command line: a MiniCity round trip, and one clear error (exit 2, no traceback) for each bad input."
import json, shutil
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from conftest import run_cli

def check_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert 'Traceback' not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    for n in needles: assert str(n) in r.stderr, (n, r.stderr)

@pytest.fixture(scope='module')
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp('cli')/'mc'
    r = run_cli('minicity', root, '--n-gta', 4, '--n-synthia', 3, '--n-cityscapes-train', 3, '--n-cityscapes-val', 3, '--workers', 2, '--quiet')
    assert r.returncode == 0, r.stderr
    return root

def test_minicity_prepare_info(built, tmp_path):
    root = tmp_path/'mc'; shutil.copytree(built, root)
    for d in ('gta', 'synthia', 'cityscapes'):
        r = run_cli('prepare', root/d, '--dataset', d, '--quiet')
        assert r.returncode == 0 and 'class statistics' in r.stdout, r.stderr
        assert (root/d/'samples_with_class.json').exists()
    assert 'nothing to convert' in run_cli('prepare', root/'gta', '--dataset', 'gta', '--quiet').stdout
    r = run_cli('info', root)
    assert r.returncode == 0 and 'MiniGTA' in r.stdout and '% road' in r.stdout

def test_missing_root(tmp_path):
    check_error(run_cli('prepare', tmp_path/'nope', '--dataset', 'gta'), tmp_path/'nope', 'does not exist', 'udalearn minicity')

def test_wrong_layout(built):
    # a MiniCity root is not a GTA5 root: the message names the layout and points at ROOT/gta
    check_error(run_cli('prepare', built, '--dataset', 'gta'), built, 'GTA5 layout', 'did you mean')
    check_error(run_cli('prepare', built/'gta', '--dataset', 'cityscapes'), 'Cityscapes layout')

def test_image_without_label(built, tmp_path):
    root = tmp_path/'gta'; shutil.copytree(built/'gta', root)
    (root/'labels'/'00002.png').unlink()
    check_error(run_cli('prepare', root, '--dataset', 'gta'), root/'labels'/'00002.png', 'label not found')
    assert not (root/'sample_class_stats.json').exists() and not list(root.rglob('*_labelTrainIds.png'))

def test_truncated_image(built, tmp_path):
    root = tmp_path/'syn'; shutil.copytree(built/'synthia', root)
    p = root/'RGB'/'0000001.png'; p.write_bytes(p.read_bytes()[:300])
    check_error(run_cli('prepare', root, '--dataset', 'synthia', '--workers', 1), p, 'truncated')
    assert not (root/'sample_class_stats.json').exists() and not list(root.rglob('.tmp-*'))

def test_grayscale_image(built, tmp_path):
    root = tmp_path/'cs'; shutil.copytree(built/'cityscapes', root)
    p = sorted((root/'leftImg8bit'/'train').rglob('*.png'))[0]
    Image.open(p).convert('L').save(p)
    check_error(run_cli('prepare', root, '--dataset', 'cityscapes', '--workers', 1), p, 'expected an RGB image')

def test_empty_split(built, tmp_path):
    root = tmp_path/'cs'; shutil.copytree(built/'cityscapes', root)
    for p in (root/'leftImg8bit'/'train').rglob('*.png'): p.unlink()
    check_error(run_cli('prepare', root, '--dataset', 'cityscapes'), root/'leftImg8bit'/'train', 'no images')

def test_bad_minicity_settings(built):
    check_error(run_cli('minicity', built, '--seed', 3, '--quiet'), built, 'other settings')
