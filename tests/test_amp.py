"Mixed precision covers every forward pass a method makes — the model's, the teacher's, the mixed images', the feature-distance reference's, the target passes and the discriminators' own steps — however the method's callbacks were added."
import pytest, torch, torch.nn as nn
from fastai.callback.core import Callback

TINY = dict(model='daformer:mit_b0:segformer:16', pretrained=None, iters=2, bs=1, crop=(32, 32), source_scale=(80, 45), target_scale=(64, 32),
            eval_every=2, ckpt_every=2, workers=0, amp='bf16')

class DtypeProbe(Callback):
    "Forward hooks on every conv and linear layer of the model and of each module a method owns, recording the dtype of what they output."
    order = 100                                       # after the methods' `before_fit` made their teachers and discriminators
    def __init__(self): self.seen, self.hooks = {}, []
    def owners(self) -> dict:
        found = {'model': self.learn.model}
        for cb in self.learn.cbs:
            for attr in ('teacher', 'reference', 'disc'):
                m = getattr(cb, attr, None)
                if isinstance(m, nn.Module): found[f'{cb.name}.{attr}'] = m
        return found
    def before_fit(self):
        for owner, mod in self.owners().items():
            for name, m in mod.named_modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    self.hooks.append(m.register_forward_hook(lambda m, i, o, k=(owner, name): self.seen.setdefault(k, []).append(o.dtype)))
    def after_fit(self):
        for h in self.hooks: h.remove()

def tiny_learner(minicity_root, method, via):
    "A learner for `method` whose callbacks come from the method registry, added after construction (`add_cb`, as the CLI does) or passed to the constructor (`cbs=`)."
    from dataclasses import replace
    from udalearn.data.datasets import prepare, STATS_FILES
    from udalearn.experiment import minicity_config, make_learner, get_method, UDALearner
    for name in ('gta', 'cityscapes'):
        if not (minicity_root/name/STATS_FILES[0]).exists(): prepare(minicity_root/name, name, n_workers=1, progress=False)
    cfg = minicity_config(minicity_root, method=method, **TINY)
    learn = make_learner(cfg, amp_cpu=True)             # the CLI's route: method callbacks added with `add_cb`
    if via == 'cbs':                                     # the Python route: the same callbacks given to the constructor
        cbs = [cb for cb in learn.cbs if type(cb).__module__.startswith('udalearn.') and type(cb).__module__ not in ('udalearn.learner', 'udalearn.experiment')]
        learn = UDALearner(learn.dls, learn.model, recipe=learn.recipe, loss_func=learn.loss_func, cbs=cbs, amp='bf16', amp_cpu=True)
        learn.timer, learn.config = None, cfg
    return learn

EXPECTED = dict(dacs={'model', 'dacs.teacher'}, daformer={'model', 'dacs.teacher', 'feature_distance.reference'},
                advent={'model', 'adv_ent.disc'}, clan={'model', 'clan.disc'})

@pytest.mark.parametrize('via', ['add_cb', 'cbs'])
@pytest.mark.parametrize('method', list(EXPECTED))
def test_every_forward_pass_runs_in_bf16(minicity_root, method, via):
    learn = tiny_learner(minicity_root, method, via)
    probe = DtypeProbe()
    with learn.no_bar(), learn.no_logging(): learn.fit_iters(2, cbs=probe)
    assert {k for k, _ in probe.seen} == EXPECTED[method]              # every module of the method ran
    fp32 = {k: set(v) for k, v in probe.seen.items() if set(v) != {torch.bfloat16}}
    assert not fp32, f'layers outside autocast: {fp32}'
    first = next(iter(k for k in probe.seen if k[0] == 'model'))      # the model's first layer: one call per forward pass
    n_train = {'dacs': 2, 'daformer': 2, 'advent': 2, 'clan': 2}[method]   # source + mixed image; source + target
    assert len(probe.seen[first]) >= 2*n_train                        # both training iterations, every pass of each
    if method in ('advent', 'clan'):                                  # the discriminator's own step (in `after_step`) too
        d = [k for k in probe.seen if k[0].endswith('.disc')][0]
        assert len(probe.seen[d]) >= 2*2

def test_fp16_scales_the_model_and_discriminator_gradients(minicity_root):
    "fp16 needs a gradient scaler per optimiser (the model's, the discriminators'); training stays finite and the scalers are checkpointed."
    from dataclasses import replace
    learn = tiny_learner(minicity_root, 'advent', 'add_cb')
    from udalearn.experiment import make_learner
    learn = make_learner(replace(learn.config, amp='fp16'), amp_cpu=True)
    assert learn.amp_dtype == torch.float16 and learn.scaler is not None
    with learn.no_bar(), learn.no_logging(): learn.fit_iters(2)
    assert learn.adv_ent.disc.scaler is not None and learn.adv_ent.disc.scaler is not learn.scaler
    assert all(torch.isfinite(torch.tensor(v)) for r in learn.loss_log for k, v in r.items() if k != 'it')
    assert learn.scaler._scale is not None                             # it scaled a backward pass

def test_cpu_default_stays_fp32(minicity_root, capsys):
    from udalearn.experiment import make_learner, minicity_config
    learn = make_learner(minicity_config(minicity_root, **TINY))
    assert learn.amp_dtype is None and learn.scaler is None
    assert 'ignored' in capsys.readouterr().out
