"""End-to-end tests of the fast path: --steps_per_run N over resident or
fed batches (hooks at the right steps, resume, restore contract)."""

import os
import re
import textwrap

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet.checkpoints import contents
from graphnet.data import mnist_reader as input_data
from graphnet.serving import graph_safety
from graphnet.training import config as config_lib
from graphnet.training import train_graph
from graphnet.training import trainer

import _helpers

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _config(tmp_path, **kwargs):
  options = dict(
    log_dir=str(tmp_path / 'logs'),
    input_data_dir=str(tmp_path / 'data'),
    fake_data=True,
    input_pipeline='resident',
    steps_per_run=50,
    max_steps=300,
    log_every=100,
    eval_every=150,
    save_checkpoint_steps=100,
    keep_checkpoint_max=10,
    seed=0,
  )
  options.update(kwargs)
  return config_lib.TrainConfig(**options)


def _train(config):
  lines = []
  result = trainer.run_training(config, printer=lines.append)
  return result, lines


def _step_lines(lines):
  return [
    int(m.group(1)) for m in map(re.compile(r'Step (\d+):').match, lines) if m
  ]


def _eval_steps(log_dir):
  """Steps of the precision/test summaries in the events files."""
  steps = []
  for name in sorted(os.listdir(log_dir)):
    if not name.startswith('events.'):
      continue
    for event in tf.train.summary_iterator(os.path.join(log_dir, name)):
      for value in event.summary.value:
        if value.tag == 'precision/test':
          steps.append(event.step)
  return steps


def _summary_steps(log_dir, tag):
  steps = []
  for name in sorted(os.listdir(log_dir)):
    if name.startswith('events.'):
      path = os.path.join(log_dir, name)
      for event in tf.train.summary_iterator(path):
        if any(v.tag == tag for v in event.summary.value):
          steps.append(event.step)
  return steps


def _summary_values(log_dir, tag):
  """{step: value} of the scalar summaries `tag` in the events files."""
  values = {}
  for name in sorted(os.listdir(log_dir)):
    if name.startswith('events.'):
      path = os.path.join(log_dir, name)
      for event in tf.train.summary_iterator(path):
        for value in event.summary.value:
          if value.tag == tag:
            values[event.step] = value.simple_value
  return values


def _checkpoint_steps(log_dir):
  state = tf.train.get_checkpoint_state(log_dir)
  return sorted(
    int(p.rsplit('-', 1)[1]) for p in state.all_model_checkpoint_paths
  )


class TestHooksWithStepsPerRun:
  def test_logging_eval_checkpoints_at_requested_steps(self, tmp_path):
    config = _config(tmp_path, eval_every=120)  # Rounded up to 150.
    result, lines = _train(config)
    assert result.global_step == 300
    assert any('--eval_every 120 -> 150' in line for line in lines)
    assert _step_lines(lines) == [0, 100, 200]
    losses = [
      float(line.split('loss = ')[1].split()[0])
      for line in lines
      if line.startswith('Step ')
    ]
    assert all(np.isfinite(losses))
    assert lines.count('Test Data Eval:') == 2
    assert _eval_steps(config.log_dir) == [150, 300]
    assert _checkpoint_steps(config.log_dir) == [0, 100, 200, 300]
    assert _summary_steps(config.log_dir, 'loss') == [100, 200, 300]

  def test_max_steps_not_a_multiple(self, tmp_path):
    result, lines = _train(_config(tmp_path, max_steps=120, eval_every=100))
    # The last run is cut short: the global step stops at max_steps.
    assert result.global_step == 120
    assert _eval_steps(str(tmp_path / 'logs')) == [100, 120]

  def test_same_variables_as_feed_path(self, tmp_path):
    def variables(pipeline, steps_per_run):
      config = _config(
        tmp_path,
        input_pipeline=pipeline,
        steps_per_run=steps_per_run,
        optimizer='adam',
        moving_average_decay=0.99,
        schedule=config_lib.Schedule('exponential', 0.01),
      )
      data = input_data.read_data_sets(None, fake_data=True)
      graph = train_graph.build_train_graph(config, data).graph
      return sorted(
        (v.op.name, v.shape.as_list())
        for v in graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
      )

    assert variables('resident', 50) == variables('feed', 1)

  def test_loop_trains(self, tmp_path):
    config = _config(
      tmp_path,
      fake_data=False,
      max_steps=400,
      eval_every=400,
      steps_per_run=100,
      schedule=config_lib.Schedule('constant', 0.1),
    )
    result, _ = _train(config)
    # Seeded: 0.9158 measured (TF 2.21, CPU).
    assert result.evaluations['test'].precision > 0.90


class TestResume:
  def test_resume_from_fast_path_checkpoint(self, tmp_path):
    result, _ = _train(_config(tmp_path, max_steps=200))
    assert result.global_step == 200
    result, lines = _train(_config(tmp_path, max_steps=400))
    assert result.global_step == 400
    assert _step_lines(lines) == [200, 300]
    assert contents.checkpoint_step(result.checkpoint) == 400

  def test_feed_path_resumes_fast_path_checkpoint(self, tmp_path):
    _train(_config(tmp_path, max_steps=100))
    result, _ = _train(
      _config(tmp_path, max_steps=150, input_pipeline='feed', steps_per_run=1)
    )
    assert result.global_step == 150


