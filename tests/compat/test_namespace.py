"""`import graphnet.compat.v1 as tf`: TF's tf.compat.v1 plus graphnet's parts.

What the namespace delegates, what it adds (lazily), what importing it
switches (graph mode, TF1 shapes), the error for a name nobody provides,
and, in a fresh process, that a tf.layers model builds and trains without
Keras ever being imported.
"""

import os
import sys
import textwrap

import numpy as np
import pytest
import tensorflow.compat.v1 as real_tf

import graphnet.compat.v1 as tf
from graphnet import errors

import _helpers

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
_CNN = os.path.join(_REPO, 'tests', 'tf1_programs', 'layers_cnn.py')


class TestDelegation:
  def test_other_names_are_tf_compat_v1s(self):
    assert tf.Session is real_tf.Session
    assert tf.train.AdamOptimizer is real_tf.train.AdamOptimizer
    assert tf.float32 is real_tf.float32
    assert tf.nn.relu is real_tf.nn.relu
    assert tf.nn.dynamic_rnn is real_tf.nn.dynamic_rnn

  def test_graphnet_parts_are_its_modules(self):
    assert tf.layers is sys.modules['graphnet.compat.v1.layers']
    assert tf.nn is sys.modules['graphnet.compat.v1.nn']
    assert tf.nn.rnn_cell is sys.modules['graphnet.compat.v1.rnn_cell']
    assert tf.contrib is sys.modules['graphnet.compat.v1.contrib']
    assert tf.estimator is sys.modules['graphnet.compat.v1.estimator']
    # tf_upgrade_v2's spelling reaches graphnet's layers too.
    assert tf.compat.v1 is tf
    assert tf.compat.as_bytes is real_tf.compat.as_bytes

  def test_from_imports_work(self):
    from graphnet.compat.v1 import layers
    from graphnet.compat.v1.nn import rnn_cell

    assert layers.dense is tf.layers.dense
    assert rnn_cell is tf.nn.rnn_cell

  def test_dir_lists_both(self):
    names = dir(tf)
    for name in ('layers', 'contrib', 'estimator', 'Session', 'placeholder'):
      assert name in names
    assert 'rnn_cell' in dir(tf.nn) and 'conv2d' in dir(tf.nn)


class TestMissingNames:
  @pytest.mark.parametrize(
    'lookup, name',
    [
      (lambda: tf.no_such_api, 'tf.no_such_api'),
      (lambda: tf.nn.no_such_op, 'tf.nn.no_such_op'),
      (lambda: tf.layers.separable_conv2d, 'tf.layers.separable_conv2d'),
    ],
  )
  def test_error_names_the_api_and_says_graphnet(self, lookup, name):
    with pytest.raises(errors.NotProvidedError) as raised:
      lookup()
    assert isinstance(raised.value, AttributeError)
    assert raised.value.name == name
    assert f'{name} is not provided' in str(raised.value)
    assert 'graphnet.compat.v1' in str(raised.value)

  def test_hasattr_and_getattr_default_see_it_missing(self):
    assert not hasattr(tf, 'no_such_api')
    assert getattr(tf.layers, 'conv3d_transpose', None) is None


class TestTF1Behaviour:
  def test_graph_mode(self):
    assert not tf.executing_eagerly()

  def test_shapes_have_tf1_dimensions(self):
    with tf.Graph().as_default():
      x = tf.placeholder(tf.float32, [None, 784])
      assert x.get_shape()[1].value == 784
      assert x.shape[0].value is None
      assert int(x.shape[1]) == 784


def test_fresh_process_trains_tf_layers_without_keras(tmp_path):
  # What a TF1 program does: import, build the tf.layers CNN, train a step.
  script = textwrap.dedent(f"""
    import importlib.util, sys
    import numpy as np
    import graphnet.compat.v1 as tf
    loaded = sorted(m for m in sys.modules if m.startswith('graphnet.compat'))
    spec = importlib.util.spec_from_file_location('cnn', {_CNN!r})
    cnn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cnn)
    graph = cnn.build_graph(1e-3)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      feed = {{graph['images']: np.zeros([8, 784], np.float32),
              graph['labels']: np.zeros([8], np.int64),
              graph['training']: True}}
      sess.run(graph['train_op'], feed)
    print('loaded at import:', ','.join(loaded))
    print('keras imported:', any(m == 'keras' or m.startswith('keras.')
                                 for m in sys.modules))
  """)
  done = _helpers.run_python('-c', script, timeout=300, cwd=str(tmp_path))
  assert done.returncode == 0, done.stderr[-3000:]
  assert 'keras imported: False' in done.stdout
  # The submodules load on first use, not with the namespace.
  assert 'loaded at import: graphnet.compat,graphnet.compat.v1\n' in done.stdout


def test_v1_shape_values_in_numpy_feeds():
  # A TF1 idiom: sizes taken from shapes with .value, fed as numpy arrays.
  with tf.Graph().as_default():
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.layers.dense(x, x.get_shape()[1].value * 2)
    assert y.shape.as_list() == [None, 6]
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      assert sess.run(y, {x: np.ones([2, 3])}).shape == (2, 6)


def test_tf_errors_is_tensorflows():
  # TF1 input loops catch tf.errors.OutOfRangeError.
  import tensorflow

  import graphnet.compat.v1 as tf

  assert tf.errors.OutOfRangeError is tensorflow.errors.OutOfRangeError


def test_no_module_level_name_hides_tensorflows():
  import tensorflow.compat.v1 as real

  import graphnet.compat.v1 as tf

  ours = {'layers', 'nn', 'contrib', 'estimator', 'compat'}
  hidden = [
    name
    for name in vars(tf)
    if not name.startswith('_')
    and name not in ours
    and hasattr(real, name)
    and getattr(tf, name) is not getattr(real, name)
  ]
  assert hidden == []


@pytest.mark.parametrize(
  'path',
  [
    ('estimator', 'TPUEstimator'),
    ('estimator', 'BoostedTreesClassifier'),
    ('contrib', 'learn', 'Experiment'),
  ],
)
def test_missing_tf1_apis_say_not_provided(path):
  import graphnet.compat.v1 as tf
  from graphnet import errors

  found = tf
  with pytest.raises(errors.NotProvidedError, match='not provided by graphnet'):
    for name in path:
      found = getattr(found, name)
