#!/usr/bin/env python
"""Measure the hygiene of udalearn's docs pages from nbdev's processed notebooks (`_proc/`, `nbdev-proc-nbs`).

    python tools/page_hygiene.py            # a table: one row per page
    python tools/page_hygiene.py --json     # the same as JSON

Per page (what a reader sees: the cells left after nbdev's processing and Quarto's cell options, as
`tools/offline_site.py` renders them):
- `undocumented`: names the page's module exports (`__all__`, functions and classes) without a `show_doc` heading;
- `progress`: outputs that are frames of a progress bar (fastprogress/tqdm HTML, `\\r`-redrawn text, tqdm bars);
- `errors`: error outputs and stderr text (warnings, tracebacks);
- `images`: embedded PNGs (width, height, bytes); `wide_images`: those wider than WIDE_PX; `image_mb`: their total;
- `screens`: the page's estimated rendered height in screens of 1280×800 (see `estimate_height`).

`tests/test_page_hygiene.py` holds the limits and the pages allowed to miss them for now.
"""
from __future__ import annotations

import argparse, ast, base64, json, math, re, sys
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from offline_site import prepare_notebook, png_size, page_name, _md   # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WIDE_PX = 1600            # an embedded PNG wider than this is saved far above its display size (~750 px column)
SCREEN = (1280, 800)      # a "screen": the browser window the heights are measured in
CONTENT_PX = 746          # width of the text column of the offline site at a 1280 px window

# ---------------------------------------------------------------------------------------------------------------------
# Page height without a browser

# Pixels per feature, fitted (non-negative least squares, then rounded) to the height Chromium renders for each page of
# the offline site at 1280×800 (tests/test_site.py measures it); on the 20 pages of Dec 2026 the estimate was within
# 4 % of the rendered height on average and 13 % at worst. Text wraps at ~100 characters in the 746 px column.
PX = dict(base=180, text=26, blocks=13, h2=70, h3=20, code=19.5, boxes=26, rows=36, img=1.2, dmath=42)
CHARS_PER_LINE, CHARS_PER_TABLE_LINE = 100, 120

@lru_cache(maxsize=1)
def _parser():
    import mistune
    return mistune.create_markdown(renderer=None, plugins=['table', 'math', 'strikethrough'])

def _inline_chars(toks) -> int:
    "Characters a reader sees in inline markdown (link targets and markup left out)"
    n = 0
    for t in toks or []:
        if t['type'] in ('text', 'codespan', 'inline_math'): n += len(t.get('raw', ''))
        elif t['type'] in ('softbreak', 'linebreak'): n += 1
        elif t['type'] == 'inline_html': n += len(re.sub(r'<[^>]*>', '', t.get('raw', '')))
        else: n += _inline_chars(t.get('children'))
    return n

def _image_px(w, h): return h*min(1, CONTENT_PX/w) if w else 0

def _md_features(src: str, f: dict, folder: Path | None):
    def walk(toks, width=CHARS_PER_LINE):
        for t in toks:
            k = t['type']
            if k in ('paragraph', 'block_text'):
                n = _inline_chars(t.get('children'))
                if n: f['text'] += math.ceil(n/width); f['blocks'] += k == 'paragraph'
            elif k == 'heading': f['h2' if t['attrs']['level'] <= 2 else 'h3'] += 1
            elif k == 'list': f['blocks'] += 1; walk(t['children'], width - 3)
            elif k == 'list_item': walk(t['children'], width)
            elif k == 'block_quote': f['blocks'] += 1; walk(t['children'], width - 5)
            elif k == 'block_code': f['code'] += len(t['raw'].rstrip('\n').splitlines()); f['boxes'] += 1
            elif k == 'block_math': f['dmath'] += 1
            elif k == 'table':
                f['blocks'] += 1
                for part in t['children']:
                    for row in ([part] if part['type'] == 'table_head' else part['children']):
                        n = sum(_inline_chars(c.get('children')) for c in row['children'])
                        f['rows'] += max(1, math.ceil((n + 3*len(row['children']))/CHARS_PER_TABLE_LINE))
            elif k == 'block_html':
                raw = t.get('raw', '')
                if '<tr' in raw: f['rows'] += raw.count('<tr')
                elif re.sub(r'<!--.*?-->', '', raw, flags=re.S).strip(): f['text'] += 1
    walk(_parser()(src))
    for m in re.finditer(r'!\[[^\]]*\]\(([^)\s]+)|<img[^>]*src="([^"]+)"', src):     # figures kept as files
        p = (folder or Path('.'))/(m.group(1) or m.group(2))
        if p.is_file():
            from PIL import Image
            with Image.open(p) as im: f['img'] += _image_px(*im.size)

def height_features(nb, folder: Path | None = None) -> dict:
    "Counts of what takes vertical space on a prepared page (`prepare_notebook`)"
    f = dict(text=0, blocks=0, h2=0, h3=0, code=0, boxes=0, rows=0, img=0, dmath=0)
    for c in nb.cells:
        if c.cell_type == 'markdown': _md_features(c.source, f, folder); continue
        if not c.metadata.get('transient', {}).get('remove_source'):
            f['boxes'] += 1; f['code'] += len(c.source.splitlines())
        for o in c.get('outputs', []):
            d = o.get('data', {})
            if o.get('output_type') == 'stream':
                f['boxes'] += 1; f['code'] += len(_md(o.get('text', '')).rstrip('\n').splitlines())
            elif 'image/png' in d: f['img'] += _image_px(*(png_size(base64.b64decode(_md(d['image/png']))) or (0, 0)))
            elif 'text/html' in d: f['rows'] += _md(d['text/html']).count('<tr'); f['blocks'] += 1
            elif 'text/markdown' in d: _md_features(_md(d['text/markdown']), f, folder)
            elif 'text/plain' in d: f['boxes'] += 1; f['code'] += len(_md(d['text/plain']).splitlines())
    return f

