"""A user's own model and data: graphnet.train, the CLI, restore, export.

Real data nobody here wrote: scikit-learn's bundled UCI digits (8x8
images, 10 classes), trained with the program of scripts/digits_example.py.
"""

import importlib.util
import json
import os
import pathlib
import textwrap

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import graphnet
from graphnet import errors
from graphnet.data import idx
from graphnet.data import mnist_reader as input_data
from graphnet.nn import layers
from graphnet.nn import mlp as mnist
from graphnet.nn import models
from graphnet.serving import exporter
from graphnet.serving import predictor
from graphnet.training import checkpoint_eval
from graphnet.training import config
from graphnet.training import train_graph

import _helpers

tf.disable_eager_execution()

_REPO = pathlib.Path(__file__).resolve().parents[1]


def _quiet(line):
  del line


def _load_example():
  path = _REPO / 'scripts/digits_example.py'
  spec = importlib.util.spec_from_file_location('digits_example', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


_EXAMPLE = _load_example()


def _env(*paths):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  env['PYTHONPATH'] = os.pathsep.join(
    str(p) for p in (_REPO, *paths, env.get('PYTHONPATH')) if p
  )
  return env


def _python(code, *paths, args=()):
  done = _helpers.run_python(
    '-c', textwrap.dedent(code), *map(str, args), env=_env(*paths), timeout=300
  )
  assert done.returncode == 0, done.stderr[-3000:]
  return done.stdout


def _digits(validation_size=100, seed=0):
  train, test = _EXAMPLE.load_digits()
  return input_data.from_arrays(
    train=train, test=test, validation_size=validation_size, seed=seed
  )


@pytest.fixture(scope='module')
def digits_run(tmp_path_factory):
  """The example program's checkpoint: (log_dir, TrainResult)."""
  log_dir = tmp_path_factory.mktemp('digits') / 'logs'
  result = _EXAMPLE.train(str(log_dir), printer=_quiet)
  return log_dir, result


def _small_mlp(units=32, classes=10):
  return layers.Sequential(
    [
      layers.Flatten(),
      layers.Dense(units, tf.nn.relu, name='hidden1'),
      layers.Dense(classes, name='softmax_linear'),
    ]
  )


class TestDigitsExample:
  def test_reaches_095_test_accuracy(self, digits_run):
    _, result = digits_run
    assert result.global_step == 1500
    assert result.evaluations['test'].num_examples == _EXAMPLE.NUM_TEST
    assert result.evaluations['test'].precision >= 0.95

  def test_restores_in_a_fresh_process(self, digits_run):
    log_dir, result = digits_run
    _, (images, labels) = _EXAMPLE.load_digits()
    np.save(log_dir.parent / 'images.npy', images)
    code = """
      import json, sys
      import numpy as np
      import tensorflow.compat.v1 as tf
      from graphnet.serving import predictor
      tf.disable_eager_execution()
      log_dir, images = sys.argv[1], np.load(sys.argv[2])
      with predictor.Predictor.from_checkpoint(log_dir) as p:
        safe = p.predict(images).tolist()
        shape = list(p.feature_shape)
      # Plain TF1: the .meta graph and the contract's tensor names.
      with tf.Graph().as_default(), tf.Session() as sess:
        prefix = tf.train.latest_checkpoint(log_dir)
        saver = tf.train.import_meta_graph(prefix + '.meta')
        saver.restore(sess, prefix)
        plain = sess.run('predictions:0', {'images:0': images}).tolist()
        placeholder = sess.graph.get_tensor_by_name('images:0')
        declared = placeholder.shape.as_list()
      print(json.dumps([safe, plain, shape, declared]))
    """
    out = _python(code, args=[log_dir, log_dir.parent / 'images.npy'])
    safe, plain, shape, declared = json.loads(out.splitlines()[-1])
    assert safe == plain
    assert shape == [8, 8]
    assert declared == [None, 8, 8]
    accuracy = np.mean(np.array(safe) == labels)
    assert accuracy == pytest.approx(result.evaluations['test'].precision)

  def test_saved_model_signature_takes_its_feature_shape(
    self, digits_run, tmp_path
  ):
    log_dir, _ = digits_run
    export_dir = tmp_path / 'saved_model'
    exporter.export_saved_model(str(log_dir), str(export_dir))
    code = """
      import json, sys
      import numpy as np
      import tensorflow as tf
      loaded = tf.saved_model.load(sys.argv[1])
      fn = loaded.signatures['serving_default']
      spec = fn.structured_input_signature[1]['images']
      out = fn(images=np.zeros([3, 8, 8], np.float32))
      print(json.dumps([spec.shape.as_list(), spec.dtype.name,
                        out['probabilities'].shape.as_list()]))
    """
    out = _python(code, args=[export_dir])
    shape, dtype, probabilities = json.loads(out.splitlines()[-1])
    assert shape == [None, 8, 8]
    assert dtype == 'float32'
    assert probabilities == [3, 10]

  def test_frozen_graph_takes_its_feature_shape(self, digits_run, tmp_path):
    log_dir, _ = digits_run
    graph_def = exporter.export_frozen_graph(
      str(log_dir), str(tmp_path / 'digits.pb')
    )
    (images,) = [n for n in graph_def.node if n.name == 'images']
    dims = [d.size for d in images.attr['shape'].shape.dim]
    assert dims == [-1, 8, 8]

  def test_predictor_checks_input_against_the_saved_shape(self, digits_run):
    log_dir, _ = digits_run
    _, (images, _) = _EXAMPLE.load_digits()
    with predictor.Predictor.from_checkpoint(str(log_dir)) as p:
      assert p.predict(images[0]).shape == (1,)
      assert p.predict_proba(images[:0]).shape == (0, 10)
      with pytest.raises(errors.InputShapeError, match=r'\[N, 8, 8\]'):
        p.predict(images.reshape(-1, 64))
      with pytest.raises(errors.InputShapeError, match='NaN'):
        p.predict(np.full([1, 8, 8], np.nan, np.float32))

  def test_evaluator_scores_it_through_its_saved_graph(self, digits_run):
    _, result = digits_run
    step, accuracy = checkpoint_eval.evaluate_checkpoint(
      result.checkpoint, _digits().test
    )
    assert step == 1500
    assert accuracy == pytest.approx(result.evaluations['test'].precision)


class TestTrain:
  def test_graph_takes_the_data_shape(self):
    spec = models.register_callable(_small_mlp())
    cfg = config.TrainConfig(
      log_dir='/unused', input_data_dir='', model=config.ModelConfig(spec.name)
    )
    tg = train_graph.build_train_graph(cfg, _digits())
    with tg.graph.as_default():
      assert tg.images.shape.as_list() == [None, 8, 8]
      logits = tg.graph.get_tensor_by_name('logits:0')
      assert logits.shape.as_list() == [None, 10]

  def test_logits_of_another_width_are_refused(self, tmp_path):
    log_dir = tmp_path / 'logs'
    with pytest.raises(errors.ConfigError, match=r'\[batch, 10\]') as caught:
      graphnet.train(
        _small_mlp(classes=7), _digits(), str(log_dir), printer=_quiet
      )
    assert caught.value.field == 'model'
    assert not log_dir.exists()

  def test_unknown_option_lists_the_valid_ones(self, tmp_path):
    with pytest.raises(errors.ConfigError, match='max_step') as caught:
      graphnet.train(_small_mlp(), _digits(), str(tmp_path), max_step=5)
    assert caught.value.field == 'max_step'
    assert 'max_steps' in str(caught.value)
    assert 'learning_rate' in str(caught.value)

  def test_batch_larger_than_the_data_is_refused(self, tmp_path):
    with pytest.raises(errors.DataError, match='batch_size'):
      graphnet.train(_small_mlp(), _digits(), str(tmp_path), batch_size=5000)

  def test_a_function_of_images_alone_trains(self, tmp_path):
    def model(images):
      with tf.variable_scope('linear'):
        weights = tf.get_variable(
          'weights', [64, 10], initializer=tf.zeros_initializer()
        )
        return tf.matmul(tf.reshape(images, [-1, 64]), weights)

    result = graphnet.train(
      model,
      _digits(),
      str(tmp_path),
      max_steps=300,
      batch_size=50,
      learning_rate=0.5,
      printer=_quiet,
    )
    shapes = dict(tf.train.list_variables(result.checkpoint))
    assert shapes['linear/weights'] == [64, 10]
    assert result.evaluations['test'].precision > 0.8

  def test_resident_loop_with_moving_averages_and_resume(self, tmp_path):
    lines = []
    options = dict(
      batch_size=50,
      optimizer='adam',
      learning_rate=0.003,
      input_pipeline='resident',
      steps_per_run=10,
      moving_average_decay=0.99,
      eval_every=200,
      seed=1,
      printer=lines.append,
    )
    model = _small_mlp()
    first = graphnet.train(
      model, _digits(), str(tmp_path), max_steps=200, **options
    )
    assert first.global_step == 200
    # A new process would call it again: resume from step 200.
    second = graphnet.train(
      _small_mlp(), _digits(), str(tmp_path), max_steps=400, **options
    )
    assert second.global_step == 400
    assert any('moving averages' in line for line in lines)
    assert second.evaluations['test'].precision >= 0.9
    shapes = dict(tf.train.list_variables(second.checkpoint))
    assert 'hidden1/weights/ExponentialMovingAverage' in shapes

  @pytest.mark.parametrize('where', ['option', 'layer'])
  @pytest.mark.parametrize(
    'pipeline, steps_per_run', [('feed', 1), ('resident', 5)]
  )
  def test_weight_penalty_shrinks_the_weights(
    self, tmp_path, pipeline, steps_per_run, where
  ):
    """regularization_rate, or a layer's own regularizer, in every tower."""

    def weight_norm(rate):
      model, options = _small_mlp(), {'regularization_rate': rate}
      if where == 'layer':
        options = {}
        model = layers.Sequential(
          [
            layers.Flatten(),
            layers.Dense(
              32,
              tf.nn.relu,
              regularizer=mnist.l2_regularizer(rate),
              name='hidden1',
            ),
            layers.Dense(10, name='softmax_linear'),
          ]
        )
      result = graphnet.train(
        model,
        _digits(),
        str(tmp_path / f'{pipeline}_{rate}'),
        max_steps=100,
        batch_size=50,
        learning_rate=0.1,
        input_pipeline=pipeline,
        steps_per_run=steps_per_run,
        seed=0,
        printer=_quiet,
        **options,
      )
      reader = tf.train.load_checkpoint(result.checkpoint)
      return np.linalg.norm(reader.get_tensor('hidden1/weights'))

    assert weight_norm(0.5) < 0.8 * weight_norm(0.0)

  def test_uint8_images_of_any_shape_train_resident(self, tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 600)
    # Class c lights up row c of a 6x5x2 image.
    images = rng.integers(0, 60, (600, 6, 5, 2)).astype(np.uint8)
    images[np.arange(600), labels] = 255
    data = input_data.from_arrays(
      train=(images[:500], labels[:500]),
      test=(images[500:], labels[500:]),
      seed=0,
    )
    result = graphnet.train(
      _small_mlp(16, 3),
      data,
      str(tmp_path),
      max_steps=200,
      batch_size=20,
      learning_rate=0.1,
      input_pipeline='resident',
      steps_per_run=20,
      printer=_quiet,
    )
    assert result.evaluations['test'].precision >= 0.95


def test_importing_graphnet_loads_no_tensorflow_until_train_is_used():
  code = """
    import sys
    import graphnet
    before = 'tensorflow' in sys.modules
    graphnet.train, graphnet.fit, graphnet.layers.Dense
    print(before, 'tensorflow' in sys.modules)
  """
  assert _python(code).split() == ['False', 'True']


def _write_idx_set(directory, size=16, classes=3, train=600, test=150):
  """An IDX set of size x size images: class c is a bright band c."""
  rng = np.random.default_rng(0)
  band = size // classes
  for split, count in (('train', train), ('t10k', test)):
    labels = rng.integers(0, classes, count).astype(np.uint8)
    images = rng.integers(0, 80, (count, size, size)).astype(np.uint8)
    for c in range(classes):
      images[labels == c, c * band : (c + 1) * band] = 250
    idx.write_idx_images(
      os.path.join(directory, f'{split}-images-idx3-ubyte.gz'), images
    )
    idx.write_idx_labels(
      os.path.join(directory, f'{split}-labels-idx1-ubyte.gz'), labels
    )


def _train_cli(*args, paths=()):
  done = _helpers.run_python(
    '-m',
    'graphnet.fully_connected_feed',
    *map(str, args),
    env=_env(*paths),
    timeout=300,
  )
  return done


class TestCommandLine:
  def test_idx_set_of_16x16_images_and_3_classes_trains(self, tmp_path):
    data_dir, log_dir = tmp_path / 'data', tmp_path / 'logs'
    data_dir.mkdir()
    _write_idx_set(data_dir)
    done = _train_cli(
      '--input_data_dir', data_dir, '--log_dir', log_dir, '--max_steps', 300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # 10% of the 600 training images are held out for validation.
    assert 'Num examples: 540' in done.stdout
    assert 'Num examples: 60 ' in done.stdout
    test_line = done.stdout.split('Test Data Eval:')[-1].splitlines()[1]
    assert float(test_line.split()[-1]) >= 0.9
    prefix = tf.train.latest_checkpoint(str(log_dir))
    shapes = dict(tf.train.list_variables(prefix))
    assert shapes['hidden1/weights'] == [256, 128]
    assert shapes['softmax_linear/weights'] == [32, 3]
    with predictor.Predictor.from_checkpoint(str(log_dir)) as p:
      assert p.feature_shape == (256,)
      assert p.predict_proba(np.zeros([2, 256], np.uint8)).shape == (2, 3)
    # The evaluator reads the same split and scores the saved graph.
    done = _helpers.run_python(
      '-m',
      'graphnet.mnist_eval',
      '--run_once',
      '--checkpoint_dir',
      str(log_dir),
      '--input_data_dir',
      str(data_dir),
      env=_env(),
      timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'After 300 training step(s), validation accuracy' in done.stdout
    # So does the prediction command, on the set's own 16x16 IDX files.
    done = _helpers.run_python(
      '-m',
      'graphnet.predict',
      '--checkpoint_dir',
      str(log_dir),
      '--idx',
      str(data_dir / 't10k-images-idx3-ubyte.gz'),
      '--labels',
      str(data_dir / 't10k-labels-idx1-ubyte.gz'),
      env=_env(),
      timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert float(done.stdout.split('accuracy ')[1].split()[0]) >= 0.9

  def test_model_from_a_users_module_trains(self, tmp_path):
    package = tmp_path / 'src' / 'mypkg'
    package.mkdir(parents=True)
    (package / '__init__.py').write_text('')
    (package / 'mymod.py').write_text(
      textwrap.dedent("""
        import tensorflow.compat.v1 as tf
        from graphnet.nn import layers

        def build():
          return layers.Sequential([
              layers.Reshape([8, 8, 1]),
              layers.Conv2D(4, 3, activation=tf.nn.relu, name='myconv'),
              layers.Flatten(),
              layers.Dense(10, name='mylogits'),
          ])
      """)
    )
    train, test = _EXAMPLE.load_digits()
    npz = tmp_path / 'digits.npz'
    np.savez(
      npz, x_train=train[0], y_train=train[1], x_test=test[0], y_test=test[1]
    )
    log_dir = tmp_path / 'logs'
    done = _train_cli(
      '--model',
      'mypkg.mymod:build',
      '--data_npz',
      npz,
      '--log_dir',
      log_dir,
      '--max_steps',
      300,
      '--optimizer',
      'adam',
      '--learning_rate',
      0.01,
      '--validation_size',
      100,
      paths=[tmp_path / 'src'],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'Num examples: 1300' in done.stdout
    prefix = tf.train.latest_checkpoint(str(log_dir))
    shapes = dict(tf.train.list_variables(prefix))
    assert shapes['myconv/weights'] == [3, 3, 1, 4]
    assert shapes['mylogits/weights'] == [256, 10]
    test_line = done.stdout.split('Test Data Eval:')[-1].splitlines()[1]
    assert float(test_line.split()[-1]) >= 0.9

  def test_bad_model_spec_is_a_usage_error_naming_model(self, tmp_path):
    done = _train_cli(
      '--model',
      'no_such_pkg.mod:build',
      '--log_dir',
      tmp_path / 'logs',
      '--fake_data',
    )
    assert done.returncode != 0
    assert '--model' in done.stderr
    assert 'no_such_pkg.mod' in done.stderr
    assert not (tmp_path / 'logs').exists()
