"""Partitioned variables save whole: round trips with unpartitioned graphs.

In-process graphs (no servers): the parts of a variable split as a
cluster splits it (`cluster.partitioner`) are saved as one whole tensor
(`partitioned.whole_var_list`), which a plain graph restores, and the other
way round; freezing a partitioned `.meta` (what `Predictor` does) cuts
each part from the whole. Cluster runs: tests/test_distributed.py (slow).
"""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet.checkpoints import contents
from graphnet.distributed import cluster as cluster_lib
from graphnet.distributed import partitioned
from graphnet.serving import bundle_index
from graphnet.serving import freezing

tf.disable_eager_execution()

_SHAPE = (784, 128)


def _two_ps():
  return cluster_lib.ClusterConfig(
    ps_hosts=('127.0.0.1:2400', '127.0.0.1:2401'),
    worker_hosts=('127.0.0.1:2402',),
    partition_min_bytes=64 * 1024,
  )


def _build(partitioner, momentum=True):
  """images [N, 784] float32 -> 'logits' [N, 128]; returns (vars, saver)."""
  global_step = tf.train.get_or_create_global_step()
  with tf.variable_scope('', partitioner=partitioner):
    weights = tf.get_variable(
      'hidden1/weights', _SHAPE, initializer=tf.random_normal_initializer()
    )
    biases = tf.get_variable(
      'hidden1/biases', [128], initializer=tf.ones_initializer()
    )
  images = tf.placeholder(tf.float32, [None, 784], name='images')
  logits = tf.add(tf.matmul(images, weights), biases, name='logits')
  train = None
  if momentum:
    train = tf.train.MomentumOptimizer(0.1, 0.9).minimize(
      tf.reduce_sum(logits), global_step=global_step
    )
  saver = tf.train.Saver(
    var_list=partitioned.whole_var_list(tf.global_variables())
  )
  return logits, train, saver


def _var(name):
  (var,) = [v for v in tf.global_variables() if v.op.name == name]
  return var


def test_the_partitioner_splits_large_variables_only():
  assert cluster_lib.partitioner(None) is None
  one_ps = cluster_lib.ClusterConfig(
    ps_hosts=('127.0.0.1:2400',), worker_hosts=('127.0.0.1:2402',)
  )
  assert cluster_lib.partitioner(one_ps) is None
  with tf.Graph().as_default():
    _build(cluster_lib.partitioner(_two_ps()))
    names = sorted(v.op.name for v in tf.trainable_variables())
  # A small variable is one part (TF's partitioned variables are).
  assert names == [
    'hidden1/biases/part_0',
    'hidden1/weights/part_0',
    'hidden1/weights/part_1',
  ]


@pytest.fixture(scope='module')
def partitioned_checkpoint(tmp_path_factory):
  """A checkpoint of the partitioned graph after one momentum step."""
  directory = tmp_path_factory.mktemp('partitioned')
  batch = np.random.RandomState(0).rand(3, 784).astype(np.float32)
  with tf.Graph().as_default(), tf.Session() as session:
    logits, train, saver = _build(cluster_lib.partitioner(_two_ps()))
    session.run(tf.global_variables_initializer())
    session.run(train, {'images:0': batch})
    expected = session.run(logits, {'images:0': batch})
    prefix = saver.save(session, str(directory / 'model.ckpt'), global_step=1)
  return prefix, batch, expected


def test_saved_whole_under_the_full_name(partitioned_checkpoint):
  prefix, _, _ = partitioned_checkpoint
  shapes = contents.variable_shapes(prefix)
  assert list(shapes['hidden1/weights']) == list(_SHAPE)
  # The optimizer's slots of the parts are saved whole too.
  assert list(shapes['hidden1/weights/Momentum']) == list(_SHAPE)
  assert not any('part_' in name for name in shapes)
  # What Predictor's untrusted-file check accepts: no sliced entries.
  bundle_index.check_checkpoint(prefix)


def test_a_plain_graph_restores_it_and_a_partitioned_one_restores_that(
  partitioned_checkpoint, tmp_path
):
  prefix, batch, expected = partitioned_checkpoint
  with tf.Graph().as_default(), tf.Session() as session:
    logits, _, saver = _build(None)
    saver.restore(session, prefix)
    np.testing.assert_allclose(
      session.run(logits, {'images:0': batch}), expected, rtol=1e-6
    )
    momentum = session.run(_var('hidden1/weights/Momentum'))
    plain = saver.save(session, str(tmp_path / 'plain.ckpt'))
  assert np.abs(momentum).sum() > 0
  with tf.Graph().as_default(), tf.Session() as session:
    logits, _, saver = _build(cluster_lib.partitioner(_two_ps()))
    contents.check_compatible(plain, tf.global_variables())
    saver.restore(session, plain)
    np.testing.assert_allclose(
      session.run(logits, {'images:0': batch}), expected, rtol=1e-6
    )
    parts = [
      session.run(_var(f'hidden1/weights/part_{i}/Momentum')) for i in range(2)
    ]
  np.testing.assert_array_equal(np.concatenate(parts), momentum)


def test_freezing_the_partitioned_meta_cuts_each_part_from_the_whole(
  partitioned_checkpoint,
):
  prefix, batch, expected = partitioned_checkpoint
  graph_def = tf.GraphDef()
  meta = tf.MetaGraphDef()
  with open(prefix + '.meta', 'rb') as f:
    meta.ParseFromString(f.read())
  graph_def.CopyFrom(meta.graph_def)
  # The inference subgraph, as Predictor prunes it.
  pruned = tf.graph_util.extract_sub_graph(graph_def, ['logits'])
  frozen = freezing._freeze(pruned, prefix)
  assert not [n.name for n in frozen.node if n.op == 'VarHandleOp']
  with tf.Graph().as_default() as graph:
    tf.import_graph_def(frozen, name='')
    with tf.Session(graph=graph) as session:
      got = session.run('logits:0', {'images:0': batch})
  np.testing.assert_allclose(got, expected, rtol=1e-6)
