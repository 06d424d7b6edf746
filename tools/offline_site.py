#!/usr/bin/env python
"""Build udalearn's docs as a static site that works with no network.

The published site is built by Quarto (`nbdev-docs`). Quarto cannot be installed everywhere, so this script renders the
same input, nbdev's processed notebooks in `_proc/` (written by `nbdev-proc-nbs`), with nbconvert:

    nbdev-proc-nbs && python tools/offline_site.py --out _site      # then open _site/index.html
    python tools/offline_site.py --proc                             # the same: run nbdev-proc-nbs first

What it does with each `_proc/*.ipynb` (the way Quarto treats nbdev's output):
- the frontmatter raw cell gives the page's title, description and file name (`output-file`, nbdev's name: the notebook
  name without its number prefix, lower case: `10_dacs.ipynb` -> `dacs.html`, `01_data.labels.ipynb` ->
  `data.labels.html`);
- the cell options that nbdev leaves for Quarto are applied: `#| include: false` drops a cell, `#| echo: false` its
  source, `#| output: false` its outputs, `#| output: asis` turns markdown outputs (nbdev's `show_doc`) into page
  text, `#| code-fold` folds the source; nbdev already removed `#| hide`/`#| export` cells and added `show_doc` after
  exported ones;
- links to the published site (`doc_host` + `doc_baseurl` in nbdev's settings) and to other notebooks (`x.ipynb`)
  become relative links between the pages; pandoc's link attributes (`[source](url){target="_blank"}`) and fenced
  divs (`::: {.callout-note}`) become HTML; a mermaid/dot diagram block is reported (no diagram JavaScript here);
- headings get pandoc's identifiers (`### DACS` -> `#dacs`, `### AdvEnt.before_batch` -> `#advent.before_batch`),
  the anchors nbdev's doc links (`udalearn/_modidx.py`) point at; a link to an undocumented member
  (`#cls.method`) is pointed at its documented parent (`#cls`) and counted in the report;
- every page is wrapped in one template: the sidebar in the order of `nbs/sidebar.yml`, the page title and description,
  a table of contents, `site.css` (layout and code colours) and the project's `styles.css`;
- equations (`$...$`, `$$...$$`) are typeset by a local copy of MathJax 2.7 from the PyPI package
  `jupyter-server-mathjax` (in the `dev` extra); figures are embedded PNGs or files copied from `_proc` (e.g.
  `images/`). Nothing is fetched from the network when a page is viewed.

    python tools/offline_site.py --screenshots index.html=nbs/images/site_index.png mic.html=nbs/images/site_mic.png

takes 1280×2000 screenshots in headless Chromium, stored at half size in 128 colours.

It is a script beside the package, not a module of it: udalearn/ is generated from the notebooks and is what people
import, and a docs build tool belongs to neither (it is not in the wheel). tests/test_site.py tests it.

`build()` returns a report (pages, titles, embedded-image sizes, links that were re-pointed or are broken) that the tests
read; the command prints a summary and exits 1 if a page could not be built or an internal link is broken.
"""
from __future__ import annotations

import argparse, base64, copy, html, json, os, re, shutil, struct, subprocess, sys, time
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent/'site_templates'
_DIRECTIVE = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')
_LINK_ATTRS = re.compile(r'\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)\)\{([^}]*)\}')   # [text](url){attrs}
_MATH = re.compile(r'\$\$.+?\$\$|(?<![\\$])\$[^$\n]+?\$|\\\(.+?\\\)|\\\[.+?\\\]', re.S)
SKIP_FILES = {'_quarto.yml', 'nbdev.yml', 'sidebar.yml', 'styles.css'}

# ---------------------------------------------------------------------------------------------------------------------
# Names, frontmatter, settings

def page_name(nb_name: str) -> str:
    "nbdev's html name of a notebook (`nbdev.config.nbpath2html`): number prefix dropped, lower case, `.html`"
    return re.sub(r'^\d+[a-zA-Z0-9]*_', '', Path(nb_name).name.lower()).rsplit('.ipynb', 1)[0] + '.html'

def frontmatter(nb) -> dict:
    "The YAML of the notebook's first raw cell (`---` ... `---`), as nbdev's `FrontmatterProc` writes it"
    import yaml
    if nb.cells and nb.cells[0].cell_type == 'raw':
        m = re.match(r'^\s*---\s*\n(.*?)\n---\s*$', nb.cells[0].source, re.S)
        if m: return yaml.safe_load(m.group(1)) or {}
    return {}

