"`python -m udalearn …` is the `udalearn` command line; under torchrun, `torchrun --nproc_per_node N -m udalearn train …` trains with one process per GPU (see the distributed page)."
from udalearn.cli import main

if __name__ == '__main__': main()
