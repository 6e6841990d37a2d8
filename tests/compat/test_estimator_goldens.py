"""A TF 1.15 Estimator's model_dir resumes and evaluates the same here.

tests/goldens/tf1_estimator holds what real TF 1.15 left after training
tests/tf1_programs/estimator_dataset.py 300 steps (see
scripts/tf1_goldens/make_estimator_goldens.py) and the metrics its
`evaluate` returned. The same program, its import line changed, evaluates
and trains on from a copy of that model_dir here, loading no Keras.
"""

import json
import os
import runpy
import shutil
import sys

import pytest

_REPO = os.path.dirname(
  os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
_GOLDENS = os.path.join(_REPO, 'tests', 'goldens', 'tf1_estimator')
_PROGRAM = os.path.join(_REPO, 'tests', 'tf1_programs', 'estimator_dataset.py')


@pytest.fixture(scope='module')
def resumed(tmp_path_factory):
  """(evaluated, metrics after 20 more steps, variables, Keras modules)."""
  keras_before = _keras_modules()
  model_dir = tmp_path_factory.mktemp('golden') / 'model'
  shutil.copytree(os.path.join(_GOLDENS, 'model'), model_dir)
  program = runpy.run_path(_PROGRAM, run_name='estimator_dataset')
  args = [
    '--data',
    os.path.join(_GOLDENS, 'digits.npz'),
    '--model_dir',
    str(model_dir),
  ]
  evaluated = program['main']([*args, '--train_steps', '0'])
  estimator = program['make_estimator'](str(model_dir))
  names = {
    name: list(estimator.get_variable_value(name).shape)
    for name in estimator.get_variable_names()
  }
  trained = program['main']([*args, '--train_steps', '20'])
  return evaluated, trained, names, _keras_modules() - keras_before


def _keras_modules():
  return {m for m in sys.modules if m.split('.')[0] in ('keras', 'tf_keras')}


def test_evaluate_returns_tf1s_metrics(resumed):
  with open(os.path.join(_GOLDENS, 'metrics.json')) as f:
    golden = json.load(f)
  evaluated = resumed[0]
  assert set(evaluated) == set(golden)
  for key, value in golden.items():
    assert evaluated[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key


def test_variables_are_tf1s(resumed):
  with open(os.path.join(_GOLDENS, 'variables.json')) as f:
    assert resumed[2] == json.load(f)


def test_training_resumes_from_the_tf1_checkpoint(resumed):
  trained = resumed[1]
  assert trained['global_step'] == 320
  # 20 more Adam steps from the TF 1.15 checkpoint keep its accuracy.
  assert trained['accuracy'] > 0.85


def test_no_keras_on_the_estimator_path(resumed):
  # Training, evaluating and reading variables loaded no Keras module that
  # was not already loaded (TF's import without Keras is tf_loader's test).
  assert resumed[3] == set()