def site_settings(root: Path) -> dict:
    "The published site's address and title from nbdev's settings (pyproject.toml), without importing nbdev's CLI"
    try:
        from nbdev.config import get_config
        cfg = get_config(path=root)
        url = (cfg.doc_host or '').rstrip('/') + (cfg.doc_baseurl or '').rstrip('/')
        return dict(url=url, title=cfg.get('title') or cfg.lib_name)
    except Exception:                        # no nbdev config: a site with no absolute links to rewrite
        return dict(url='', title=root.name)

def read_sidebar(path: Path) -> list:
    "The `website.sidebar.contents` of a Quarto sidebar.yml: a list of file names and `{section, contents}` dicts"
    import yaml
    if not path.exists(): return []
    d = yaml.safe_load(path.read_text()) or {}
    sb = d.get('website', {}).get('sidebar', {})
    if isinstance(sb, list): sb = sb[0] if sb else {}
    return sb.get('contents', []) or []

def sidebar_files(contents) -> list:
    "The notebook file names in a sidebar, in order"
    out = []
    for o in contents:
        if isinstance(o, str): out.append(o)
        elif isinstance(o, dict):
            if 'href' in o: out.append(o['href'])
            out += sidebar_files(o.get('contents', []))
    return out

def pandoc_id(text: str) -> str:
    "Pandoc's `auto_identifiers` (what Quarto gives headings): keep letters, digits, `_-.`; spaces to `-`; lower case"
    s = ''.join(c for c in text if c.isalnum() or c in '_-.' or c.isspace())
    s = re.sub(r'\s+', '-', s.strip()).lower()
    s = re.sub(r'^[^a-z\u00e0-\uffff]+', '', s)
    return s or 'section'

# ---------------------------------------------------------------------------------------------------------------------
# Cells: the options nbdev leaves for Quarto

def cell_options(source: str):
    "Split a code cell's leading `#| key: value` lines off its source: (options, remaining source)"
    lines, opts = source.splitlines(), {}
    i = 0
    while i < len(lines) and (m := _DIRECTIVE.match(lines[i])):
        opts[m.group(1).lower()] = m.group(2).strip().strip('"\'')
        i += 1
    return opts, '\n'.join(lines[i:])

def _false(v): return str(v).lower() in ('false', 'no', '0')

def _escape_heading_underscores(md: str) -> str:
    "In `show_doc` headings `_` is part of a name (`AdvEnt.__init__`), never emphasis"
    return re.sub(r'^(#{1,6} )(.*)$', lambda m: m.group(1) + re.sub(r'(?<!\\)_', r'\\_', m.group(2)), md, flags=re.M)

def _attrs_html(attrs: str) -> str:
    "Pandoc attributes `{.cls #id key=\"v\"}` as HTML attributes"
    out, classes = [], []
    for tok in re.findall(r'[\w-]+="[^"]*"|[\w-]+=\'[^\']*\'|[\w-]+=\S+|[.#][\w-]+', attrs):
        if tok.startswith('.'): classes.append(tok[1:])
        elif tok.startswith('#'): out.append(f'id="{html.escape(tok[1:])}"')
        else:
            k, v = tok.split('=', 1)
            out.append(f'{k}="{html.escape(v.strip(chr(34)).strip(chr(39)))}"')
    if classes: out.append(f'class="{" ".join(classes)}"')
    return (' ' + ' '.join(out)) if out else ''

def md_pandoc_links(md: str) -> str:
    "`[text](url){attrs}` (pandoc's link attributes, used by nbdev's source links) as an HTML link"
    def rep(m):
        text, url, attrs = m.groups()
        a = _attrs_html(attrs)
        if text == 'source' and 'class=' not in a: a += ' class="source-link"'
        a = re.sub(r'\s*style="[^"]*"', '', a) if 'source-link' in a else a
        return f'<a href="{html.escape(url)}"{a}>{text}</a>'
    return _LINK_ATTRS.sub(rep, md)