def estimate_height(nb, folder: Path | None = None) -> float:
    "Estimated rendered height (px) of a prepared page on the offline site at a 1280 px wide window"
    f = height_features(nb, folder)
    return PX['base'] + sum(PX[k]*v for k, v in f.items())

# ---------------------------------------------------------------------------------------------------------------------
# Exported names and their API docs

def exported_names(lib: Path) -> dict:
    "{page: [names]}: each module's `__all__` functions and classes, on the page of the notebook it is exported from"
    out = {}
    for py in sorted(lib.rglob('*.py')):
        src = py.read_text()
        m = re.search(r'File to edit: \.\./(?:\.\./)*nbs/(\S+?\.ipynb)', src)
        if not m: continue
        tree = ast.parse(src)
        alls = [n for n in tree.body if isinstance(n, ast.Assign) and any(getattr(t, 'id', '') == '__all__' for t in n.targets)]
        names = set(ast.literal_eval(alls[0].value)) if alls else set()
        defs = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        out.setdefault(page_name(Path(m.group(1)).name), []).extend(n for n in defs if n in names)
    return out

_HEADING = re.compile(r'^#{1,6}\s+(.+?)\s*$', re.M)

def documented_names(nb) -> set:
    "The names with a `show_doc` heading on a prepared page"
    out = set()
    for c in nb.cells:
        if c.cell_type == 'markdown' and c.metadata.get('show_doc'):
            out |= {h.replace('\\_', '_').strip('` ') for h in _HEADING.findall(c.source)}
    return out

# ---------------------------------------------------------------------------------------------------------------------
# Outputs

_TQDM = re.compile(r'\d+%\|[^|]*\|\s*\d+/\d+|\d+/\d+ \[\d+:\d+<')      # tqdm's text bar: ' 40%|████   | 4/10 [00:01<'

def output_issues(nb):
    "(progress-bar frames, error outputs) visible on a prepared page, each as a short description"
    progress, errors = [], []
    for i, c in enumerate(nb.cells):
        for o in c.get('outputs', []):
            t, d = o.get('output_type'), o.get('data', {})
            where = f'cell {i}'
            if t == 'error': errors.append(f"{where}: {o.get('ename')}: {o.get('evalue', '')[:80]}")
            if t == 'stream':
                text = _md(o.get('text', ''))
                if '\r' in text.rstrip('\r\n') or _TQDM.search(text): progress.append(f'{where}: redrawn text {text[:60]!r}')
                if o.get('name') == 'stderr' and text.strip(): errors.append(f'{where}: stderr {text.strip()[:80]!r}')
            h = _md(d.get('text/html', ''))
            if re.search(r'<progress\b|fastprogress|tqdm', h): progress.append(f'{where}: progress-bar HTML')
            if 'application/vnd.jupyter.widget-view+json' in d and 'tqdm' in _md(d.get('text/plain', '')).lower() + h:
                progress.append(f'{where}: tqdm widget')
    return progress, errors

# ---------------------------------------------------------------------------------------------------------------------

def measure(proc: Path, lib: Path | None = None) -> dict:
    "Hygiene numbers of every page in `proc`: {page: {...}}"
    import nbformat
    proc = Path(proc)
    exported = exported_names(lib or ROOT/'udalearn')
    out = {}
    for p in sorted(proc.glob('*.ipynb')):
        nb, fm = prepare_notebook(nbformat.read(p, as_version=4))
        page = fm.get('output-file') or page_name(p.name)
        docs = documented_names(nb)
        images = []
        for c in nb.cells:
            for o in c.get('outputs', []):
                if 'image/png' in o.get('data', {}):
                    raw = base64.b64decode(_md(o['data']['image/png']))
                    w, h = png_size(raw) or (0, 0)
                    images.append((w, h, len(raw)))
        progress, errors = output_issues(nb)
        out[page] = dict(
            notebook=p.name, report=bool(re.match(r'^9\d_report\.', p.name)),
            undocumented=[n for n in exported.get(page, []) if n not in docs], exported=len(exported.get(page, [])),
            progress=progress, errors=errors, images=images, wide_images=[im for im in images if im[0] > WIDE_PX],
            image_mb=round(sum(b for *_, b in images)/1e6, 2),
            screens=round(estimate_height(nb, p.parent)/SCREEN[1], 1))
    return out

def table(m: dict) -> str:
    rows = [f"{'page':34} {'screens':>7} {'PNGs':>4} {'MB':>5} {'widest':>6} {'>1600':>5} {'undoc':>5} {'progr':>5} {'errs':>4}"]
    for page, r in m.items():
        widest = max((w for w, *_ in r['images']), default=0)
        rows.append(f"{page:34} {r['screens']:7.1f} {len(r['images']):4d} {r['image_mb']:5.2f} {widest:6d} "
                    f"{len(r['wide_images']):5d} {len(r['undocumented']):5d} {len(r['progress']):5d} {len(r['errors']):4d}"
                    + ('  (report)' if r['report'] else ''))
    return '\n'.join(rows)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--proc-dir', default=str(ROOT/'_proc'))
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args(argv)
    m = measure(Path(a.proc_dir))
    print(json.dumps(m, indent=1) if a.json else table(m))
    if not a.json:
        for page, r in m.items():
            for k in ('undocumented', 'progress', 'errors'):
                if r[k]: print(f'{page} {k}: ' + '; '.join(map(str, r[k][:6])) + (' ...' if len(r[k]) > 6 else ''))

if __name__ == '__main__': main()
