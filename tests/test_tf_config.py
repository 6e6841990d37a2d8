"""graphnet.distributed.tf_config: TF_CONFIG read, checked and mapped."""

import json

import pytest

from graphnet import errors
from graphnet.distributed import tf_config

_CLUSTER = {
  'chief': ['127.0.0.1:2000'],
  'worker': ['127.0.0.1:2001', '127.0.0.1:2002'],
  'ps': ['127.0.0.1:2003'],
}


def _parse(task_type, index=0, cluster=_CLUSTER):
  return tf_config.parse(
    json.dumps(
      {'cluster': cluster, 'task': {'type': task_type, 'index': index}}
    )
  )


class TestParse:
  def test_unset_or_empty_is_no_cluster(self):
    for environ in ({}, {'TF_CONFIG': ''}, {'TF_CONFIG': '  '}):
      config = tf_config.parse(environ=environ)
      assert not config.is_distributed
      assert config.is_chief
      assert config.cluster_config() is None

  def test_reads_the_environment(self):
    text = json.dumps({'cluster': _CLUSTER, 'task': {'type': 'ps'}})
    config = tf_config.parse(environ={'TF_CONFIG': text})
    assert config.task_type == 'ps' and config.task_index == 0
    assert config.address == '127.0.0.1:2003'

  def test_chief_is_worker_zero_and_workers_follow(self):
    chief = _parse('chief').cluster_config()
    assert chief.job_name == 'worker' and chief.task_index == 0
    assert chief.is_chief
    assert chief.worker_hosts == (
      '127.0.0.1:2000',
      '127.0.0.1:2001',
      '127.0.0.1:2002',
    )
    worker = _parse('worker', 1).cluster_config()
    assert (worker.job_name, worker.task_index) == ('worker', 2)
    assert worker.address == '127.0.0.1:2002'
    ps = _parse('ps').cluster_config(ps_timeout_secs=5.0)
    assert (ps.job_name, ps.ps_hosts, ps.ps_timeout_secs) == (
      'ps',
      ('127.0.0.1:2003',),
      5.0,
    )

  def test_evaluator_is_outside_the_grpc_cluster(self):
    config = _parse('evaluator')
    assert config.is_distributed and not config.is_chief
    assert config.cluster_config() is None
    assert config.num_workers == 3 and config.num_ps == 1

  def test_master_is_the_old_name_of_chief(self):
    config = _parse('master', cluster={'master': ['h:1'], 'ps': ['h:2']})
    assert config.task_type == 'chief' and config.is_chief


@pytest.mark.parametrize(
  'text, names',
  [
    ('{not json', 'TF_CONFIG is not valid JSON'),
    ('[1]', 'TF_CONFIG must be a JSON object'),
    (
      json.dumps({'cluster': {'worker': ['h:1']}, 'task': {'type': 'worker'}}),
      'TF_CONFIG: cluster has no "chief" task',
    ),
    (
      json.dumps({'cluster': {'chief': ['h:1', 'h:2']}}),
      'TF_CONFIG: cluster.chief must list one task',
    ),
    (
      json.dumps({'cluster': {'chief': ['h:1'], 'gpu': ['h:2']}}),
      "TF_CONFIG: cluster has an unknown job 'gpu'",
    ),
    (
      json.dumps({'cluster': {'chief': ['h1']}, 'task': {'type': 'chief'}}),
      'TF_CONFIG: cluster.chief[0] must be a "host:port"',
    ),
    (
      json.dumps({'cluster': _CLUSTER}),
      'TF_CONFIG: task is missing',
    ),
    (
      json.dumps({'cluster': _CLUSTER, 'task': {'type': 'boss'}}),
      'TF_CONFIG: task.type must be one of',
    ),
    (
      json.dumps({'cluster': _CLUSTER, 'task': {'type': 'worker', 'index': 2}}),
      'TF_CONFIG: task.index 2 is out of range: cluster.worker lists 2',
    ),
    (
      json.dumps({'cluster': _CLUSTER, 'task': {'type': 'ps', 'index': -1}}),
      'TF_CONFIG: task.index must be an integer >= 0',
    ),
    (
      json.dumps(
        {
          'cluster': {'chief': ['h:1'], 'ps': ['h:1']},
          'task': {'type': 'chief'},
        }
      ),
      'TF_CONFIG: cluster.ps[0] h:1 is also cluster.chief[0]',
    ),
  ],
)
def test_errors_name_the_variable_and_field(text, names):
  with pytest.raises(errors.ClusterError) as caught:
    tf_config.parse(text)
  assert str(caught.value).startswith(names), str(caught.value)