def md_fenced_divs(md: str) -> str:
    "Pandoc's fenced divs (`::: {.callout-note}` ... `:::`, Quarto's callouts) as HTML divs around markdown"
    out, depth = [], 0
    for line in md.split('\n'):
        m = re.match(r'^\s*:{3,}\s*(?:\{([^}]*)\}|([\w-]+))?\s*$', line)
        if m and (m.group(1) is not None or m.group(2)):
            attrs = _attrs_html(m.group(1)) if m.group(1) is not None else f' class="{m.group(2)}"'
            if 'callout' in attrs: attrs = attrs.replace('class="', 'class="callout ', 1)
            out += [f'<div{attrs}>', '']; depth += 1
        elif m and depth: out += ['', '</div>']; depth -= 1
        else: out.append(line)
    return '\n'.join(out + ['', '</div>']*depth)

def md_quarto(md: str) -> str:
    "The pandoc markdown Quarto reads that CommonMark does not: link attributes and fenced divs"
    return md_fenced_divs(md_pandoc_links(md)) if (':::' in md or '){' in md) else md

def _collapse_cr(text: str) -> str:
    "What a terminal shows of text with carriage returns: each line's last `\\r` segment"
    return '\n'.join(l.rsplit('\r', 1)[-1] if '\r' in l.rstrip('\r') else l.rstrip('\r') for l in text.split('\n'))

def _md(text) -> str: return ''.join(text) if isinstance(text, list) else text

def prepare_notebook(nb):
    "Apply the Quarto cell options to a processed notebook (a copy): returns (notebook, frontmatter)"
    from nbformat.v4 import new_markdown_cell
    nb = copy.deepcopy(nb)
    fm = frontmatter(nb)
    cells = nb.cells[1:] if fm else list(nb.cells)
    out = []
    for cell in cells:
        cell.get('metadata', {}).pop('execution', None)         # nbdev's cell timings (not valid nbformat metadata)
        if cell.cell_type == 'markdown':
            cell.source = md_quarto(_md(cell.source))
            out.append(cell); continue
        if cell.cell_type != 'code': continue                    # raw cells other than the frontmatter: Quarto drops them
        opts, src = cell_options(_md(cell.source))
        if _false(opts.get('include', 'true')): continue
        cell.source = src
        md = cell.setdefault('metadata', {})
        if _false(opts.get('echo', 'true')) or not src.strip():
            md.setdefault('transient', {})['remove_source'] = True
        if 'code-fold' in opts and not _false(opts['code-fold']):
            md['code_fold'] = opts['code-fold']
            md['code_summary'] = opts.get('code-summary', 'Code')
        outputs = [] if _false(opts.get('output', 'true')) else list(cell.get('outputs', []))
        for o in outputs:
            if o.get('output_type') == 'stream': o['text'] = _collapse_cr(_md(o.get('text', '')))
            d = o.get('data', {})
            if 'text/markdown' in d: d['text/markdown'] = md_quarto(_md(d['text/markdown']))
        if opts.get('output') == 'asis':                         # markdown outputs become page text (show_doc)
            is_doc = 'show_doc' in src
            keep = []
            for o in outputs:
                d = o.get('data', {})
                if 'text/markdown' in d:
                    text = d['text/markdown']
                    if is_doc: text = _escape_heading_underscores(text)
                    mc = new_markdown_cell(text)
                    mc.metadata['show_doc'] = is_doc
                    if keep or not md.get('transient'):          # outputs before it stay in their place
                        out.append(_with_outputs(cell, keep)); keep = []
                    out.append(mc)
                else: keep.append(o)
            if keep or not md.get('transient'): out.append(_with_outputs(cell, keep))
            continue
        cell.outputs = outputs
        if md.get('transient') and not outputs: continue         # nothing left to show
        out.append(cell)
    nb.cells = out
    return nb, fm

def _with_outputs(cell, outputs):
    c = copy.deepcopy(cell); c.outputs = outputs
    return c

# ---------------------------------------------------------------------------------------------------------------------
# HTML

def _exporter():
    from nbconvert import HTMLExporter
    return HTMLExporter(extra_template_basedirs=[str(TEMPLATES)], template_name='udalearn_site', exclude_input_prompt=True,
                        exclude_output_prompt=True, exclude_anchor_links=True)

def _is_site_url(href, url): return bool(url) and (href == url or href.startswith(url + '/') or href.startswith(url + '#'))

