"""Premade estimators (graphnet.compat.v1.estimator.canned) vs TF 1.15.

The goldens in tests/goldens/tf1_canned were written by real TF 1.15
(scripts/tf1_goldens/make_canned_goldens.py): each model's checkpoint, its
variable names and shapes, `evaluate`'s metrics, `predict`'s output, and
the metrics after resuming and training 20 steps in order. Here graphnet
resumes the same model_dirs and must give the same numbers; the TF1-style
programs (tests/tf1_programs/iris_dnn.py, wide_deep.py) run as written.
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import types
import warnings

import numpy as np
import pytest

from graphnet import tf_loader
from graphnet.compat.v1 import estimator
from graphnet.compat.v1.estimator.canned import head as head_lib
from graphnet.compat.v1.estimator.canned import linear
from graphnet.compat.v1.estimator.canned import optimizers
from graphnet.errors import ConfigError

tf = tf_loader.import_tensorflow().compat.v1

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
_GOLDENS = os.path.join(_REPO, 'tests', 'goldens', 'tf1_canned')
_PROGRAMS = os.path.join(_REPO, 'tests', 'tf1_programs')
_MODELS = ('iris_dnn', 'wide_deep', 'linear_reg', 'dnn_reg')


def _load_golden_script():
  """scripts/tf1_goldens/make_canned_goldens.py: the models' one home."""
  path = os.path.join(_REPO, 'scripts', 'tf1_goldens', 'make_canned_goldens.py')
  spec = importlib.util.spec_from_file_location('make_canned_goldens', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


_G = _load_golden_script()
# What the golden script reads from `tf`: TF1's names, graphnet's estimator.
_TF = types.SimpleNamespace(
  estimator=estimator, feature_column=tf.feature_column, train=tf.train
)


def _golden(name, what):
  with open(os.path.join(_GOLDENS, name, what), encoding='utf-8') as f:
    return json.load(f)


def _copy_model_dir(name, root):
  model_dir = os.path.join(root, name)
  shutil.copytree(os.path.join(_GOLDENS, name), model_dir)
  return model_dir


def _eval_fn(data):
  x, y = data
  return estimator.inputs.numpy_input_fn(
    x, y, batch_size=50, num_epochs=1, shuffle=False
  )


def _assert_close(found, expected, what):
  assert sorted(found) == sorted(expected), what
  for key, value in expected.items():
    np.testing.assert_allclose(
      np.asarray(found[key], dtype=np.float64),
      value,
      rtol=2e-5,
      atol=1e-6,
      err_msg=f'{what}: {key}',
    )


@pytest.fixture(scope='module')
def resumed(tmp_path_factory):
  """{model: (metrics, predictions)} of graphnet on TF 1.15's model_dirs."""
  root = str(tmp_path_factory.mktemp('canned'))
  out = {}
  for name in _MODELS:
    model, _, evals = _G.build(_TF, name, _copy_model_dir(name, root))
    metrics = model.evaluate(_eval_fn(evals))
    first = {k: v[: _G.N_PREDICT] for k, v in evals[0].items()}
    predictions = list(
      model.predict(
        estimator.inputs.numpy_input_fn(first, num_epochs=1, shuffle=False)
      )
    )
    out[name] = (metrics, predictions)
  return out


class TestTf1Goldens:
  @pytest.mark.parametrize('name', _MODELS)
  def test_variable_names_and_shapes_are_tf1s(self, name):
    # The training graph (optimizer slots included) names every variable
    # as TF 1.15's checkpoint does.
    model, (x, y), _ = _G.build(_TF, name, None)
    with tf.Graph().as_default():
      tf.train.get_or_create_global_step()
      features = {k: tf.constant(v[:4]) for k, v in x.items()}
      model.model_fn(features=features, labels=tf.constant(y[:4]), mode='train')
      found = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    assert found == _golden(name, 'variables.json')

  @pytest.mark.parametrize('name', _MODELS)
  def test_evaluate_on_tf1_model_dir_gives_tf1s_metrics(self, resumed, name):
    metrics, _ = resumed[name]
    _assert_close(metrics, _golden(name, 'metrics.json'), name)

  @pytest.mark.parametrize('name', _MODELS)
  def test_predict_on_tf1_model_dir_gives_tf1s_predictions(self, resumed, name):
    _, predictions = resumed[name]
    expected = _golden(name, 'predictions.json')
    assert len(predictions) == len(expected)
    for found, want in zip(predictions, expected, strict=True):
      assert sorted(found) == sorted(want)
      for key, value in want.items():
        if isinstance(np.ravel(value)[0], str):
          got = [v.decode() for v in np.ravel(found[key])]
          assert got == list(np.ravel(value)), key
        else:
          np.testing.assert_allclose(found[key], value, rtol=2e-5, atol=1e-6)

  @pytest.mark.parametrize('name', ['iris_dnn', 'wide_deep', 'linear_reg'])
  def test_resumed_training_continues_as_tf1(self, tmp_path, name):
    # Slots restored and the same train op: 20 steps in order land on TF
    # 1.15's numbers (Adagrad 't_0' slots, Ftrl 'part_0' slots, two
    # optimizers in wide & deep).
    model, (x, y), evals = _G.build(
      _TF, name, _copy_model_dir(name, str(tmp_path))
    )
    before = model.get_variable_value(model.get_variable_names()[1])
    model.train(
      estimator.inputs.numpy_input_fn(
        x, y, batch_size=32, num_epochs=None, shuffle=False
      ),
      steps=_G.RESUME_STEPS,
    )
    metrics = model.evaluate(_eval_fn(evals))
    _assert_close(metrics, _golden(name, 'resumed.json'), name)
    assert sorted(model.get_variable_names()) == sorted(
      _golden(name, 'variables.json')
    )
    after = model.get_variable_value(model.get_variable_names()[1])
    assert not np.array_equal(before, after)

  def test_batch_norm_variables_are_tf1s(self):
    # TF 1.15's DNNClassifier([3], batch_norm=True) checkpoint keys.
    model = estimator.DNNClassifier(
      [3], [tf.feature_column.numeric_column('a')], batch_norm=True, dropout=0.1
    )
    with tf.Graph().as_default():
      tf.train.get_or_create_global_step()
      model.model_fn(
        features={'a': tf.constant([1.0, 2.0])},
        labels=tf.constant([0, 1]),
        mode='train',
      )
      found = sorted(v.op.name for v in tf.global_variables())
    layer = 'dnn/hiddenlayer_0'
    expected = ['global_step']
    for name in ('batchnorm_0/beta', 'batchnorm_0/gamma', 'bias', 'kernel'):
      expected += [f'{layer}/{name}', f'{layer}/{name}/t_0/Adagrad']
    expected += [f'{layer}/batchnorm_0/moving_mean']
    expected += [f'{layer}/batchnorm_0/moving_variance']
    for name in ('dnn/logits/bias', 'dnn/logits/kernel'):
      expected += [name, f'{name}/t_0/Adagrad']
    assert found == sorted(expected)

  @pytest.mark.parametrize(
    'kind, expected',
    [
      (
        'DNNClassifier-Adam',
        [
          'dnn/head/beta1_power',
          'dnn/head/beta2_power',
          'dnn/hiddenlayer_0/bias',
          'dnn/hiddenlayer_0/bias/t_0/Adam',
          'dnn/hiddenlayer_0/bias/t_0/Adam_1',
          'dnn/hiddenlayer_0/kernel',
          'dnn/hiddenlayer_0/kernel/t_0/Adam',
          'dnn/hiddenlayer_0/kernel/t_0/Adam_1',
          'dnn/logits/bias',
          'dnn/logits/bias/t_0/Adam',
          'dnn/logits/bias/t_0/Adam_1',
          'dnn/logits/kernel',
          'dnn/logits/kernel/t_0/Adam',
          'dnn/logits/kernel/t_0/Adam_1',
          'global_step',
        ],
      ),
      (
        'LinearClassifier-RMSProp',
        [
          'global_step',
          'linear/linear_model/a/weights',
          'linear/linear_model/a/weights/part_0/RMSProp',
          'linear/linear_model/a/weights/part_0/RMSProp_1',
          'linear/linear_model/bias_weights',
          'linear/linear_model/bias_weights/part_0/RMSProp',
          'linear/linear_model/bias_weights/part_0/RMSProp_1',
        ],
      ),
    ],
  )
  def test_other_optimizers_slots_are_tf1s(self, kind, expected):
    # TF 1.15's checkpoint keys after one step (Adam's beta powers sit in
    # the head's name scope under 'dnn').
    column = [tf.feature_column.numeric_column('a')]
    if kind == 'DNNClassifier-Adam':
      model = estimator.DNNClassifier([3], column, optimizer='Adam')
    else:
      model = estimator.LinearClassifier(column, optimizer='RMSProp')
    with tf.Graph().as_default():
      tf.train.get_or_create_global_step()
      model.model_fn(
        features={'a': tf.constant([1.0, 2.0])},
        labels=tf.constant([0, 1]),
        mode='train',
      )
      assert sorted(v.op.name for v in tf.global_variables()) == expected

  def test_export_serves_tf1s_predictions(self, tmp_path):
    # A TF 1.15 model_dir exported as a SavedModel; its parsing `predict`
    # signature, run from the loaded graph, gives TF 1.15's predictions.
    model, _, (ex, _) = _G.build(
      _TF, 'iris_dnn', _copy_model_dir('iris_dnn', str(tmp_path))
    )
    spec = tf.feature_column.make_parse_example_spec(_G.iris_columns(tf))
    path = model.export_saved_model(
      str(tmp_path / 'export'),
      estimator.export.build_parsing_serving_input_receiver_fn(spec),
    )
    rows = [
      tf.train.Example(
        features=tf.train.Features(
          feature={
            k: tf.train.Feature(float_list=tf.train.FloatList(value=[v[i]]))
            for k, v in ex.items()
          }
        )
      ).SerializeToString()
      for i in range(2)
    ]
    with tf.Graph().as_default(), tf.Session() as session:
      meta = tf.saved_model.loader.load(session, ['serve'], path)
      signatures = meta.signature_def
      assert {'serving_default', 'classification', 'predict'} <= set(signatures)
      predict = signatures['predict']
      (inputs,) = predict.inputs.values()
      outputs = session.run(
        {k: v.name for k, v in predict.outputs.items()},
        {inputs.name: rows},
      )
    for i, want in enumerate(_golden('iris_dnn', 'predictions.json')[:2]):
      np.testing.assert_allclose(
        outputs['probabilities'][i], want['probabilities'], rtol=2e-5
      )
      assert outputs['classes'][i][0].decode() == want['classes'][0]


class TestHeads:
  def _spec(self, head, mode, labels=None, logits_dim=None):
    with tf.Graph().as_default():
      tf.train.get_or_create_global_step()
      logits = tf.constant(
        np.linspace(-1, 1, 4 * (logits_dim or head.logits_dimension))
        .reshape(4, -1)
        .astype(np.float32)
      )
      if labels is not None:
        labels = tf.constant(labels)
      return head.create_estimator_spec({}, mode, logits, labels)

  @pytest.mark.parametrize(
    'head, keys',
    [
      (
        head_lib.classifier_head(2),
        {'serving_default', 'classification', 'regression', 'predict'},
      ),
      (
        head_lib.classifier_head(3),
        {'serving_default', 'classification', 'predict'},
      ),
      (
        head_lib.regression_head(),
        {'serving_default', 'regression', 'predict'},
      ),
    ],
  )
  def test_export_outputs_are_tf1s_signatures(self, head, keys):
    spec = self._spec(head, 'infer')
    assert set(spec.export_outputs) == keys

  def test_binary_metric_names_are_tf1s(self):
    head = head_lib.classifier_head(2)
    spec = self._spec(head, 'eval', labels=np.array([0, 1, 1, 0]))
    assert set(spec.eval_metric_ops) == {
      'accuracy',
      'accuracy_baseline',
      'auc',
      'auc_precision_recall',
      'average_loss',
      'label/mean',
      'precision',
      'prediction/mean',
      'recall',
    }

  def test_label_vocabulary_maps_words_and_names_classes(self, tmp_path):
    x = {'a': np.linspace(0, 1, 40).astype(np.float32)}
    y = np.where(x['a'] > 0.5, b'yes', b'no')
    model = estimator.LinearClassifier(
      [tf.feature_column.numeric_column('a')],
      n_classes=2,
      label_vocabulary=['no', 'yes'],
      optimizer=lambda: tf.train.FtrlOptimizer(1.0),
      model_dir=str(tmp_path),
    )
    model.train(
      estimator.inputs.numpy_input_fn(
        x, y, batch_size=8, num_epochs=20, shuffle=True
      ),
    )
    metrics = model.evaluate(
      estimator.inputs.numpy_input_fn(x, y, batch_size=40, shuffle=False)
    )
    assert metrics['accuracy'] >= 0.9
    first = next(
      model.predict(
        estimator.inputs.numpy_input_fn({'a': x['a'][:1]}, shuffle=False)
      )
    )
    assert first['classes'][0] == b'no'
    assert list(first['all_classes']) == [b'no', b'yes']

  def test_linear_model_keeps_its_layer_warning_off_stderr(self):
    # TF's linear_model builds its weights with the legacy Keras Layer,
    # whose `add_variable` warns; the names stay TF 1.15's.
    column = tf.feature_column.numeric_column('a')
    with tf.Graph().as_default(), warnings.catch_warnings(record=True) as seen:
      warnings.simplefilter('always')
      linear.linear_logits({'a': tf.zeros([2, 1])}, [column], units=1)
      names = sorted(v.op.name for v in tf.global_variables())
    assert names == ['linear_model/a/weights', 'linear_model/bias_weights']
    assert not [w for w in seen if 'add_variable' in str(w.message)]

  def test_sum_reduction_is_tf1s_default(self):
    head = head_lib.classifier_head(3)
    with tf.Graph().as_default():
      logits = tf.zeros([4, 3])
      loss, _, _, _ = head.create_loss(
        {}, 'train', logits, tf.constant([0, 1, 2, 0])
      )
      with tf.Session() as session:
        # Four examples of -log(1/3) each, summed (TF 1.15: SUM).
        np.testing.assert_allclose(session.run(loss), 4 * np.log(3), rtol=1e-6)

  def test_weight_column_weights_loss_and_metrics(self):
    head = head_lib.regression_head(weight_column='w')
    logits = np.array([[1.0], [2.0], [4.0]], np.float32)
    labels = np.array([[0.0], [2.0], [1.0]], np.float32)
    w = np.array([1.0, 3.0, 2.0], np.float32)
    with tf.Graph().as_default():
      tf.train.get_or_create_global_step()
      features = {'w': tf.constant(w)}
      spec = head.create_estimator_spec(
        features, 'eval', tf.constant(logits), tf.constant(labels)
      )
      metrics = spec.eval_metric_ops
      with tf.Session() as session:
        session.run(tf.local_variables_initializer())
        session.run({k: v[1] for k, v in metrics.items()})
        loss, values = session.run(
          [spec.loss, {k: v[0] for k, v in metrics.items()}]
        )
    squared = ((logits - labels) ** 2)[:, 0]
    np.testing.assert_allclose(loss, np.sum(w * squared), rtol=1e-6)
    np.testing.assert_allclose(
      values['average_loss'], np.sum(w * squared) / w.sum(), rtol=1e-6
    )
    np.testing.assert_allclose(
      values['label/mean'], np.sum(w * labels[:, 0]) / w.sum(), rtol=1e-6
    )


class TestArguments:
  @pytest.mark.parametrize(
    'make, word',
    [
      (lambda c: estimator.DNNClassifier([], c), 'hidden_units'),
      (lambda c: estimator.DNNClassifier([4], []), 'feature_columns'),
      (lambda c: estimator.DNNClassifier([4], c, n_classes=1), 'n_classes'),
      (
        lambda c: estimator.LinearClassifier(
          c, n_classes=3, label_vocabulary=['a', 'b']
        ),
        'label_vocabulary',
      ),
      (
        lambda c: estimator.DNNLinearCombinedClassifier(dnn_feature_columns=c),
        'dnn_hidden_units',
      ),
      (
        lambda c: estimator.DNNLinearCombinedRegressor(),
        'linear_feature_columns',
      ),
      (
        lambda c: estimator.DNNRegressor([2], c, loss_reduction='none'),
        'loss_reduction',
      ),
      (
        lambda c: estimator.LinearRegressor(c, sparse_combiner='max'),
        'sparse_combiner',
      ),
    ],
  )
  def test_bad_constructor_arguments_are_named(self, make, word):
    columns = [tf.feature_column.numeric_column('x')]
    with pytest.raises(ConfigError, match=word):
      make(columns)

  def test_optimizer_names_use_tf1_classes_and_rates(self):
    opt = optimizers.get_optimizer_instance('Adagrad', 0.05)
    assert isinstance(opt, tf.train.AdagradOptimizer)
    assert opt._learning_rate == 0.05  # noqa: SLF001
    with pytest.raises(ConfigError, match='Adadelta'):
      optimizers.get_optimizer_instance('Adadelta', 0.1)


def _run_program(tmp_path, name, *args):
  """Starts a tests/tf1_programs program; it reports if Keras loaded."""
  code = (
    'import runpy, sys\n'
    f'sys.argv = [{name!r}] + sys.argv[1:]\n'
    'try:\n'
    f'  runpy.run_path({os.path.join(_PROGRAMS, name)!r},'
    ' run_name="__main__")\n'
    'except SystemExit as e:\n'
    '  if e.code: raise\n'
    "print('keras loaded:', 'keras' in sys.modules)\n"
  )
  env = dict(os.environ, PYTHONPATH=_REPO, TF_CPP_MIN_LOG_LEVEL='2')
  return subprocess.Popen(
    [sys.executable, '-c', code, *args, '--model_dir', str(tmp_path / name)],
    cwd=tmp_path,
    env=env,
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
  )


def _finish(process):
  out, err = process.communicate(timeout=300)
  assert process.returncode == 0, err[-3000:]
  return out


@pytest.fixture(scope='module', autouse=True)
def _programs(request, tmp_path_factory):
  """The two programs, started first so they run beside the other tests."""
  if not any('TestPrograms' in item.nodeid for item in request.session.items):
    yield {}
    return
  root = tmp_path_factory.mktemp('programs')
  started = {
    'iris_dnn': _run_program(root, 'iris_dnn.py', '--train_steps', '300'),
    'wide_deep': _run_program(
      root, 'wide_deep.py', '--train_epochs', '2', '--epochs_between_evals', '1'
    ),
  }
  yield started
  for process in started.values():
    if process.poll() is None:
      process.kill()
      process.communicate()


@pytest.fixture(scope='module')
def program_outputs(_programs):
  return {name: _finish(process) for name, process in _programs.items()}


class TestPrograms:
  def test_iris_premade_program_learns_iris(self, program_outputs):
    out = program_outputs['iris_dnn']
    accuracy = float(re.search(r'Test set accuracy: ([0-9.]+)', out)[1])
    assert accuracy >= 0.9
    for species in ('Setosa', 'Versicolor', 'Virginica'):
      assert f'Prediction is "{species}"' in out
    assert 'keras loaded: False' in out

  def test_wide_deep_program_prints_tf1s_metrics_per_round(
    self, program_outputs
  ):
    out = program_outputs['wide_deep']
    assert 'Results at epoch 1\n' in out and 'Results at epoch 2\n' in out
    keys = re.findall(
      r'^([a-z_/]+): ', out.split('Results at epoch 2')[1], re.M
    )
    assert keys == [
      'accuracy',
      'accuracy_baseline',
      'auc',
      'auc_precision_recall',
      'average_loss',
      'global_step',
      'label/mean',
      'loss',
      'precision',
      'prediction/mean',
      'recall',
    ]
    assert 'global_step: 50\n' in out
    assert 'keras loaded: False' in out


@pytest.mark.slow
def test_programs_reach_tf1_accuracy(tmp_path):
  # scripts/canned_accuracy.py: the same programs under TF 1.15, 3 seeds.
  out = tmp_path / 'accuracy.json'
  subprocess.run(
    [
      sys.executable,
      os.path.join(_REPO, 'scripts', 'canned_accuracy.py'),
      '--json',
      str(out),
    ],
    check=True,
    timeout=3600,
  )
  results = json.loads(out.read_text())
  for name, by in results.items():
    assert abs(by['difference_points']) <= 0.5 or (
      by['graphnet']['mean'] >= by['tf1.15']['mean']
    ), (name, by)
