"""tf.estimator's exporters under train_and_evaluate (compat/v1/estimator).

One linear model_fn trained 20 steps with a checkpoint (and an evaluation)
every 5, then resumed to step 30 with a learning rate that diverges; the
export timestamps come from a fake clock, so no export waits for a new
second.
"""

import os

import numpy as np
import pytest
import tensorflow as tf2

import graphnet.compat.v1 as tf
from graphnet import errors
from graphnet.compat.v1 import estimator
from graphnet.compat.v1.estimator import saved_model as saved_model_lib

_RNG = np.random.RandomState(0)
X = _RNG.randn(64, 3).astype(np.float32)
Y = X @ np.array([[1.0], [2.0], [-1.0]], np.float32)  # [64, 1]


def model_fn(features, labels, mode, params):
  weights = tf.get_variable('w', [3, 1])
  prediction = tf.matmul(features['x'], weights)  # [batch, 1]
  if mode == estimator.ModeKeys.PREDICT:
    return estimator.EstimatorSpec(mode, predictions={'y': prediction})
  loss = tf.losses.mean_squared_error(labels, prediction)
  train_op = tf.train.GradientDescentOptimizer(params['lr']).minimize(
    loss, tf.train.get_global_step()
  )
  return estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def _serving():
  features = {'x': tf.placeholder(tf.float32, [None, 3])}
  return estimator.export.build_raw_serving_input_receiver_fn(features)()


def _train_input():
  return tf.data.Dataset.from_tensor_slices(({'x': X}, Y)).repeat().batch(16)


def _eval_input():
  return tf.data.Dataset.from_tensor_slices(({'x': X}, Y)).batch(64)


class _Clock:
  """`time` for saved_model's timestamps: sleeping moves it on at once."""

  def __init__(self):
    self.now = 1_700_000_000

  def time(self):
    return self.now

  def sleep(self, secs):
    self.now += secs


# One clock for every run of the module: later exports are newer.
_CLOCK = _Clock()


def _listing(model_dir):
  base = os.path.join(model_dir, 'export')
  return {
    name: sorted(os.listdir(os.path.join(base, name)))
    for name in os.listdir(base)
  }


def _train_and_evaluate(model_dir, lr, max_steps, exporters):
  est = estimator.Estimator(
    model_fn,
    model_dir,
    config=estimator.RunConfig(save_checkpoints_steps=5),
    params={'lr': lr},
  )
  spec = estimator.EvalSpec(
    _eval_input,
    steps=None,
    exporters=exporters,
    start_delay_secs=0,
    throttle_secs=0,
  )
  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(saved_model_lib, 'time', _CLOCK)
    result, exports = estimator.train_and_evaluate(
      est, estimator.TrainSpec(_train_input, max_steps=max_steps), spec
    )
  return est, result, exports


def _exporters():
  return [
    estimator.LatestExporter('latest', _serving, exports_to_keep=2),
    estimator.BestExporter(
      serving_input_receiver_fn=_serving, exports_to_keep=None
    ),
    estimator.FinalExporter('final', _serving),
  ]


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
  """(model_dir, first run, its listing, resumed run, its listing)."""
  model_dir = str(tmp_path_factory.mktemp('exporters'))
  first = _train_and_evaluate(model_dir, 0.05, 20, _exporters())
  first_listing = _listing(model_dir)
  # Diverges: every evaluation of the resumed run is worse than step 20's.
  resumed = _train_and_evaluate(model_dir, 5.0, 30, _exporters())
  return model_dir, first, first_listing, resumed, _listing(model_dir)


