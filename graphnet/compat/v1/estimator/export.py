"""TF1's `tf.estimator.export`: serving inputs and the outputs they sign.

A `serving_input_receiver_fn` builds the placeholders a served model
reads (`receiver_tensors`) and the features the `model_fn` sees; an
`ExportOutput` in `EstimatorSpec.export_outputs` becomes one signature of
the SavedModel that `Estimator.export_saved_model` writes:

* `ClassificationOutput(scores, classes)`: TF's classify signature when
  the receiver is one string tensor (serialized `tf.Example`s), else a
  predict signature of the same outputs, as in TF1;
* `RegressionOutput(value)`: regress signature likewise;
* `PredictOutput(outputs)`: a predict signature of a dict of tensors.

Example:
    feature_spec = {'x': tf.FixedLenFeature([4], tf.float32)}
    serving_fn = build_parsing_serving_input_receiver_fn(feature_spec)
    estimator.export_saved_model('/tmp/export', serving_fn)
"""

import collections

import tensorflow.compat.v1 as tf

from graphnet import errors

__all__ = [
  'ExportOutput',
  'ClassificationOutput',
  'RegressionOutput',
  'PredictOutput',
  'ServingInputReceiver',
  'TensorServingInputReceiver',
  'build_parsing_serving_input_receiver_fn',
  'build_raw_serving_input_receiver_fn',
]

_signature_utils = tf.saved_model.signature_def_utils
_utils = tf.saved_model.utils


def _fail(name, message):
  raise errors.ConfigError(f'{name}: {message}')


def _check_tensor(name, field, value):
  if not isinstance(value, tf.Tensor):
    _fail(name, f'{field} must be a Tensor, got {type(value).__name__}.')


class ExportOutput:
  """One signature's outputs; `as_signature_def(receiver_tensors)`."""

  def as_signature_def(self, receiver_tensors):
    """The `SignatureDef` of these outputs given the serving inputs."""
    raise NotImplementedError


def _single_string_input(receiver_tensors):
  if len(receiver_tensors) != 1:
    return None
  (tensor,) = receiver_tensors.values()
  return tensor if tensor.dtype == tf.string else None


class ClassificationOutput(ExportOutput):
  """Class scores (`[batch, classes]` float) and/or names (string)."""

  def __init__(self, scores=None, classes=None):
    if scores is None and classes is None:
      _fail('ClassificationOutput', 'give scores, classes or both.')
    if scores is not None:
      _check_tensor('ClassificationOutput', 'scores', scores)
      if not scores.dtype.is_floating:
        _fail(
          'ClassificationOutput', f'scores must be float, got {scores.dtype}.'
        )
    if classes is not None:
      _check_tensor('ClassificationOutput', 'classes', classes)
      if classes.dtype != tf.string:
        _fail(
          'ClassificationOutput',
          f'classes must be a string tensor, got {classes.dtype}.',
        )
    self.scores = scores
    self.classes = classes

  def as_signature_def(self, receiver_tensors):
    examples = _single_string_input(receiver_tensors)
    if examples is not None:
      return _signature_utils.classification_signature_def(
        examples, self.classes, self.scores
      )
    outputs = {}
    if self.scores is not None:
      outputs['scores'] = self.scores
    if self.classes is not None:
      outputs['classes'] = self.classes
    return _signature_utils.predict_signature_def(receiver_tensors, outputs)


class RegressionOutput(ExportOutput):
  """Regression values (`[batch]` or `[batch, 1]` float)."""

  def __init__(self, value):
    _check_tensor('RegressionOutput', 'value', value)
    if not value.dtype.is_floating:
      _fail('RegressionOutput', f'value must be float, got {value.dtype}.')
    self.value = value

  def as_signature_def(self, receiver_tensors):
    examples = _single_string_input(receiver_tensors)
    if examples is not None:
      return _signature_utils.regression_signature_def(examples, self.value)
    return _signature_utils.predict_signature_def(
      receiver_tensors, {'outputs': self.value}
    )


