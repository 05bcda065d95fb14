"""One rank of the 2-process BalancedTrainer run (launched with torchrun by the test).

Trains 2 epochs uninterrupted (saving a checkpoint mid-way through epoch 1), then resumes a
fresh trainer from that checkpoint; writes the sample ids each rank's model saw to OUT/rank.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch.distributed as dist
from hf_helpers import Recorder, long_tailed, tiny_model, training_args

from classbalance.transformers import BalancedTrainer

out = Path(sys.argv[1])
train = long_tailed()
common = {"strategy": "balanced", "epoch_size": 160, "exact": True, "seed": 3}


def run(resume=None):
    model = tiny_model()
    recorder = Recorder(model)
    args = training_args(
        out / "run",
        num_train_epochs=2,
        save_strategy="steps",
        save_steps=CHECKPOINT,
        gradient_accumulation_steps=2,
    )
    trainer = BalancedTrainer(model=model, args=args, train_dataset=train, **common)
    trainer.train(resume_from_checkpoint=resume)
    return [b.tolist() for b in recorder.batches], len(trainer.get_train_dataloader())


CHECKPOINT = 7  # optimizer steps of 2 batches; 5 per epoch: mid-way through epoch 1
full, steps_per_epoch = run()
resumed, _ = run(resume=str(out / "run" / f"checkpoint-{CHECKPOINT}"))
rank = dist.get_rank() if dist.is_initialized() else 0
(out / f"{rank}.json").write_text(
    json.dumps({"full": full, "resumed": resumed, "steps_per_epoch": steps_per_epoch})
)
