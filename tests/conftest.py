import os, sys, subprocess
from pathlib import Path
import pytest

os.environ.setdefault('OMP_NUM_THREADS', '2')

@pytest.fixture(scope='session')
def minicity_root(tmp_path_factory):
    "A tiny MiniCity (a few images per domain) built once per test session."
    from udalearn.data.minicity import build_minicity
    root = tmp_path_factory.mktemp('minicity')
    return build_minicity(root, seed=0, n_gta=6, n_synthia=4, n_cityscapes_train=4, n_cityscapes_val=4,
                          n_workers=1, progress=False)

def run_cli(*args, check=False, timeout=900):
    "Run `python -m udalearn.cli ARGS` in a subprocess; returns the CompletedProcess."
    return subprocess.run([sys.executable, '-m', 'udalearn.cli', *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, check=check)
