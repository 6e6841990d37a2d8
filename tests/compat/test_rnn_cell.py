"""graphnet.compat.v1's RNN cells against TF 1.15 goldens and NumPy.

The models of scripts/tf1_goldens/rnn_models.py run here with only their
import lines changed; tests/goldens/tf1_rnn holds what TF 1.15 made of
them (scripts/tf1_goldens/make_rnn_goldens.py): variable names and
shapes, a trained checkpoint and its logits.
"""

import ast
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import graphnet.compat.v1 as tf
from graphnet import errors
from graphnet.compat.v1 import rnn_cell
from graphnet.compat.v1.contrib import rnn

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
_MODELS = os.path.join(_REPO, 'scripts', 'tf1_goldens', 'rnn_models.py')
_GOLDENS = os.path.join(_REPO, 'tests', 'goldens', 'tf1_rnn')
# The static LSTM and the GRU are built with their Adam step, which then
# runs once from the checkpoint (the gradients of the others would cost
# seconds); the rest restore their variables without Adam's.
_MODEL_NAMES = (
  ('static_lstm', True),
  ('dynamic_lstm', False),
  ('multi_dropout', False),
  ('gru', True),
  ('bidirectional', False),
  ('layer_norm', False),
)
_ADAM = re.compile(r'/Adam(_1)?$|^beta[12]_power$')
# Keras loaded before these tests ran (by another module) hides whether
# building cells loads it.
_KERAS_PRELOADED = 'keras' in sys.modules


def _variables():
  return [[v.op.name, v.shape.as_list()] for v in tf.global_variables()]


@pytest.fixture(scope='module')
def models():
  """rnn_models.py's namespace, its TF 1.15 import lines swapped."""
  with open(_MODELS, encoding='utf-8') as f:
    source = f.read()
  swaps = next(
    node.value
    for node in ast.parse(source).body
    if isinstance(node, ast.Assign) and node.targets[0].id == 'IMPORT_SWAPS'
  )
  for tf1_line, graphnet_line in ast.literal_eval(swaps).items():
    assert source.count(tf1_line + '\n') == 1, tf1_line
    source = source.replace(tf1_line + '\n', graphnet_line + '\n')
  namespace = {'__name__': 'rnn_models'}
  exec(compile(source, _MODELS, 'exec'), namespace)
  return namespace


class TestTf1Goldens:
  @pytest.mark.parametrize('name,train', _MODEL_NAMES)
  def test_restores_and_matches_tf1(self, models, name, train):
    golden = os.path.join(_GOLDENS, name)
    with open(os.path.join(golden, 'variables.json')) as f:
      expected = json.load(f)
    if not train:
      expected = [v for v in expected if not _ADAM.search(v[0])]
    outputs = np.load(os.path.join(golden, 'outputs.npz'))
    with tf.Graph().as_default() as graph:
      model = models['MODELS'][name](train=train)
      assert _variables() == expected
      feed = {graph.get_tensor_by_name('x:0'): outputs['images']}
      with tf.Session() as sess:
        tf.train.Saver().restore(sess, os.path.join(golden, 'model.ckpt'))
        logits = sess.run(model['logits'], feed)
        if train:
          feed[graph.get_tensor_by_name('y:0')] = outputs['labels']
          sess.run(model['train_op'], feed)
          stepped = sess.run(model['logits'], feed)
    np.testing.assert_allclose(logits, outputs['logits'], atol=2e-4)
    if train:
      # TF 1.15's Adam step from the same checkpoint on the same batch.
      np.testing.assert_allclose(stepped, outputs['stepped_logits'], atol=2e-4)

  def test_names_and_reuse_match_tf1(self, models):
    with open(os.path.join(_GOLDENS, 'naming.json')) as f:
      expected = json.load(f)
    with tf.Graph().as_default():
      names = models['build_naming']()
      assert _variables() == expected['variables']
    assert names == expected['cell_names']


def _sigmoid(x):
  return 1 / (1 + np.exp(-x))


