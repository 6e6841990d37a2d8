"""Runs scripts/restore_and_predict.ipynb top to bottom with nbclient."""

import os
import re
import sys

import nbformat
import pytest
from jupyter_client import kernelspec
from nbclient import NotebookClient

from graphnet.training import config
from graphnet.training import schedules
from graphnet.training import trainer

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NOTEBOOK = os.path.join(_REPO, 'scripts', 'restore_and_predict.ipynb')
_KERNEL = 'python3'
_ACCURACY_LINE = re.compile(
  r'Test accuracy: (?P<acc>[0-9.]+) \((?P<correct>\d+) of (?P<n>\d+) correct\)'
)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  root = tmp_path_factory.mktemp('nb')
  logs, data = root / 'logs', root / 'data'
  result = trainer.run_training(
    config.TrainConfig(
      log_dir=str(logs),
      input_data_dir=str(data),
      schedule=schedules.Schedule(base_rate=0.2),
      max_steps=200,
      eval_every=200,
      save_checkpoint_steps=200,
      seed=0,
    ),
    printer=lambda line: None,
  )
  return logs, data, result


def _outputs(nb):
  for cell in nb.cells:
    if cell.cell_type == 'code':
      yield from cell.outputs


class TestCommittedNotebook:
  def test_has_no_outputs_or_machine_paths(self):
    nb = nbformat.read(_NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == 'code']
    assert code
    assert all(not c.outputs and c.execution_count is None for c in code)
    with open(_NOTEBOOK, encoding='utf-8') as f:
      text = f.read()
    for path in (_REPO, '/home/', sys.prefix):
      assert path not in text

  def test_kernel_is_this_interpreter(self):
    spec = kernelspec.KernelSpecManager().get_kernel_spec(_KERNEL)
    # jupyter_client runs a bare 'python' as sys.executable.
    assert spec.argv[0] in ('python', 'python3', sys.executable)


class TestExecution:
  def test_runs_and_reports_accuracy(self, trained, tmp_path, monkeypatch):
    logs, data, result = trained
    # The kernel inherits this environment.
    monkeypatch.setenv('GRAPHNET_CHECKPOINT_DIR', str(logs))
    monkeypatch.setenv('GRAPHNET_DATA_DIR', str(data))
    monkeypatch.setenv('TF_CPP_MIN_LOG_LEVEL', '2')
    monkeypatch.setenv(
      'PYTHONPATH', _REPO + os.pathsep + os.environ.get('PYTHONPATH', '')
    )
    nb = nbformat.read(_NOTEBOOK, as_version=4)
    NotebookClient(
      nb,
      kernel_name=_KERNEL,
      timeout=300,
      resources={'metadata': {'path': str(tmp_path)}},
    ).execute()

    text = ''.join(
      o.get('text', '') for o in _outputs(nb) if o.output_type == 'stream'
    )
    match = _ACCURACY_LINE.search(text)
    assert match, text
    expected = result.evaluations['test']
    assert int(match['n']) == expected.num_examples == 10000
    assert int(match['correct']) == expected.num_correct
    assert float(match['acc']) == expected.precision
    # Seeded: 0.8924 measured (TF 2.21, CPU).
    assert float(match['acc']) > 0.88
    assert f'Checkpoint: {result.checkpoint}' in text

    images = [
      o
      for o in _outputs(nb)
      if o.output_type == 'display_data' and 'image/png' in o.data
    ]
    assert len(images) == 1
    assert len(images[0].data['image/png']) > 1000
