"""Images in any accepted format, as the float32 batch a model takes.

MNIST models (`images` of example shape (784,)) take uint8 pixels 0..255
or floats in [0, 1], shaped [N, 28, 28], [N, 784] or [N, 28, 28, 1], or one
image; a model of another feature shape takes [N, *feature_shape] or one
example, uint8 pixels (scaled to [0, 1]) or finite float features. Every
refusal is an `InputShapeError` saying what was expected and found.

Example:
    batch = batches.to_batch(np.zeros([28, 28], np.uint8))  # [1, 784] f32
    batch = batches.to_batch(features, feature_shape=(8, 8))
"""

import math

import numpy as np

from graphnet import contract
from graphnet import errors

__all__ = ['to_batch']

_FORMATS = (
  'uint8 pixels 0..255 or floats in [0, 1], shaped [N, 28, 28], '
  '[N, 784], [N, 28, 28, 1], or one image [28, 28] / [784] / [28, 28, 1]'
)
_SINGLE_SHAPES = (
  (contract.IMAGE_SIZE, contract.IMAGE_SIZE),
  (contract.IMAGE_PIXELS,),
)
_SINGLE_SHAPES += ((contract.IMAGE_SIZE, contract.IMAGE_SIZE, 1),)
_BATCH_TAILS = (
  (contract.IMAGE_PIXELS,),
  (contract.IMAGE_SIZE, contract.IMAGE_SIZE),
)
_BATCH_TAILS += ((contract.IMAGE_SIZE, contract.IMAGE_SIZE, 1),)


def _shape_error(found):
  return errors.InputShapeError(f'images: expected {_FORMATS}; found {found}.')


def _features_batch(array, feature_shape):
  """to_batch for a model of another input than MNIST's 784 pixels."""
  shape = tuple(feature_shape)
  expected = (
    f'uint8 pixels 0..255 (scaled to [0, 1]) or float features (kept as '
    f'given), shaped [N, {", ".join(map(str, shape))}] or one example '
    f'{list(shape)}'
  )
  if array.shape == shape:
    array = array[np.newaxis]
  if (
    len(shape) == 1
    and array.ndim > 2
    and math.prod(array.shape[1:]) == shape[0]
  ):
    # A model of flattened images ([None, 256]) takes them as images too.
    array = array.reshape(len(array), shape[0])
  if array.ndim < 1 or array.shape[1:] != shape:
    raise errors.InputShapeError(
      f'images: expected {expected}; found shape {list(array.shape)}.'
    )
  if array.dtype == np.uint8:
    return array.astype(np.float32) / 255.0
  if not np.issubdtype(array.dtype, np.floating):
    raise errors.InputShapeError(
      f'images: expected {expected}; found dtype {array.dtype}.'
    )
  batch = array.astype(np.float32)
  if batch.size and not np.isfinite(batch).all():
    raise errors.InputShapeError(
      f'images: expected {expected}; found values including NaN or infinity.'
    )
  return batch


def to_batch(images, feature_shape=(contract.IMAGE_PIXELS,)):
  """Converts images in any accepted format to the model's float32 input.

  Args:
    images: for MNIST (`feature_shape` (784,)): array-like, uint8 (pixels
      0..255) or floating point (values in [0, 1]) of shape `[N, 28, 28]`,
      `[N, 784]` or `[N, 28, 28, 1]`; or one image `[28, 28]`, `[784]` or
      `[28, 28, 1]`, treated as `N = 1`. For another feature shape:
      `[N, *feature_shape]` or one example `feature_shape` (a flat
      `feature_shape` (width,) also takes `[N, h, w, ...]` of that many
      values), uint8 pixels (scaled to [0, 1], as `input_data` does) or
      float features (kept as given, finite).
    feature_shape: the saved graph's example shape (its `images` without
      the batch dimension).

  Returns:
    float32 array `[N, *feature_shape]`.

  Raises:
    InputShapeError: another shape, dtype, or values outside [0, 1].
  """
  try:
    array = np.asarray(images)
  except (TypeError, ValueError) as e:
    raise _shape_error(f'an object numpy cannot convert ({e})') from e
  if tuple(feature_shape) != (contract.IMAGE_PIXELS,):
    return _features_batch(array, feature_shape)
  if array.shape in _SINGLE_SHAPES:
    array = array[np.newaxis]
  if array.ndim < 2 or array.shape[1:] not in _BATCH_TAILS:
    raise _shape_error(f'shape {list(array.shape)}, dtype {array.dtype}')
  if array.dtype == np.uint8:
    batch = array.reshape(-1, contract.IMAGE_PIXELS).astype(np.float32) / 255.0
  elif np.issubdtype(array.dtype, np.floating):
    batch = array.reshape(-1, contract.IMAGE_PIXELS).astype(np.float32)
    if batch.size and not np.isfinite(batch).all():
      raise _shape_error(f'{array.dtype} values including NaN or infinity')
    if batch.size and (batch.min() < 0 or batch.max() > 1):
      raise _shape_error(
        f'{array.dtype} values from {batch.min()} to {batch.max()}; divide '
        '0..255 pixels by 255 or pass them as uint8'
      )
  else:
    hint = '; convert 0..255 pixels with .astype(np.uint8)'
    if array.dtype.kind not in 'iu':
      hint = ''
    raise _shape_error(f'dtype {array.dtype}{hint}')
  return batch
