"""TF-Slim of TF 1.15: `import graphnet.compat.v1.contrib.slim as slim`.

The names TF1 programs use: the layer functions (`slim.conv2d`,
`slim.fully_connected`, `slim.batch_norm`, ...), `arg_scope`, the variable
helpers (`slim.get_variables_to_restore`, `slim.get_model_variables`,
`slim.assign_from_checkpoint_fn`, `slim.model_variable`, ...),
`slim.losses`, `slim.learning` (`create_train_op`, `train`),
`slim.metrics`, `slim.variables` and `slim.utils`, with TF 1.15's
semantics (see `graphnet.compat.v1.contrib.layers` and `.framework`).

Not provided (raise `graphnet.errors.NotProvidedError`): `slim.evaluation`,
`slim.queues`, `slim.data`, `slim.nets`, `slim.model_analyzer`.

Example:
    import graphnet.compat.v1.contrib.slim as slim

    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_regularizer=slim.l2_regularizer(0.0005)):
      net = slim.conv2d(images, 32, [3, 3], scope='conv1')
"""

from graphnet import errors
from graphnet.compat.v1.contrib import framework as variables
from graphnet.compat.v1.contrib.framework import add_arg_scope
from graphnet.compat.v1.contrib.framework import add_model_variable
from graphnet.compat.v1.contrib.framework import arg_scope
from graphnet.compat.v1.contrib.framework import arg_scoped_arguments
from graphnet.compat.v1.contrib.framework import assign_from_checkpoint
from graphnet.compat.v1.contrib.framework import assign_from_checkpoint_fn
from graphnet.compat.v1.contrib.framework import assign_from_values
from graphnet.compat.v1.contrib.framework import assign_from_values_fn
from graphnet.compat.v1.contrib.framework import create_global_step
from graphnet.compat.v1.contrib.framework import current_arg_scope
from graphnet.compat.v1.contrib.framework import filter_variables
from graphnet.compat.v1.contrib.framework import get_global_step
from graphnet.compat.v1.contrib.framework import get_local_variables
from graphnet.compat.v1.contrib.framework import get_model_variables
from graphnet.compat.v1.contrib.framework import get_or_create_global_step
from graphnet.compat.v1.contrib.framework import get_trainable_variables
from graphnet.compat.v1.contrib.framework import get_unique_variable
from graphnet.compat.v1.contrib.framework import get_variable_full_name
from graphnet.compat.v1.contrib.framework import get_variables
from graphnet.compat.v1.contrib.framework import get_variables_by_name
from graphnet.compat.v1.contrib.framework import get_variables_by_suffix
from graphnet.compat.v1.contrib.framework import get_variables_to_restore
from graphnet.compat.v1.contrib.framework import global_variable
from graphnet.compat.v1.contrib.framework import has_arg_scope
from graphnet.compat.v1.contrib.framework import list_variables
from graphnet.compat.v1.contrib.framework import load_checkpoint
from graphnet.compat.v1.contrib.framework import load_variable
from graphnet.compat.v1.contrib.framework import local_variable
from graphnet.compat.v1.contrib.framework import model_variable
from graphnet.compat.v1.contrib.framework import variable
from graphnet.compat.v1.contrib.layers import apply_regularization
from graphnet.compat.v1.contrib.layers import avg_pool2d
from graphnet.compat.v1.contrib.layers import batch_norm
from graphnet.compat.v1.contrib.layers import bias_add
from graphnet.compat.v1.contrib.layers import conv1d
from graphnet.compat.v1.contrib.layers import conv2d
from graphnet.compat.v1.contrib.layers import conv2d_transpose
from graphnet.compat.v1.contrib.layers import conv3d
from graphnet.compat.v1.contrib.layers import convolution
from graphnet.compat.v1.contrib.layers import convolution1d
from graphnet.compat.v1.contrib.layers import convolution2d
from graphnet.compat.v1.contrib.layers import convolution2d_transpose
from graphnet.compat.v1.contrib.layers import convolution3d
from graphnet.compat.v1.contrib.layers import dropout
from graphnet.compat.v1.contrib.layers import elu
from graphnet.compat.v1.contrib.layers import flatten
from graphnet.compat.v1.contrib.layers import fully_connected
from graphnet.compat.v1.contrib.layers import l1_l2_regularizer
from graphnet.compat.v1.contrib.layers import l1_regularizer
from graphnet.compat.v1.contrib.layers import l2_regularizer
from graphnet.compat.v1.contrib.layers import linear
from graphnet.compat.v1.contrib.layers import max_pool2d
from graphnet.compat.v1.contrib.layers import one_hot_encoding
from graphnet.compat.v1.contrib.layers import relu
from graphnet.compat.v1.contrib.layers import relu6
from graphnet.compat.v1.contrib.layers import repeat
from graphnet.compat.v1.contrib.layers import softmax
from graphnet.compat.v1.contrib.layers import stack
from graphnet.compat.v1.contrib.layers import sum_regularizer
from graphnet.compat.v1.contrib.layers import summarize_activation
from graphnet.compat.v1.contrib.layers import summarize_activations
from graphnet.compat.v1.contrib.layers import summarize_collection
from graphnet.compat.v1.contrib.layers import summarize_tensor
from graphnet.compat.v1.contrib.layers import summarize_tensors
from graphnet.compat.v1.contrib.layers import utils
from graphnet.compat.v1.contrib.layers import variance_scaling_initializer
from graphnet.compat.v1.contrib.layers import xavier_initializer
from graphnet.compat.v1.contrib.layers import xavier_initializer_conv2d
from graphnet.compat.v1.contrib.slim import learning
from graphnet.compat.v1.contrib.slim import losses
from graphnet.compat.v1.contrib.slim import metrics

