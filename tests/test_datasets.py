"Tests for `udalearn.data.datasets`: readers, layout errors and `prepare`, on tiny fake layouts written here (and on MiniCity once it exists)."
import json, shutil
from pathlib import Path
import numpy as np, pytest, cv2
from PIL import Image
from udalearn.core import DataError
from udalearn.data.datasets import *

H, W = 24, 32
# Raw ids used by the fake labels, with the trainIds they must map to, written out here independently of the library's LUTs.
CS_MAP  = {7: 0, 8: 1, 11: 2, 21: 8, 23: 10, 24: 11, 26: 13, 33: 18, 0: 255, 4: 255, 200: 255}   # 0, 4 void; 200 unknown
SYN_MAP = {3: 0, 4: 1, 2: 2, 6: 8, 1: 10, 10: 11, 8: 13, 11: 18, 0: 255, 22: 255, 13: 255, 1000: 255}
STATS = ('sample_class_stats.json', 'sample_class_stats_dict.json', 'samples_with_class.json')

def _map(raw, m): return np.vectorize(m.__getitem__, otypes=[np.uint8])(raw)

def _png(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True); Image.fromarray(arr).save(path); return path

def _rgb(rng, h=H, w=W): return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)

def _raw(rng, ids, h=H, w=W):
    "Random per-pixel ids that contain every id at least once."
    a = rng.choice(np.array(list(ids)), (h, w)); a.flat[:len(ids)] = list(ids); return a

def make_gta(root, n=3, seed=0, narrow=()):
    "GTA5 layout; labels are palette PNGs of Cityscapes raw ids; frames in `narrow` get a label 3 px narrower than the image."
    rng = np.random.default_rng(seed)
    for i in range(n):
        _png(root/f'images/{i:05d}.png', _rgb(rng))
        w = W-3 if i in narrow else W
        lbl = Image.frombytes('P', (w, H), _raw(rng, CS_MAP, w=w).astype(np.uint8).tobytes())
        lbl.putpalette(np.random.default_rng(9).integers(0, 256, 768, dtype=np.uint8).tolist())
        (root/'labels').mkdir(exist_ok=True); lbl.save(root/f'labels/{i:05d}.png')
    return root

def make_synthia(root, n=3, seed=1):
    "SYNTHIA layout; labels are 16-bit BGR PNGs with the class id in the red (last) channel."
    rng = np.random.default_rng(seed); (root/'GT/LABELS').mkdir(parents=True, exist_ok=True)
    for i in range(n):
        _png(root/f'RGB/{i:07d}.png', _rgb(rng))
        bgr = np.stack([rng.integers(0, 9, (H, W)), rng.integers(0, 60000, (H, W)), _raw(rng, SYN_MAP)], -1).astype(np.uint16)
        assert cv2.imwrite(str(root/f'GT/LABELS/{i:07d}.png'), bgr)
    return root

def make_cityscapes(root, n=2, seed=2, splits=('train', 'val'), gt=True):
    "Cityscapes layout, two cities per split; labels are 8-bit raw ids."
    rng = np.random.default_rng(seed)
    for split in splits:
        for city in ('aachen', 'bremen') if split == 'train' else ('frankfurt', 'lindau'):
            for i in range(n):
                stem = f'{city}_{i:06d}_000019'
                _png(root/f'leftImg8bit/{split}/{city}/{stem}_leftImg8bit.png', _rgb(rng))
                if gt: _png(root/f'gtFine/{split}/{city}/{stem}_gtFine_labelIds.png', _raw(rng, CS_MAP).astype(np.uint8))
    return root

def raw_label(ds, lbl_path):
    "The raw ids of a label file, read here without the library."
    if isinstance(ds, Synthia): return cv2.imread(str(lbl_path), cv2.IMREAD_UNCHANGED)[..., -1]
    return np.asarray(Image.open(lbl_path))