def _numpy_lstm(x, lengths, kernel, bias, forget_bias=1.0):
  """LSTM over x [batch, time, depth]; steps past a length keep the state."""
  batch, time, _ = x.shape
  units = bias.shape[0] // 4
  c = np.zeros((batch, units), np.float32)
  h = np.zeros((batch, units), np.float32)
  outputs = np.zeros((batch, time, units), np.float32)
  for t in range(time):
    gates = np.concatenate([x[:, t], h], 1) @ kernel + bias
    i, j, f, o = np.split(gates, 4, axis=1)
    new_c = c * _sigmoid(f + forget_bias) + _sigmoid(i) * np.tanh(j)
    new_h = np.tanh(new_c) * _sigmoid(o)
    live = (t < lengths)[:, None]
    c = np.where(live, new_c, c)
    h = np.where(live, new_h, h)
    outputs[:, t] = np.where(live, new_h, 0)
  return outputs, c, h


def _reverse(x, lengths):
  """Each sequence's first `length` steps reversed, as reverse_sequence."""
  out = x.copy()
  for b, length in enumerate(lengths):
    out[b, :length] = x[b, :length][::-1]
  return out


@pytest.fixture(scope='module')
def sequences():
  rng = np.random.RandomState(3)
  x = rng.uniform(-1, 1, (3, 4, 5)).astype(np.float32)
  return x, np.array([4, 1, 3], np.int32), rng


def _set(sess, variable, rng):
  value = rng.uniform(-0.5, 0.5, variable.shape.as_list()).astype(np.float32)
  sess.run(variable.assign(value))
  return value


class TestNumerics:
  def test_dynamic_rnn_with_sequence_length(self, sequences):
    x, lengths, rng = sequences
    with tf.Graph().as_default():
      cell = rnn_cell.BasicLSTMCell(6)
      outputs, state = tf.nn.dynamic_rnn(
        cell, tf.constant(x), sequence_length=lengths, dtype=tf.float32
      )
      assert isinstance(state, rnn_cell.LSTMStateTuple)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kernel = _set(sess, cell.trainable_weights[0], rng)
        bias = _set(sess, cell.trainable_weights[1], rng)
        got, (c, h) = sess.run([outputs, state])
    want, want_c, want_h = _numpy_lstm(x, lengths, kernel, bias)
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(c, want_c, atol=1e-5)
    np.testing.assert_allclose(h, want_h, atol=1e-5)

  def test_bidirectional_reads_backwards_within_lengths(self, sequences):
    x, lengths, rng = sequences
    with tf.Graph().as_default():
      fw, bw = rnn_cell.BasicLSTMCell(3), rnn_cell.BasicLSTMCell(3)
      (out_fw, out_bw), _ = tf.nn.bidirectional_dynamic_rnn(
        fw, bw, tf.constant(x), sequence_length=lengths, dtype=tf.float32
      )
      assert [v.op.name for v in bw.variables] == [
        'bidirectional_rnn/bw/basic_lstm_cell/kernel',
        'bidirectional_rnn/bw/basic_lstm_cell/bias',
      ]
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        weights = [_set(sess, v, rng) for v in fw.variables + bw.variables]
        got_fw, got_bw = sess.run([out_fw, out_bw])
    want_fw = _numpy_lstm(x, lengths, *weights[:2])[0]
    backwards = _numpy_lstm(_reverse(x, lengths), lengths, *weights[2:])[0]
    np.testing.assert_allclose(got_fw, want_fw, atol=1e-5)
    np.testing.assert_allclose(got_bw, _reverse(backwards, lengths), atol=1e-5)

  def test_concatenated_state_equals_tuple_state(self, sequences):
    x, _, _ = sequences
    with tf.Graph().as_default():
      tf.set_random_seed(1)
      rows = tf.unstack(tf.constant(x), axis=1)
      results = []
      for is_tuple in (True, False):
        with tf.variable_scope(
          f'tuple_{is_tuple}', initializer=tf.ones_initializer()
        ):
          cell = rnn_cell.LSTMCell(4, num_proj=2, state_is_tuple=is_tuple)
          outputs, state = tf.nn.static_rnn(cell, rows, dtype=tf.float32)
          results.append((outputs[-1], state))
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        (out_t, (c, h)), (out_c, concat) = sess.run(results)
    assert concat.shape == (3, 6)
    np.testing.assert_allclose(out_t, out_c, atol=1e-6)
    np.testing.assert_allclose(np.concatenate([c, h], 1), concat, atol=1e-6)


