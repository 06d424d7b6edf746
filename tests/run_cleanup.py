"""Training runs in the tests write checkpoints and models of about 40 MB each (a MiT-B0 with its optimiser state),
and pytest keeps the temporary folders of the last three sessions: without cleaning, a full run leaves gigabytes
behind. A test module that trains imports `no_weights_left` (an autouse fixture) to delete the `.pth` files its
tests wrote once each test is done; `drop_weights` does the same for a module-scoped run folder."""
from pathlib import Path
import pytest

def drop_weights(*folders):
    "Delete the `.pth` files (checkpoints, models) under `folders`."
    for f in folders:
        for p in Path(f).rglob('*.pth'): p.unlink(missing_ok=True)

@pytest.fixture(autouse=True)
def no_weights_left(tmp_path):
    yield
    drop_weights(tmp_path)
