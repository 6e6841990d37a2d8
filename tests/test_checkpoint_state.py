"""The checkpoint state file: complete checkpoints only, own files only.

`saver_lib.Saver` lists a checkpoint once its `.index`, data and `.meta`
exist and never lists or deletes another directory's; readers beside a
trainer fall back to the newest complete checkpoint and retry once when
`keep_checkpoint_max` deletes one under them; a killed save's temporary
files are removed when training starts again. Each scenario appends its
counts to GRAPHNET_FAULTS_STATS for scripts/fault_suite.py.
"""

import glob
import os
import re
import signal
import subprocess
import threading
import time

import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.checkpoints import contents
from graphnet.checkpoints import log_dirs
from graphnet.checkpoints import saver as saver_lib
from graphnet.checkpoints import state as checkpoints
from graphnet.data import mnist_reader as input_data
from graphnet.serving import freezing
from graphnet.serving import predictor
from graphnet.training import config as config_lib
from graphnet.training import continuous_eval

import _helpers

_FULL = os.environ.get('GRAPHNET_FAULTS_FULL') == '1'
_STEP = re.compile(r'^Step (\d+): ')


def _record(category, **counts):
  _helpers.record_stats(category, counts)


def _saver_graph(saver_cls=saver_lib.Saver, **kwargs):
  graph = tf.Graph()
  with graph.as_default():
    tf.train.create_global_step()
    tf.get_variable('weights', [3, 2])
    saver = saver_cls(**kwargs)
    init = tf.global_variables_initializer()
  return graph, saver, init


def _save_steps(directory, steps, saver_cls=saver_lib.Saver, **kwargs):
  """Saves checkpoints at `steps` into `directory`; returns their prefixes."""
  graph, saver, init = _saver_graph(saver_cls, **kwargs)
  os.makedirs(directory, exist_ok=True)
  with tf.Session(graph=graph) as sess:
    sess.run(init)
    return [
      saver.save(sess, os.path.join(directory, 'model.ckpt'), global_step=s)
      for s in steps
    ]


def _listed(directory):
  """(model_checkpoint_path, all_model_checkpoint_paths) as written."""
  text = open(os.path.join(directory, 'checkpoint')).read()
  latest = re.findall(r'^model_checkpoint_path: "(.*)"$', text, re.M)
  return latest[0], re.findall(
    r'^all_model_checkpoint_paths: "(.*)"$', text, re.M
  )


class TestSaver:
  def test_state_names_a_checkpoint_only_once_complete(
    self, tmp_path, monkeypatch
  ):
    seen = []
    write = checkpoints.write_state

    def checked_write(directory, latest, names, state_name='checkpoint'):
      # At the moment the state is replaced, every file must be there.
      seen.append(checkpoints.complete(os.path.join(directory, latest)))
      write(directory, latest, names, state_name)

    monkeypatch.setattr(checkpoints, 'write_state', checked_write)
    _save_steps(str(tmp_path), [1, 2, 3])
    assert seen == [True, True, True]

  def test_keeps_the_newest_max_to_keep_and_deletes_the_rest(self, tmp_path):
    _save_steps(str(tmp_path), [10, 20, 30, 40], max_to_keep=2)
    latest, names = _listed(str(tmp_path))
    assert latest == 'model.ckpt-40'
    assert names == ['model.ckpt-30', 'model.ckpt-40']
    left = sorted(os.listdir(tmp_path))
    assert not [
      n for n in left if n.startswith(('model.ckpt-10', 'model.ckpt-20'))
    ]
    assert checkpoints.complete(str(tmp_path / 'model.ckpt-30'))

  def test_max_to_keep_zero_keeps_every_checkpoint(self, tmp_path):
    prefixes = _save_steps(str(tmp_path), [1, 2, 3], max_to_keep=0)
    assert all(checkpoints.complete(p) for p in prefixes)
    assert _listed(str(tmp_path)) == ('model.ckpt-3', ['model.ckpt-3'])

  def test_recovered_paths_of_another_directory_are_never_deleted(
    self, tmp_path
  ):
    other = _save_steps(str(tmp_path / 'a'), [1, 2], saver_cls=tf.train.Saver)
    before = _helpers.file_bytes(tmp_path / 'a')
    graph, saver, init = _saver_graph(max_to_keep=1)
    saver.recover_last_checkpoints(other)
    with tf.Session(graph=graph) as sess:
      sess.run(init)
      for step in (5, 6, 7):
        saver.save(sess, str(tmp_path / 'b' / 'model.ckpt'), global_step=step)
    assert _helpers.file_bytes(tmp_path / 'a') == before
    assert _listed(str(tmp_path / 'b')) == ('model.ckpt-7', ['model.ckpt-7'])

  def test_keep_checkpoint_every_n_hours_is_refused(self):
    with tf.Graph().as_default():
      tf.get_variable('weights', [1])
      with pytest.raises(errors.ConfigError, match='every_n_hours'):
        saver_lib.Saver(keep_checkpoint_every_n_hours=1.0)