def _local_href(href: str, site_url: str, nb_pages: dict) -> str:
    "An href as a link inside the offline site (relative), or unchanged when it points elsewhere"
    if _is_site_url(href, site_url):
        rest = href[len(site_url):].lstrip('/')
        path, _, frag = rest.partition('#')
        if path == '' or path.endswith('/'): path += 'index.html'
        if path.endswith('.html.md'): path = path[:-3]
        return path + ('#' + frag if frag else '')
    if re.match(r'^[a-z][a-z0-9+.-]*:|^//|^#', href, re.I): return href
    path, _, frag = href.partition('#')
    if path.endswith('.ipynb'): path = nb_pages.get(Path(path).name, page_name(path))
    return path + ('#' + frag if frag else '')

def polish(body: str, site_url: str, nb_pages: dict):
    "Heading ids and anchors, local links, source links: returns (soup of the body, table-of-contents entries)"
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(body, 'html.parser')
    seen, toc = set(), []
    for h in soup.find_all(re.compile(r'^h[1-6]$')):
        for a in h.find_all('a', class_='anchor-link'): a.decompose()
        base = pandoc_id(h.get_text(' ', strip=True))
        hid, n = base, 0
        while hid in seen: n += 1; hid = f'{base}-{n}'
        seen.add(hid); h['id'] = hid
        anchor = soup.new_tag('a', href='#' + hid, attrs={'class': 'anchor-link', 'aria-label': 'link to this section'})
        anchor.string = '¶'
        h.append(anchor)
        if h.name in ('h2', 'h3'): toc.append((int(h.name[1]), hid, h.get_text(' ', strip=True).rstrip('¶').strip()))
    for a in soup.find_all('a', href=True): a['href'] = _local_href(a['href'], site_url, nb_pages)
    return soup, toc

def inline_md(text) -> str:
    "A frontmatter title or description (markdown, like Quarto reads it) as inline HTML"
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    h = markdown2html_mistune(str(text)).strip()
    return re.sub(r'^<p>(.*)</p>$', r'\1', h, flags=re.S)

def has_math(soup) -> bool:
    "Whether text outside code holds TeX delimiters (what MathJax's tex2jax would typeset)"
    return any(not t.find_parent(['pre', 'code', 'script', 'style', 'textarea'])
               for t in soup.find_all(string=_MATH))

def toc_html(entries) -> str:
    if not entries: return ''
    out, level = [], 0
    for lvl, hid, text in entries:
        lvl = 1 if lvl == 2 else 2
        while level < lvl: out.append('<ul>'); level += 1
        while level > lvl: out.append('</ul>'); level -= 1
        out.append(f'<li><a href="#{html.escape(hid)}">{html.escape(text)}</a></li>')
    out += ['</ul>'] * level
    return '\n'.join(out)

def sidebar_html(contents, titles: dict, nb_pages: dict, current: str) -> str:
    items = []
    for o in contents:
        if isinstance(o, str) or (isinstance(o, dict) and 'href' in o and 'contents' not in o):
            f = o if isinstance(o, str) else o['href']
            name = Path(f).name
            page = nb_pages.get(name, page_name(name) if name.endswith('.ipynb') else f)
            text = (o.get('text') if isinstance(o, dict) else None) or titles.get(name, Path(name).stem)
            cls = ' class="active" aria-current="page"' if page == current else ''
            items.append(f'<li><a href="{html.escape(page)}"{cls}>{html.escape(str(text))}</a></li>')
        elif isinstance(o, dict):
            items.append(f'<li><div class="section">{html.escape(str(o.get("section", "")))}</div>'
                         f'{sidebar_html(o.get("contents", []), titles, nb_pages, current)}</li>')
    return '<ul>' + '\n'.join(items) + '</ul>'

def png_size(data: bytes):
    "(width, height) of a PNG from its header"
    if data[:8] != b'\x89PNG\r\n\x1a\n': return None
    return struct.unpack('>II', data[16:24])

def _stash_images(nb, stash: dict):
    "Swap each embedded PNG of `nb` for a short token (HTML parsing of megabytes of base64 is slow); fills `stash`"
    for c in nb.cells:
        for o in c.get('outputs', []):
            d = o.get('data', {})
            if 'image/png' in d:
                token = f'STASHEDPNG{len(stash)}'
                stash[token] = _md(d['image/png']).replace('\n', '')
                d['image/png'] = token

