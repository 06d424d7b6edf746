"`udalearn reproduce`: the papers' presets (every one a valid run configuration with its sources), `--list`, a preset trained for two iterations on the test MiniCity through the same `train_run` path, and MiniCity built at other sizes."
import json
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from conftest import run_cli
from run_cleanup import no_weights_left   # noqa: F401 (autouse: the runs' checkpoints are deleted after each test)

TINY = ['--model', 'daformer:mit_b0:segformer:32', '--pretrained', 'none', '--iters', '2', '--bs', '2', '--crop', '64', '64',
        '--source-scale', '160', '90', '--target-scale', '128', '64', '--eval-every', '2', '--ckpt-every', '2', '--workers', '0',
        '--threads', '1', '--quiet']

def test_every_preset_resolves_with_its_sources():
    from udalearn.reproduce import PRESETS, SETTINGS, preset_config, run_settings, get_preset
    from udalearn.experiment import RunConfig, method_spec, get_method, real_config
    for name, p in PRESETS.items():
        cfg = preset_config(name, 'SRC', 'TGT')                       # through method_config: the spec's arguments checked
        assert isinstance(cfg, RunConfig) and (cfg.source, cfg.target, cfg.model) == (p.source, p.target, p.model), name
        assert (cfg.method, cfg.method_kwargs) == method_spec(p.method), name
        assert get_method(cfg.method).callbacks(cfg, None), name     # the method builds its callbacks from the spec
        for fact in ('config', 'miou', 'hardware'): assert p.sources.get(fact), (name, fact)
        assert p.miou and set(p.miou) <= {'miou19', 'miou16', 'miou13'} and all(0 < v < 100 for v in p.miou.values()), name
        assert set(p.paper_config) <= set(SETTINGS) and (p.notes or not p.paper_config), name
        assert p.split in ('val', 'test'), name
        assert set(run_settings(cfg)) == set(SETTINGS), name
        assert get_preset(name) is p
    # the paper rows the package implements: GTA5 and SYNTHIA → Cityscapes for each, and the adverse targets for DAFormer's family
    for m in ('advent', 'clan', 'dacs', 'daformer', 'hrda', 'mic_hrda', 'proda', 'sepico'):
        assert {f'{m}_gta2cs', f'{m}_syn2cs'} <= set(PRESETS), m
    for m in ('daformer', 'hrda', 'mic_hrda'):
        assert {f'{m}_cs2acdc', f'{m}_cs2dz'} <= set(PRESETS), m
    # HRDA's presets train at twice the preset's sizes, MIC with the reference's full-resolution block
    c = preset_config('mic_hrda_gta2cs')
    assert c.crop == (1024, 1024) and c.resolution == 2 and c.source_scale == tuple(2*s for s in real_config('gta').source_scale)
    assert get_method(c.method).callbacks(c, None)[-1].block == 64

def test_list_prints_every_preset():
    from udalearn.reproduce import PRESETS, _miou_text
    r = run_cli('reproduce', '--list')
    assert r.returncode == 0, r.stderr
    for name, p in PRESETS.items():
        line = next((l for l in r.stdout.splitlines() if l.startswith(name + ' ')), None)
        assert line is not None, name
        assert _miou_text(p) in line and p.model.split(':')[0] in line, line

def test_wrong_inputs(tmp_path):
    r = run_cli('reproduce', 'daformer_gta', '--out', tmp_path)
    assert r.returncode == 2 and 'daformer_gta2cs' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    r = run_cli('reproduce', 'daformer_gta2cs', '--out', tmp_path)
    assert r.returncode == 2 and '--source-root, --target-root' in r.stderr, r.stderr
    r = run_cli('reproduce', 'daformer_gta2cs', '--source-root', tmp_path, '--target-root', tmp_path, '--out', tmp_path/'r',
                '--method-arg', 'blurr=true', *TINY)
    assert r.returncode == 2 and 'blurr' in r.stderr and 'Traceback' not in r.stderr, r.stderr

