"""Tests of graphnet.graph_safety and its use by Predictor and the CLI."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.checkpoints import state as checkpoints
from graphnet.serving import graph_safety
from graphnet.serving import predictor
from graphnet.training import config
from graphnet.training import schedules

import _helpers

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _save_contract_graph(directory, extra=None):
  """Saves a tiny graph with the graphnet tensor contract plus `extra`.

  Args:
    directory: where `model.ckpt` and its .meta go.
    extra: function called inside the graph to add more ops.

  Returns:
    the checkpoint prefix.
  """
  graph = tf.Graph()
  with graph.as_default():
    images = tf.placeholder(tf.float32, [None, 784], 'images')
    weights = tf.get_variable('w', [784, 10])
    logits = tf.identity(tf.matmul(images, weights), name='logits')
    tf.nn.softmax(logits, name='probabilities')
    tf.argmax(logits, 1, name='predictions')
    if extra:
      extra()
    saver = tf.train.Saver()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      return saver.save(sess, os.path.join(directory, 'model.ckpt'))


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  """Checkpoint prefixes of short fake-data runs, one per recipe."""
  root = tmp_path_factory.mktemp('trained')
  recipes = {
    'sgd': {},
    'momentum_ema_l2': dict(
      optimizer='momentum',
      moving_average_decay=0.99,
      schedule=schedules.Schedule(kind='exponential'),
      model=config.ModelConfig(regularization_rate=1e-4),
    ),
    'adam': dict(optimizer='adam'),
    'adagrad': dict(optimizer='adagrad'),
    'rmsprop': dict(
      optimizer='rmsprop', schedule=schedules.Schedule(kind='piecewise')
    ),
  }
  prefixes = {}
  for name, kwargs in recipes.items():
    log_dir = str(root / name)
    _helpers.train_fake(
      log_dir,
      input_data_dir=str(root / 'data'),
      max_steps=2,
      eval_every=2,
      log_every=2,
      seed=1,
      **kwargs,
    )
    prefixes[name] = checkpoints.latest_checkpoint(log_dir)
  return prefixes


@pytest.fixture
def write_file_checkpoint(tmp_path):
  """(prefix, target): restoring the checkpoint would write `target`."""
  target = tmp_path / 'pwned.txt'

  def extra():
    tf.io.write_file(str(target), 'pwned', name='pwn')

  prefix = _save_contract_graph(str(tmp_path), extra)
  meta = _helpers.read_meta(prefix)
  # Wire the write into the restore op, as a hostile file would.
  _helpers.graph_node(meta, 'save/restore_all').input.append('^pwn')
  _helpers.write_meta(prefix, meta)
  return prefix, target


class TestTrainerGraphs:
  @pytest.mark.parametrize(
    'name', ['sgd', 'momentum_ema_l2', 'adam', 'adagrad', 'rmsprop']
  )
  def test_accepts_every_trainer_graph(self, trained, name):
    graph_safety.inference_graph_def(_helpers.read_meta(trained[name]))

  def test_accepts_contract_graph(self, tmp_path):
    prefix = _save_contract_graph(str(tmp_path))
    graph_safety.inference_graph_def(_helpers.read_meta(prefix))


class TestRefusals:
  def test_write_file_refused_before_anything_runs(self, write_file_checkpoint):
    prefix, target = write_file_checkpoint
    with pytest.raises(errors.UnsafeGraphError) as info:
      predictor.Predictor.from_checkpoint(prefix)
    message = str(info.value)
    assert 'WriteFile' in message
    assert "'pwn'" in message
    assert 'allow_unsafe=True' in message
    assert not target.exists()

  def test_allow_unsafe_loads(self, write_file_checkpoint):
    prefix, target = write_file_checkpoint
    with predictor.Predictor.from_checkpoint(prefix, allow_unsafe=True) as p:
      assert p.predict(np.zeros([2, 784], np.float32)).shape == (2,)
    # The danger the check prevents: restoring ran the hostile op.
    assert target.read_text() == 'pwned'

  def test_py_func_refused(self, tmp_path):
    def extra():
      tf.py_func(lambda x: x, [tf.constant(1.0)], tf.float32, name='hook')

    meta = _helpers.read_meta(_save_contract_graph(str(tmp_path), extra))
    with pytest.raises(errors.UnsafeGraphError, match=r'PyFunc.*hook'):
      graph_safety.inference_graph_def(meta)

  def test_op_inside_library_function_refused(self, tmp_path):
    target = str(tmp_path / 'f.txt')

    @tf.function
    def writer(x):
      tf.io.write_file(target, 'x')
      return x

    def extra():
      writer(tf.constant(1.0))

    meta = _helpers.read_meta(_save_contract_graph(str(tmp_path), extra))
    assert meta.graph_def.library.function
    with pytest.raises(errors.UnsafeGraphError, match='WriteFile.*function'):
      graph_safety.inference_graph_def(meta)

  def test_func_attr_naming_an_op_refused(self, tmp_path):
    def extra():
      tf.function(lambda x: x * 2.0)(tf.constant(1.0))

    meta = _helpers.read_meta(_save_contract_graph(str(tmp_path), extra))
    graph_safety.inference_graph_def(meta)
    call = next(
      n
      for n in meta.graph_def.node
      if n.op in ('PartitionedCall', 'StatefulPartitionedCall')
    )
    call.attr['f'].func.name = 'WriteFile'
    with pytest.raises(errors.UnsafeGraphError, match="calls 'WriteFile'"):
      graph_safety.inference_graph_def(meta)

  # The four tests below replace ones asserting that the file's saver was
  # vetted: graphnet now never runs the file's saver at all, so checkpoint
  # ops outside the inference subgraph are inert and refused inside it.
  def test_save_op_outside_inference_never_runs(self, tmp_path):
    target = tmp_path / 'x'

    def extra():
      with tf.name_scope('evil'):
        tf.raw_ops.SaveV2(
          prefix=str(target),
          tensor_names=['a'],
          shape_and_slices=[''],
          tensors=[tf.constant(1.0)],
          name='save_it',
        )

    prefix = _save_contract_graph(str(tmp_path), extra)
    graph_safety.inference_graph_def(_helpers.read_meta(prefix))
    with predictor.Predictor.from_checkpoint(prefix) as p:
      assert p.predict(np.zeros([2, 784], np.float32)).shape == (2,)
    assert not list(tmp_path.glob('x*'))
    meta = _helpers.read_meta(prefix)
    _helpers.graph_node(meta, 'predictions').input.append('^evil/save_it')
    with pytest.raises(errors.UnsafeGraphError, match='SaveV2.*any path'):
      graph_safety.inference_graph_def(meta)

  def test_restore_reaching_save_never_runs(self, tmp_path):
    prefix = _save_contract_graph(str(tmp_path))
    meta = _helpers.read_meta(prefix)
    save = next(n.name for n in meta.graph_def.node if n.op == 'SaveV2')
    _helpers.graph_node(meta, 'save/restore_all').input.append('^' + save)
    _helpers.write_meta(prefix, meta)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with predictor.Predictor.from_checkpoint(prefix) as p:
      p.predict(np.zeros([2, 784], np.float32))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before

  def test_restore_from_constant_path_never_runs(self, tmp_path):
    prefix = _save_contract_graph(str(tmp_path))
    expected = tf.train.load_variable(prefix, 'w')
    meta = _helpers.read_meta(prefix)
    path = meta.graph_def.node.add(name='save/evil_path', op='Const')
    path.attr['dtype'].type = tf.string.as_datatype_enum
    path.attr['value'].tensor.dtype = tf.string.as_datatype_enum
    path.attr['value'].tensor.string_val.append(b'/nonexistent/other')
    restore = next(n for n in meta.graph_def.node if n.op == 'RestoreV2')
    restore.input[0] = 'save/evil_path'
    _helpers.write_meta(prefix, meta)
    images = np.eye(784, dtype=np.float32)[:10]
    with predictor.Predictor.from_checkpoint(prefix) as p:
      np.testing.assert_array_equal(p.predict(images), expected[:10].argmax(1))

  def test_saver_def_is_ignored(self, tmp_path):
    prefix = _save_contract_graph(str(tmp_path))
    meta = _helpers.read_meta(prefix)
    meta.ClearField('saver_def')
    _helpers.write_meta(prefix, meta)
    graph_safety.inference_graph_def(meta)
    with predictor.Predictor.from_checkpoint(prefix) as p:
      assert p.predict(np.zeros([1, 784], np.float32)).shape == (1,)

  def test_unknown_op_refused_unless_allowed(self):
    graph_def = tf.GraphDef()
    graph_def.node.add(name='mystery', op='SomeCustomOp')
    with pytest.raises(errors.UnsafeGraphError, match='SomeCustomOp'):
      graph_safety.check_graph_def(graph_def)
    graph_safety.check_graph_def(graph_def, allow=['SomeCustomOp'])


class TestLists:
  def test_allowlist_and_dangerous_list_never_overlap(self):
    dangerous = set(graph_safety.DANGEROUS_OPS)
    assert not graph_safety.ALLOWED_OPS & dangerous
    assert not graph_safety.VARIABLE_OPS & dangerous
    assert graph_safety.CHECKPOINT_OPS <= dangerous
    assert graph_safety.LOOP_OPS <= dangerous

  @pytest.mark.parametrize('op', sorted(graph_safety.DANGEROUS_OPS))
  def test_every_dangerous_op_is_refused(self, op):
    graph_def = tf.GraphDef()
    graph_def.node.add(name='attack', op=op)
    reason = graph_safety.DANGEROUS_OPS[op]
    # Even when a caller allows it by mistake.
    for allow in ((), (op,)):
      with pytest.raises(errors.UnsafeGraphError) as info:
        graph_safety.check_graph_def(graph_def, allow=allow)
      assert f'op {op} ({reason})' in str(info.value)

  def test_every_trainer_inference_op_is_allowed(self, trained):
    for prefix in trained.values():
      graph_def = graph_safety.inference_graph_def(_helpers.read_meta(prefix))
      ops = {n.op for n in graph_def.node}
      assert ops <= graph_safety.ALLOWED_OPS | graph_safety.VARIABLE_OPS
      assert 'VarHandleOp' in ops and 'SaveV2' not in ops


class TestCommandLine:
  def test_predict_refuses_then_allows_unsafe(self, write_file_checkpoint):
    prefix, target = write_file_checkpoint
    image = str(target.parent / 'blank.png')
    with tf.Graph().as_default(), tf.Session() as sess:
      png = sess.run(tf.io.encode_png(tf.zeros([28, 28, 1], tf.uint8)))
    with open(image, 'wb') as f:
      f.write(png)
    command = [
      sys.executable,
      '-m',
      'graphnet.predict',
      '--checkpoint',
      prefix,
      image,
    ]
    env = dict(os.environ, PYTHONPATH=_REPO)
    refused = subprocess.run(
      command, capture_output=True, text=True, env=env, timeout=120
    )
    assert refused.returncode == 1
    assert 'WriteFile' in refused.stderr
    assert not target.exists()
    allowed = subprocess.run(
      command + ['--allow_unsafe'],
      capture_output=True,
      text=True,
      env=env,
      timeout=120,
    )
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.startswith(image + '\t')
