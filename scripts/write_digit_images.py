r"""Writes a few MNIST test digits as image files, to try `graphnet.predict`.

    python scripts/write_digit_images.py /tmp/digits
    # /tmp/digits/seven.png (light on dark, as MNIST), two.jpg,
    # one_on_white.png (dark ink on white: predict inverts it)

The digits are the first three of the bundled test set (labels 7, 2, 1).
"""

import argparse
import os

import numpy as np
import tensorflow as tf

from graphnet.cli import common
from graphnet.data import mnist_reader


def _encode(pixels, fmt):
  image = tf.constant(pixels[..., np.newaxis])
  if fmt == 'png':
    return tf.io.encode_png(image).numpy()
  return tf.io.encode_jpeg(image, quality=95).numpy()


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('out_dir', help='Directory to write the images to.')
  args = parser.parse_args()
  data = mnist_reader.read_data_sets(
    common.DEFAULT_DATA_DIR, dtype='uint8', reshape=False
  )
  digits = data.test.images[:3, :, :, 0]
  os.makedirs(args.out_dir, exist_ok=True)
  files = {
    'seven.png': _encode(digits[0], 'png'),
    'two.jpg': _encode(digits[1], 'jpeg'),
    'one_on_white.png': _encode(255 - digits[2], 'png'),
  }
  for name, content in files.items():
    with open(os.path.join(args.out_dir, name), 'wb') as f:
      f.write(content)
  print(' '.join(os.path.join(args.out_dir, name) for name in files))


if __name__ == '__main__':
  main()