class TestLatestComplete:
  def test_missing_meta_falls_back_to_the_previous_checkpoint(self, tmp_path):
    old, new = _save_steps(str(tmp_path), [1, 2])
    os.remove(new + '.meta')
    assert checkpoints.latest_complete_checkpoint(str(tmp_path)) == old
    got = checkpoints.latest_complete_checkpoint(
      str(tmp_path), require_meta=False
    )
    assert got == new

  def test_missing_data_of_the_newest_is_an_error(self, tmp_path):
    _, new = _save_steps(str(tmp_path), [1, 2])
    for path in glob.glob(new + '.data-*'):
      os.remove(path)
    # Damage is reported, not served from an older checkpoint.
    with pytest.raises(errors.CheckpointError) as caught:
      checkpoints.latest_complete_checkpoint(str(tmp_path))
    assert str(tmp_path) in str(caught.value)
    assert 'model.ckpt-2' in str(caught.value)

  def test_no_meta_anywhere_is_a_checkpoint_error(self, tmp_path):
    prefixes = _save_steps(str(tmp_path), [1, 2])
    for prefix in prefixes:
      os.remove(prefix + '.meta')
    with pytest.raises(errors.CheckpointError, match='.meta') as caught:
      checkpoints.latest_complete_checkpoint(str(tmp_path))
    assert str(tmp_path) in str(caught.value)

  def test_no_state_file_is_none(self, tmp_path):
    assert checkpoints.latest_complete_checkpoint(str(tmp_path)) is None

  def test_predictor_resolves_the_newest_complete(self, tmp_path):
    old, new = _save_steps(str(tmp_path), [1, 2])
    os.remove(new + '.meta')
    assert freezing.resolve_checkpoint(str(tmp_path)) == old


class TestReadWithRetry:
  def test_a_checkpoint_deleted_during_the_read_is_read_again(self, tmp_path):
    old, new = _save_steps(str(tmp_path), [1, 2], max_to_keep=0)
    resolved = iter([old, new])
    read = []

    def read_once_deleted(prefix):
      read.append(prefix)
      if prefix == old:
        # The trainer's keep_checkpoint_max, between look-up and read.
        tf.train.remove_checkpoint(old)
      contents.check_readable(prefix)
      return prefix

    got = checkpoints.read_with_retry(lambda: next(resolved), read_once_deleted)
    assert (got, read) == (new, [old, new])

  def test_deleted_twice_is_one_clear_error(self, tmp_path):
    prefixes = _save_steps(str(tmp_path), [1, 2], max_to_keep=0)
    resolved = iter(prefixes)

    def read_deleted(prefix):
      tf.train.remove_checkpoint(prefix)
      contents.check_readable(prefix)

    with pytest.raises(errors.CheckpointError) as caught:
      checkpoints.read_with_retry(lambda: next(resolved), read_deleted)
    assert 'deleted while being read' in str(caught.value)
    assert 'keep_checkpoint_max' in str(caught.value)

  def test_damage_of_a_complete_checkpoint_is_not_retried(self, tmp_path):
    (prefix,) = _save_steps(str(tmp_path), [1])
    (data,) = glob.glob(prefix + '.data-*')
    with open(data, 'r+b') as f:
      f.truncate(3)
    calls = []

    def resolve():
      calls.append(1)
      return prefix

    with pytest.raises(errors.CheckpointError, match='damaged'):
      checkpoints.read_with_retry(resolve, contents.check_readable)
    assert len(calls) == 1