class TestDropoutWrapper:
  def _run(self, make_cell, x, feed_keep=None):
    with tf.Graph().as_default():
      tf.set_random_seed(5)
      keep = tf.placeholder_with_default(1.0, [])
      bare = rnn_cell.GRUCell(4, kernel_initializer=tf.ones_initializer())
      wrapped = make_cell(bare, keep)
      inputs = tf.constant(x[:, 0])
      outputs, _ = wrapped(inputs, wrapped.zero_state(3, tf.float32))
      reference, _ = bare(inputs, bare.zero_state(3, tf.float32))
      ops = [op.type for op in tf.get_default_graph().get_operations()]
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = {} if feed_keep is None else {keep: feed_keep}
        return *sess.run([outputs, reference], feed), ops

  def test_keep_prob_one_is_identity_and_adds_no_op(self, sequences):
    x, _, _ = sequences
    got, want, ops = self._run(
      lambda cell, keep: rnn_cell.DropoutWrapper(
        cell, input_keep_prob=1.0, output_keep_prob=1.0
      ),
      x,
    )
    np.testing.assert_array_equal(got, want)
    assert not any('Random' in op for op in ops)

  def test_keep_prob_tensor_fed_one_is_identity(self, sequences):
    x, _, _ = sequences
    got, want, ops = self._run(
      lambda cell, keep: rnn_cell.DropoutWrapper(cell, output_keep_prob=keep),
      x,
    )
    assert any('Random' in op for op in ops)
    np.testing.assert_allclose(got, want, atol=1e-6)

  def test_keep_prob_half_drops_and_scales(self, sequences):
    x, _, _ = sequences
    got, want, _ = self._run(
      lambda cell, keep: rnn_cell.DropoutWrapper(cell, output_keep_prob=keep),
      x,
      feed_keep=0.5,
    )
    kept = got != 0
    assert 0 < kept.sum() < got.size
    np.testing.assert_allclose(got[kept], 2 * want[kept], rtol=1e-5)

  def test_state_dropout_leaves_lstm_c(self, sequences):
    x, _, _ = sequences
    with tf.Graph().as_default():
      bare = rnn_cell.BasicLSTMCell(8)
      cell = rnn_cell.DropoutWrapper(bare, state_keep_prob=0.5, seed=3)
      state = cell.zero_state(3, tf.float32)
      _, dropped = cell(tf.constant(x[:, 0]), state)
      _, plain = bare(tf.constant(x[:, 0]), state)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        dropped, plain = sess.run([dropped, plain])
    np.testing.assert_allclose(dropped.c, plain.c, atol=1e-6)
    assert (dropped.h == 0).sum() > (plain.h == 0).sum()

  def test_variational_dropout_keeps_one_mask_for_all_steps(self, sequences):
    x, _, _ = sequences
    with tf.Graph().as_default():
      cell = rnn_cell.DropoutWrapper(
        rnn_cell.GRUCell(16),
        input_keep_prob=0.5,
        output_keep_prob=0.5,
        variational_recurrent=True,
        input_size=5,
        dtype=tf.float32,
        seed=1,
      )
      outputs, _ = tf.nn.dynamic_rnn(cell, tf.constant(x), dtype=tf.float32)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        dropped = sess.run(outputs) == 0  # [batch, time, units]
    assert 0 < dropped.sum() < dropped.size
    assert (dropped == dropped[:1, :1]).all()

  def test_keep_prob_out_of_range(self):
    with (
      tf.Graph().as_default(),
      pytest.raises(errors.ConfigError, match='1.5'),
    ):
      rnn_cell.DropoutWrapper(rnn_cell.GRUCell(2), output_keep_prob=1.5)


