"""The offline docs site (issue 34): `tools/offline_site.py` renders nbdev's processed notebooks, and headless Chromium
shows the key pages with their equations, figures and API sections, with no broken link and no request off the machine.

The build and the static checks run everywhere; the browser checks need Chromium (Debian: `apt-get install -y
chromium`; `.ci/run` installs it) and are skipped without it.
"""
import base64, json, re, sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import offline_site as site_tool   # noqa: E402
from offline_site import LocalServer, chromium, find_chromium, net_log_requests, page_name, pandoc_id   # noqa: E402
import page_hygiene   # noqa: E402

NBS = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb'))
# The index and every method page: notebooks 10-29 (DACS, DAFormer, pre-training, MIC, HRDA, prototypes, AdvEnt, CLAN...)
KEY_PAGES = ['index.html'] + [page_name(n) for n in NBS if re.match(r'^[12]\d_', n)]
WINDOW = (1280, 800)
needs_chromium = pytest.mark.skipif(find_chromium() is None, reason='chromium is not installed (Debian: apt-get install '
                                    '-y chromium; .ci/run installs it): the browser checks of the offline site are skipped')
_EXTERNAL = re.compile(r'^(?:[a-z][a-z0-9+.-]*:|//)', re.I)

@pytest.fixture(scope='module')
def built(tmp_path_factory):
    "The site built from an up-to-date `_proc` into a temporary folder: (folder, build report)"
    proc = site_tool.processed_notebooks(ROOT)
    out = tmp_path_factory.mktemp('site')/'_site'
    return out, site_tool.build(proc, out, ROOT, quiet=True)

@pytest.fixture(scope='module')
def soups(built):
    out, report = built
    return {page: BeautifulSoup((out/page).read_text(), 'html.parser') for page in report['pages']}

def _ids(soup): return {t['id'] for t in soup.find_all(id=True)}

def check_links(page, soup, out, ids_of):
    "Relative links of `page` that do not resolve to a file of the site, or to an id in it"
    bad = []
    for a in soup.find_all('a', href=True):
        href = a['href']
        if _EXTERNAL.match(href): continue
        path, _, frag = href.partition('#')
        target = path or page
        if not (out/target).is_file(): bad.append(href); continue
        if frag and target.endswith('.html') and frag not in ids_of(target): bad.append(href)
    return bad

# ---------------------------------------------------------------------------------------------------------------------
# The tool on small inputs

def test_page_names_are_nbdevs():
    from nbdev.config import nbpath2html
    for name in NBS + ['01_data.labels.ipynb', '90_report.minicity_random.ipynb', '10a_x.ipynb']:
        assert page_name(name) == str(nbpath2html(name)), name

def test_pandoc_ids():
    assert pandoc_id('DACS') == 'dacs'
    assert pandoc_id('AdvEnt.before_batch') == 'advent.before_batch'
    assert pandoc_id('The mean teacher') == 'the-mean-teacher'
    assert pandoc_id('1. Pseudo-labels (and q)!') == 'pseudo-labels-and-q'
    assert pandoc_id('§') == 'section'

def test_cell_options_and_show_doc():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell
    sd = new_output('execute_result', data={'text/markdown': '---\n\n[source](https://x/y.py#L1){target="_blank" style="float:right"}'
                                            '\n\n### AdvEnt.__init__\n\n```python\ndef f(x)\n```', 'text/plain': 'x'})
    nb = new_notebook(cells=[
        new_raw_cell("---\ntitle: 'T: a page'\ndescription: D\noutput-file: t.html\n---\n"),
        new_markdown_cell('See [`DACS`](https://udalearn.github.io/udalearn/dacs.html#dacs) and [r](90_report.x.ipynb).'),
        new_code_cell('#| echo: false\n#| output: asis\nshow_doc(AdvEnt.__init__)', outputs=[sd]),
        new_code_cell('#| echo: false\nprint(1)', outputs=[new_output('stream', name='stdout', text='1\n')]),
        new_code_cell('#| output: false\nx = 1', outputs=[new_output('stream', name='stdout', text='hidden\n')]),
        new_code_cell('#| include: false\nsecret()', outputs=[new_output('stream', name='stdout', text='no\n')]),
        new_code_cell('#| code-fold: true\nfold()'),
        new_code_cell('for i in bar: pass', outputs=[new_output('stream', name='stdout', text='10%\r50%\r100%\n')]),
        new_markdown_cell('::: {.callout-note}\nA note with $x$.\n:::'),
    ])
    p, fm = site_tool.prepare_notebook(nb)
    assert fm == {'title': 'T: a page', 'description': 'D', 'output-file': 't.html'}
    kinds = [(c.cell_type, c.metadata.get('transient', {}).get('remove_source', False)) for c in p.cells]
    assert kinds == [('markdown', False), ('markdown', False), ('code', True), ('code', False), ('code', False),
                     ('code', False), ('markdown', False)]
    doc = p.cells[1]
    assert doc.metadata['show_doc'] and '### AdvEnt.\\_\\_init\\_\\_' in doc.source
    assert '<a href="https://x/y.py#L1" target="_blank" class="source-link">source</a>' in doc.source
    assert [o.text for o in p.cells[2].outputs] == ['1\n']
    assert p.cells[3].outputs == [] and p.cells[3].source == 'x = 1'
    assert p.cells[4].metadata.code_fold == 'true'
    assert p.cells[5].outputs[0].text == '100%\n'                       # a redrawn line shows its last frame
    html, _ = site_tool._exporter().from_notebook_node(p)
    soup, toc = site_tool.polish(html, 'https://udalearn.github.io/udalearn', {'90_report.x.ipynb': 'report.x.html'})
    assert soup.find('h3')['id'] == 'advent.__init__' and toc == [(3, 'advent.__init__', 'AdvEnt.__init__')]
    hrefs = [a['href'] for a in soup.find_all('a') if 'anchor-link' not in a.get('class', [])]
    assert hrefs == ['dacs.html#dacs', 'report.x.html', 'https://x/y.py#L1']
    assert soup.find('details', class_='code-fold') is not None
    assert soup.find('div', class_='callout-note').get_text(strip=True) == 'A note with $x$.'   # MathJax typesets $x$
    assert 'print(1)' not in str(soup) and 'secret' not in str(soup) and 'hidden' not in str(soup)

