"""train_and_evaluate on a real loopback TF_CONFIG cluster (slow).

chief, worker, ps and evaluator run tests/tf1_programs/estimator_dataset.py
as four processes (scripts/estimator_cluster.py starts them); every one
must end on its own, the chief owning the checkpoints and the evaluator
scoring the last one.
"""

import importlib.util
import json
import os

import pytest

_REPO = os.path.dirname(
  os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)


def _launcher():
  path = os.path.join(_REPO, 'scripts', 'estimator_cluster.py')
  spec = importlib.util.spec_from_file_location('estimator_cluster', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


@pytest.mark.slow
def test_loopback_cluster_trains_evaluates_and_ends(tmp_path):
  model_dir = str(tmp_path / 'model')
  results = _launcher().run_cluster(model_dir, steps=300, timeout=540)
  for task, (code, _, _, err) in results.items():
    assert code == 0, f'{task}: {err[-3000:]}'
  evaluated = json.loads(results['evaluator'][2].strip().splitlines()[-1])
  assert evaluated['global_step'] >= 300
  assert evaluated['accuracy'] > 0.8
  # Only the chief wrote checkpoints; its last is the one evaluated.
  names = os.listdir(model_dir)
  last = max(
    int(n.split('-')[1].split('.')[0]) for n in names if n.endswith('.index')
  )
  assert last == evaluated['global_step']
  assert 'graph.pbtxt' in names and 'eval' in names
  assert 'the model is ready' in results['worker'][3]
  assert 'stopping' in results['ps'][3]
