"Run folders as a newcomer meets them: a finished run resumed, nothing to train, a folder that holds another run, a failed start, damaged weights and configs, a log file during training."
import json, shutil
import pytest
from conftest import run_cli
from test_train_cli import TINY
from run_cleanup import no_weights_left, drop_weights   # the weights written by these tests are deleted after each test

@pytest.fixture(scope='module')
def finished(minicity_root, tmp_path_factory):
    out = tmp_path_factory.mktemp('runs')/'src'
    r = run_cli('train', '--root', minicity_root, '--out', out, *TINY)
    assert r.returncode == 0, r.stderr
    yield out, r
    drop_weights(out)

def one_line_error(r, *words):
    "Exit 2 with one `udalearn ...: error:` line naming `words`, and no traceback."
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('udalearn ') and 'Traceback' not in r.stderr, r.stderr
    for w in words: assert str(w) in lines[0], (w, lines[0])

def test_a_finished_run_resumed_reports_its_results(finished, minicity_root):
    out, first = finished
    mtime = (out/'model.pth').stat().st_mtime
    r = run_cli('train', '--root', minicity_root, '--out', out, '--resume', *TINY)
    assert r.returncode == 0, r.stderr
    miou = json.loads((out/'results.json').read_text())['miou19']
    assert f'mIoU19 {miou:.2f}' in r.stdout and f'mIoU19 {miou:.2f}' in first.stdout
    assert (out/'model.pth').stat().st_mtime == mtime                      # nothing trained or rewritten

@pytest.mark.parametrize('opt,val', [('--iters', '0'), ('--iters', '-5'), ('--bs', '0')])
def test_nothing_to_train_is_refused_up_front(minicity_root, tmp_path, opt, val):
    r = run_cli('train', '--root', minicity_root, '--out', tmp_path/'r', *TINY, opt, val)
    one_line_error(r, opt, val)
    assert not (tmp_path/'r').exists()

def test_a_folder_holding_another_run_is_refused_unless_overwritten(finished, minicity_root, tmp_path):
    out = tmp_path/'src'; shutil.copytree(finished[0], out)
    r = run_cli('train', '--root', minicity_root, '--out', out, '--method', 'minent', *TINY)
    one_line_error(r, out, '--resume', '--overwrite')
    assert json.loads((out/'config.json').read_text())['method'] == 'source_only'   # untouched
    (out/'checkpoints'/'it_0000099.pth').write_bytes(b'an old run\'s checkpoint')
    r = run_cli('train', '--root', minicity_root, '--out', out, '--method', 'minent', '--overwrite', *TINY)
    assert r.returncode == 0, r.stderr
    assert json.loads((out/'results.json').read_text())['method'] == 'minent'
    assert sorted(p.name for p in (out/'checkpoints').iterdir()) == ['it_0000003.pth', 'it_0000006.pth']   # none of the old run's

def test_a_failed_start_leaves_no_folder(minicity_root, tmp_path):
    r = run_cli('train', '--root', minicity_root, '--out', tmp_path/'r', *TINY, '--pretrained', tmp_path/'missing.pth')
    assert r.returncode == 2 and 'Traceback' not in r.stderr, r.stderr
    assert not (tmp_path/'r').exists()

def test_missing_weights_are_explained_in_options(minicity_root, tmp_path):
    r = run_cli('train', '--root', minicity_root, '--out', tmp_path/'r', *TINY, '--pretrained', tmp_path/'missing.pth')
    one_line_error(r, 'missing.pth')
    assert 'pretrained=None' not in r.stderr

def damage(run, how):
    if how == 'garbage weights': (run/'model.pth').write_bytes(b'\x00not a torch file' * 10)
    elif how == 'truncated weights': (run/'model.pth').write_bytes((run/'model.pth').read_bytes()[:5000])
    elif how == 'weights of another model':
        import torch; torch.save({'conv.weight': torch.zeros(1)}, run/'model.pth')
    elif how == 'malformed config': (run/'config.json').write_text('{"method": "source_only",')
    elif how == 'outdated config':
        c = json.loads((run/'config.json').read_text()); c['backbone_lr'] = 1; (run/'config.json').write_text(json.dumps(c))
    return run/('config.json' if 'config' in how else 'model.pth')

@pytest.mark.parametrize('how', ['garbage weights', 'truncated weights', 'weights of another model', 'malformed config', 'outdated config'])
def test_eval_of_a_damaged_run_is_one_line(finished, tmp_path, how):
    run = tmp_path/'run'; shutil.copytree(finished[0], run, ignore=shutil.ignore_patterns('checkpoints'))
    bad = damage(run, how)
    one_line_error(run_cli('eval', run, '--workers', '0'), bad.name)

def test_eval_of_a_missing_path_names_it(tmp_path):
    one_line_error(run_cli('eval', tmp_path/'no_such_run'), tmp_path/'no_such_run')

def test_training_into_a_log_file_prints_progress(finished):
    out = finished[1].stdout                                               # captured: not a terminal
    assert 'iteration 1/6' in out and 's/it' in out and 'min left' in out   # progress lines between the evaluations
    assert 'iteration 3/6  train_loss' in out                              # the evaluation row, with its names