# ---------------------------------------------------------------------------------------------------------------------
# The whole site, read as files

def test_site_builds_offline_and_fast(built):
    out, report = built
    proc_nbs = sorted(p.name for p in (ROOT/'_proc').glob('*.ipynb'))
    assert sorted(r['notebook'] for r in report['pages'].values()) == proc_nbs
    for page, r in report['pages'].items(): assert page == page_name(r['notebook'])
    assert report['seconds'] < 120, f"the offline site took {report['seconds']} s to build (CI allows 2 minutes)"
    assert not report['broken'] and not report['missing_files'], site_tool.summary(report)
    assert (out/'mathjax'/'MathJax.js').is_file() and (out/'site.css').is_file() and (out/'styles.css').is_file()

def test_sidebar_follows_sidebar_yml(built, soups):
    out, report = built
    want = [page_name(f) for f in site_tool.sidebar_files(site_tool.read_sidebar(ROOT/'nbs'/'sidebar.yml'))]
    for page, soup in soups.items():
        links = soup.select('nav.sidebar li a')
        assert [a['href'] for a in links] == want, page
        active = soup.select('nav.sidebar a.active')
        assert [a['href'] for a in active] == ([page] if page in want else [])
    titles = {r['notebook']: r['title'] for r in report['pages'].values()}
    index_links = {a['href']: a.get_text(strip=True) for a in soups['index.html'].select('nav.sidebar li a')}
    for nb, title in titles.items():
        if page_name(nb) in index_links: assert index_links[page_name(nb)] == title

def test_internal_links_and_nbdev_doc_links_resolve(built, soups):
    out, report = built
    ids = {page: _ids(s) for page, s in soups.items()}
    bad = {page: b for page, s in soups.items() if (b := check_links(page, s, out, ids.__getitem__))}
    assert not bad, f'broken internal links: {bad}'
    url = report['site_url']
    left = {page: [a['href'] for a in s.find_all('a', href=True) if url and a['href'].startswith(url)] for page, s in soups.items()}
    assert not any(left.values()), f'links to the published site left absolute: {left}'
    # every exported function/class: nbdev's doc link (udalearn/_modidx.py) lands on its API heading
    modidx = {}
    exec((ROOT/'udalearn'/'_modidx.py').read_text(), modidx)
    exported = page_hygiene.exported_names(ROOT/'udalearn')
    for mod, syms in modidx['d']['syms'].items():
        for sym, (link, _) in syms.items():
            page, _, frag = link.partition('#')
            if page not in ids or sym[len(mod) + 1:] not in exported.get(page, []): continue
            el = soups[page].find(id=frag)
            assert el is not None and re.match(r'^h[1-6]$', el.name), f'{sym}: {link} is not an API heading'

def test_pages_load_nothing_from_the_network(built, soups):
    out, _ = built
    for page, soup in soups.items():
        for el in soup.find_all(['script', 'img', 'iframe', 'source', 'video', 'audio', 'embed', 'object', 'link']):
            for attr in ('src', 'data', 'href') if el.name != 'a' else ():
                v = el.get(attr)
                if v and _EXTERNAL.match(v) and not v.startswith('data:'): pytest.fail(f'{page}: <{el.name} {attr}="{v}">')
    for css in ['site.css', 'styles.css']:
        assert not re.search(r'@import|url\(\s*["\']?(?:https?:)?//', (out/css).read_text()), css

# ---------------------------------------------------------------------------------------------------------------------
# In Chromium

