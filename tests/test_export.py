"""Tests of graphnet.exporter and the `python -m graphnet.export` entry point.

The SavedModel is loaded in a subprocess with eager TF 2, the way serving
code loads it, whatever mode this test process runs in.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.checkpoints import state as checkpoints
from graphnet.data import idx
from graphnet.data import mnist_files
from graphnet.serving import exporter
from graphnet.serving import graph_safety
from graphnet.serving import predictor
from graphnet.training import config
from graphnet.training import schedules
from graphnet.training import trainer

import _helpers

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ENV = dict(os.environ, PYTHONPATH=_REPO, TF_CPP_MIN_LOG_LEVEL='2')


@pytest.fixture(scope='module')
def ckpt(tmp_path_factory, data_dir):
  """The tutorial MLP trained 300 steps on MNIST, with moving averages."""
  log_dir = str(tmp_path_factory.mktemp('logs'))
  trainer.run_training(
    config.TrainConfig(
      log_dir=log_dir,
      input_data_dir=str(data_dir),
      max_steps=300,
      moving_average_decay=0.99,
      schedule=schedules.Schedule(base_rate=0.3),
      eval_every=10000,
      log_every=10000,
      seed=5,
    ),
    printer=lambda line: None,
  )
  return checkpoints.latest_checkpoint(log_dir)


@pytest.fixture(scope='module')
def test_images(data_dir):
  images = idx.read_idx_images(str(data_dir / mnist_files.TEST_IMAGES))
  return images.reshape(-1, 784).astype(np.float32) / 255.0


@pytest.fixture(scope='module')
def expected(ckpt, test_images):
  """(predictions, probabilities) of the checkpoint on the test set."""
  with predictor.Predictor.from_checkpoint(ckpt) as p:
    return p.classify(test_images)


@pytest.fixture(scope='module')
def saved_model(ckpt, tmp_path_factory):
  export_dir = str(tmp_path_factory.mktemp('export') / 'saved_model')
  exporter.export_saved_model(os.path.dirname(ckpt), export_dir)
  return export_dir


class TestFrozenGraph:
  def test_same_predictions_as_checkpoint(
    self, ckpt, tmp_path, test_images, expected
  ):
    out = str(tmp_path / 'frozen.pb')
    exporter.export_frozen_graph(ckpt, out)
    graph_def = tf.GraphDef()
    with open(out, 'rb') as f:
      graph_def.ParseFromString(f.read())
    ops = {node.op for node in graph_def.node}
    assert not ops & {'VarHandleOp', 'VariableV2', 'ReadVariableOp', 'SaveV2'}
    placeholders = [n.name for n in graph_def.node if n.op == 'Placeholder']
    assert placeholders == ['images']
    graph = tf.Graph()
    with graph.as_default():
      tf.import_graph_def(graph_def, name='')
    with tf.Session(graph=graph) as sess:
      predictions, probabilities = sess.run(
        ['predictions:0', 'probabilities:0'], {'images:0': test_images}
      )
    np.testing.assert_array_equal(predictions, expected[0])
    np.testing.assert_allclose(probabilities, expected[1], atol=1e-6)

  def test_holds_only_allowlisted_inference_ops(self, ckpt, tmp_path):
    graph_def = exporter.export_frozen_graph(ckpt, str(tmp_path / 'f.pb'))
    ops = {node.op for node in graph_def.node}
    assert ops <= graph_safety.ALLOWED_OPS
    assert not ops & set(graph_safety.DANGEROUS_OPS)
    graph_safety.check_graph_def(graph_def)
    graph_safety.check_static_sizes(graph_def)

  def test_unsafe_checkpoint_refused(self, tmp_path):
    graph = tf.Graph()
    with graph.as_default():
      images = tf.placeholder(tf.float32, [None, 784], 'images')
      logits = tf.identity(
        tf.matmul(images, tf.get_variable('w', [784, 10])), name='logits'
      )
      tf.nn.softmax(logits, name='probabilities')
      tf.argmax(logits, 1, name='predictions')
      tf.py_func(lambda: 0.0, [], tf.float32, name='callback')
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = tf.train.Saver().save(sess, str(tmp_path / 'model.ckpt'))
    out = tmp_path / 'frozen.pb'
    with pytest.raises(errors.UnsafeGraphError, match='PyFunc'):
      exporter.export_frozen_graph(prefix, str(out))
    with pytest.raises(errors.UnsafeGraphError, match='PyFunc'):
      exporter.export_saved_model(prefix, str(tmp_path / 'sm'))
    assert not out.exists() and not (tmp_path / 'sm').exists()


class TestSavedModel:
  def test_eager_tf2_load_gives_same_predictions(
    self, saved_model, test_images, expected, tmp_path
  ):
    images_path = str(tmp_path / 'images.npy')
    out_path = str(tmp_path / 'out.npz')
    np.save(images_path, test_images)
    script = textwrap.dedent(f"""
      import numpy as np
      import tensorflow as tf
      assert tf.executing_eagerly()
      loaded = tf.saved_model.load({saved_model!r})
      serve = loaded.signatures['serving_default']
      print(sorted(serve.structured_outputs))
      out = serve(images=tf.constant(np.load({images_path!r})))
      np.savez({out_path!r}, predictions=out['predictions'].numpy(),
               probabilities=out['probabilities'].numpy())
    """)
    result = _helpers.run_python('-c', script, env=_ENV, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "['predictions', 'probabilities']" in result.stdout
    out = np.load(out_path)
    assert out['predictions'].dtype == np.int64
    np.testing.assert_array_equal(out['predictions'], expected[0])
    np.testing.assert_allclose(out['probabilities'], expected[1], atol=1e-6)

  def test_saved_model_cli_shows_signature(self, saved_model):
    cli = os.path.join(os.path.dirname(sys.executable), 'saved_model_cli')
    result = subprocess.run(
      [cli, 'show', '--dir', saved_model, '--all'],
      capture_output=True,
      text=True,
      env=_ENV,
      timeout=180,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "signature_def['serving_default']" in out
    assert "inputs['images']" in out
    assert 'shape: (-1, 784)' in out
    assert "outputs['probabilities']" in out
    assert "outputs['predictions']" in out
    assert 'DT_INT64' in out

  def test_existing_directory_refused(self, ckpt, saved_model):
    with pytest.raises(errors.ConfigError, match='already exists'):
      exporter.export_saved_model(ckpt, saved_model)


def _cli(*args):
  return _helpers.run_python(
    '-m', 'graphnet.export', *args, env=_ENV, timeout=180
  )


class TestCommandLine:
  def test_writes_both(self, ckpt, tmp_path, test_images, expected):
    frozen = tmp_path / 'mnist.pb'
    model_dir = tmp_path / 'model'
    result = _cli(
      '--checkpoint_dir',
      os.path.dirname(ckpt),
      '--frozen_graph',
      str(frozen),
      '--saved_model_dir',
      str(model_dir),
    )
    assert result.returncode == 0, result.stderr
    assert (model_dir / 'saved_model.pb').is_file()
    graph_def = tf.GraphDef()
    graph_def.ParseFromString(frozen.read_bytes())
    graph = tf.Graph()
    with graph.as_default():
      tf.import_graph_def(graph_def, name='')
    with tf.Session(graph=graph) as sess:
      predictions = sess.run('predictions:0', {'images:0': test_images[:100]})
    np.testing.assert_array_equal(predictions, expected[0][:100])

  def test_needs_an_output(self, ckpt, tmp_path):
    result = _cli('--checkpoint', ckpt)
    assert result.returncode != 0
    assert '--frozen_graph, --saved_model_dir or both' in result.stderr
