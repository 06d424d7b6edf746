"""Draw the front page's method map: how the methods build on one another (`python tools/method_map.py nbs/images/method_map.png`).

Built methods are filled; a method left out of the optional second argument (a comma list) is drawn dashed as planned."""
import sys, matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch
built = set(sys.argv[2].split(',')) if len(sys.argv) > 2 else {'minent', 'advent', 'clan', 'dacs', 'daformer', 'hrda', 'mic', 'prototypes'}
boxes = {  # name: (x, y, label, page)
    'source': (0.0, 2.0, 'source only\n(supervised)', ''),
    'minent': (2.6, 3.6, 'MinEnt\nentropy', '20_advent'),
    'advent': (5.2, 3.6, 'AdvEnt\nadversarial entropy', '20_advent'),
    'clan': (2.6, 2.6, 'CLAN\ncategory-level adversarial', '21_clan'),
    'dacs': (2.6, 1.2, 'DACS\nEMA teacher + ClassMix', '10_dacs'),
    'daformer': (5.2, 1.2, 'DAFormer\n+ RCS, FD, warm-up', '11_daformer'),
    'hrda': (7.8, 1.2, 'HRDA\nmulti-resolution', '14_hrda'),
    'mic': (10.4, 1.2, 'MIC\nmasked consistency', '13_mic'),
    'prototypes': (5.2, 0.0, 'ProDA, SePiCo\nprototypes', '15_prototypes'),
}
arrows = [('source', 'minent'), ('minent', 'advent'), ('source', 'clan'), ('source', 'dacs'), ('dacs', 'daformer'),
          ('daformer', 'hrda'), ('hrda', 'mic'), ('dacs', 'prototypes')]
W, H = 2.2, 0.75
fig, ax = plt.subplots(figsize=(9.6, 3.3), dpi=100)
for k, (x, y, t, _) in boxes.items():
    done = k in built or k == 'source'
    ax.add_patch(FancyBboxPatch((x, y), W, H, boxstyle='round,pad=0.03', fc='#dbe9f6' if done else 'white',
                                ec='#3b6ea5' if done else '0.55', ls='-' if done else '--', lw=1.3))
    ax.text(x + W/2, y + H/2, t + ('' if done else '\n(planned)'), ha='center', va='center', fontsize=8.5, color='0.1' if done else '0.45')
def edge(a, b):
    (xa, ya, *_), (xb, yb, *_) = boxes[a], boxes[b]
    start = (xa + W, ya + H/2) if abs(ya - yb) < 0.5 or xb > xa + W else (xa + W/2, ya)
    end = (xb, yb + H/2)
    ax.annotate('', end, start, arrowprops=dict(arrowstyle='->', color='0.35', lw=1.1, connectionstyle='arc3,rad=0'))
for a, b in arrows: edge(a, b)
ax.annotate('', (10.4 + W/2, 1.2 + H + 0.02), (5.2 + W/2, 1.2 + H + 0.02),
            arrowprops=dict(arrowstyle='->', color='0.55', lw=1, ls=':', connectionstyle='arc3,rad=-0.25'))
ax.text(7.8 + W/2, 2.62, 'MIC also adds up with DACS and DAFormer', ha='center', fontsize=7.5, color='0.4')
ax.set_xlim(-0.2, 12.8); ax.set_ylim(-0.2, 4.5); ax.axis('off'); fig.tight_layout()
fig.savefig(sys.argv[1], dpi=100)
