"""Every TF1 API graphnet re-implements takes TF 1.15's arguments.

tests/goldens/tf1_signatures.json is what TF 1.15 itself reports
(scripts/tf1_goldens/make_signature_goldens.py): for each public function,
class constructor and public method of the namespaces graphnet provides,
the parameters' names, kinds and defaults in order. A TF1 program binds
its calls, positional or by keyword, the same way only if graphnet's
signature is the same, so each one graphnet defines is compared here.
Names graphnet leaves to TF's own `tf.compat.v1` are TF's business.
"""

import importlib.util
import json
import os

import pytest

import graphnet.compat.v1 as tf

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
_GOLDENS = os.path.join(_REPO, 'tests', 'goldens', 'tf1_signatures.json')
_MAKER = os.path.join(
  _REPO, 'scripts', 'tf1_goldens', 'make_signature_goldens.py'
)

# Where TF 1.15's own signature says nothing: its deprecation wrappers show
# `(*args, **kwargs)` and its `build` decorator `(instance, input_shape)`.
_UNSTATED = (
  [['args', 'VAR_POSITIONAL', None], ['kwargs', 'VAR_KEYWORD', None]],
)
_UNSTATED_FIRST = 'instance'


def _maker():
  spec = importlib.util.spec_from_file_location('_signature_maker', _MAKER)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


_DESCRIBE = _maker().describe

with open(_GOLDENS) as _f:
  _TF1 = json.load(_f)


def _graphnet_object(dotted):
  """graphnet's object at `tf.<dotted>`, or None if TF's or absent."""
  value = tf
  for part in dotted.split('.'):
    value = getattr(value, part, None)
    if value is None:
      return None
  module = getattr(value, '__module__', None) or ''
  return value if module.startswith('graphnet') else None


def _stated(signature):
  if signature in _UNSTATED:
    return False
  return not signature or signature[0][0] != _UNSTATED_FIRST


_COMPARED = sorted(
  name
  for name, signature in _TF1.items()
  if _stated(signature) and _graphnet_object(name) is not None
)


def test_the_goldens_cover_graphnets_tf1_apis():
  # A broken lookup would compare nothing; graphnet defines hundreds.
  assert len(_COMPARED) > 200
  for name in ('layers.dense', 'contrib.layers.conv2d', 'estimator.RunConfig'):
    assert name in _COMPARED


@pytest.mark.parametrize('name', _COMPARED)
def test_signature_is_tf1s(name):
  got = [list(p) for p in _DESCRIBE(_graphnet_object(name))]
  want = _TF1[name]
  # graphnet may add arguments after TF1's, with defaults (TF 2.x's
  # `saving_listeners`): every TF1 call still binds the same.
  assert got[: len(want)] == want
  for name_, kind, default in got[len(want) :]:
    assert default is not None or kind == 'VAR_KEYWORD', name_
