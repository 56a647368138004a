"""Two worker processes on 127.0.0.1 under MultiWorkerMirroredStrategy give
the single-process result on the same global batch."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import tensorflow as tf

import _multi_worker_main as worker_main

HERE = os.path.dirname(os.path.abspath(__file__))
# Tolerance: float32 all-reduce and batch-norm statistics are summed in a
# different order across processes than in one batch.
ATOL = 1e-5


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_equal_single_process(tmp_path):
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="",
               PYTHONPATH=os.pathsep.join([HERE, os.environ.get(
                   "PYTHONPATH", "")]))
    output = tmp_path / "chief.npz"
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers},
                     "task": {"type": "worker", "index": index}}
        procs.append(subprocess.Popen(
            [sys.executable, os.path.join(HERE, "_multi_worker_main.py"),
             str(tmp_path / "run"), str(output)],
            env=dict(env, TF_CONFIG=json.dumps(tf_config)),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    try:
        logs = [p.communicate(timeout=240)[0].decode() for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, log in zip(procs, logs):
        assert p.returncode == 0, log[-3000:]
    multi = np.load(output)
    assert int(multi["replicas"]) == 2
    single = worker_main.run(tf.distribute.get_strategy(),
                             str(tmp_path / "single"))
    for i, v in enumerate(single.model.weights):
        np.testing.assert_allclose(multi[f"arr_{i}"], v.numpy(), atol=ATOL,
                                   err_msg=v.path)
    # the chief alone wrote the checkpoint; the worker's scratch is gone.
    assert tf.train.latest_checkpoint(str(tmp_path / "run")).endswith("ckpt-3")
    assert not [n for n in os.listdir(tmp_path / "run")
                if n.startswith("worker_tmp")]