def _train(log_dir, max_steps, lines=None, keep=2):
  return _helpers.train_fake(
    log_dir,
    printer=lines.append if lines is not None else None,
    max_steps=max_steps,
    save_checkpoint_steps=10,
    keep_checkpoint_max=keep,
    log_every=10,
    model=config_lib.ModelConfig(hidden1=16, hidden2=8),
  )


class TestAnotherDirectory:
  def test_training_reads_another_directorys_checkpoints_never_deletes(
    self, tmp_path
  ):
    a, b = tmp_path / 'a', tmp_path / 'b'
    _train(a, max_steps=30)
    _, names = _listed(str(a))
    b.mkdir()
    # What a plain TF1 saver writes: absolute paths, here into A.
    (b / 'checkpoint').write_text(
      f'model_checkpoint_path: "{a}/{names[-1]}"\n'
      + ''.join(f'all_model_checkpoint_paths: "{a}/{n}"\n' for n in names)
    )
    before = _helpers.file_bytes(a)
    lines = []
    # keep_checkpoint_max 2 and 6 saves: TF's saver would delete A's.
    result = _train(b, max_steps=80, lines=lines)
    _record('foreign', tried=1, intact=int(_helpers.file_bytes(a) == before))
    assert _helpers.file_bytes(a) == before
    start = f'starting from {a}/model.ckpt-30 (another directory; it is read'
    assert any(line.startswith(start) for line in lines), lines
    steps = [int(m.group(1)) for m in map(_STEP.match, lines) if m]
    assert steps and min(steps) == 30  # Resumed from A's step, not 0.
    assert result.checkpoint == str(b / 'model.ckpt-80')
    latest, listed = _listed(str(b))
    assert (latest, listed) == (
      'model.ckpt-80',
      ['model.ckpt-70', 'model.ckpt-80'],
    )
    assert all(checkpoints.complete(str(b / n)) for n in listed)

  def test_own_checkpoints_win_and_foreign_entries_are_dropped(self, tmp_path):
    a, b = tmp_path / 'a', tmp_path / 'b'
    _train(a, max_steps=30)
    _train(b, max_steps=20)
    before = _helpers.file_bytes(a)
    (b / 'checkpoint').write_text(
      'model_checkpoint_path: "model.ckpt-20"\n'
      f'all_model_checkpoint_paths: "{a}/model.ckpt-20"\n'
      f'all_model_checkpoint_paths: "{a}/model.ckpt-30"\n'
      'all_model_checkpoint_paths: "model.ckpt-20"\n'
    )
    _train(b, max_steps=60)
    assert _helpers.file_bytes(a) == before
    assert _listed(str(b)) == (
      'model.ckpt-60',
      ['model.ckpt-50', 'model.ckpt-60'],
    )


def _trainer_command(log_dir, max_steps, save_steps, keep):
  return _helpers.trainer_argv(
    '--fake_data',
    max_steps=max_steps,
    save_checkpoint_steps=save_steps,
    keep_checkpoint_max=keep,
    log_every=save_steps,
    eval_every=max(max_steps, 1),
    log_dir=log_dir,
    input_data_dir=f'{log_dir}_data',
  )