class TestOtherWrappers:
  def test_residual_adds_inputs_and_device_places_ops(self, sequences):
    x, _, _ = sequences
    with tf.Graph().as_default():
      inputs = tf.constant(x[:, 0])  # [3, 5]
      bare = rnn_cell.BasicRNNCell(5)
      residual = rnn_cell.ResidualWrapper(bare)
      state = residual.zero_state(3, tf.float32)
      summed, _ = residual(inputs, state)
      plain, _ = bare(inputs, state)
      placed = rnn_cell.DeviceWrapper(rnn_cell.GRUCell(2), '/cpu:0')
      out, _ = placed(inputs, placed.zero_state(3, tf.float32))
      assert out.device.endswith('CPU:0')
      assert [v.op.name for v in residual.variables] == [
        'basic_rnn_cell/kernel',
        'basic_rnn_cell/bias',
      ]
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        summed, plain = sess.run([summed, plain])
    np.testing.assert_allclose(summed, plain + x[:, 0], atol=1e-6)


class TestScopes:
  def test_new_cell_in_a_used_rnn_scope_collides_as_in_tf1(self):
    with tf.Graph().as_default():
      x = tf.zeros([2, 3, 4])
      tf.nn.dynamic_rnn(rnn_cell.BasicLSTMCell(2), x, dtype=tf.float32)
      with pytest.raises(ValueError, match='rnn/basic_lstm_cell/kernel'):
        tf.nn.dynamic_rnn(rnn_cell.BasicLSTMCell(2), x, dtype=tf.float32)

  def test_same_cell_again_reuses(self):
    with tf.Graph().as_default():
      x = tf.zeros([2, 3, 4])
      cell = rnn_cell.GRUCell(2)
      tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, scope='one')
      tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, scope='two')
      assert [v.op.name for v in tf.global_variables()] == [
        'one/gru_cell/gates/kernel',
        'one/gru_cell/gates/bias',
        'one/gru_cell/candidate/kernel',
        'one/gru_cell/candidate/bias',
      ]
      assert cell.scope_name == 'one/gru_cell'

  def test_user_cell_with_get_variable(self):
    class Accumulator(rnn_cell.RNNCell):
      state_size = output_size = 2

      def call(self, inputs, state):
        w = tf.get_variable('w', [inputs.shape[1].value, 2])
        out = state + tf.matmul(inputs, w)
        return out, out

    with tf.Graph().as_default():
      cell = Accumulator()
      tf.nn.static_rnn(cell, [tf.ones([1, 3])] * 3, dtype=tf.float32)
      assert [v.op.name for v in tf.global_variables()] == ['rnn/accumulator/w']
      assert cell.trainable_weights == tf.trainable_variables()

  def test_sharded_lstm_cell(self):
    with tf.Graph().as_default():
      cell = rnn_cell.LSTMCell(
        4, num_unit_shards=2, num_proj=3, num_proj_shards=3
      )
      tf.nn.dynamic_rnn(cell, tf.ones([2, 3, 5]), dtype=tf.float32)
      assert _variables() == [
        ['rnn/lstm_cell/kernel/part_0', [4, 16]],
        ['rnn/lstm_cell/kernel/part_1', [4, 16]],
        ['rnn/lstm_cell/bias', [16]],
        ['rnn/lstm_cell/projection/kernel/part_0', [2, 3]],
        ['rnn/lstm_cell/projection/kernel/part_1', [1, 3]],
        ['rnn/lstm_cell/projection/kernel/part_2', [1, 3]],
      ]
      assert len(cell.trainable_weights) == 3  # kernel, bias, projection

  def test_three_d_inputs_to_a_cell(self):
    with tf.Graph().as_default():
      cell = rnn_cell.BasicLSTMCell(2)
      with pytest.raises(errors.ConfigError, match='2-D'):
        cell(tf.zeros([2, 3, 4]), cell.zero_state(2, tf.float32))

  def test_positional_arguments_bind_as_tf1s(self):
    # TF 1.15's order: num_units, the cell's own, then forget_bias,
    # state_is_tuple (LSTMs), activation, reuse, (GRU's initializers,)
    # name, dtype.
    ones = tf.ones_initializer()
    lstm = rnn_cell.LSTMCell(
      4, True, 2.0, ones, 3, 1.0, 2, 3, 0.5, False, tf.nn.relu, None, 'l'
    )
    gru = rnn_cell.GRUCell(4, tf.nn.relu, None, ones, None, 'g', tf.float64)
    assert (lstm._use_peepholes, lstm._cell_clip, lstm._num_proj) == (
      True,
      2.0,
      3,
    )
    assert (lstm._forget_bias, lstm._state_is_tuple) == (0.5, False)
    assert (lstm._activation, lstm.name) == (tf.nn.relu, 'l')
    assert (gru._activation, gru._kernel_initializer) == (tf.nn.relu, ones)
    assert (gru.name, gru.dtype) == ('g', 'float64')
    with pytest.raises(TypeError, match='activation'):
      rnn_cell.BasicLSTMCell(4, 1.0, True, tf.tanh, activation=tf.tanh)

  def test_multi_rnn_cell_needs_cells(self):
    with pytest.raises(errors.ConfigError, match='non-empty list'):
      rnn_cell.MultiRNNCell([])