__all__ = [
  'add_arg_scope',
  'add_model_variable',
  'apply_regularization',
  'arg_scope',
  'arg_scoped_arguments',
  'assign_from_checkpoint',
  'assign_from_checkpoint_fn',
  'assign_from_values',
  'assign_from_values_fn',
  'avg_pool2d',
  'batch_norm',
  'bias_add',
  'conv1d',
  'conv2d',
  'conv2d_transpose',
  'conv3d',
  'convolution',
  'convolution1d',
  'convolution2d',
  'convolution2d_transpose',
  'convolution3d',
  'create_global_step',
  'current_arg_scope',
  'dropout',
  'elu',
  'filter_variables',
  'flatten',
  'fully_connected',
  'get_global_step',
  'get_local_variables',
  'get_model_variables',
  'get_or_create_global_step',
  'get_trainable_variables',
  'get_unique_variable',
  'get_variable_full_name',
  'get_variables',
  'get_variables_by_name',
  'get_variables_by_suffix',
  'get_variables_to_restore',
  'global_variable',
  'has_arg_scope',
  'l1_l2_regularizer',
  'l1_regularizer',
  'l2_regularizer',
  'learning',
  'linear',
  'list_variables',
  'load_checkpoint',
  'load_variable',
  'local_variable',
  'losses',
  'max_pool2d',
  'metrics',
  'model_variable',
  'one_hot_encoding',
  'relu',
  'relu6',
  'repeat',
  'softmax',
  'stack',
  'sum_regularizer',
  'summarize_activation',
  'summarize_activations',
  'summarize_collection',
  'summarize_tensor',
  'summarize_tensors',
  'utils',
  'variable',
  'variables',
  'variance_scaling_initializer',
  'xavier_initializer',
  'xavier_initializer_conv2d',
]

# TF-Slim modules graphnet leaves out: name -> what they held.
_NOT_PROVIDED = {
  'evaluation': 'evaluation_loop and evaluate_once',
  'queues': 'QueueRunner helpers',
  'data': 'dataset providers, TFRecord decoders',
  'nets': 'the model zoo (vgg, inception, resnet, ...)',
  'model_analyzer': 'analyze_vars and analyze_ops',
  'summaries': 'summary helpers',
}


def __getattr__(name):
  """`slim.<name>` that graphnet does not provide: NotProvidedError."""
  if name.startswith('__'):
    raise AttributeError(name)
  what = _NOT_PROVIDED.get(name, 'not part of TF 1.15 slim either')
  raise errors.NotProvidedError(
    f'slim.{name} ({what}) is not provided by graphnet.compat.v1.contrib.'
    'slim, which has the layers, arg_scope, variables, losses, learning '
    'and metrics. Port that part to TF 2 or keep the program on TF 1.15.',
    name=f'tf.contrib.slim.{name}',
  )