def _wait_for_step(proc):
  for line in proc.stdout:
    if _STEP.match(line):
      return
  raise AssertionError('the trainer printed no step')


def _stop(proc):
  if proc.poll() is None:
    proc.send_signal(signal.SIGTERM)
    try:
      proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
      proc.kill()
      proc.wait()
  proc.stdout.close()


class _StopPollingError(Exception):
  """Ends the evaluator's polling loop from its injected sleep."""


def _evaluate_in_background(log_dir, test_set, stop, lines, crashes):
  def sleep(secs):
    if stop.wait(secs):
      raise _StopPollingError

  def poll():
    try:
      continuous_eval.evaluation_loop(
        str(log_dir),
        test_set,
        interval_secs=0.05,
        printer=lines.append,
        sleep=sleep,
      )
    except _StopPollingError:
      pass
    except Exception as e:  # Any other end is what the test looks for.
      crashes.append(e)

  thread = threading.Thread(target=poll)
  thread.start()
  return thread


def _predict_cli(log_dir, tmp_path):
  """(exit code, stderr) of `python -m graphnet.predict` on one PNG."""
  image = tmp_path / 'digit.png'
  if not image.exists():
    with tf.Graph().as_default(), tf.Session() as session:
      pixels = tf.zeros([28, 28, 1], tf.uint8)
      image.write_bytes(session.run(tf.io.encode_png(pixels)))
  done = _helpers.run_python(
    '-m',
    'graphnet.predict',
    '--checkpoint_dir',
    str(log_dir),
    str(image),
    timeout=120,
  )
  return done.returncode, done.stderr


@pytest.mark.timeout(300)
def test_readers_beside_a_trainer_never_fail(tmp_path):
  """Predictor and the evaluator poll a trainer that saves every 20 steps."""
  log_dir = tmp_path / 'logs'
  # keep_checkpoint_max 5 (the default): old checkpoints vanish under the
  # readers too. With 2, a slow reader can lose both of its attempts.
  proc = _helpers.start_printing(_trainer_command(log_dir, 10**6, 20, keep=5))
  test_set = input_data.read_data_sets('', fake_data=True).test
  attempts, failures, newest = 0, [], set()
  stop, lines, crashes = threading.Event(), [], []
  try:
    _wait_for_step(proc)
    evaluator = _evaluate_in_background(log_dir, test_set, stop, lines, crashes)
    # At least 20 s (60 in the full run) and 100 loads: a loaded machine
    # makes the first load (the isolation worker's start) take seconds,
    # and the cap keeps a regression from hanging the suite.
    start = time.monotonic()
    least, cap = (60 if _FULL else 20), 240
    while proc.poll() is None and (
      time.monotonic() - start < least
      or (attempts < 100 and time.monotonic() - start < cap)
    ):
      attempts += 1
      try:
        with predictor.Predictor.from_checkpoint(str(log_dir)) as model:
          newest.add(model.checkpoint)
      except errors.CheckpointError as e:
        failures.append(str(e))
    cli = [_predict_cli(log_dir, tmp_path) for _ in range(6 if _FULL else 2)]
    alive = proc.poll() is None
  finally:
    stop.set()
    _stop(proc)
  evaluator.join()
  cli_failures = [err for code, err in cli if code != 0]
  evaluated = sum(line.startswith('After ') for line in lines)
  skipped = sum(line.startswith('Skipping ') for line in lines)
  _record(
    'readers',
    attempts=attempts,
    ok=attempts - len(failures),
    evaluated=evaluated,
    eval_skipped=skipped,
    eval_crashed=len(crashes),
    cli_runs=len(cli),
    cli_ok=len(cli) - len(cli_failures),
  )
  assert alive, 'the trainer ended before the readers did'
  assert failures == [], failures[:3]
  assert crashes == []
  assert attempts >= 100
  # The readers kept up with a moving target.
  assert len(newest) >= 5
  assert evaluated >= 3, lines[-5:]
  assert cli_failures == [], cli_failures[0][-2000:]


