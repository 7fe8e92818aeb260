"""Faults a real user meets: the process killed in the middle of saving a checkpoint."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from aelab.checkpoint import load_checkpoint

WRITER = textwrap.dedent(
    """
    import sys
    from aelab.checkpoint import Checkpoint
    from aelab.models import ModelConfig, build_model
    import numpy as np
    target = sys.argv[1]
    models = [build_model(ModelConfig(kind="ae", hidden=(512, 256), seed=s)) for s in (1, 2)]
    fields = dict(dataset="mnist5k", label_names=[str(d) for d in range(10)], latent_bounds=np.zeros((2, 2)))
    Checkpoint.of(models[0], **fields).save(target)
    print("ready", flush=True)
    i = 0
    while True:  # overwrite the same file again and again until killed
        i += 1
        Checkpoint.of(models[i % 2], **fields).save(target)
    """
)


@pytest.mark.slow
def test_killing_the_process_mid_save_never_leaves_a_broken_checkpoint(tmp_path: Path) -> None:
    target = tmp_path / "model.safetensors"
    rng = random.Random(0)
    seeds_seen = set()
    for _attempt in range(6):
        process = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.6))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        checkpoint = load_checkpoint(target)  # must be complete and valid every time
        seeds_seen.add(checkpoint.model.config.seed)
    assert seeds_seen <= {1, 2}