def expected_stats(root, files):
    "DAFormer's three statistics objects, recomputed from the trainId files on disk."
    stats, by_file, with_class = [], {}, {}
    for f in files:
        y = np.asarray(Image.open(root/f)); assert Image.open(root/f).mode == 'L'
        d = {str(c): int((y == c).sum()) for c in range(19) if (y == c).any()}
        stats.append({**d, 'file': f}); by_file[f] = d
        for c, k in d.items(): with_class.setdefault(c, []).append([f, k])
    return stats, by_file, with_class

def no_tmp(root): return [p for p in Path(root).rglob('.tmp-*')] == []

@pytest.fixture
def gta(tmp_path): return make_gta(tmp_path/'gta')
@pytest.fixture
def synthia(tmp_path): return make_synthia(tmp_path/'synthia')
@pytest.fixture
def cityscapes(tmp_path): return make_cityscapes(tmp_path/'cityscapes')

# --- readers ------------------------------------------------------------------------------------------------------

def check_reader(ds, mapping):
    for i in range(len(ds)):
        img, lbl = ds[i]
        assert img.shape == (H, W, 3) and img.dtype == np.uint8
        assert lbl.shape == (H, W) and lbl.dtype == np.uint8
        assert set(np.unique(lbl)) <= set(range(19)) | {255}
        np.testing.assert_array_equal(lbl, _map(raw_label(ds, ds.items[i][1]), mapping))
        np.testing.assert_array_equal(ds.get_image(i), img)
        np.testing.assert_array_equal(ds.get_label(i), lbl)
    assert list(ds.items) == sorted(ds.items)

def test_gta_reader(gta):
    ds = GTA5(gta)
    assert len(ds) == 3 and ds.name == 'gta' and ds.root == gta
    assert [p.name for p, _ in ds.items] == ['00000.png', '00001.png', '00002.png']
    check_reader(ds, CS_MAP)
    assert '3 labelled images' in repr(ds) and 'GTA5' in repr(ds)

def test_unknown_and_void_ids_are_ignored(gta):
    ds = GTA5(gta); raw = raw_label(ds, ds.items[0][1]); lbl = ds.get_label(0)
    assert (lbl[np.isin(raw, [0, 4, 200])] == 255).all() and (raw == 200).any()
    assert (lbl[raw == 7] == 0).all() and (lbl[raw == 33] == 18).all()

