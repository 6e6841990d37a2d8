"""Fault injection: the evaluator polling beside a running trainer.

The trainer writes a checkpoint every few hundred steps and
`keep_checkpoint_max` deletes old ones while `python -m graphnet.mnist_eval
--eval_interval_secs` polls fast. The evaluator must never crash, never
read a half-written or deleted checkpoint, and evaluate each checkpoint at
most once: the steps of its `After N training step(s)` lines are unique and
increasing, and it ends with the trainer's last step.
"""

import os
import re
import signal
import subprocess
import sys
import time

import _helpers

_FULL = os.environ.get('GRAPHNET_FAULTS_FULL') == '1'
_AFTER = re.compile(r'^After (\d+) training step\(s\)')


def test_evaluator_beside_trainer_reads_each_checkpoint_once(tmp_path):
  log_dir = str(tmp_path / 'logs')
  data_dir = str(tmp_path / 'data')
  max_steps = 6000 if _FULL else 2000
  train = subprocess.Popen(
    _helpers.trainer_argv(
      '--fake_data',
      max_steps=max_steps,
      save_checkpoint_steps=100,
      keep_checkpoint_max=2,
      eval_every=max_steps,
      log_dir=log_dir,
      input_data_dir=data_dir,
    ),
    stdout=subprocess.DEVNULL,
    stderr=subprocess.PIPE,
    text=True,
  )
  err_file = open(tmp_path / 'eval.stderr', 'w')  # noqa: SIM115
  evaluate = subprocess.Popen(
    [
      sys.executable,
      '-m',
      'graphnet.mnist_eval',
      '--checkpoint_dir',
      log_dir,
      '--input_data_dir',
      data_dir,
      '--eval_interval_secs',
      '0.05',
      '--eval_dir',
      str(tmp_path / 'eval'),
    ],
    stdout=subprocess.PIPE,
    # A file, not a pipe: its warnings must not fill a pipe nobody reads.
    stderr=err_file,
    text=True,
    env=dict(os.environ, PYTHONUNBUFFERED='1'),
  )
  steps, skipped = [], 0
  try:
    _, train_err = train.communicate(timeout=600)
    assert train.returncode == 0, train_err[-2000:]
    for line in evaluate.stdout:
      match = _AFTER.match(line)
      if match:
        steps.append(int(match.group(1)))
        if steps[-1] >= max_steps:
          break
      skipped += line.startswith('Skipping checkpoint')
    time.sleep(0.2)
    evaluate.send_signal(signal.SIGTERM)
    rest, _ = evaluate.communicate(timeout=60)
  finally:
    for proc in (train, evaluate):
      if proc.poll() is None:
        proc.kill()
        proc.wait()
    err_file.close()
  err = (tmp_path / 'eval.stderr').read_text()
  steps += [int(m.group(1)) for m in map(_AFTER.match, rest.splitlines()) if m]
  assert evaluate.returncode == 0, err[-2000:]
  assert 'Traceback' not in err
  assert steps == sorted(set(steps)), steps  # Each at most once, in order.
  assert len(steps) >= 2 and steps[-1] == max_steps, steps
  _helpers.record_stats(
    'evaluator', {'evaluated': len(steps), 'skipped': skipped}
  )