class TestTrainAndEvaluate:
  def test_exports_land_in_model_dir_export_name_timestamp(self, runs):
    model_dir, (_, result, exports), listing, _, _ = runs
    assert result['global_step'] == 20
    # The last evaluation's results, one per exporter, as TF 1.15 returned.
    names = ['latest', 'best_exporter', 'final']
    assert exports == [
      os.fsencode(os.path.join(model_dir, 'export', n, listing[n][-1]))
      for n in names
    ]
    for entries in listing.values():
      assert all(e.isdigit() for e in entries)  # no temp-* left behind

  def test_latest_keeps_exports_to_keep(self, runs):
    _, _, listing, _, resumed_listing = runs
    assert len(listing['latest']) == 2
    assert len(resumed_listing['latest']) == 2
    assert resumed_listing['latest'][0] > listing['latest'][-1]

  def test_best_exports_each_improvement_only(self, runs):
    _, _, listing, (_, result, exports), resumed_listing = runs
    # Evaluations at 5, 10, 15, 20 each lower the loss: four exports (TF
    # 1.15 skipped the first, comparing it with its own event).
    assert len(listing['best_exporter']) == 4
    # The resumed job read the best loss from eval/ and its diverged
    # evaluations at 25 and 30 exported nothing.
    assert result['loss'] > 1.0
    assert exports[1] is None
    assert resumed_listing['best_exporter'] == listing['best_exporter']

  def test_final_exports_once_per_run_at_max_steps(self, runs):
    _, _, listing, _, resumed_listing = runs
    assert len(listing['final']) == 1
    assert len(resumed_listing['final']) == 2

  def test_final_export_serves_predict_in_plain_tf2(self, runs):
    model_dir, (est, _, exports), _, _, _ = runs
    expected = next(
      est.predict(
        lambda: tf.data.Dataset.from_tensors({'x': X[:8]}),
        checkpoint_path=os.path.join(model_dir, 'model.ckpt-20'),
        yield_single_examples=False,
      )
    )['y']
    # TensorFlow 2's own loader (graph mode here: graphnet turned eager off).
    with tf.Graph().as_default(), tf.Session() as session:
      loaded = tf2.saved_model.load(exports[2].decode())
      session.run([v.initializer for v in loaded.variables])
      served = loaded.signatures['serving_default'](x=tf.constant(X[:8]))
      np.testing.assert_allclose(session.run(served['y']), expected, rtol=1e-6)

  def test_resume_at_max_steps_evaluates_and_exports_nothing(self, runs):
    model_dir, _, _, _, resumed_listing = runs
    # TF 1.15 skipped training, evaluated nothing, ran no exporter and
    # returned (None, None).
    _, result, exports = _train_and_evaluate(model_dir, 5.0, 30, _exporters())
    assert (result, exports) == (None, None)
    assert _listing(model_dir) == resumed_listing


class _Killed(BaseException):
  """Stands in for the process dying at that point."""


def test_export_killed_before_its_rename_is_not_an_export(runs, tmp_path):
  _, (est, result, _), _, _, _ = runs

  def die(source, target):
    raise _Killed

  latest = estimator.LatestExporter('latest', _serving)
  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(saved_model_lib.os, 'replace', die)
    with pytest.raises(_Killed):
      latest.export(est, str(tmp_path), est.latest_checkpoint(), result, False)
  # Written in full, but under a name no model server loads.
  (written,) = os.listdir(tmp_path)
  assert written.startswith('temp-')
  assert os.path.exists(tmp_path / written / 'saved_model.pb')


def test_failed_export_removes_its_temp_dir(runs, tmp_path):
  _, (est, _, _), _, _, _ = runs
  missing = str(tmp_path / 'missing.txt')  # fails once the model is written
  base = tmp_path / 'export'
  with pytest.raises(FileNotFoundError):
    est.export_saved_model(
      str(base), _serving, assets_extra={'vocab.txt': missing}
    )
  assert os.listdir(base) == []


def _broken_serving():
  raise RuntimeError('no receiver here')


def test_failing_export_keeps_training(tmp_path):
  exporters = [
    estimator.LatestExporter('broken', _broken_serving),
    estimator.FinalExporter('final', _serving),
  ]
  with pytest.raises(
    errors.ExportError, match="'broken'.*no receiver here"
  ) as e:
    _train_and_evaluate(str(tmp_path), 0.05, 10, exporters)
  assert e.value.names == ['broken']
  est = estimator.Estimator(model_fn, str(tmp_path), params={'lr': 0.05})
  assert est.latest_checkpoint().endswith('model.ckpt-10')
  assert len(os.listdir(tmp_path / 'export' / 'final')) == 1


class _FakeEstimator:
  """Records exports; writes each as an empty timestamped directory."""

  def __init__(self, model_dir):
    self.model_dir = model_dir
    self.exported = []

  def export_saved_model(
    self, base, fn, assets_extra, as_text, checkpoint_path
  ):
    path = os.path.join(base, str(1000 + len(self.exported)))
    os.makedirs(path)
    self.exported.append(checkpoint_path)
    return os.fsencode(path)