def test_synthia_reader_16bit(synthia):
    ds = Synthia(synthia)
    assert cv2.imread(str(ds.items[0][1]), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    check_reader(ds, SYN_MAP)
    raw = raw_label(ds, ds.items[0][1])
    assert (raw == 1000).any() and (ds.get_label(0)[raw == 1000] == 255).all()

def test_cityscapes_reader(cityscapes):
    tr, va = Cityscapes(cityscapes), Cityscapes(cityscapes, 'val')
    assert (len(tr), len(va)) == (4, 4) and tr.split == 'train'
    assert tr.items[0][0].name == 'aachen_000000_000019_leftImg8bit.png'
    assert tr.items[0][1] == cityscapes/'gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png'
    check_reader(tr, CS_MAP); check_reader(va, CS_MAP)

def test_cityscapes_unlabelled_without_gtfine(tmp_path):
    root = make_cityscapes(tmp_path/'cs', splits=('train',), gt=False)
    assert not (root/'gtFine').exists()
    ds = Cityscapes(root, 'train', labels=False)
    img, lbl = ds[3]
    assert img.shape == (H, W, 3) and lbl is None and ds.get_label(0) is None
    assert 'unlabelled' in repr(ds)
    with pytest.raises(DataError, match='labels=False') as e: Cityscapes(root, 'train')
    assert str(root/'gtFine'/'train') in str(e.value)

def test_dataset_factory(gta, synthia, cityscapes):
    assert type(dataset('gta', gta)) is GTA5 and type(dataset('synthia', synthia)) is Synthia
    ds = dataset('cityscapes', cityscapes, split='val', labels=False)
    assert type(ds) is Cityscapes and ds.split == 'val' and not ds.labelled
    with pytest.raises(ValueError, match='gta, synthia, cityscapes, acdc, darkzurich'): dataset('bdd', gta)

def make_acdc(root, n=2, seed=4, flat=False):
    "ACDC as downloaded (`rgb_anon/CONDITION/SPLIT/SEQUENCE/`), or flattened as DAFormer's README does; labels as shipped trainIds, plus reference frames that are not part of any split."
    rng = np.random.default_rng(seed)
    for cond, seq in (('rain', 'GOPR0572'), ('snow', 'GOPR0122')):
        for split in ('train', 'val', 'val_ref'):
            for i in range(n):
                stem = f'{seq}_frame_{i:06d}'
                sub = f'{split}' if flat else f'{cond}/{split}/{seq}'
                if flat and split.endswith('_ref'): continue
                _png(root/f'rgb_anon/{sub}/{stem}_rgb_anon.png', _rgb(rng))
                if not split.endswith('_ref'): _png(root/f'gt/{sub}/{stem}_gt_labelTrainIds.png', _map(_raw(rng, CS_MAP), CS_MAP))
    return root

def test_acdc_reader(tmp_path):
    nested, flat = make_acdc(tmp_path/'acdc'), make_acdc(tmp_path/'acdc_flat', flat=True)
    ds = dataset('acdc', nested, split='val')
    assert type(ds) is ACDC and len(ds) == 4 and ds.labelled and ds.target_only
    assert [p.parent.parent.parent.name for p, _ in ds.items] == ['rain', 'rain', 'snow', 'snow']
    for i in range(len(ds)):                                     # shipped trainIds are read as they are
        np.testing.assert_array_equal(ds[i][1], np.asarray(Image.open(ds.items[i][1])))
    assert len(ACDC(nested, 'val', conditions=('snow',))) == 2
    f = ACDC(flat, 'val')
    assert sorted(p.name for p, _ in f.items) == sorted(p.name for p, _ in ds.items)
    assert len(ACDC(nested, 'train', labels=False)) == 4 and not ACDC(nested, 'train', labels=False).labelled
    with pytest.raises(DataError, match='acdc is a target only'): prepare(nested, 'acdc', progress=False)

def test_dark_zurich_reader(tmp_path):
    "Night frames only by default; a validation frame with only its raw labelIds file is mapped like Cityscapes."
    rng, root = np.random.default_rng(5), tmp_path/'dz'
    for split, time in (('train', 'night'), ('train', 'twilight'), ('val', 'night')):
        for i in range(3):
            stem = f'GOPR0356_frame_{i:06d}'
            _png(root/f'rgb_anon/{split}/{time}/GOPR0356/{stem}_rgb_anon.png', _rgb(rng))
            if split == 'val':
                raw = _raw(rng, CS_MAP).astype(np.uint8)
                _png(root/f'gt/val/night/GOPR0356/{stem}_gt_labelIds.png', raw)
                if i != 2: _png(root/f'gt/val/night/GOPR0356/{stem}_gt_labelTrainIds.png', _map(raw, CS_MAP))
    va = dataset('darkzurich', root, split='val')
    assert len(va) == 3 and [p.name for _, p in va.items][1:] == ['GOPR0356_frame_000001_gt_labelTrainIds.png', 'GOPR0356_frame_000002_gt_labelIds.png']
    for i in range(3): np.testing.assert_array_equal(va[i][1], _map(np.asarray(Image.open(root/f'gt/val/night/GOPR0356/GOPR0356_frame_{i:06d}_gt_labelIds.png')), CS_MAP))
    assert len(DarkZurich(root, 'train', labels=False)) == 3 and len(DarkZurich(root, 'train', labels=False, time='twilight')) == 3
    with pytest.raises(DataError, match='labels=False'): DarkZurich(root, 'train')

def test_prepared_file_is_used(gta):
    ds = GTA5(gta); on_the_fly = [ds.get_label(i) for i in range(len(ds))]
    prepare(gta, 'gta', n_workers=1, progress=False)
    for i, y in enumerate(on_the_fly):
        tp = gta/f'labels/{i:05d}_labelTrainIds.png'
        np.testing.assert_array_equal(np.asarray(Image.open(tp)), y)
        np.testing.assert_array_equal(GTA5(gta)[i][1], y)
    Image.fromarray(np.full((H, W), 5, np.uint8)).save(gta/'labels/00001_labelTrainIds.png')   # a prepared file wins over the raw one
    assert (GTA5(gta).get_label(1) == 5).all()

def test_label_size_mismatch(tmp_path, capsys):
    root = make_gta(tmp_path/'gta', narrow=(1,))
    raw = np.asarray(Image.open(root/'labels/00001.png'))
    assert raw.shape == (H, W-3)
    ds = GTA5(root); lbl = ds[1][1]
    assert lbl.shape == (H, W)
    np.testing.assert_array_equal(lbl, np.asarray(Image.fromarray(_map(raw, CS_MAP)).resize((W, H), Image.NEAREST)))
    s = prepare(root, 'gta', n_workers=1, progress=False)
    assert s.n_resized == 1 and '1 mis-sized labels fitted' in capsys.readouterr().out
    assert np.asarray(Image.open(root/'labels/00001_labelTrainIds.png')).shape == (H, W)
    stats = json.loads((root/STATS[0]).read_text())
    assert sum(v for k, v in stats[1].items() if k != 'file') == int((lbl != 255).sum())

# --- prepare ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name, make, mapping, n', [('gta', make_gta, CS_MAP, 3), ('synthia', make_synthia, SYN_MAP, 3),
                                                    ('cityscapes', make_cityscapes, CS_MAP, 8)])