def _unstash_images(page_html: str, stash: dict):
    "Put the stashed PNGs back: (html, [(width, height, bytes)] of the page's PNGs)"
    imgs = []
    def rep(m):
        data = stash[m.group(1)]
        raw = base64.b64decode(data)
        imgs.append((*(png_size(raw) or (0, 0)), len(raw)))
        return 'data:image/png;base64,' + data
    return re.sub(r'data:image/png;base64,(STASHEDPNG\d+)', rep, page_html), imgs

# ---------------------------------------------------------------------------------------------------------------------
# MathJax

def mathjax_source() -> Path:
    "The MathJax 2.7 files of the PyPI package `jupyter-server-mathjax`"
    try: import jupyter_server_mathjax
    except ImportError as e:
        raise SystemExit('tools/offline_site.py needs MathJax from the PyPI package jupyter-server-mathjax: '
                         'pip install -e ".[dev]"') from e
    return Path(jupyter_server_mathjax.__file__).parent/'static'

def copy_mathjax(dest: Path):
    "MathJax.js, the TeX-AMS-MML_HTMLorMML config, the TeX input and HTML-CSS output with its STIX-Web fonts (~5 MB)"
    src = mathjax_source()
    def ignore(d, names):
        rel = Path(d).relative_to(src).as_posix()
        skip = set()
        if rel == 'localization': skip |= {n for n in names if n != 'en'}   # English only
        if rel == 'extensions': skip.add('a11y')                           # screen-reader explorer, 3.7 MB
        if rel == 'jax/output': skip.add('SVG')                            # fonts of an output not loaded
        return skip
    if dest.exists(): shutil.rmtree(dest)
    shutil.copytree(src, dest, ignore=ignore)

# ---------------------------------------------------------------------------------------------------------------------
# The site

def pygments_css() -> str:
    from pygments.formatters import HtmlFormatter
    return HtmlFormatter(style='default').get_style_defs('.highlight')

def run_proc_nbs(root: Path):
    "nbdev's docs processing (`nbdev-proc-nbs`, incremental) into `root/_proc`"
    r = subprocess.run(['nbdev-proc-nbs'], cwd=root, capture_output=True, text=True)
    if r.returncode != 0:
        i = r.stderr.rfind('Exception: Error in notebook')
        raise RuntimeError('nbdev-proc-nbs failed: ' + (r.stderr[i + 11:] if i >= 0 else r.stderr)[-3000:].strip())

_PROCESSED = {}
def processed_notebooks(root: Path) -> Path:
    "`root/_proc` brought up to date by `nbdev-proc-nbs` (once per process)"
    root = Path(root).resolve()
    if root not in _PROCESSED: run_proc_nbs(root); _PROCESSED[root] = root/'_proc'
    return _PROCESSED[root]

