__version__ = "0.1.0"

import warnings as _w   # fastai's layers still call `torch.jit.script`, which torch ≥ 2.9 calls deprecated: noise for our users
_w.filterwarnings('ignore', message='`torch.jit.script` is deprecated', category=FutureWarning)
