"MiniCity: determinism, layouts, label content and the build's idempotence."
import hashlib, json
from pathlib import Path
import numpy as np, pytest
from udalearn.core import DataError
from udalearn.data.minicity import build_minicity, sample, cityscapes_domain, gta_domain, synthia_domain, ID
from udalearn.data.datasets import GTA5, Synthia, Cityscapes
from udalearn.data.labels import CLASSES

SMALL = dict(n_gta=5, n_synthia=3, n_cityscapes_train=3, n_cityscapes_val=3, progress=False)

def digests(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(root).rglob('*.png'))}

def test_same_seed_identical_other_seed_different(tmp_path):
    a = build_minicity(tmp_path/'a', seed=7, n_workers=2, **SMALL)
    b = build_minicity(tmp_path/'b', seed=7, n_workers=1, **SMALL)        # worker count must not matter
    c = build_minicity(tmp_path/'c', seed=8, n_workers=1, **SMALL)
    da, db, dc = digests(a), digests(b), digests(c)
    assert len(da) == 2*(5 + 3 + 3 + 3) and da == db
    assert da.keys() == dc.keys() and all(da[k] != dc[k] for k in da)

def test_second_build_is_a_no_op_and_other_settings_refused(tmp_path):
    root = build_minicity(tmp_path/'m', seed=0, n_workers=1, **SMALL)
    before = {p: p.stat().st_mtime_ns for p in root.rglob('*.png')}
    build_minicity(root, seed=0, n_workers=1, **SMALL)
    assert before == {p: p.stat().st_mtime_ns for p in root.rglob('*.png')}
    with pytest.raises(DataError, match='other settings'): build_minicity(root, seed=1, n_workers=1, **SMALL)
    build_minicity(root, seed=1, n_workers=1, force=True, **SMALL)
    assert json.loads((root/'minicity.json').read_text())['seed'] == 1

def test_interrupted_build_resumes(tmp_path):
    root = build_minicity(tmp_path/'m', seed=0, n_workers=1, **SMALL)
    ref = digests(root)
    (root/'minicity.json').rename(root/'.minicity-building.json')          # as if killed before the end...
    for p in list(root.rglob('*.png'))[::3]: p.unlink()                      # ...with a third of the files missing
    build_minicity(root, seed=0, n_workers=1, **SMALL)
    assert digests(root) == ref and (root/'minicity.json').exists()

def test_layouts_and_label_content(minicity_root):
    gta, syn = GTA5(minicity_root/'gta'), Synthia(minicity_root/'synthia')
    cs_tr, cs_val = Cityscapes(minicity_root/'cityscapes', 'train'), Cityscapes(minicity_root/'cityscapes', 'val')
    assert (len(gta), len(syn), len(cs_tr), len(cs_val)) == (6, 4, 4, 4)
    assert gta.items[0][0].name == '00001.png' and syn.items[0][0].name == '0000000.png'
    assert {p.parent.name for p, _ in cs_val.items} <= {'frankfurt', 'lindau', 'munster'}
    im, lb = cs_val[0]
    assert im.shape == (256, 512, 3) and lb.shape == (256, 512)
    raw = np.asarray(__import__('PIL.Image', fromlist=['Image']).open(cs_val.items[0][1]))
    assert {ID['ego vehicle'], ID['rectification border']} <= set(np.unique(raw))   # ignore ids as in the real data
    assert (lb[raw == ID['ego vehicle']] == 255).all()

def test_synthia_has_only_its_16_classes():
    for i in range(6):
        lab = sample(synthia_domain(), 0, i)[1]
        assert not ({ID['terrain'], ID['truck'], ID['train']} & set(np.unique(lab)))

def test_all_19_classes_occur_in_gta_and_cityscapes():
    for dom in (gta_domain(), cityscapes_domain()):
        seen = set()
        for i in range(60):
            seen |= set(np.unique(sample(dom, 0, i)[1]).tolist())
            if len(seen & {l for l in range(34)}) >= 19 and all(ID[c] in seen for c in CLASSES): break
        assert all(ID[c] in seen for c in CLASSES), [c for c in CLASSES if ID[c] not in seen]

def test_target_images_photographic_sources_flat():
    "The appearance gap: source images are flat (few distinct colours), target images are textured and noisy."
    n_col = lambda im: len(np.unique(im.reshape(-1, 3), axis=0))
    src, tgt = sample(gta_domain(), 0, 0)[0], sample(cityscapes_domain(), 0, 0)[0]
    assert n_col(src) < 2000 < n_col(tgt)