_RESTORE = textwrap.dedent(
  """
  import sys
  import numpy as np
  import tensorflow.compat.v1 as tf
  prefix = sys.argv[1]
  with tf.Graph().as_default(), tf.Session() as sess:
    saver = tf.train.import_meta_graph(prefix + '.meta', clear_devices=True)
    saver.restore(sess, prefix)
    images = np.random.default_rng(0).random((7, 784), np.float32)
    out = sess.run('predictions:0', {'images:0': images})
    print('OK', out.shape, out.dtype)
  """
)


def _assert_restores(prefix):
  """The .meta passes the predictor's check; plain TF restores and predicts."""
  meta_graph = tf.MetaGraphDef()
  with open(prefix + '.meta', 'rb') as f:
    meta_graph.ParseFromString(f.read())
  graph_safety.inference_graph_def(meta_graph)
  proc = _helpers.run_python(
    '-c',
    _RESTORE,
    prefix,
    env={**os.environ, 'PYTHONPATH': _REPO, 'TF_CPP_MIN_LOG_LEVEL': '2'},
    timeout=120,
  )
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert 'OK (7,) int64' in proc.stdout


class TestSavedGraph:
  def test_restore_contract_and_small_meta(self, tmp_path):
    config = _config(tmp_path, fake_data=False, max_steps=100)
    result, _ = _train(config)
    meta = result.checkpoint + '.meta'
    # The 172 MB training set lives in local variables, not in the graph.
    assert os.path.getsize(meta) < 1_000_000
    _assert_restores(result.checkpoint)
    names = {name for name, _ in tf.train.list_variables(result.checkpoint)}
    assert 'global_step' in names
    assert not any(name.startswith('resident/') for name in names)


def _untimed(lines):
  """The lines without their timings (`(0.001 sec) ... ETA 1s`)."""
  return [line.split(' (')[0] for line in lines]


def _weights(prefix):
  reader = tf.train.load_checkpoint(prefix)
  return {
    name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
  }


class TestFedLoop:
  """--input_pipeline feed --steps_per_run N: N next_batch batches a run."""

  def _train_feed(self, tmp_path, steps_per_run, **kwargs):
    options = dict(
      fake_data=False,
      input_pipeline='feed',
      steps_per_run=steps_per_run,
      max_steps=300,
      eval_every=300,
      optimizer='momentum',
      moving_average_decay=0.99,
    )
    options.update(kwargs)
    return _train(_config(tmp_path / f'n{steps_per_run}', **options))

  def test_same_lines_and_checkpoints_as_one_step_per_run(self, tmp_path):
    one, one_lines = self._train_feed(tmp_path, 1)
    loop, loop_lines = self._train_feed(tmp_path, 50)
    assert _untimed(loop_lines) == _untimed(one_lines)
    assert _step_lines(loop_lines) == [0, 100, 200]
    for step in (100, 200, 300):
      a = _weights(str(tmp_path / 'n1' / 'logs' / f'model.ckpt-{step}'))
      b = _weights(str(tmp_path / 'n50' / 'logs' / f'model.ckpt-{step}'))
      assert sorted(a) == sorted(b)
      for name in a:
        # Bit for bit: the same batches through the same kernels.
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert loop.evaluations == one.evaluations

  def test_loss_summary_is_of_the_step_before_its_label(self, tmp_path):
    def losses(steps_per_run):
      self._train_feed(tmp_path, steps_per_run, max_steps=200, eval_every=200)
      log_dir = tmp_path / f'n{steps_per_run}' / 'logs'
      return _summary_values(str(log_dir), 'loss')

    # Runs 50-99 and 0-99 both end at step 100 with step 99's loss.
    by_50, by_100 = losses(50), losses(100)
    assert sorted(by_100) == [100, 200]
    assert {step: by_50[step] for step in by_100} == by_100

  def test_last_run_cut_short_at_max_steps(self, tmp_path):
    result, lines = self._train_feed(
      tmp_path, 50, max_steps=120, eval_every=100
    )
    assert result.global_step == 120
    assert _eval_steps(str(tmp_path / 'n50' / 'logs')) == [100, 120]

  def test_saved_graph_restores_in_plain_tensorflow(self, tmp_path):
    result, _ = self._train_feed(tmp_path, 50, max_steps=100)
    _assert_restores(result.checkpoint)

  def test_cli_default_runs_many_steps_per_run(self, tmp_path):
    proc = _helpers.run_python(
      '-m',
      'graphnet.fully_connected_feed',
      '--fake_data',
      '--max_steps',
      '200',
      '--log_dir',
      str(tmp_path / 'logs'),
      '--input_data_dir',
      str(tmp_path / 'data'),
      env={**os.environ, 'PYTHONPATH': _REPO},
      timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _step_lines(proc.stdout.splitlines()) == [0, 100]
    # The graph of the fed loop, not of one step per run.
    meta = tf.MetaGraphDef()
    with open(tmp_path / 'logs' / 'model.ckpt-200.meta', 'rb') as f:
      meta.ParseFromString(f.read())
    names = {node.name for node in meta.graph_def.node}
    assert 'fed_batches/images' in names
