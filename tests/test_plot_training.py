"""Tests of scripts/plot_training.py on a real short training run."""

import importlib.util
import os
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import (
  EventAccumulator,
)

from graphnet import errors
from graphnet.training import config
from graphnet.training import schedules
from graphnet.training import trainer

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SCRIPT = os.path.join(_REPO, 'scripts', 'plot_training.py')
_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def _load_script():
  spec = importlib.util.spec_from_file_location('plot_training', _SCRIPT)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _env():
  env = dict(os.environ)
  env['PYTHONPATH'] = _REPO + os.pathsep + env.get('PYTHONPATH', '')
  env['TF_CPP_MIN_LOG_LEVEL'] = '2'
  return env


@pytest.fixture(scope='module')
def plot_training():
  return _load_script()


@pytest.fixture(scope='module')
def log_dir(tmp_path_factory):
  """A short real-MNIST run with 3 evaluations and an mnist_eval pass."""
  root = tmp_path_factory.mktemp('run')
  logs, data = root / 'logs', root / 'data'
  trainer.run_training(
    config.TrainConfig(
      log_dir=str(logs),
      input_data_dir=str(data),
      model=config.ModelConfig(hidden1=16, hidden2=8),
      schedule=schedules.Schedule(base_rate=0.1),
      max_steps=60,
      eval_every=20,
      log_every=10,
      save_checkpoint_steps=60,
      seed=0,
    ),
    printer=lambda line: None,
  )
  proc = subprocess.run(
    [
      sys.executable,
      '-m',
      'graphnet.mnist_eval',
      f'--checkpoint_dir={logs}',
      f'--input_data_dir={data}',
      '--run_once',
    ],
    capture_output=True,
    text=True,
    env=_env(),
    timeout=120,
  )
  assert proc.returncode == 0, proc.stderr
  return logs


def _direct(directory, tag):
  acc = EventAccumulator(str(directory), size_guidance={'scalars': 0})
  acc.Reload()
  events = acc.Scalars(tag)
  return [e.step for e in events], [e.value for e in events]


class TestReadCurves:
  def test_series_equal_event_accumulator(self, plot_training, log_dir):
    curves = plot_training.read_curves(str(log_dir))
    for tag in ('loss', 'learning_rate', 'precision/train', 'precision/test'):
      assert curves[tag] == _direct(log_dir, tag)
    assert curves['accuracy/validation'] == _direct(
      log_dir / 'eval_validation', 'accuracy/validation'
    )
    # Evaluations at steps 20, 40 and 60.
    assert curves['precision/validation'][0] == [20, 40, 60]
    assert curves['accuracy/validation'][0] == [60]
    # Same checkpoint, same data: the evaluator agrees with the trainer.
    assert curves['accuracy/validation'][1] == [
      curves['precision/validation'][1][-1]
    ]

  def test_no_events_names_the_dir(self, plot_training, tmp_path):
    with pytest.raises(errors.DataError, match=str(tmp_path)):
      plot_training.read_curves(str(tmp_path))

  def test_main_exits_non_zero_without_events(
    self, plot_training, tmp_path, capsys
  ):
    out = tmp_path / 'c.png'
    assert plot_training.main(['--log_dir', str(tmp_path), '--out', str(out)])
    assert str(tmp_path) in capsys.readouterr().err
    assert not out.exists()


class TestScript:
  def test_writes_png(self, log_dir, tmp_path):
    out = tmp_path / 'curves.png'
    proc = subprocess.run(
      [sys.executable, _SCRIPT, '--log_dir', str(log_dir), '--out', str(out)],
      capture_output=True,
      text=True,
      env=_env(),
      timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    with open(out, 'rb') as f:
      assert f.read(8) == _PNG_SIGNATURE
    image = matplotlib.image.imread(str(out))
    height, width = image.shape[:2]
    assert height >= 200 and width >= 400
    # Curves were drawn: many distinct colours, not a blank canvas.
    colours = np.unique(image.reshape(-1, image.shape[-1]), axis=0)
    assert len(colours) > 20
