"""`python -m graphnet.fully_connected_feed` reads TF_CONFIG beside its flags.

Parsed in this process with the entry point's real flags (absl runs the
same validators as under app.run); the loopback clusters described by
TF_CONFIG alone are in tests/test_distributed.py.
"""

import json

import pytest
from absl import app
from absl import flags

from graphnet import fully_connected_feed
from graphnet.cli import train_flags

_CHIEF, _WORKER, _PS, _EVAL = (
  f'127.0.0.1:{p}' for p in (2300, 2301, 2302, 2303)
)


def _tf_config(task_type, index=0, evaluator=False):
  cluster = {'chief': [_CHIEF], 'worker': [_WORKER], 'ps': [_PS]}
  if evaluator:
    cluster['evaluator'] = [_EVAL]
  return json.dumps(
    {'cluster': cluster, 'task': {'type': task_type, 'index': index}}
  )


@pytest.fixture
def parse(monkeypatch):
  """parse(argv, tf_config) -> TrainConfig of the real flags."""

  def parse(argv, tf_config=None):
    if tf_config is None:
      monkeypatch.delenv('TF_CONFIG', raising=False)
    else:
      monkeypatch.setenv('TF_CONFIG', tf_config)
    flags.FLAGS.unparse_flags()
    flags.FLAGS(['prog', *argv])
    return fully_connected_feed.config_from_flags()

  yield parse
  flags.FLAGS.unparse_flags()


def _flags(job, index):
  return [
    f'--ps_hosts={_PS}',
    f'--worker_hosts={_CHIEF},{_WORKER}',
    f'--job_name={job}',
    f'--task_index={index}',
  ]


@pytest.mark.parametrize(
  'task_type, index, job, worker_index',
  [('chief', 0, 'worker', 0), ('worker', 0, 'worker', 1), ('ps', 0, 'ps', 0)],
)
def test_tf_config_alone_describes_the_cluster(
  parse, task_type, index, job, worker_index
):
  cluster = parse(['--sync_replicas'], _tf_config(task_type, index)).cluster
  assert cluster.ps_hosts == (_PS,)
  # The chief is worker 0, TF_CONFIG's worker i is worker i + 1.
  assert cluster.worker_hosts == (_CHIEF, _WORKER)
  assert (cluster.job_name, cluster.task_index) == (job, worker_index)
  assert cluster.sync_replicas and not cluster.has_evaluator
  assert not train_flags.is_evaluator()


def test_flags_that_agree_with_tf_config_win(parse):
  cluster = parse(_flags('worker', 1), _tf_config('worker', 0)).cluster
  assert (cluster.job_name, cluster.task_index) == ('worker', 1)


def test_flags_alone_still_work(parse):
  cluster = parse(_flags('ps', 0)).cluster
  assert (cluster.job_name, cluster.ps_hosts) == ('ps', (_PS,))
  assert parse([]).cluster is None


@pytest.mark.parametrize(
  'argv, tf_config',
  [
    # Another task.
    (_flags('worker', 0), _tf_config('worker', 0)),
    (_flags('ps', 0), _tf_config('chief')),
    # Another cluster.
    (
      ['--ps_hosts=127.0.0.1:9', f'--worker_hosts={_CHIEF},{_WORKER}']
      + ['--job_name=worker', '--task_index=0'],
      _tf_config('chief'),
    ),
    # Flags of a training task, TF_CONFIG of the evaluator.
    (_flags('worker', 0), _tf_config('evaluator')),
  ],
)
def test_a_conflict_is_a_usage_error_naming_both(parse, argv, tf_config):
  with pytest.raises(app.UsageError) as raised:
    parse(argv, tf_config)
  message = str(raised.value)
  assert '--job_name' in message and '--task_index' in message, message
  assert 'TF_CONFIG says' in message, message


def test_evaluator_flag_against_a_training_task_is_refused(parse):
  with pytest.raises(app.UsageError, match='--job_name evaluator.*TF_CONFIG'):
    parse(['--job_name=evaluator'], _tf_config('worker', 0))


def test_a_malformed_tf_config_is_a_usage_error_naming_it(parse):
  with pytest.raises(app.UsageError, match='TF_CONFIG: task.index'):
    parse([], _tf_config('worker', 3))
  with pytest.raises(app.UsageError, match='TF_CONFIG is not valid JSON'):
    parse([], '{"cluster": ')


def test_the_evaluator_task_and_a_chief_that_leaves_evaluation_to_it(parse):
  config = parse([], _tf_config('evaluator', evaluator=True))
  assert config.cluster is None and train_flags.is_evaluator()
  config = parse([], _tf_config('chief', evaluator=True))
  assert config.cluster.is_chief and config.cluster.has_evaluator
  config = parse(['--job_name=evaluator'])
  assert config.cluster is None and train_flags.is_evaluator()
