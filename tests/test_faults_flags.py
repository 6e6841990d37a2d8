"""Fault injection: invalid values for every flag of every entry point.

Bad cases are generated from each entry point's own flag definitions (wrong
type for every number, values past every declared bound, unknown enum
choices, non-boolean booleans, an unknown flag) plus the values its custom
validators refuse. One subprocess per entry point parses them all the way
absl does under `app.run` and reads the config; each must be refused with
absl's flag error or usage error (anything else is a crash, not a refusal)
naming the flag, with no graph op built and no file written. Two real
command lines check the exit code, the message and the absence of a
traceback end to end.
"""

import json
import os

import pytest

import _helpers

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Arguments that make the entry point's required flags valid; the bad case
# follows them (a repeated flag: the last value wins).
_ENTRY_POINTS = {
  'fully_connected_feed': ([], 'config_from_flags()'),
  'mnist_eval': ([], 'read_flags()'),
  'predict': (
    ['--checkpoint', '{tmp}/model.ckpt-1'],
    "config_from_flags(['p'])",
  ),
  'export': (
    ['--checkpoint', '{tmp}/model.ckpt-1', '--frozen_graph', '{tmp}/f.pb'],
    'config_from_flags()',
  ),
}

# Values the custom validators (not the flag types) must refuse.
_EXTRA = {
  'fully_connected_feed': [
    (['--learning_rate', '0'], 'learning_rate'),
    (['--learning_rate', 'nan'], 'learning_rate'),
    (['--keep_prob', '0'], 'keep_prob'),
    (['--decay_rate', '0'], 'decay_rate'),
    (['--moving_average_decay', '-0.1'], 'moving_average_decay'),
    (['--lr_values', ''], 'lr_values'),
    (['--lr_values', '0.1,x'], 'lr_values'),
    (['--lr_boundaries', '5,5', '--lr_values', '1,2,3'], 'lr_boundaries'),
    (['--hidden1', '0', '--hidden2', '3'], 'hidden2'),
    (['--steps_per_run', '0'], 'steps_per_run'),
    (['--eval_sets', 'test,nope'], 'eval_sets'),
    # Refused by the config, after the flags passed absl's checks.
    (['--preset', 'softmax', '--hidden2', '3'], 'hidden2'),
    (['unexpected_positional'], 'Unexpected'),
  ],
  'mnist_eval': [
    (['--eval_interval_secs', '0'], 'eval_interval_secs'),
    (['--eval_interval_secs', '-1'], 'eval_interval_secs'),
  ],
  'predict': [
    (['--idx', '{tmp}/missing.gz'], 'idx'),
    (['--checkpoint_dir', '{tmp}/missing'], 'checkpoint'),
    (['--labels', '{tmp}/missing.gz'], 'labels'),
  ],
  'export': [
    (['--frozen_graph', '{tmp}/missing/f.pb'], 'frozen_graph'),
    (['--saved_model_dir', '{tmp}'], 'saved_model_dir'),
    (['--checkpoint_dir', '{tmp}/missing'], 'checkpoint'),
  ],
}

