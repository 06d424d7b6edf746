"Our `ConfusionMatrix` against the official Cityscapes pixel-level evaluation, and the fastai `MIoU` metric."
from pathlib import Path
from types import SimpleNamespace
import numpy as np, pytest, torch
from PIL import Image
from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as cs_eval
from cityscapesscripts.helpers.labels import id2label
from udalearn.data.labels import CLASSES, N_CLASSES, IGNORE, CITYSCAPES_LUT, TRAIN2ID
from udalearn.metrics import ConfusionMatrix, MIoU

def _save(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(arr.astype(np.uint8)); assert im.mode == 'L'
    im.save(path)

def _read(path): return np.array(Image.open(path))

@pytest.fixture
def synthetic_root(tmp_path):
    "A Cityscapes-layout val split: blocky random raw-id label maps, all ids 0…33 (void ones included) but 'train' and 'bus'."
    rng = np.random.default_rng(1)
    ids = [i for i in range(34) if id2label[i].name not in ('train', 'bus')]   # train: NaN in both; bus: IoU 0 (only predicted)
    for k in range(3):
        lbl = rng.choice(ids, size=(8, 16)).repeat(8, 0).repeat(8, 1)             # 64×128, 8×8 blocks
        noise = rng.random(lbl.shape) < 0.05
        lbl[noise] = rng.choice(ids, size=noise.sum())
        lbl[:4] = rng.choice([0, 1, 3])                                           # an all-void band, as at image borders
        _save(tmp_path/'gtFine'/'val'/'frankfurt'/f'frankfurt_000000_{k:06d}_gtFine_labelIds.png', lbl)
    return tmp_path

@pytest.fixture(params=['synthetic', 'minicity'])
def gt_files(request):
    "Ground-truth `*_gtFine_labelIds.png` files of a synthetic val split, or of the MiniCity Cityscapes val split."
    if request.param == 'minicity':
        pytest.importorskip('udalearn.data.minicity')
        root = Path(request.getfixturevalue('minicity_root'))
        if (root/'cityscapes').is_dir(): root = root/'cityscapes'
    else: root = request.getfixturevalue('synthetic_root')
    files = sorted((root/'gtFine'/'val').glob('*/*_gtFine_labelIds.png'))
    assert files, f"no ground truth under {root}"
    return files

def _perturb(gt, rng):
    "A fake prediction (trainIds) from ground-truth trainIds: 30% random classes, a shifted block, a guess on void pixels."
    pred = gt.copy()
    valid = gt != IGNORE
    flip = valid & (rng.random(gt.shape) < 0.3)
    classes = [c for c in range(N_CLASSES) if CLASSES[c] != 'train']
    pred[flip] = rng.choice(classes, size=flip.sum())
    h, w = gt.shape
    pred[h//4:h//2, w//4:w//2] = np.roll(pred[h//4:h//2, w//4:w//2], 5, axis=1)
    pred[~valid] = rng.choice(classes, size=(~valid).sum())
    pred[-3:, :w//3] = CLASSES.index('bus')                    # bus predicted where there is no bus
    return pred

def _official(pred_files, gt_files):
    "Run `evaluateImgLists` quietly, without instance-level (nIoU) scores and without writing JSON."
    args = SimpleNamespace(evalInstLevelScore=False, evalPixelAccuracy=False, evalLabels=[], printRow=5, normalized=True,
                           colorized=False, bold='', nocol='', JSONOutput=False, quiet=True, exportFile=None,
                           avgClassSize=cs_eval.args.avgClassSize)
    return cs_eval.evaluateImgLists([str(p) for p in pred_files], [str(g) for g in gt_files], args)

def test_matches_official_cityscapes_evaluation(gt_files, tmp_path):
    rng = np.random.default_rng(0)
    pred_files, cm, cm_nomiss = [], ConfusionMatrix(), ConfusionMatrix()
    for i, g in enumerate(gt_files):
        gt_raw = _read(g)
        pred_raw = TRAIN2ID[_perturb(CITYSCAPES_LUT[gt_raw], rng)]
        pred_raw[10:14, 10:30] = 0 if i % 2 else 4           # void ids predicted on (mostly) valid pixels
        p = tmp_path/'pred'/g.name.replace('_gtFine_labelIds', '_pred')
        _save(p, pred_raw); pred_files.append(p)
        gt, pred = CITYSCAPES_LUT[_read(g)], CITYSCAPES_LUT[_read(p)]   # ours reads back the very same files
        cm.update(pred, gt)
        gt2 = gt.copy(); gt2[pred == IGNORE] = IGNORE                   # a wrong rule: drop void predictions
        cm_nomiss.update(pred, gt2)
    res = _official(pred_files, gt_files)
    off = np.array([res['classScores'][c] for c in CLASSES])
    ours = cm.iou
    assert np.isfinite(ours).sum() >= 10 and 0.2 < np.nanmean(ours) < 0.95     # a non-trivial case
    np.testing.assert_allclose(ours, off, rtol=0, atol=1e-6)                      # NaN where both are NaN
    assert abs(cm.miou() / 100 - res['averageScoreClasses']) < 1e-6
    # the confusion matrices agree cell by cell: ours is the official one restricted to the 19 classes' raw ids
    conf = np.array(res['confMatrix'], dtype=np.int64)
    ids = TRAIN2ID[:N_CLASSES]
    np.testing.assert_array_equal(cm.mat.numpy(), conf[np.ix_(ids, ids)])
    np.testing.assert_array_equal(cm.missed.numpy(), conf[ids].sum(1) - conf[np.ix_(ids, ids)].sum(1))
    # the check can fail: dropping void predictions instead of counting them as misses changes the IoUs
    assert cm.missed.sum() > 0
    assert not np.allclose(cm_nomiss.iou, off, atol=1e-6, equal_nan=True)

def test_synthetic_fixture_covers_edge_cases(synthetic_root, tmp_path):
    "The synthetic split exercises a NaN class (train), a 0-IoU class (bus) and void ground truth."
    rng = np.random.default_rng(0)
    gts = [CITYSCAPES_LUT[_read(g)] for g in sorted(synthetic_root.rglob('*_labelIds.png'))]
    cm = ConfusionMatrix()
    for gt in gts: cm.update(_perturb(gt, rng), gt)
    assert np.isnan(cm.iou[CLASSES.index('train')])
    assert cm.iou[CLASSES.index('bus')] == 0
    assert all((gt == IGNORE).any() for gt in gts)

def test_official_rejects_unknown_ids(tmp_path):
    "Quirk: the official script exits on a ground-truth id it does not know (≥ 34); we map such ids to ignore."
    gt = np.full((8, 8), 7, np.uint8); gt[0, 0] = 40
    _save(tmp_path/'gt'/'x_000000_000000_gtFine_labelIds.png', gt)
    _save(tmp_path/'pred'/'x_000000_000000_pred.png', gt)
    with pytest.raises(SystemExit): _official([tmp_path/'pred'/'x_000000_000000_pred.png'],
                                              [tmp_path/'gt'/'x_000000_000000_gtFine_labelIds.png'])
    cm = ConfusionMatrix().update(CITYSCAPES_LUT[gt], CITYSCAPES_LUT[gt])
    assert cm.mat.sum() == 63 and cm.miou() == 100

def test_fastai_metric_over_two_batches():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, N_CLASSES, 6, 8, generator=g)
    y = torch.randint(0, N_CLASSES, (4, 12, 16), generator=g)
    y[:, :, :3] = IGNORE
    met = MIoU()
    met.reset()
    met.accumulate(SimpleNamespace(pred=logits[:2], y=y[:2]))
    met.accumulate(SimpleNamespace(pred=(logits[2:], None), yb=(y[2:],)))     # tuple output, `yb` only
    ref = ConfusionMatrix().update(logits, y)
    assert torch.equal(met.cm.counts, ref.counts)
    assert met.value == pytest.approx(ref.miou()) and 0 < met.value < 100
    assert met.name == 'miou' and MIoU(16).name == 'miou16'
    m16 = MIoU(16); m16.reset(); m16.accumulate(SimpleNamespace(pred={'out': logits}, y=y))
    assert m16.value == pytest.approx(ref.miou(16)) and m16.value != pytest.approx(ref.miou(19))
    met.reset()
    assert met.cm.counts.sum() == 0