def _temp_files(log_dir):
  return {n for n in os.listdir(log_dir) if log_dirs._LEFTOVER.fullmatch(n)}


def _kill_during_save(command, log_dir, tries):
  """SIGKILLs the trainer while a save's temporary file exists."""
  for _ in range(tries):
    proc = _helpers.start_printing(command)
    try:
      _wait_for_step(proc)
      before = _temp_files(log_dir)
      _helpers.poll_for_new(proc, lambda: _temp_files(log_dir), before)
    finally:
      # kill() leaves a process that has already ended alone.
      proc.kill()
      proc.wait()
      proc.stdout.close()
    if _temp_files(log_dir) - before:
      return True
  return False


class TestSaveLeftovers:
  @pytest.mark.timeout(300)
  def test_a_killed_saves_files_are_removed_at_the_next_start(self, tmp_path):
    log_dir = tmp_path / 'logs'
    command = _trainer_command(log_dir, 10**6, 20, keep=3)
    assert _kill_during_save(command, log_dir, tries=8 if _FULL else 5)
    left = _temp_files(log_dir)
    latest, listed = _listed(str(log_dir))
    older = [n for n in listed if n != latest]
    kept = {
      n: b
      for n, b in _helpers.file_bytes(log_dir).items()
      if n.split('.data')[0].split('.index')[0].split('.meta')[0] in older
    }
    time.sleep(log_dirs._LEFTOVER_AGE_SECS + 0.5)
    step = checkpoints.step_from_name(latest)
    # Resumes at the latest step, saves it again and stops.
    done = subprocess.run(
      _trainer_command(log_dir, step, 20, keep=3),
      capture_output=True,
      text=True,
      timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    gone = not (_temp_files(log_dir) & left)
    _record('leftovers', tried=1, removed=int(gone))
    assert gone, _temp_files(log_dir)
    assert f'Removed {len(left)} temporary file(s)' in done.stdout
    # The checkpoints before the latest are still there, unchanged.
    after = _helpers.file_bytes(log_dir)
    assert {n: after.get(n) for n in kept} == kept
    assert all(checkpoints.complete(str(log_dir / n)) for n in listed)

  def test_only_abandoned_temporary_files_are_removed(self, tmp_path):
    names = [
      'model.ckpt-5.index',
      'model.ckpt-5.data-00000-of-00001',
      'model.ckpt-5.meta',
      'notes.tmp',
      'other.ckpt-3.index.tempstate12',
      'checkpoint',
      'events.out.tfevents.1.host',
    ]
    old = [
      'model.ckpt-7.data-00000-of-00001.tempstate123',
      'model.ckpt-7.index.tempstate99',
      'model.ckpt-7.meta.tmp' + 'ab' * 16,
      'graph.pbtxt.tmp' + 'cd' * 16,
      'checkpoint.tmp',
    ]
    fresh = 'model.ckpt-8.data-00000-of-00001.tempstate5'
    for name in [*names, *old, fresh]:
      (tmp_path / name).write_text('x')
    (tmp_path / 'model.ckpt-9_temp').mkdir()
    (tmp_path / 'model.ckpt-9_temp' / 'part-00000-of-00001.index').write_text(
      'x'
    )
    # Named like a save's directory, but holding something else.
    (tmp_path / 'model.ckpt-4_temp').mkdir()
    (tmp_path / 'model.ckpt-4_temp' / 'notes.txt').write_text('x')
    names.append('model.ckpt-4_temp')

    past = time.time() - 60
    for name in [*names, *old, 'model.ckpt-9_temp']:
      os.utime(tmp_path / name, (past, past))
    removed = log_dirs.remove_save_leftovers(str(tmp_path))
    assert removed == sorted([*old, 'model.ckpt-9_temp'])
    assert sorted(os.listdir(tmp_path)) == sorted([*names, fresh])