class PredictOutput(ExportOutput):
  """Named output tensors (a dict, or one tensor named 'output')."""

  def __init__(self, outputs):
    if not isinstance(outputs, dict):
      outputs = {'output': outputs}
    for key, value in outputs.items():
      if not isinstance(key, str):
        _fail('PredictOutput', f'output keys must be strings, got {key!r}.')
      _check_tensor('PredictOutput', f'outputs[{key!r}]', value)
    self.outputs = dict(outputs)

  def as_signature_def(self, receiver_tensors):
    return _signature_utils.predict_signature_def(
      receiver_tensors, self.outputs
    )


def _as_dict(value, default_key):
  if isinstance(value, dict):
    return dict(value)
  return {default_key: value}


class ServingInputReceiver(
  collections.namedtuple(
    'ServingInputReceiver',
    ['features', 'receiver_tensors', 'receiver_tensors_alternatives'],
  )
):
  """The features a served model_fn sees and the placeholders it reads.

  `features`: a tensor or dict of tensors; `receiver_tensors`: a tensor or
  dict of the placeholders the signatures take (one tensor is named
  'input'); `receiver_tensors_alternatives`: name -> such a dict, each
  making its own signatures.
  """

  __slots__ = ()

  def __new__(
    cls, features, receiver_tensors, receiver_tensors_alternatives=None
  ):
    if features is None:
      _fail('ServingInputReceiver', 'features must be given.')
    receiver_tensors = _as_dict(receiver_tensors, 'input')
    for key, value in receiver_tensors.items():
      _check_tensor('ServingInputReceiver', f'receiver_tensors[{key!r}]', value)
    features = _as_dict(features, 'feature')
    alternatives = {
      name: _as_dict(tensors, 'input')
      for name, tensors in (receiver_tensors_alternatives or {}).items()
    }
    return super().__new__(cls, features, receiver_tensors, alternatives)


class TensorServingInputReceiver(
  collections.namedtuple(
    'TensorServingInputReceiver',
    ['features', 'receiver_tensors', 'receiver_tensors_alternatives'],
  )
):
  """Like `ServingInputReceiver`, but `features` is one tensor, kept so."""

  __slots__ = ()

  def __new__(
    cls, features, receiver_tensors, receiver_tensors_alternatives=None
  ):
    _check_tensor('TensorServingInputReceiver', 'features', features)
    receiver = ServingInputReceiver(
      {'feature': features}, receiver_tensors, receiver_tensors_alternatives
    )
    return super().__new__(
      cls,
      features,
      receiver.receiver_tensors,
      receiver.receiver_tensors_alternatives,
    )


def build_parsing_serving_input_receiver_fn(
  feature_spec, default_batch_size=None
):
  """A receiver fn parsing serialized `tf.Example`s with `feature_spec`.

  Args:
    feature_spec: feature name -> `tf.FixedLenFeature` / `VarLenFeature`.
    default_batch_size: batch dimension of the placeholder (None: any).

  Returns:
    a function returning a `ServingInputReceiver` whose one receiver tensor
    'examples' is a `[batch]` string placeholder.
  """

  def serving_input_receiver_fn():
    serialized = tf.placeholder(
      tf.string, [default_batch_size], name='input_example_tensor'
    )
    features = tf.parse_example(serialized, feature_spec)
    return ServingInputReceiver(features, {'examples': serialized})

  return serving_input_receiver_fn


def build_raw_serving_input_receiver_fn(features, default_batch_size=None):
  """A receiver fn with one placeholder per feature, shaped like it.

  Args:
    features: name -> tensor (or one tensor): the dtype and shape (first
      dimension replaced by `default_batch_size`) of each placeholder.
    default_batch_size: batch dimension (None: any).

  Returns:
    a function returning a `ServingInputReceiver` (the features are the
    placeholders themselves).
  """

  def serving_input_receiver_fn():
    receivers = {}
    for name, tensor in _as_dict(features, 'input').items():
      shape = tf.TensorShape(tensor.shape)
      if shape.ndims:
        shape = [default_batch_size, *shape.as_list()[1:]]
      receivers[name] = tf.placeholder(
        tensor.dtype, shape, name=f'{name}_placeholder'
      )
    if not isinstance(features, dict):
      return TensorServingInputReceiver(receivers['input'], receivers)
    return ServingInputReceiver(receivers, receivers)

  return serving_input_receiver_fn