@pytest.fixture(scope='module')
def server(built):
    with LocalServer(built[0]) as srv: yield srv

@pytest.fixture(scope='module')
def hygiene(built):
    return page_hygiene.measure(ROOT/'_proc', ROOT/'udalearn')

_VISIBLE_MATH = re.compile(r'(?<![\\$])\$[^$\s][^$]*?(?<!\s)\$|\$\$.+?\$\$', re.S)

def unrendered_math(soup):
    "Text outside code that still holds TeX delimiters after MathJax ran"
    out = []
    for t in soup.find_all(string=_VISIBLE_MATH):
        if not t.find_parent(['pre', 'code', 'script', 'style', 'textarea']): out.append(t.strip()[:80])
    return out

@needs_chromium
@pytest.mark.parametrize('page', KEY_PAGES)
def test_key_page_in_chromium(page, built, soups, server, hygiene, tmp_path):
    out, report = built
    if page not in report['pages']: pytest.skip(f'{page}: no processed notebook (run nbdev-proc-nbs)')
    net = tmp_path/'net.json'
    served_before = len(server.requests)
    dom = BeautifulSoup(chromium(f'{server.url}/{page}', dump_dom=True, net_log=net, size=WINDOW), 'html.parser')
    height = dom.html.get('data-rendered-height')
    assert height, f'{page} did not finish rendering (MathJax) within the virtual time budget'
    main = dom.find('main')
    assert len(main.get_text(' ', strip=True)) > 500, f'{page} shows almost no text'

    # nothing off the machine: every request the page made went to the local server, and was answered
    reqs = net_log_requests(net)
    from_page = [r for r in reqs if r['initiator'] not in ('', 'not an origin')]
    assert from_page, f'{page}: no request recorded from the page (the net log format changed?)'
    external = [r['url'] for r in from_page if not r['url'].startswith(server.url + '/')]
    assert not external, f'{page} requested {external}'
    failed = [(p, c) for p, c in server.requests[served_before:] if c not in (200, 304)]
    assert not failed, f'{page}: requests the site could not answer: {failed}'

    # equations: typeset by MathJax, none left as TeX, no TeX errors
    if report['pages'][page]['math']:
        tex = dom.find_all('script', type=re.compile(r'^math/tex'))
        shown = dom.select('span.MathJax, div.MathJax_Display')
        assert tex and len(shown) >= len(tex), f'{page}: {len(tex)} equations, {len(shown)} rendered'
        assert not dom.select('.merror, .noError, .MathJax_Error'), f'{page}: TeX errors'
    assert not unrendered_math(main), f'{page}: TeX not typeset: {unrendered_math(main)[:5]}'

    # figures: every image decodes (embedded PNG) or is a file of the site
    imgs = main.find_all('img')
    assert len(imgs) >= len(report['pages'][page]['images'])
    for img in imgs:
        src = img.get('src', '')
        if src.startswith('data:image/png;base64,'): assert site_tool.png_size(base64.b64decode(src.split(',', 1)[1]))
        else: assert not _EXTERNAL.match(src) and (out/src).is_file(), f'{page}: missing figure {src}'

    # API sections: a heading for each exported function and class of the page
    for name in page_hygiene.exported_names(ROOT/'udalearn').get(page, []):
        h = dom.find(id=pandoc_id(name))
        assert h is not None and re.match(r'^h[1-6]$', h.name), f'{page}: no API section for {name}'

    # links in the rendered page
    ids = {p: _ids(s) for p, s in soups.items()} | {page: _ids(dom)}
    assert not check_links(page, dom, out, ids.__getitem__), f'{page}: broken links {check_links(page, dom, out, ids.__getitem__)}'

    # the height estimate that tests/test_page_hygiene.py judges pages by stays close to the rendered height
    screens = int(height)/WINDOW[1]
    est = hygiene[page]['screens']
    print(f'{page}: {screens:.1f} screens rendered, {est:.1f} estimated')
    assert 0.75 < est/screens < 1.33, f'{page}: estimated {est} screens, rendered {screens:.1f}: recalibrate page_hygiene.PX'

@needs_chromium
def test_site_works_opened_as_files(built):
    "Opened with file:// (no server at all), a page with equations still typesets them with the local MathJax"
    out, report = built
    page = next(p for p in KEY_PAGES if report['pages'].get(p, {}).get('math'))
    dom = BeautifulSoup(chromium((out/page).as_uri(), dump_dom=True), 'html.parser')
    assert dom.html.get('data-rendered-height') and dom.select('span.MathJax, div.MathJax_Display')

@needs_chromium
def test_screenshots(built, tmp_path):
    from PIL import Image
    shot = tmp_path/'index.png'
    site_tool.screenshots(built[0], {'index.html': shot})
    with Image.open(shot) as im: assert im.size == (640, 1000) and len(im.getcolors(256) or []) > 8