# Runs in a fresh interpreter: builds the cases from the module's flags,
# parses each like app.run, then reads the config; prints one JSON line.
_SCRIPT = r"""
import importlib, json, math, os, sys, traceback
from absl import app
from absl import flags
module_name, base, extra, config_call, tmp = json.loads(sys.argv[1])
module = importlib.import_module('graphnet.' + module_name)
FLAGS = flags.FLAGS
ours = []
for owner, defined in FLAGS.flags_by_module_dict().items():
  if owner.startswith('graphnet'):
    ours += [f for f in defined if f not in ours]
cases = []
for flag in ours:
  parser, name = flag.parser, flag.name
  kind = type(parser).__name__
  if kind in ('IntegerParser', 'FloatParser'):
    cases.append((['--%s=not_a_number' % name], name))
    if kind == 'IntegerParser':
      cases.append((['--%s=1.5' % name], name))
    if parser.lower_bound is not None:
      cases.append((['--%s=%s' % (name, parser.lower_bound - 1)], name))
    if parser.upper_bound is not None:
      cases.append((['--%s=%s' % (name, parser.upper_bound + 1)], name))
  elif kind in ('EnumParser', 'EnumClassParser'):
    cases.append((['--%s=no_such_choice' % name], name))
  elif kind == 'BooleanParser':
    cases.append((['--%s=maybe' % name], name))
cases.append((['--no_such_flag=1'], 'no_such_flag'))
cases += [(argv, named) for argv, named in extra]
before = sorted(os.listdir(tmp))
results = []
for argv, named in cases:
  argv = [a.replace('{tmp}', tmp) for a in argv]
  FLAGS.unparse_flags()
  try:
    rest = FLAGS(['prog'] + base + argv)
    if len(rest) > 1:
      raise app.UsageError('Unexpected arguments: %s' % rest[1:])
    eval('module.' + config_call)
    results.append([argv, named, 'ACCEPTED'])
  except (flags.Error, app.UsageError) as e:
    results.append([argv, named, type(e).__name__ + ': ' + str(e)])
  except Exception:
    results.append([argv, named, 'CRASH ' + traceback.format_exc()])
tf = sys.modules.get('tensorflow.compat.v1')
ops = len(tf.get_default_graph().get_operations()) if tf else 0
print(json.dumps({'results': results, 'ops': ops,
                  'files_same': sorted(os.listdir(tmp)) == before}))
"""


def _record(tried, rejected):
  _helpers.record_stats('flags', {'tried': tried, 'rejected': rejected})


@pytest.mark.parametrize('entry_point', sorted(_ENTRY_POINTS))
def test_every_bad_flag_value_is_refused_before_any_work(tmp_path, entry_point):
  base, call = _ENTRY_POINTS[entry_point]
  base = [a.replace('{tmp}', str(tmp_path)) for a in base]
  payload = json.dumps(
    [entry_point, base, _EXTRA[entry_point], call, str(tmp_path)]
  )
  # cwd is tmp_path (to see stray files), so graphnet comes from _REPO.
  env = dict(os.environ, TEST_TMPDIR=str(tmp_path / 'root'), PYTHONPATH=_REPO)
  done = _helpers.run_python(
    '-c', _SCRIPT, payload, env=env, timeout=300, cwd=tmp_path
  )
  assert done.returncode == 0, done.stderr[-3000:]
  report = json.loads(done.stdout.strip().splitlines()[-1])
  results = report['results']
  assert len(results) >= 5  # The enumeration found the flags.
  refused = [r for r in results if r[2] != 'ACCEPTED']
  _record(len(results), len(refused))
  for argv, named, outcome in results:
    assert outcome != 'ACCEPTED', argv
    assert not outcome.startswith('CRASH'), (argv, outcome)
    assert named in outcome, (argv, outcome)
  assert 'Traceback' not in done.stderr, done.stderr[-3000:]
  assert report['ops'] == 0
  assert report['files_same']
  assert not (tmp_path / 'root').exists()


@pytest.mark.parametrize(
  'module, argv, named',
  [
    ('mnist_eval', ['--eval_interval_secs', '-2'], 'eval_interval_secs'),
    ('fully_connected_feed', ['--keep_checkpoint_max', '0'], 'keep_checkpoint'),
  ],
)
def test_cli_bad_flag_exits_nonzero_and_writes_nothing(
  tmp_path, module, argv, named
):
  # cwd is tmp_path (to see stray files), so graphnet comes from _REPO.
  env = dict(os.environ, TEST_TMPDIR=str(tmp_path / 'root'), PYTHONPATH=_REPO)
  done = _helpers.run_python(
    '-m', f'graphnet.{module}', *argv, env=env, timeout=300, cwd=tmp_path
  )
  # absl's app.run: a flag error or usage error exits 1 with its message.
  assert done.returncode == 1, done.stderr[-3000:]
  assert 'Flags parsing error' in done.stderr, done.stderr[-3000:]
  assert named in done.stderr
  assert 'Traceback' not in done.stderr
  assert sorted(os.listdir(tmp_path)) == []