class TestContribRnn:
  def test_names(self):
    assert rnn.BasicLSTMCell is rnn_cell.BasicLSTMCell
    assert rnn.static_rnn is tf.nn.static_rnn
    assert tf.nn.rnn_cell.LSTMCell is rnn_cell.LSTMCell
    assert tf.contrib.rnn is rnn

  def test_missing_name(self):
    with pytest.raises(errors.NotProvidedError, match='LSTMBlockCell'):
      rnn.LSTMBlockCell  # noqa: B018


_NO_KERAS_PROGRAM = """
import sys
import numpy as np
import graphnet.compat.v1 as tf
from graphnet.compat.v1.contrib import rnn
x = tf.placeholder(tf.float32, [None, 5, 3])
cells = [
  rnn.DropoutWrapper(rnn.LSTMCell(4), output_keep_prob=0.9),
  tf.nn.rnn_cell.GRUCell(4),
]
out, _ = tf.nn.dynamic_rnn(rnn.MultiRNNCell(cells), x, dtype=tf.float32)
step = tf.train.AdamOptimizer().minimize(tf.reduce_sum(out))
with tf.Session() as sess:
  sess.run(tf.global_variables_initializer())
  sess.run(step, {x: np.ones([1, 5, 3])})
print([m for m in sys.modules if m.split('.')[0] == 'keras'])
"""


def test_no_keras_while_building_and_training():
  """Cells, RNNs and a training step load no Keras."""
  if _KERAS_PRELOADED:
    # Another test module loaded Keras: ask a fresh process.
    done = subprocess.run(
      [sys.executable, '-c', _NO_KERAS_PROGRAM],
      capture_output=True,
      text=True,
      timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == '[]'
    return
  with tf.Graph().as_default():
    namespace = {}
    exec(_NO_KERAS_PROGRAM.replace('print(', 'found = ('), namespace)
  assert namespace['found'] == []


def test_lstm_mnist_differs_from_tf1_only_in_import_lines():
  sys.path.insert(0, os.path.join(_REPO, 'scripts'))
  import tf1_programs_accuracy  # noqa: PLC0415 (a script, not a package)

  path = os.path.join(tf1_programs_accuracy.PROGRAM_DIR, 'lstm_mnist.py')
  with open(path, encoding='utf-8') as f:
    source = f.read()
  tf1_source = tf1_programs_accuracy.to_tf1(source)
  assert 'graphnet' not in tf1_source
  changed = [
    (a, b)
    for a, b in zip(source.splitlines(), tf1_source.splitlines(), strict=True)
    if a != b
  ]
  assert len(changed) == 3
  assert all(a.startswith(('import', 'from')) for a, _ in changed)
  assert 'from graphnet.compat.v1.contrib import rnn' in dict(changed)


@pytest.mark.slow
def test_lstm_mnist_program_reaches_tf1_accuracy(tmp_path):
  """tests/tf1_programs/lstm_mnist.py: TF 1.15's test accuracy or better.

  TF 1.15's figure is recorded by `scripts/tf1_programs_accuracy.py
  --programs lstm_mnist --record` (same program, steps and seed).
  """
  sys.path.insert(0, os.path.join(_REPO, 'scripts'))
  import tf1_programs_accuracy  # noqa: PLC0415 (a script, not a package)

  with open(tf1_programs_accuracy.RECORD) as f:
    tf1_accuracy = json.load(f)['lstm_mnist']['metric']
  accuracy, _, out = tf1_programs_accuracy.run_program(
    'lstm_mnist', sys.executable, str(tmp_path)
  )
  assert accuracy >= tf1_accuracy - 0.005, out
