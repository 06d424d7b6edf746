"`from udalearn.all import *` brings every exported module's public names (the CLI's aside), so a new module cannot be forgotten."
import importlib
from udalearn._modidx import d

def test_all_holds_every_module():
    ns = {}
    exec('from udalearn.all import *', ns)
    for mod in sorted(set(d['syms']) - {'udalearn.cli'}):
        missing = set(importlib.import_module(mod).__all__) - set(ns)
        assert not missing, f'{mod}: {sorted(missing)} not in udalearn.all'
        assert all(ns[n] is getattr(importlib.import_module(mod), n) for n in importlib.import_module(mod).__all__), mod   # no name shadowed by another module's
