# Everything a notebook or script needs in one import: `from udalearn.all import *`.
#
# Written by hand (as fastai's `all` modules are): each exported module's public names, the command line aside.
# `tests/test_all.py` fails when a new module is exported and not added here.

from .core import *
from .data.labels import *
from .data.datasets import *
from .data.minicity import *
from .data.loaders import *
from .metrics import *
from .models import *
from .learner import *
from .distributed import *
from .experiment import *
from .dacs import *
from .daformer import *
from .advent import *
from .clan import *
from .mic import *
from .hrda import *
from .prototypes import *
from .reproduce import *
from .pretrain import *