@pytest.fixture(scope='module')
def prepared(minicity_root):
    "The test MiniCity with its trainId labels and class statistics (rare-class sampling reads them)."
    for d in ('gta', 'cityscapes'):
        r = run_cli('prepare', minicity_root/d, '--dataset', d, '--workers', '1', '--quiet')
        assert r.returncode == 0, r.stderr
    return minicity_root

def _run(name, src, tgt, out, *extra):
    r = run_cli('reproduce', name, '--source-root', src, '--target-root', tgt, '--out', out, *TINY, *extra)
    assert r.returncode == 0, r.stderr
    return r, json.loads((out/'results.json').read_text()), json.loads((out/'config.json').read_text())

def test_reproduce_daformer_two_iterations(prepared, tmp_path):
    from udalearn.reproduce import get_preset
    r, res, cfg = _run('daformer_gta2cs', prepared/'gta', prepared/'cityscapes', tmp_path/'run')
    assert res['iters'] == 2 and res['step_s'] > 0 and res['peak_mem_mb'] > 0
    assert cfg['method'] == 'daformer' and cfg['ema_alpha'] == get_preset('daformer_gta2cs').config['ema_alpha']
    assert cfg['crop'] == [64, 64] and cfg['model'] == 'daformer:mit_b0:segformer:32' and cfg['iters'] == 2   # overrides over the preset
    assert cfg['lr'] == 6e-5 and cfg['warmup'] == 1500                                                      # the preset's recipe
    assert 's/step' in r.stdout and 'peak memory' in r.stdout and 'mIoU19' in r.stdout

def test_reproduce_mic_hrda_on_an_acdc_stand_in(prepared, tmp_path):
    "Cityscapes → ACDC through the ACDC reader: MiniCityscapes val and train linked into ACDC's layout; HRDA doubles the crop, MIC masks a source and a target crop."
    from udalearn.reproduce import cityscapes_as_target
    acdc = cityscapes_as_target(prepared/'cityscapes', tmp_path/'acdc', 'acdc')
    r, res, cfg = _run('mic_hrda_cs2acdc', prepared/'cityscapes', acdc, tmp_path/'run', '--method-arg', 'mic.block=16')
    assert (cfg['source'], cfg['target'], cfg['method']) == ('cityscapes', 'acdc', 'hrda+mic')
    assert cfg['crop'] == [128, 128] and cfg['resolution'] == 2 and cfg['method_kwargs'] == {'mic.block': 16, 'mic.ratio': 0.7}
    assert res['iters'] == 2

def test_minicity_at_other_sizes(tmp_path):
    "`--real-sizes` renders each domain at its real dataset's size, images and labels alike; a `--set` size goes over it."
    from udalearn.data.minicity import REAL_SIZES
    from udalearn.data.datasets import dataset
    root = tmp_path/'mc'
    r = run_cli('minicity', root, '--real-sizes', '--set', 'cityscapes.size=[1920,1080]', '--n-gta', '1', '--n-synthia', '1',
                '--n-cityscapes-train', '1', '--n-cityscapes-val', '1', '--workers', '1', '--quiet')
    assert r.returncode == 0, r.stderr
    want = {**REAL_SIZES, 'cityscapes': (1920, 1080)}
    for name, kw in (('gta', {}), ('synthia', {}), ('cityscapes', dict(split='train')), ('cityscapes', dict(split='val'))):
        ds = dataset(name, root/name, **kw)
        (img, lbl_path), (w, h) = ds.items[0], want[name]
        assert Image.open(img).size == (w, h) and Image.open(lbl_path).size == (w, h), name   # the files as written
        x, y = ds[0]
        assert x.shape == (h, w, 3) and y.shape == (h, w), name
        assert len(np.unique(y[y != 255])) >= 3, name                                          # a street, not an empty frame
    assert json.loads((root/'minicity.json').read_text())['domains']['gta']['size'] == list(REAL_SIZES['gta'])