def build(proc: Path, out: Path, root: Path | None = None, quiet: bool = False) -> dict:
    "Render every notebook of `proc` into `out`; returns the report"
    import nbformat
    from jinja2 import Environment, FileSystemLoader
    t0 = time.time()
    proc, out = Path(proc), Path(out)
    root = Path(root) if root else proc.parent
    if not any(proc.glob('*.ipynb')): raise SystemExit(f'no processed notebooks in {proc}: run nbdev-proc-nbs first')
    settings = site_settings(root)
    contents = read_sidebar(proc/'sidebar.yml') or read_sidebar(root/'nbs'/'sidebar.yml')
    nbs = sorted(proc.glob('*.ipynb'))
    nb_pages, titles, prepared = {}, {}, {}
    for p in nbs:
        nb, fm = prepare_notebook(nbformat.read(p, as_version=4))
        nb_pages[p.name] = fm.get('output-file') or page_name(p.name)
        titles[p.name] = fm.get('title') or Path(p.name).stem
        prepared[p.name] = (nb, fm)
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    exporter = _exporter()
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=False)
    page_tpl = env.get_template('page.html.j2')
    stash, soups, report = {}, {}, dict(pages={}, repointed=[], broken=[], missing_files=[], unsupported=[],
                                 site_url=settings['url'])
    for p in nbs:
        nb, fm = prepared[p.name]
        page = nb_pages[p.name]
        for c in nb.cells:                                       # Quarto diagram blocks need JavaScript not shipped
            for kind in re.findall(r'^```\{(mermaid|dot)\}', c.source if c.cell_type == 'markdown' else '', re.M):
                report['unsupported'].append((page, kind))
        _stash_images(nb, stash)
        body, _ = exporter.from_notebook_node(nb, resources={'metadata': {'path': str(proc)}})
        soup, toc = polish(body, settings['url'], nb_pages)
        soups[page] = (soup, toc, p, fm)
    ids = {page: {t['id'] for t in s.find_all(id=True)} for page, (s, *_) in soups.items()}
    for page, (soup, toc, p, fm) in soups.items():
        for a in soup.find_all('a', href=True):                  # fragments of links inside the site
            href = a['href']
            if re.match(r'^[a-z][a-z0-9+.-]*:|^//', href, re.I): continue
            path, _, frag = href.partition('#')
            target = path or page
            if path and not (out/path).exists() and path not in ids and not (proc/path).exists():
                report['broken'].append((page, href)); continue
            if not frag or target not in ids: continue
            if frag not in ids[target]:
                parts = frag.split('.')
                while len(parts) > 1 and '.'.join(parts) not in ids[target]: parts.pop()
                if '.'.join(parts) in ids[target] and len(parts) < len(frag.split('.')):
                    a['href'] = f"{path}#{'.'.join(parts)}"; report['repointed'].append((page, href, a['href']))
                else: report['broken'].append((page, href))
        for el in soup.find_all(['img', 'source'], src=True):    # figures kept as files: copied beside the page
            src = el['src']
            if re.match(r'^[a-z][a-z0-9+.-]*:|^//', src, re.I): continue
            f = proc/src.split('#')[0].split('?')[0]
            if f.is_file():
                (out/src).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, out/src)
            else: report['missing_files'].append((page, src))
        text = str(soup)
        math = has_math(soup)
        html_page = page_tpl.render(
            title=inline_md(fm.get('title', p.stem)), description=inline_md(fm.get('description', '') or ''),
            head_title=html.escape(str(fm.get('title', p.stem))), head_description=html.escape(str(fm.get('description', '') or '')),
            site_title=html.escape(str(settings['title'])), body=text, toc=toc_html(toc), notebook=p.name,
            sidebar=sidebar_html(contents, titles, nb_pages, page), math=math, mathjax='mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full')
        html_page, imgs = _unstash_images(html_page, stash)
        (out/page).write_text(html_page, encoding='utf-8')
        report['pages'][page] = dict(notebook=p.name, title=str(fm.get('title', '')), math=math, toc=len(toc),
                                     images=imgs, image_bytes=sum(b for *_, b in imgs), html_bytes=len(html_page.encode()))
    shutil.copy2(TEMPLATES/'site.css', out/'site.css')
    with open(out/'site.css', 'a') as f: f.write('\n/* code colours: pygments "default" */\n' + pygments_css())
    styles = proc/'styles.css' if (proc/'styles.css').exists() else root/'nbs'/'styles.css'
    (out/'styles.css').write_text(styles.read_text() if styles.exists() else '')
    if any(v['math'] for v in report['pages'].values()): copy_mathjax(out/'mathjax')
    report['sidebar'] = [nb_pages.get(Path(f).name, f) for f in sidebar_files(contents)]
    report['not_in_sidebar'] = sorted(set(report['pages']) - set(report['sidebar']))
    report['seconds'] = round(time.time() - t0, 1)
    (out/'site.json').write_text(json.dumps(report, indent=1))
    if not quiet: print(summary(report))
    return report

def summary(r: dict) -> str:
    lines = [f"{len(r['pages'])} pages in {r['seconds']} s; sidebar: {len(r['sidebar'])} entries"]
    if r['not_in_sidebar']: lines.append('not in sidebar.yml: ' + ', '.join(r['not_in_sidebar']))
    if r['repointed']: lines.append(f"{len(r['repointed'])} links to undocumented members re-pointed to their parent, e.g. "
                                    + ', '.join(f'{p}: {a} -> {b}' for p, a, b in r['repointed'][:3]))
    for p, k in r['unsupported']: lines.append(f'{p}: a {k} diagram is shown as its source (the offline site has no {k})')
    for p, h in r['broken']: lines.append(f'BROKEN link in {p}: {h}')
    for p, s in r['missing_files']: lines.append(f'MISSING file in {p}: {s}')
    return '\n'.join(lines)

# ---------------------------------------------------------------------------------------------------------------------
# Looking at the site: a local server and headless Chromium (tests/test_site.py, --screenshots)

CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-pings',
                  '--disable-default-apps', '--disable-extensions', '--mute-audio', '--hide-scrollbars',
                  # host names resolve to nothing but 127.0.0.1: Chromium's own background requests stay on the machine
                  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1']

