"""Fault injection: SIGINT and SIGTERM during training.

The trainer must stop after the current run, save a final checkpoint, say
so in one line ('Interrupted by SIGTERM at step N; checkpoint saved to
...'), exit 130 (SIGINT) or 143 (SIGTERM) within 10 s, and resume from that
step next time; for the feed path and the `--steps_per_run` loop alike.
"""

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import tensorflow.compat.v1 as tf

from graphnet.checkpoints import contents
from graphnet.checkpoints import state as checkpoints
from graphnet.training import config as config_lib
from graphnet.training import signals
from graphnet.training import trainer

import _helpers

_FULL = os.environ.get('GRAPHNET_FAULTS_FULL') == '1'
_STEP = re.compile(r'^Step (\d+): ')


def _record(handled):
  _helpers.record_stats('signals', {'tried': 1, 'handled': handled})


def _pipeline_flags(pipeline):
  if pipeline == 'resident':
    return ['--input_pipeline', 'resident', '--steps_per_run', '10']
  return []


def _first_step(lines):
  for line in lines:
    match = _STEP.match(line)
    if match:
      return int(match.group(1))
  return None


def _train_config(tmp_path, pipeline, max_steps):
  return config_lib.TrainConfig(
    log_dir=str(tmp_path / 'logs'),
    input_data_dir=str(tmp_path / 'data'),
    fake_data=True,
    max_steps=max_steps,
    log_every=10,
    eval_every=100000,
    input_pipeline=pipeline,
    steps_per_run=10 if pipeline == 'resident' else 1,
  )


class TestStopOnSignals:
  def test_restores_previous_handlers(self):
    def mine(signum, frame):
      del signum, frame

    old_int = signal.getsignal(signal.SIGINT)
    old = signal.signal(signal.SIGTERM, mine)
    try:
      with signals.StopOnSignals() as stop:
        assert signal.getsignal(signal.SIGTERM) == stop._handle
        assert signal.getsignal(signal.SIGINT) == stop._handle
      assert signal.getsignal(signal.SIGTERM) is mine
      assert signal.getsignal(signal.SIGINT) == old_int
    finally:
      signal.signal(signal.SIGTERM, old)

  def test_first_signal_requests_stop_second_interrupts(self):
    with signals.StopOnSignals() as stop:
      os.kill(os.getpid(), signal.SIGTERM)
      time.sleep(0.01)  # Handlers run between bytecodes of the main thread.
      assert stop.signum == signal.SIGTERM
      with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)

  def test_error_message_and_exit_code(self):
    e = signals.TrainingInterruptedError(
      signal.SIGINT, 120, '/l/model.ckpt-120'
    )
    assert e.exit_code == 130
    assert str(e).startswith('Interrupted by SIGINT at step 120; checkpoint')
    assert '/l/model.ckpt-120' in str(e)


@pytest.mark.parametrize('pipeline', ['feed', 'resident'])
def test_in_process_signal_saves_and_next_run_resumes(tmp_path, pipeline):
  """SIGTERM to our own process at a logged step, then resume."""
  sent = []

  def printer(line):
    match = _STEP.match(line)
    if match and int(match.group(1)) >= 30 and not sent:
      sent.append(line)
      os.kill(os.getpid(), signal.SIGTERM)

  handler = signal.getsignal(signal.SIGTERM)
  with pytest.raises(signals.TrainingInterruptedError) as caught:
    trainer.run_training(
      _train_config(tmp_path, pipeline, max_steps=10**6), printer=printer
    )
  stopped = caught.value
  assert stopped.signum == signal.SIGTERM
  assert stopped.step >= 30
  assert stopped.checkpoint == checkpoints.latest_checkpoint(
    str(tmp_path / 'logs')
  )
  assert contents.checkpoint_step(stopped.checkpoint) == stopped.step
  # Handlers are ours again after training.
  assert signal.getsignal(signal.SIGTERM) == handler
  lines = []
  result = trainer.run_training(
    _train_config(tmp_path, pipeline, max_steps=stopped.step + 20),
    printer=lines.append,
  )
  assert _first_step(lines) == stopped.step
  assert result.global_step == stopped.step + 20
  _record(True)


def _cli(tmp_path, pipeline):
  return subprocess.Popen(
    [
      sys.executable,
      '-m',
      'graphnet.fully_connected_feed',
      '--fake_data',
      '--max_steps',
      '1000000',
      '--log_every',
      '10',
      '--eval_every',
      '1000000',
      '--log_dir',
      str(tmp_path / 'logs'),
      '--input_data_dir',
      str(tmp_path / 'data'),
      *_pipeline_flags(pipeline),
    ],
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
  )


_CLI_CASES = [('feed', signal.SIGTERM), ('resident', signal.SIGINT)]
if _FULL:
  _CLI_CASES += [('feed', signal.SIGINT), ('resident', signal.SIGTERM)]


@pytest.mark.parametrize('pipeline, signum', _CLI_CASES)
def test_cli_signal_exits_promptly_with_checkpoint(tmp_path, pipeline, signum):
  proc = _cli(tmp_path, pipeline)
  try:
    for line in proc.stdout:
      match = _STEP.match(line)
      if match and int(match.group(1)) >= 20:
        break
    sent = time.monotonic()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent
  finally:
    if proc.poll() is None:
      proc.kill()
      proc.wait()
  assert proc.returncode == 128 + signum, err
  assert took < 10, took
  name = signal.Signals(signum).name
  match = re.search(
    rf'graphnet: Interrupted by {name} at step (\d+); checkpoint saved to '
    r'(\S+);',
    err,
  )
  assert match, err
  assert 'Traceback' not in err
  step, prefix = int(match.group(1)), match.group(2)
  assert prefix == tf.train.latest_checkpoint(str(tmp_path / 'logs'))
  assert contents.checkpoint_step(prefix) == step
  _record(True)
