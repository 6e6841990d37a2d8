"""Every tf.layers function and class in one graph, for the TF 1.15 goldens.

One source for both sides, written as graphnet runs it: make_layers_goldens.py
runs it under TF 1.15 with the import line swapped back
(scripts/tf1_programs_accuracy.py's `to_tf1`), tests/compat/test_layers.py
under graphnet as is. It covers the naming rules (unnamed layers numbered
per scope, `name=` + `reuse=`, a class object called twice, a reused
`variable_scope`, a scope's initializer, a custom `tf.layers.Layer`), the
regularizers, batch norm fused and not, with python and tensor `training`,
and the pooling, convolution and transposed-convolution shapes.

`build()` makes the placeholders `img` [batch, 8, 8, 3], `seq` [batch, 10,
4], `vol` [batch, 4, 6, 6, 2], `vec` [batch, 6] and `training` (bool,
default False), and returns {name: output tensor}. DROPPED names the
outputs that are random while training.
"""

import graphnet.compat.v1 as tf

DROPPED = ('dropout_cond',)


class Scale(tf.layers.Layer):
  """A custom TF1 layer: multiplies the last axis by a variable `scale`."""

  def build(self, input_shape):
    self.scale = self.add_variable(
      'scale', [input_shape[-1].value], initializer=tf.ones_initializer()
    )
    super().build(input_shape)

  def call(self, inputs):
    return inputs * self.scale


def _l2(weights):
  return 0.01 * tf.nn.l2_loss(weights)


def build():
  """The zoo in the default graph; returns {name: output tensor}."""
  img = tf.placeholder(tf.float32, [None, 8, 8, 3], name='img')
  seq = tf.placeholder(tf.float32, [None, 10, 4], name='seq')
  vol = tf.placeholder(tf.float32, [None, 4, 6, 6, 2], name='vol')
  vec = tf.placeholder(tf.float32, [None, 6], name='vec')
  training = tf.placeholder_with_default(False, [], name='training')
  out = {}
  out['dense'] = tf.layers.dense(vec, 5, tf.nn.relu)
  out['dense_again'] = tf.layers.dense(vec, 5)
  out['dense_named'] = tf.layers.dense(
    vec, 4, name='fc', kernel_regularizer=_l2
  )
  out['dense_reused'] = tf.layers.dense(vec, 4, name='fc', reuse=True)
  head = tf.layers.Dense(3, use_bias=False, name='head')
  out['head'] = head(vec)
  out['head_again'] = head(vec * 2.0)
  out['dense_seq'] = tf.layers.dense(seq, 7, activation='tanh')
  with tf.variable_scope('tower'):
    out['tower'] = tf.layers.dense(vec, 2)
  with tf.variable_scope('tower', reuse=True):
    out['tower_reused'] = tf.layers.dense(vec, 2)
  with tf.variable_scope('init', initializer=tf.constant_initializer(0.1)):
    out['scope_initializer'] = tf.layers.conv2d(img, 2, 1)
  out['activity'] = tf.layers.dense(
    vec, 3, activity_regularizer=tf.nn.l2_loss, bias_regularizer=_l2
  )
  out['conv1d'] = tf.layers.conv1d(seq, 6, 3, padding='causal', dilation_rate=2)
  out['conv1d_class'] = tf.layers.Conv1D(4, 2, strides=2)(seq)
  out['conv2d'] = tf.layers.conv2d(
    img, 4, (3, 2), strides=(1, 2), padding='Same', activation=tf.nn.relu
  )
  out['conv2d_dilated'] = tf.layers.conv2d(img, 4, 3, dilation_rate=2)
  out['conv3d'] = tf.layers.conv3d(vol, 3, 2)
  out['deconv_valid'] = tf.layers.conv2d_transpose(img, 3, 3, strides=2)
  out['deconv_same'] = tf.layers.Conv2DTranspose(
    2, (4, 3), strides=(2, 1), padding='SAME', name='up'
  )(img)
  out['max1d'] = tf.layers.max_pooling1d(seq, 2, 2)
  out['avg1d'] = tf.layers.average_pooling1d(seq, 3, 1, padding='same')
  out['max2d'] = tf.layers.MaxPooling2D(3, 2, padding='same')(img)
  out['avg2d'] = tf.layers.average_pooling2d(img, 2, 2)
  out['max3d'] = tf.layers.max_pooling3d(vol, 2, 2)
  out['avg3d'] = tf.layers.AveragePooling3D(2, 1)(vol)
  out['flatten'] = tf.layers.flatten(img)
  out['flatten_first'] = tf.layers.Flatten(data_format='channels_first')(img)
  out['bn_fused'] = tf.layers.batch_normalization(img, training=True)
  out['bn_fused_cond'] = tf.layers.batch_normalization(
    img, training=training, momentum=0.9, name='bn_cond'
  )
  out['bn_vec'] = tf.layers.batch_normalization(
    vec, training=True, center=False
  )
  out['bn_vec_cond'] = tf.layers.batch_normalization(
    vec, training=training, scale=False, epsilon=0.01, gamma_regularizer=_l2
  )
  out['bn_unfused'] = tf.layers.batch_normalization(
    img, training=True, fused=False
  )
  out['bn_frozen'] = tf.layers.batch_normalization(
    img, training=True, trainable=False
  )
  out['bn_axis1'] = tf.layers.BatchNormalization(axis=1)(seq, training=True)
  out['bn_eval'] = tf.layers.batch_normalization(img)
  out['dropout_off'] = tf.layers.dropout(vec, 0.5)
  out['dropout_cond'] = tf.layers.dropout(vec, 0.5, training=training)
  out['scale'] = Scale()(vec)
  out['scale_named'] = Scale(name='scale')(vec)
  return out
