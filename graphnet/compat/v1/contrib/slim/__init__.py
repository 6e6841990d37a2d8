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

from graphnet import compat as _compat
from graphnet.compat.v1.contrib import framework as variables
from graphnet.compat.v1.contrib import layers as _layers
from graphnet.compat.v1.contrib.layers import utils
from graphnet.compat.v1.contrib.slim import learning
from graphnet.compat.v1.contrib.slim import losses
from graphnet.compat.v1.contrib.slim import metrics

# As TF 1.15's slim: contrib.layers' and contrib.framework's names, the
# same objects (`slim.conv2d is tf.contrib.layers.conv2d`), listed once
# in their `__all__`; TF 1.15's slim lacked framework's get_name_scope.
__all__ = [
  *_compat.reexport(
    globals(), [_layers, variables], exclude=['get_name_scope']
  ),
  'learning',
  'losses',
  'metrics',
  'utils',
  'variables',
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


__getattr__ = _compat.not_provided(
  'tf.contrib.slim',
  lambda name: (
    f'({_NOT_PROVIDED.get(name, "not part of TF 1.15 slim either")}) is not '
    'provided by graphnet.compat.v1.contrib.slim, which has the layers, '
    'arg_scope, variables, losses, learning and metrics. Port that part to '
    'TF 2 or keep the program on TF 1.15.'
  ),
)