def test_prepare(tmp_path, capsys, name, make, mapping, n):
    root = make(tmp_path/name)
    dss = [Cityscapes(root, 'train'), Cityscapes(root, 'val')] if name == 'cityscapes' else [dataset(name, root)]
    s = prepare(root, name, n_workers=2, progress=False)
    assert (s.n_images, s.n_converted, s.n_skipped, s.n_resized, s.n_stats) == (n, n, 0, 0, len(dss[0]))
    assert s.stats_files == [root/f for f in STATS] and 'converted' in capsys.readouterr().out
    for ds in dss:                                             # one trainId file per raw label, equal to the mapping written above
        for _, lp in ds.items:
            tp = lp.with_name(lp.name.replace('_labelIds.png', '.png').replace('.png', '_labelTrainIds.png'))
            np.testing.assert_array_equal(np.asarray(Image.open(tp)), _map(raw_label(ds, lp), mapping))
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob('*_labelTrainIds.png')
                   if name != 'cityscapes' or '/train/' in p.as_posix())    # Cityscapes: statistics for train only
    assert len(files) == len(dss[0])
    got = [json.loads((root/f).read_text()) for f in STATS]
    assert got == list(expected_stats(root, files))
    assert all(not Path(f).is_absolute() and '\\' not in f for f in got[1])
    # a second run converts nothing, says so and writes the same statistics
    before = {p: p.stat().st_mtime_ns for p in root.rglob('*_labelTrainIds.png')}
    s2 = prepare(root, name, progress=False)
    assert (s2.n_converted, s2.n_skipped) == (0, n) and 'nothing to convert' in capsys.readouterr().out
    assert before == {p: p.stat().st_mtime_ns for p in root.rglob('*_labelTrainIds.png')}
    assert [json.loads((root/f).read_text()) for f in STATS] == got
    assert len(type(dss[0])(root)) == len(dss[0])              # converted files never become items
    assert no_tmp(root)

def test_prepare_force(gta):
    prepare(gta, 'gta', n_workers=1, progress=False)
    Image.fromarray(np.full((H, W), 5, np.uint8)).save(gta/'labels/00000_labelTrainIds.png')
    s = prepare(gta, 'gta', n_workers=1, progress=False, force=True)
    assert s.n_converted == 3
    np.testing.assert_array_equal(np.asarray(Image.open(gta/'labels/00000_labelTrainIds.png')),
                                  _map(np.asarray(Image.open(gta/'labels/00000.png')), CS_MAP))

