"""Unsupervised domain adaptation for semantic segmentation, taught and reproduced with fastai and nbdev

Modules:

- `udalearn.all`: Everything a notebook or script needs in one import: `from udalearn.all import *`."""

__version__ = "0.1.0"

import warnings as _w   # fastai's layers still call `torch.jit.script`, which torch ≥ 2.9 calls deprecated: noise for our users
_w.filterwarnings('ignore', message='`torch.jit.script` is deprecated', category=FutureWarning)
