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
    assert len(da) == 2*(5 + 3 + 3 + 3) + 3 + 3 and da == db           # + the Cityscapes instance ids
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

# --- Cityscapes instance ids, as cityscapesscripts reads them (issue 30) -------------------------------------------

def instance_files(root):
    return sorted((Path(root)/'cityscapes'/'gtFine').rglob('*_gtFine_instanceIds.png'))

def test_cityscapes_instance_ids(minicity_root):
    "Every MiniCityscapes label has its `*_gtFine_instanceIds.png`: 16 bit, label id × 1000 + index for things, the label id for stuff."
    from PIL import Image
    from cityscapesscripts.helpers.labels import id2label
    labels = sorted((minicity_root/'cityscapes'/'gtFine').rglob('*_gtFine_labelIds.png'))
    assert len(labels) == 8 and [str(p).replace('labelIds', 'instanceIds') for p in labels] == list(map(str, instance_files(minicity_root)))
    n_things = 0
    for lp in labels:
        im = Image.open(str(lp).replace('labelIds', 'instanceIds'))
        assert im.mode in ('I', 'I;16')
        inst, lab = np.asarray(im).astype(np.int64), np.asarray(Image.open(lp)).astype(np.int64)
        np.testing.assert_array_equal(np.where(inst >= 1000, inst // 1000, inst), lab)     # the class is always recoverable
        things = np.unique(inst[inst >= 1000])
        assert all(id2label[int(t) // 1000].hasInstances for t in things)
        assert not any(id2label[int(l)].hasInstances for l in np.unique(inst[inst < 1000]))   # thing pixels all belong to an instance
        for c in np.unique(things // 1000):                      # per class, instances are numbered 0, 1, 2, ... as Cityscapes does
            assert sorted(things[things // 1000 == c] % 1000) == list(range((things // 1000 == c).sum()))
        n_things += len(things)
    assert n_things > 8                                          # the scenes do hold several objects

def test_cityscapesscripts_evaluation_runs(minicity_root, tmp_path, monkeypatch):
    """cityscapesscripts' own evaluation (`csEvalPixelLevelSemanticLabeling`, instance-level scores included, which read
    the instance ids) runs on MiniCityscapes val: predictions equal to the ground truth score 1, IoU and iIoU, on every class present."""
    import copy, shutil
    from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as cs_eval
    if not hasattr(np, 'in1d'): monkeypatch.setattr(np, 'in1d', np.isin, raising=False)   # cityscapesscripts 2.3 calls np.in1d, gone in NumPy 2.4
    pred = tmp_path/'pred'; pred.mkdir()
    gts = sorted((minicity_root/'cityscapes'/'gtFine'/'val').rglob('*_gtFine_labelIds.png'))
    for g in gts: shutil.copy(g, pred/g.name.replace('_gtFine_labelIds.png', '_leftImg8bit.png'))   # named as `udalearn eval --pred-dir` writes them
    args = copy.copy(cs_eval.args)                              # the module's settings, as its command line uses them
    args.predictionPath, args.predictionWalk, args.quiet, args.JSONOutput = str(pred), None, True, False
    assert args.evalInstLevelScore
    res = cs_eval.evaluateImgLists([cs_eval.getPrediction(args, str(g)) for g in gts], [str(g) for g in gts], args)
    present = [c for c, v in res['classScores'].items() if v == v]
    assert len(present) >= 10 and all(res['classScores'][c] == 1 for c in present)
    assert res['averageScoreClasses'] == 1 and res['averageScoreInstClasses'] == 1
    assert sum(v == v for v in res['classInstScores'].values()) >= 4                      # instances of several classes were scored

def test_version_1_build_gets_its_instance_ids(tmp_path):
    "A MiniCity built before instance ids existed (version 1) is topped up by building it again: only the missing files are written, equal to a fresh build's."
    small = dict(SMALL, n_workers=1)
    ref, old = build_minicity(tmp_path/'ref', seed=0, **small), build_minicity(tmp_path/'old', seed=0, **small)
    for p in instance_files(old): p.unlink()
    m = json.loads((old/'minicity.json').read_text()); (old/'minicity.json').write_text(json.dumps({**m, 'version': 1}))
    before = {p: p.stat().st_mtime_ns for p in old.rglob('*.png')}
    build_minicity(old, seed=0, **small)
    assert digests(old) == digests(ref) and len(instance_files(old)) == 6
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())      # nothing else rewritten
    assert json.loads((old/'minicity.json').read_text()) == json.loads((ref/'minicity.json').read_text())
    with pytest.raises(DataError, match='other settings'):                 # a version-1 build with other settings is still another build
        (old/'minicity.json').write_text(json.dumps({**m, 'version': 1, 'seed': 5})); build_minicity(old, seed=0, **small)
