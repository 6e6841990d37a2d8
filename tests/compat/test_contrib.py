"""graphnet.compat.v1.contrib (layers, framework) against TF 1.15 goldens.

The networks of scripts/tf1_goldens/contrib_models.py run here with only
their import lines changed; tests/goldens/tf1_contrib holds what TF 1.15
made of them (scripts/tf1_goldens/make_contrib_goldens.py): variable
names, shapes and collections, a trained checkpoint, outputs and one
training step. The rest checks TF 1.15's documented behaviour on tiny
graphs against NumPy.
"""

import json
import os
import subprocess
import sys

import _contrib_models
import numpy as np
import pytest

import graphnet.compat.v1 as tf
from graphnet import errors
from graphnet import input_data
from graphnet.compat.v1.contrib import framework
from graphnet.compat.v1.contrib import layers

_REPO = os.path.dirname(
  os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
_PROGRAMS = os.path.join(_REPO, 'tests', 'tf1_programs')


@pytest.fixture(scope='module')
def models():
  return _contrib_models.load()


def _run(fetches, feed=None):
  """Initializes the default graph's variables and runs `fetches`."""
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    return sess.run(fetches, feed)


class TestTf1Goldens:
  def test_names_shapes_and_collections_match_tf1(self, models):
    path = os.path.join(_contrib_models.GOLDENS, 'naming.json')
    with open(path, encoding='utf-8') as f:
      expected = json.load(f)
    with tf.Graph().as_default() as graph:
      outputs = models['build_naming']()
      shapes = {label: t.shape.as_list() for label, t in outputs.items()}
      found = _contrib_models.collections(graph, tf)
    assert found['global'] == expected['global']
    for key in ('model', 'trainable', 'regularization_losses', 'update_ops'):
      assert found[key] == expected[key], key
    assert shapes == expected['shapes']

  def test_mlp_restores_and_matches_tf1(self, models):
    expected, outputs, checkpoint = _contrib_models.golden('contrib_mlp')
    with tf.Graph().as_default():
      tf.set_random_seed(1)
      model = models['build_contrib_mlp']()
      # TF1's program runs the step and the averages side by side, so
      # the shadows after a step depend on which read first: checked
      # below from the checkpoint instead.
      checked = _contrib_models.check_golden(
        tf, model, expected, outputs, checkpoint, ('ExponentialMovingAverage',)
      )
    assert checked == 5  # Two weights, two biases, the global step.
    with tf.Graph().as_default():
      x, logits, saver = models['mlp_ema_logits']()
      with tf.Session() as sess:
        saver.restore(sess, checkpoint)
        ema_logits = sess.run(logits, {x: outputs['images']})
    np.testing.assert_allclose(ema_logits, outputs['ema_logits'], atol=1e-4)
    assert not np.allclose(ema_logits, outputs['logits'], atol=1e-2)

  def test_conv2d_transpose_decoder_restores_and_matches_tf1(self, models):
    expected, outputs, checkpoint = _contrib_models.golden('contrib_decoder')
    with tf.Graph().as_default():
      model = models['build_contrib_decoder']()
      checked = _contrib_models.check_golden(
        tf, model, expected, outputs, checkpoint
      )
    # Four weights and biases, Adam's two slots of each and its two
    # power accumulators, the global step.
    assert checked == len(expected['global']) == 8 * 3 + 2 + 1


class TestFullyConnected:
  def test_defaults_are_relu_xavier_and_zero_biases(self):
    with tf.Graph().as_default():
      tf.set_random_seed(3)
      x = tf.constant(-np.ones([2, 400], np.float32))
      out = layers.fully_connected(x, 300)
      weights, biases = tf.global_variables()
      w, b, y = _run([weights, biases, out])
    limit = np.sqrt(6.0 / (400 + 300))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
    assert not b.any()
    assert (y >= 0).all() and (y == 0).any() and (y > 0).any()

  def test_linear_layer_computes_x_w_plus_b(self):
    with tf.Graph().as_default():
      x = np.arange(6, dtype=np.float32).reshape(2, 3)
      out = layers.fully_connected(
        x,
        2,
        activation_fn=None,
        weights_initializer=tf.constant_initializer(0.5),
        biases_initializer=tf.constant_initializer(-1.0),
      )
      y = _run(out)
    np.testing.assert_allclose(y, x @ np.full([3, 2], 0.5) - 1.0)

  def test_reuse_shares_variables_and_regularizes_once(self):
    with tf.Graph().as_default():
      x = tf.zeros([1, 3])
      reg = layers.l2_regularizer(0.5)
      layers.fully_connected(x, 2, weights_regularizer=reg, scope='s')
      layers.fully_connected(
        x, 2, weights_regularizer=reg, scope='s', reuse=True
      )
      assert len(tf.global_variables()) == 2
      losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
      assert len(losses) == 1
      w = tf.global_variables()[0]
      loss, w = _run([losses[0], w])
    np.testing.assert_allclose(loss, 0.5 * (w**2).sum() / 2, rtol=1e-6)

  def test_collections_and_trainable(self):
    with tf.Graph().as_default():
      out = layers.fully_connected(
        tf.zeros([1, 3]),
        2,
        trainable=False,
        variables_collections={'weights': ['my_weights']},
        outputs_collections='ends',
        scope='head',
      )
      assert tf.trainable_variables() == []
      assert [v.op.name for v in tf.get_collection('my_weights')] == [
        'head/weights'
      ]
      assert len(framework.get_model_variables()) == 2
      assert tf.get_collection('ends') == [out]
      assert out.aliases == ['head']

  def test_rejects_a_float_width(self):
    with tf.Graph().as_default():
      with pytest.raises(ValueError, match='num_outputs'):
        layers.fully_connected(tf.zeros([1, 3]), 2.0)


class TestBatchNorm:
  def _inputs(self):
    return np.random.RandomState(0).normal(2.0, 3.0, [4, 3, 3, 2])

  def test_training_normalizes_and_updates_moving_averages(self):
    x = self._inputs().astype(np.float32)
    with tf.Graph().as_default():
      out = layers.batch_norm(x, decay=0.9, is_training=True)
      updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
      assert len(updates) == 2
      mean_var, var_var = framework.get_variables('BatchNorm/moving')
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        y = sess.run(out)
        sess.run(updates)
        moving_mean, moving_var = sess.run([mean_var, var_var])
    mean = x.mean((0, 1, 2))
    var = x.var((0, 1, 2))
    np.testing.assert_allclose(
      y, (x - mean) / np.sqrt(var + 0.001), rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(moving_mean, 0.1 * mean, rtol=1e-5)
    # The fused kernel's batch variance has Bessel's correction (TF 1.15's).
    n = x.size / x.shape[-1]
    np.testing.assert_allclose(
      moving_var, 0.9 + 0.1 * var * n / (n - 1), rtol=1e-5
    )

  def test_inference_uses_moving_averages_and_adds_no_updates(self):
    x = self._inputs().astype(np.float32)
    with tf.Graph().as_default():
      out = layers.batch_norm(
        x,
        is_training=False,
        scale=True,
        param_initializers={
          'moving_mean': tf.constant_initializer(1.0),
          'moving_variance': tf.constant_initializer(4.0),
          'gamma': tf.constant_initializer(2.0),
        },
      )
      assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
      y = _run(out)
    np.testing.assert_allclose(
      y, 2.0 * (x - 1.0) / np.sqrt(4.001), rtol=1e-5, atol=1e-5
    )

  def test_updates_collections_none_updates_in_place(self):
    x = self._inputs().astype(np.float32).reshape(-1, 2)
    with tf.Graph().as_default():
      out = layers.batch_norm(x, decay=0.5, updates_collections=None)
      assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
      moving_mean = framework.get_variables_by_name('moving_mean')[0]
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(out)
        found = sess.run(moving_mean)
    np.testing.assert_allclose(found, 0.5 * x.mean(0), rtol=1e-5)

  def test_is_training_tensor_switches_modes(self):
    x = self._inputs().astype(np.float32)
    with tf.Graph().as_default():
      training = tf.placeholder(tf.bool, [])
      out = layers.batch_norm(x, is_training=training)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        as_trained = sess.run(out, {training: True})
        as_inferred = sess.run(out, {training: False})
    assert abs(as_trained.mean()) < 1e-4
    np.testing.assert_allclose(as_inferred, x / np.sqrt(1.001), rtol=1e-5)


class TestOtherLayers:
  def test_dropout_keeps_or_passes(self):
    with tf.Graph().as_default():
      x = tf.ones([1000])
      dropped = layers.dropout(x, keep_prob=0.25, seed=1)
      kept = layers.dropout(x, keep_prob=0.25, is_training=False)
      d, k = _run([dropped, kept])
    assert set(np.unique(d)) == {0.0, 4.0}
    assert 0.15 < (d > 0).mean() < 0.35
    np.testing.assert_array_equal(k, np.ones(1000))

  def test_conv2d_matches_numpy_and_pools(self):
    x = np.random.RandomState(1).rand(1, 4, 4, 1).astype(np.float32)
    with tf.Graph().as_default():
      conv = layers.conv2d(
        x,
        1,
        [2, 2],
        padding='VALID',
        activation_fn=None,
        weights_initializer=tf.ones_initializer(),
      )
      pooled = layers.max_pool2d(conv, [3, 3], stride=1)
      averaged = layers.avg_pool2d(conv, 3, stride=1)
      c, p, a = _run([conv, pooled, averaged])
    windows = x[0, :-1, :-1, 0] + x[0, 1:, :-1, 0]
    windows += x[0, :-1, 1:, 0] + x[0, 1:, 1:, 0]
    np.testing.assert_allclose(c[0, :, :, 0], windows, rtol=1e-5)
    np.testing.assert_allclose(p.ravel(), [windows.max()], rtol=1e-5)
    np.testing.assert_allclose(a.ravel(), [windows.mean()], rtol=1e-5)

  def test_conv2d_transpose_batch_is_dynamic(self):
    with tf.Graph().as_default():
      x = tf.placeholder(tf.float32, [None, 3, 3, 2])
      out = layers.conv2d_transpose(x, 4, 3, stride=2, padding='VALID')
      assert out.shape.as_list() == [None, 7, 7, 4]
      y = _run(out, {x: np.ones([5, 3, 3, 2])})
    assert y.shape == (5, 7, 7, 4)

  def test_one_hot_softmax_flatten(self):
    with tf.Graph().as_default():
      hot = layers.one_hot_encoding([0, 2], 3)
      soft = layers.softmax(tf.zeros([2, 2, 4]))
      flat = layers.flatten(tf.zeros([2, 3, 4]))
      h, s, f = _run([hot, soft, flat])
    np.testing.assert_array_equal(h, [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(s, np.full([2, 2, 4], 0.25))
    assert f.shape == (2, 12)


class TestRegularizersAndInitializers:
  def test_l1_l2_values(self):
    with tf.Graph().as_default():
      w = tf.constant([[1.0, -2.0], [3.0, 0.0]])
      l1, l2 = _run(
        [layers.l1_regularizer(0.5)(w), layers.l2_regularizer(0.5)(w)]
      )
    assert l1 == pytest.approx(3.0)
    assert l2 == pytest.approx(0.5 * 14 / 2)

  @pytest.mark.parametrize('scale', [1, -0.1])
  def test_bad_scales_are_rejected(self, scale):
    with pytest.raises(ValueError, match='scale'):
      layers.l2_regularizer(scale)

  def test_zero_scale_disables(self):
    assert layers.l2_regularizer(0.0)(tf.constant(1.0)) is None

  def test_variance_scaling_is_he_truncated_normal(self):
    with tf.Graph().as_default():
      tf.set_random_seed(5)
      init = layers.variance_scaling_initializer()
      values = _run(init([200, 300]))
    assert values.std() == pytest.approx(
      np.sqrt(2.0 / 200) * 0.8796 * np.sqrt(1.3), rel=0.05
    )
    assert np.abs(values).max() <= 2 * np.sqrt(1.3 * 2.0 / 200)


class TestArgScope:
  def test_defaults_nest_and_explicit_arguments_win(self):
    with tf.Graph().as_default():
      x = tf.zeros([1, 3])
      with framework.arg_scope([layers.fully_connected], activation_fn=None):
        with framework.arg_scope(
          [layers.fully_connected], biases_initializer=None
        ) as scope:
          linear = layers.fully_connected(x, 2, scope='a')
          relu = layers.fully_connected(
            x, 2, activation_fn=tf.nn.relu, scope='b'
          )
        plain = layers.fully_connected(x, 2, scope='c')
        with framework.arg_scope(scope):
          layers.fully_connected(x, 2, scope='d')
      assert linear.op.type == 'MatMul'
      assert relu.op.type == 'Relu'
      assert plain.op.type == 'BiasAdd'
      names = [v.op.name for v in tf.global_variables()]
    assert names == [
      'a/weights',
      'b/weights',
      'c/weights',
      'c/biases',
      'd/weights',
    ]

  def test_undecorated_function_is_rejected(self):
    with pytest.raises(ValueError, match='add_arg_scope'):
      with framework.arg_scope([tf.nn.relu], name='x'):
        pass

  def test_add_arg_scope_on_user_function(self):
    @framework.add_arg_scope
    def scaled(x, factor=1.0):
      return x * factor

    with framework.arg_scope([scaled], factor=3.0):
      assert scaled(2.0) == 6.0
      assert scaled(2.0, factor=0.5) == 1.0
    assert scaled(2.0) == 2.0
    assert framework.arg_scoped_arguments(scaled) == ('factor',)


class TestFrameworkVariables:
  def test_restore_helpers_pick_scopes(self, tmp_path):
    with tf.Graph().as_default():
      layers.fully_connected(tf.zeros([1, 3]), 2, scope='body')
      layers.fully_connected(tf.zeros([1, 2]), 1, scope='head')
      step = framework.get_or_create_global_step()
      assert framework.get_global_step() is step
      kept = framework.get_variables_to_restore(exclude=['head', 'global'])
      assert [v.op.name for v in kept] == ['body/weights', 'body/biases']
      assert [
        v.op.name for v in framework.get_variables_by_name('weights')
      ] == ['body/weights', 'head/weights']
      prefix = str(tmp_path / 'model.ckpt')
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.train.Saver().save(sess, prefix)
        saved = sess.run(kept[0])
    assert dict(framework.list_variables(prefix))['body/weights'] == [3, 2]
    np.testing.assert_array_equal(
      framework.load_variable(prefix, 'body/weights'), saved
    )
    with tf.Graph().as_default():
      layers.fully_connected(tf.zeros([1, 3]), 2, scope='body')
      extra = framework.model_variable('extra', shape=[1])
      restore = framework.assign_from_checkpoint_fn(
        prefix, framework.get_model_variables(), ignore_missing_vars=True
      )
      with tf.Session() as sess:
        sess.run(extra.initializer)
        restore(sess)
        np.testing.assert_array_equal(
          sess.run(framework.get_unique_variable('body/weights')), saved
        )

  def test_empty_var_list_is_rejected(self):
    with pytest.raises(ValueError, match='var_list'):
      framework.assign_from_checkpoint_fn('/nowhere', [])


class TestNamespace:
  @pytest.mark.parametrize(
    'name', ['factorization', 'tensor_forest', 'boosted_trees', 'tpu']
  )
  def test_out_of_scope_contrib_raises_not_provided(self, name):
    with pytest.raises(errors.NotProvidedError) as caught:
      getattr(tf.contrib, name)
    assert isinstance(caught.value, AttributeError)
    assert f'tf.contrib.{name}' in str(caught.value)
    assert 'graphnet' in str(caught.value)
    assert caught.value.name == f'tf.contrib.{name}'
    assert not hasattr(tf.contrib, name)

  @pytest.mark.parametrize(
    'module, name',
    [('layers', 'optimize_loss'), ('framework', 'nest')],
  )
  def test_missing_names_in_provided_modules(self, module, name):
    with pytest.raises(errors.NotProvidedError, match=f'{module}.{name}'):
      getattr(getattr(tf.contrib, module), name)

  def test_provided_modules(self):
    assert tf.contrib.layers.fully_connected is layers.fully_connected
    assert tf.contrib.framework.arg_scope is framework.arg_scope
    mnist = tf.contrib.learn.datasets.mnist
    assert mnist.read_data_sets is input_data.read_data_sets


class TestBookChapter5:
  """The book's trio: a trainer process, then a separate evaluator."""

  def test_train_then_evaluate_in_another_process(self, tmp_path, data_dir):
    model_dir = str(tmp_path / 'model')
    common = [f'--data_dir={data_dir}', f'--model_dir={model_dir}']
    train = _python(
      os.path.join(_PROGRAMS, 'book5_train.py'),
      *common,
      '--training_steps=300',
      '--save_every=100',
    )
    assert train.count('loss on training batch is') == 4  # 0, 100, 200, 299
    assert tf.train.latest_checkpoint(model_dir).endswith('model.ckpt-300')
    # The evaluator, and no Keras on its path (tf.contrib.layers and slim
    # imported too).
    evaluate = _python(
      '-c',
      'import runpy, sys\n'
      f'sys.path.insert(0, {_PROGRAMS!r})\n'
      f'sys.argv = [{os.path.join(_PROGRAMS, "book5_eval.py")!r}] + '
      'sys.argv[1:]\n'
      'try:\n'
      '  runpy.run_path(sys.argv[0], run_name="__main__")\n'
      'except SystemExit:\n'
      '  pass\n'
      'import graphnet.compat.v1.contrib.slim\n'
      'import graphnet.compat.v1 as tf\n'
      'tf.contrib.layers.fully_connected\n'
      "print(sorted(m for m in sys.modules if m.split('.')[0] == 'keras'))\n",
      *common,
      '--training_steps=300',
    )
    lines = evaluate.strip().splitlines()
    assert lines[-1] == '[]'
    validation = float(
      lines[-3].split('After 300 training step(s), validation accuracy = ')[1]
    )
    test = float(lines[-2].split('test accuracy = ')[1])
    assert validation > 0.9 and test > 0.9


@pytest.mark.parametrize(
  'program',
  ['contrib_mlp', 'slim_cnn', 'book5_inference', 'book5_train', 'book5_eval'],
)
def test_programs_differ_from_tf1_only_in_import_lines(program):
  sys.path.insert(0, os.path.join(_REPO, 'scripts'))
  import tf1_programs_accuracy  # noqa: PLC0415 (a script, not a package)

  with open(os.path.join(_PROGRAMS, f'{program}.py'), encoding='utf-8') as f:
    source = f.read()
  tf1_source = tf1_programs_accuracy.to_tf1(source)
  assert 'graphnet' not in tf1_source
  changed = [
    (a, b)
    for a, b in zip(source.splitlines(), tf1_source.splitlines(), strict=True)
    if a != b
  ]
  assert changed and all(a.startswith(('import', 'from')) for a, _ in changed)


def _python(*args):
  """Runs the graphnet venv's Python on `args`; returns its stdout."""
  done = subprocess.run(
    [sys.executable, *args],
    capture_output=True,
    text=True,
    timeout=300,
    cwd=_REPO,
    env=dict(os.environ, PYTHONPATH=_REPO),
  )
  assert done.returncode == 0, done.stderr[-3000:]
  return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize('program', ['contrib_mlp', 'slim_cnn', 'book5'])
def test_program_reaches_tf1_accuracy(tmp_path, program):
  """tests/tf1_programs/<program>: TF 1.15's test accuracy or better.

  TF 1.15's figure is recorded by `scripts/tf1_programs_accuracy.py
  --programs contrib_mlp,book5,slim_cnn --record` (same program, steps,
  seed).
  """
  sys.path.insert(0, os.path.join(_REPO, 'scripts'))
  import tf1_programs_accuracy  # noqa: PLC0415 (a script, not a package)

  with open(tf1_programs_accuracy.RECORD) as f:
    tf1_accuracy = json.load(f)[program]['metric']
  accuracy, _, out = tf1_programs_accuracy.run_program(
    program, sys.executable, str(tmp_path)
  )
  assert accuracy >= tf1_accuracy - 0.005, out
