"The README against the index notebook it mirrors (nbdev's README generation needs Quarto), and its library example run as written."
import json, re
from pathlib import Path

ROOT = Path(__file__).parents[1]

def readme_example() -> str:
    "The first Python block of README.md."
    return re.search(r"```python\n(.*?)```", (ROOT/'README.md').read_text(), re.S).group(1)

def test_readme_is_the_index_notebook():
    cells = json.loads((ROOT/'nbs'/'index.ipynb').read_text())['cells']
    md = '\n\n'.join(''.join(c['source']) for c in cells if c['cell_type'] == 'markdown')
    md = re.sub(r'\]\(([\w.]+\.ipynb)\)', r'](nbs/\1)', md.replace('](images/', '](nbs/images/'))   # README sits one folder up
    assert (ROOT/'README.md').read_text().strip() == md.strip(), \
        "README.md differs from nbs/index.ipynb's markdown: edit both"

def test_readme_example_trains_and_evaluates(minicity_root):
    code = readme_example()
    build, fit = 'get_minicity()', 'learn.fit_iters(2000, eval_every=1000)'
    assert build in code and fit in code, 'the README example changed: update the lines this test replaces'
    code = code.replace(build, f'Path({str(minicity_root)!r})').replace(fit, 'learn.fit_iters(4, eval_every=2)')
    ns = dict(Path=Path)
    exec(code, ns)
    learn = ns['learn']
    assert learn.it == 4
    assert len(learn.recorder.values) == 2                  # evaluated every 2 iterations, as asked
    assert list(learn.recorder.metric_names)[-2:] == ['miou', 'time']
    assert 0 <= learn.recorder.values[-1][-1] <= 100        # the target mIoU (%) was measured
