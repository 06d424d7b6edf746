"Tests for `udalearn.core`: written files get the permissions the umask gives any new file, and a `DataError` raised in a DataLoader worker reaches the caller as one line."
import os, stat
from pathlib import Path
import numpy as np, pytest
from udalearn.core import DataError, atomic_write, save_png, save_png16, save_json

def mode(p): return stat.S_IMODE(os.stat(p).st_mode)

@pytest.mark.parametrize('umask', [0o022, 0o027, 0o002], ids=oct)
def test_written_files_follow_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        files = [save_png(tmp_path/'a.png', np.zeros((4, 5, 3), np.uint8)),
                 save_png(tmp_path/'l.png', np.zeros((4, 5), np.uint8), palette=[0]*768),
                 save_png16(tmp_path/'b.png', np.zeros((4, 5, 3), np.uint16)),
                 save_json(tmp_path/'c.json', {'a': 1}),
                 atomic_write(tmp_path/'sub'/'d.txt', lambda t: Path(t).write_text('x'))]
        (tmp_path/'plain.txt').write_text('x')                      # what any other program would get
    finally: os.umask(old)
    assert mode(tmp_path/'plain.txt') == 0o666 & ~umask
    for f in files: assert mode(f) == 0o666 & ~umask, (f, oct(mode(f)))
    assert not [p for p in tmp_path.rglob('.tmp-*')]

def test_failed_write_leaves_no_temporary_file(tmp_path):
    def fail(t): Path(t).write_text('half'); raise OSError('disk full')
    with pytest.raises(OSError, match='disk full'): atomic_write(tmp_path/'x.json', fail)
    assert list(tmp_path.iterdir()) == []

def test_data_error_pickles_and_keeps_its_message():
    import pickle
    e = pickle.loads(pickle.dumps(DataError('a/b.png: cannot read image')))
    assert type(e) is DataError and str(e) == 'a/b.png: cannot read image'

class Broken:
    "A dataset whose item 1 is a file that cannot be read."
    def __len__(self): return 3
    def __getitem__(self, i):
        if i == 1: raise DataError('data/images/00001.png: cannot read image (truncated); the file is truncated or not an image')
        return np.zeros(2)

def test_data_error_from_a_loader_worker_is_one_line():
    "torch re-raises a worker's exception with the worker's traceback in its message; a `DataError` keeps its one-line message and the traceback apart."
    from torch.utils.data import DataLoader
    with pytest.raises(DataError) as e: list(DataLoader(Broken(), batch_size=None, num_workers=1))
    assert str(e.value) == 'data/images/00001.png: cannot read image (truncated); the file is truncated or not an image'
    assert 'Traceback' in e.value.worker_traceback and 'DataLoader worker process 0' in e.value.worker_traceback
    assert DataError('plain').worker_traceback is None