class TestBestExporter:
  def test_best_so_far_comes_from_event_files_cut_or_not(self, tmp_path):
    writer = tf.summary.FileWriter(str(tmp_path / 'eval'))
    for step, loss in ((10, 3.0), (20, 1.0), (30, 0.1)):
      writer.add_summary(
        tf.Summary(value=[tf.Summary.Value(tag='loss', simple_value=loss)]),
        step,
      )
    writer.close()
    (path,) = (tmp_path / 'eval').iterdir()
    path.write_bytes(path.read_bytes()[:-10])  # the step 30 event is cut
    fake = _FakeEstimator(str(tmp_path))
    best = estimator.BestExporter(serving_input_receiver_fn=_serving)
    export = str(tmp_path / 'export' / 'best')
    assert (
      best.export(
        fake, export, 'ckpt-40', {'loss': 2.0, 'global_step': 40}, False
      )
      is None
    )
    assert best.export(
      fake, export, 'ckpt-50', {'loss': 0.5, 'global_step': 50}, False
    )
    assert (
      best.export(
        fake, export, 'ckpt-60', {'loss': 0.7, 'global_step': 60}, False
      )
      is None
    )
    assert fake.exported == ['ckpt-50']

  def test_compare_fn_decides_and_old_exports_go(self, tmp_path):
    def higher_accuracy(best_eval_result, current_eval_result):
      return current_eval_result['accuracy'] > best_eval_result['accuracy']

    fake = _FakeEstimator(str(tmp_path))
    best = estimator.BestExporter(
      'acc',
      _serving,
      event_file_pattern=None,
      compare_fn=higher_accuracy,
      exports_to_keep=np.int64(2),  # any integer, as TF 1.15 took
    )
    export = str(tmp_path / 'acc')
    for step, accuracy in enumerate((0.5, 0.6, 0.55, 0.7, 0.8)):
      best.export(
        fake,
        export,
        f'ckpt-{step}',
        {'accuracy': accuracy, 'global_step': step},
        False,
      )
    assert fake.exported == ['ckpt-0', 'ckpt-1', 'ckpt-3', 'ckpt-4']
    assert sorted(os.listdir(export)) == ['1002', '1003']

  def test_default_compare_needs_a_loss(self, tmp_path):
    best = estimator.BestExporter(
      serving_input_receiver_fn=_serving, event_file_pattern=None
    )
    fake = _FakeEstimator(str(tmp_path))
    best.export(fake, str(tmp_path / 'b'), 'c', {'accuracy': 0.5}, False)
    with pytest.raises(
      errors.ConfigError, match='best_eval_result has no `loss`'
    ):
      best.export(fake, str(tmp_path / 'b'), 'c', {'accuracy': 0.6}, False)


class TestArguments:
  @pytest.mark.parametrize(
    'make, field',
    [
      (
        lambda: estimator.LatestExporter('l', _serving, exports_to_keep=0),
        'exports_to_keep',
      ),
      (lambda: estimator.LatestExporter('', _serving), 'name'),
      (lambda: estimator.FinalExporter('f', None), 'serving_input_receiver_fn'),
      (lambda: estimator.BestExporter(), 'serving_input_receiver_fn'),
      (
        lambda: estimator.BestExporter(
          serving_input_receiver_fn=_serving, compare_fn=lambda a, b: True
        ),
        'compare_fn',
      ),
      (
        lambda: estimator.BestExporter(
          serving_input_receiver_fn=_serving, assets_extra=['a']
        ),
        'assets_extra',
      ),
      (
        lambda: estimator.EvalSpec(
          _eval_input,
          exporters=[
            estimator.FinalExporter('x', _serving),
            estimator.LatestExporter('x', _serving),
          ],
        ),
        'exporters',
      ),
      (
        lambda: estimator.EvalSpec(_eval_input, exporters=[object()]),
        'exporters',
      ),
    ],
  )
  def test_bad_argument_is_a_config_error_naming_it(self, make, field):
    with pytest.raises(errors.ConfigError, match=field) as e:
      make()
    assert e.value.field == field

  def test_one_exporter_or_none(self):
    final = estimator.FinalExporter('f', _serving)
    assert estimator.EvalSpec(_eval_input, exporters=final).exporters == (
      final,
    )
    assert estimator.EvalSpec(_eval_input).exporters == ()

  def test_export_binds_tf1_keywords(self, tmp_path):
    fake = _FakeEstimator(str(tmp_path))
    final = estimator.FinalExporter('f', _serving)
    final.export(
      is_the_final_export=True,
      eval_result={'loss': 1.0},
      checkpoint_path='ckpt-9',
      export_path=str(tmp_path / 'f'),
      estimator=fake,
    )
    assert final.export(fake, str(tmp_path / 'f'), 'c', {}, False) is None
    assert fake.exported == ['ckpt-9']
    with pytest.raises(TypeError, match='is_the_final_export'):
      final.export(fake, str(tmp_path / 'f'), 'c', {})