# --- bad inputs ---------------------------------------------------------------------------------------------------

def raises(f, *parts):
    with pytest.raises(DataError) as e: f()
    for p in parts: assert str(p) in str(e.value), (p, str(e.value))
    return str(e.value)

def test_missing_root(tmp_path):
    for cls in (GTA5, Synthia, Cityscapes):
        raises(lambda: cls(tmp_path/'nowhere'), tmp_path/'nowhere', 'does not exist', f'expected the {cls.title} layout')
    raises(lambda: prepare(tmp_path/'nowhere', 'gta', progress=False), tmp_path/'nowhere', 'does not exist')

def test_wrong_layout(tmp_path, gta):
    m = raises(lambda: GTA5(tmp_path), tmp_path, 'expected the GTA5 layout images/NNNNN.png + labels/NNNNN.png',
               'udalearn minicity ROOT', 'its GTA5 copy is ROOT/gta', f'{gta} exists')
    raises(lambda: Synthia(gta), gta/'RGB', 'expected the SYNTHIA layout RGB/NNNNNNN.png + GT/LABELS/NNNNNNN.png', 'ROOT/synthia')
    raises(lambda: Cityscapes(gta), gta/'leftImg8bit'/'train', 'expected the Cityscapes layout', 'ROOT/cityscapes')
    shutil.rmtree(gta/'labels')
    raises(lambda: GTA5(gta), gta/'labels', 'does not exist')

def test_missing_label(gta):
    (gta/'labels/00001.png').unlink(); (gta/'labels/00002.png').unlink()
    m = raises(lambda: GTA5(gta), gta/'labels/00001.png', 'label not found', gta/'images/00001.png', '2 of 3 images have no label')
    assert len(GTA5(gta, labels=False)) == 3

def test_truncated_and_grayscale_images(gta, synthia):
    p = gta/'images/00001.png'; p.write_bytes(p.read_bytes()[:150])
    _png(gta/'images/00002.png', np.zeros((H, W), np.uint8))
    ds = GTA5(gta)
    raises(lambda: ds[1], p, 'cannot read image')
    raises(lambda: ds[2], gta/'images/00002.png', 'expected an RGB image')
    q = synthia/'GT/LABELS/0000001.png'; q.write_bytes(q.read_bytes()[:100])
    raises(lambda: Synthia(synthia)[1], q, 'truncated')

def test_bad_synthia_label(synthia):
    _png(synthia/'GT/LABELS/0000000.png', np.zeros((H, W), np.uint8))   # 8-bit single channel instead of 16-bit BGR
    raises(lambda: Synthia(synthia)[0], synthia/'GT/LABELS/0000000.png', '3-channel 16-bit')

def test_empty_split(cityscapes):
    shutil.rmtree(cityscapes/'leftImg8bit/val'); (cityscapes/'leftImg8bit/val').mkdir()
    raises(lambda: Cityscapes(cityscapes, 'val', labels=False), cityscapes/'leftImg8bit/val', 'no images')
    raises(lambda: Cityscapes(cityscapes, 'test'), cityscapes/'leftImg8bit/test', 'not a folder')

def test_failed_prepare_writes_nothing(gta, cityscapes):
    (gta/'labels/00002.png').unlink()
    raises(lambda: prepare(gta, 'gta', n_workers=2, progress=False), gta/'labels/00002.png')
    assert [p.name for p in gta.rglob('*') if p.suffix == '.json' or 'TrainIds' in p.name] == [] and no_tmp(gta)
    # Cityscapes: a val split without labels is found before the train labels are converted
    shutil.rmtree(cityscapes/'gtFine/val/lindau')
    raises(lambda: prepare(cityscapes, 'cityscapes', progress=False), cityscapes/'gtFine/val/lindau')
    assert list(cityscapes.rglob('*TrainIds*')) == [] and list(cityscapes.glob('*.json')) == []

