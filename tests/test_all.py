"`from udalearn.all import *` brings every exported module's public names (the CLI's aside), so a new module cannot be forgotten."
import importlib
from udalearn._modidx import d

def test_all_holds_every_module():
    ns = {}
    exec('from udalearn.all import *', ns)
    for name in sorted(set(d['syms']) - {'udalearn.cli'}):
        mod = importlib.import_module(name)
        missing = set(mod.__all__) - set(ns)
        assert not missing, f'{name}: {sorted(missing)} not in udalearn.all'
        assert all(ns[n] is getattr(mod, n) for n in mod.__all__), name   # no name shadowed by another module's