def find_chromium():
    "Debian's `chromium` (or another Chromium/Chrome on PATH), or None"
    for name in ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'):
        if (p := shutil.which(name)): return p
    return None

class LocalServer:
    "Serve `folder` on 127.0.0.1 (a free port) in a thread, recording each request's path and status"
    def __init__(self, folder):
        import functools, http.server, threading
        self.requests = []
        log = self.requests
        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code='-', size='-'): log.append((self.path, int(code) if str(code).isdigit() else code))
            def log_message(self, *a): pass
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Handler, directory=str(folder)))
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
    def __enter__(self): self.thread.start(); return self
    def __exit__(self, *a): self.httpd.shutdown(); self.httpd.server_close()

def chromium(url, *, dump_dom=False, screenshot=None, net_log=None, size=(1280, 800), budget_ms=15000, timeout=180):
    "Open `url` in a fresh headless Chromium profile; returns the DOM after `budget_ms` of virtual time when `dump_dom`"
    import tempfile
    exe = find_chromium()
    if exe is None: raise RuntimeError('chromium is not installed (Debian: apt-get install -y chromium)')
    with tempfile.TemporaryDirectory() as profile:
        cmd = [exe, *CHROMIUM_FLAGS, f'--user-data-dir={profile}', f'--window-size={size[0]},{size[1]}',
               f'--virtual-time-budget={budget_ms}']
        if net_log: cmd.append(f'--log-net-log={net_log}')
        if screenshot: cmd.append(f'--screenshot={screenshot}')
        if dump_dom: cmd.append('--dump-dom')
        r = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=timeout,
                           env={**os.environ, 'OMP_NUM_THREADS': '1'})
    if r.returncode != 0: raise RuntimeError(f'chromium exited {r.returncode} on {url}: {r.stderr[-2000:]}')
    return r.stdout if dump_dom else None

def net_log_requests(path):
    "The URL requests of a Chromium net log: dicts with url, initiator and method"
    d = json.loads(Path(path).read_text())
    start = d['constants']['logEventTypes']['URL_REQUEST_START_JOB']
    return [dict(url=p.get('url', ''), initiator=p.get('initiator', ''), method=p.get('method', ''))
            for e in d['events'] if e['type'] == start and (p := e.get('params', {})).get('url')]

def screenshots(site: Path, shots: dict, width=1280, height=2000, scale=0.5, colors=128):
    "PNG screenshots of pages (`{page: png path}`) at `width`×`height`, scaled by `scale` and reduced to `colors` colours"
    import tempfile
    from PIL import Image
    with LocalServer(site) as srv, tempfile.TemporaryDirectory() as tmp:
        for page, dest in shots.items():
            raw = Path(tmp)/'shot.png'
            chromium(f'{srv.url}/{page}', screenshot=raw, size=(width, height))
            im = Image.open(raw).convert('RGB')
            im = im.resize((round(width*scale), round(height*scale)), Image.LANCZOS)
            im = im.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            Path(dest).parent.mkdir(parents=True, exist_ok=True)
            im.save(dest, optimize=True)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default='_site', help='output folder (default: _site next to pyproject.toml)')
    ap.add_argument('--proc-dir', default='_proc', help="nbdev's processed notebooks (default: _proc next to pyproject.toml)")
    ap.add_argument('--proc', action='store_true', help='run nbdev-proc-nbs first (incremental)')
    ap.add_argument('--screenshots', nargs='*', metavar='PAGE=PNG',
                    help='after building, screenshot pages with headless Chromium, e.g. index.html=nbs/images/site_index.png')
    a = ap.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    if a.proc:
        try: run_proc_nbs(root)
        except RuntimeError as e: sys.exit(str(e))
    proc, out = Path(a.proc_dir), Path(a.out)
    if a.proc_dir == '_proc': proc = root/'_proc'
    if a.out == '_site': out = root/'_site'
    r = build(proc, out, root)
    print(f'open {out/"index.html"}')
    if a.screenshots:
        screenshots(out, dict(o.split('=', 1) for o in a.screenshots))
        print('screenshots: ' + ', '.join(o.split('=', 1)[1] for o in a.screenshots))
    return 1 if (r['broken'] or r['missing_files']) else 0

if __name__ == '__main__': sys.exit(main())