def test_failed_prepare_on_truncated_image(gta):
    p = gta/'images/00001.png'; p.write_bytes(p.read_bytes()[:-40])
    raises(lambda: prepare(gta, 'gta', n_workers=2, progress=False), p)
    assert list(gta.glob('*.json')) == [] and no_tmp(gta)

# --- MiniCity (skipped until `udalearn.data.minicity` exists) -----------------------------------------------------

@pytest.fixture
def minicity(request):
    pytest.importorskip('udalearn.data.minicity')
    return Path(request.getfixturevalue('minicity_root'))

def test_minicity_readers(minicity):
    for ds, n in [(GTA5(minicity/'gta'), 6), (Synthia(minicity/'synthia'), 4),
                  (Cityscapes(minicity/'cityscapes', 'train'), 4), (Cityscapes(minicity/'cityscapes', 'val'), 4)]:
        assert len(ds) == n
        for i in range(len(ds)):
            img, lbl = ds[i]
            assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8
            assert lbl.shape == img.shape[:2] and lbl.dtype == np.uint8
            assert set(np.unique(lbl)) <= set(range(19)) | {255}
        assert (ds[0][1] != 255).any()
    assert len(Cityscapes(minicity/'cityscapes', 'train', labels=False)) == 4

@pytest.mark.parametrize('name', ['gta', 'synthia', 'cityscapes'])
def test_minicity_prepare(minicity, tmp_path, name):
    root = shutil.copytree(minicity/name, tmp_path/name)       # leave the shared session copy untouched
    ds = Cityscapes(root) if name == 'cityscapes' else dataset(name, root)
    on_the_fly = [ds.get_label(i) for i in range(len(ds))]
    s = prepare(root, name, n_workers=2, progress=False)
    assert s.n_stats == len(ds) and no_tmp(root)
    files = [trainid_path(l).relative_to(root).as_posix() for _, l in ds.items]
    for f, y in zip(files, on_the_fly): np.testing.assert_array_equal(np.asarray(Image.open(root/f)), y)
    assert [json.loads((root/f).read_text()) for f in STATS[:2]] == list(expected_stats(root, files)[:2])
    assert prepare(root, name, progress=False).n_converted == 0

# --- every image checked by `prepare`, mis-sized labels, names and messages (issue 30) ----------------------------

def corrupt_pixels(path):
    "Scramble a PNG's compressed pixel data and fix the chunk's CRC: the file passes PNG checksums (`verify`) but does not decode."
    import struct, zlib
    b = bytearray(path.read_bytes()); i = 8
    while i < len(b):
        n, kind = struct.unpack('>I4s', b[i:i+8])
        if kind == b'IDAT':
            for k in range(i+10, i+8+n-4): b[k] ^= 0x5A                 # past the 2-byte zlib header
            b[i+8+n:i+12+n] = struct.pack('>I', zlib.crc32(bytes(b[i+4:i+8+n])))
            break
        i += 12 + n
    path.write_bytes(bytes(b)); return path

def test_prepare_decodes_every_image(gta):
    "A file whose checksums are right but whose pixels do not decode is found by `prepare`, not by training."
    p = corrupt_pixels(gta/'images/00001.png')
    with Image.open(p) as im: im.verify()                             # the PNG checksums alone do not see it
    raises(lambda: prepare(gta, 'gta', n_workers=2, progress=False), p, 'cannot read image')
    assert list(gta.glob('*.json')) == [] and no_tmp(gta)

def test_prepare_names_every_bad_image(gta):
    "All broken images are named in one error, not one per run."
    p = gta/'images/00000.png'; p.write_bytes(p.read_bytes()[:-40])
    q = _png(gta/'images/00002.png', np.zeros((H, W), np.uint8))       # grayscale
    m = raises(lambda: prepare(gta, 'gta', n_workers=1, progress=False), p, q, '2 of 3 images', 'expected an RGB image')
    assert len(m.splitlines()) == 1 and list(gta.glob('*.json')) == []

def test_label_twice_the_size_is_refused(tmp_path):
    root = make_gta(tmp_path/'gta')
    good = (root/'labels/00001.png').read_bytes()
    Image.open(root/'labels/00001.png').resize((2*W, 2*H), Image.NEAREST).save(root/'labels/00001.png')
    raises(lambda: GTA5(root)[1], root/'labels/00001.png', f'{2*W}×{2*H}', f'{W}×{H}', root/'images/00001.png')
    raises(lambda: GTA5(root).get_label(1), root/'labels/00001.png', f'{2*W}×{2*H}')
    raises(lambda: prepare(root, 'gta', n_workers=1, progress=False), root/'labels/00001.png', f'{2*W}×{2*H}', f'{W}×{H}')
    assert list(root.glob('*.json')) == [] and not (root/'labels/00001_labelTrainIds.png').exists()
    # a prepared file at another size (written by another converter) is refused the same way
    (root/'labels/00001.png').write_bytes(good)
    Image.fromarray(np.zeros((2*H, 2*W), np.uint8)).save(root/'labels/00001_labelTrainIds.png')
    raises(lambda: GTA5(root)[1], root/'labels/00001_labelTrainIds.png', f'{2*W}×{2*H}')

def test_mis_sized_labels_are_named_with_their_sizes(tmp_path, capsys):
    root = make_gta(tmp_path/'gta', narrow=(1, 2))
    s = prepare(root, 'gta', n_workers=1, progress=False)
    out = capsys.readouterr().out
    assert s.n_resized == 2 and [m[0] for m in s.mis_sized] == ['labels/00001.png', 'labels/00002.png']
    assert s.mis_sized[0][1:] == ((H, W-3), (H, W))
    assert 'labels/00001.png' in out and f'{W-3}×{H}' in out and f'{W}×{H}' in out
    s2 = prepare(root, 'gta', n_workers=1, progress=False)              # reported again on a second run, though nothing is converted
    assert s2.n_converted == 0 and len(s2.mis_sized) == 2 and 'labels/00002.png' in capsys.readouterr().out

def test_cityscapes_without_val_labels_is_said(tmp_path, capsys):
    root = make_cityscapes(tmp_path/'cs')
    shutil.rmtree(root/'gtFine/val')
    s = prepare(root, 'cityscapes', n_workers=1, progress=False)
    assert s.n_images == 4
    said = capsys.readouterr()
    assert 'gtFine/val' in said.err and 'warning' in said.err and 'val' in said.err

def test_upper_case_extension_is_named(tmp_path):
    root = make_gta(tmp_path/'gta')
    for p in (root/'images').glob('*.png'): p.rename(p.with_suffix('.PNG'))
    m = raises(lambda: GTA5(root), root/'images', 'no images', '00000.PNG', '.png')
    assert 'lower-case' in m or 'case' in m

def test_missing_labels_message_is_not_python_advice_only(tmp_path):
    "Read from the command line, the message says what is missing and who needs it; the Python argument is only an aside."
    root = make_cityscapes(tmp_path/'cs', splits=('val',), gt=False)
    m = raises(lambda: Cityscapes(root, 'val'), root/'gtFine'/'val', 'does not exist', 'evaluation')
    assert not m.rstrip(')').endswith('labels=False reads the images alone')

def test_loader_worker_failure_is_one_line(tmp_path):
    "A truncated or grayscale image reached by a DataLoader worker surfaces as one `DataError` line naming the file."
    from torch.utils.data import DataLoader
    root = make_gta(tmp_path/'gta')
    p = root/'images/00001.png'; p.write_bytes(p.read_bytes()[:150])
    q = _png(root/'images/00002.png', np.zeros((H, W), np.uint8))
    ds = GTA5(root)
    for i, bad in ((1, p), (2, q)):
        with pytest.raises(DataError) as e: list(DataLoader(ds, batch_size=None, sampler=[i], num_workers=1))
        assert len(str(e.value).splitlines()) == 1 and str(e.value).startswith(str(bad)), str(e.value)
