"""Behaviour cloning for any registered VLA, in one readable loop (CleanRL style).

    librobot train --config configs/train/tiny-octo-pickcup.yaml

AdamW, linear warm-up then cosine decay, gradient clipping, bf16/fp16 autocast where the device
supports it, periodic evaluation rollouts in the env, checkpoints (the VLA checkpoint format plus
optimizer/scheduler/step state) and resume after a kill from the last one, and callbacks for
logging and early stopping. Launched with `torchrun --nproc-per-node N`, the same code trains
with DistributedDataParallel (gloo on CPU, nccl on GPUs).
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml

from librobot_gym.errors import ConfigError
from librobot_gym.policies.vla.config import VLAConfig
from librobot_gym.policies.vla.normalization import Normalizer
from librobot_gym.policies.vla.policy import VLAPolicy


@dataclass
class TrainConfig:
    """Everything a run needs; every field has a sensible default except model and dataset."""

    model: dict  # a VLAConfig mapping, or {"config": path to a VLA YAML}
    dataset: str | list[str]  # folder(s) of recorded datasets (LeRobot v3), read as one
    out: str = "outputs/train"
    steps: int = 2000  # optimiser steps
    batch_size: int = 32
    lr: float = 3e-4
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    grad_clip: float = 1.0
    precision: str = "fp32"  # fp32 | bf16 | fp16 (fp16 on CUDA only)
    num_workers: int = 0
    seed: int = 0
    log_every: int = 50
    checkpoint_every: int = 500
    eval_every: int = 0  # 0: only at the end
    eval_env: str | None = None  # e.g. librobot/Franka-PickCup-v0
    eval_episodes: int = 10
    eval_seed: int = 10_000
    early_stopping_patience: int = 0  # evaluations without improvement; 0: never stop early
    transforms: list = field(default_factory=list)  # sample transforms, e.g. [{name: random_shift}]
    successful_only: bool = False  # train on the dataset's successful episodes only
    data_on_device: bool = False  # decode every image once onto the training device (a GPU)
    time_limit_s: float = 0.0  # stop after this much training time (0: none); see `Trainer`
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_yaml(cls, path: str | Path,
                  required: tuple[str, ...] = ("model", "dataset")) -> TrainConfig:
        """Read a config, or a ConfigError naming the file and what is wrong with it. A config
        for `bench run --train bc` needs no dataset (`required=("model",)`): the runner records
        one, and `dataset` is "" until it does."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such training config (the shipped ones are in "
                              f"configs/train/)")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a training config is a mapping with at least model "
                              f"and dataset (see configs/train/)")
        missing = [key for key in required if key not in data]
        if missing:
            raise ConfigError(f"{path}: missing {' and '.join(missing)} (see configs/train/)")
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)}; expected some of "
                              f"{sorted(cls.__dataclass_fields__)}")
        return cls(**{"dataset": "", **data})

    def dataset_folders(self) -> list[str]:
        """`dataset` as a list of folders (one string, or a list of several to train on as
        one dataset), or a ConfigError saying what a valid value looks like."""
        folders = [self.dataset] if isinstance(self.dataset, str | Path) else self.dataset
        if (not isinstance(folders, list) or not folders
                or not all(isinstance(f, str | Path) and str(f) for f in folders)):
            raise ConfigError(f"dataset must be a folder or a list of folders, got "
                              f"{self.dataset!r}")
        return [str(f) for f in folders]

    def vla_config(self) -> VLAConfig:
        if "config" in self.model:
            return VLAConfig.from_yaml(self.model["config"])
        return VLAConfig.from_dict(self.model)


class Callback:
    """Hooks into the loop; return True from `on_evaluate` to stop training early. The
    evaluation hooks let a caller show its progress (`librobot train` draws a bar)."""

    def on_train_start(self, trainer: Trainer) -> None: ...
    def on_step_end(self, trainer: Trainer, metrics: dict) -> None: ...
    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None: ...
    def on_checkpoint(self, trainer: Trainer, path: Path) -> None: ...
    def on_evaluate_start(self, trainer: Trainer, episodes: int) -> None: ...
    def on_evaluate_episode(self, trainer: Trainer, done: int, result) -> None: ...
    def on_evaluate(self, trainer: Trainer, result: dict) -> bool | None: ...
    def on_train_end(self, trainer: Trainer) -> None: ...


class JsonlLogger(Callback):
    """Appends every logged step and evaluation to `out/metrics.jsonl`; a step's record says
    the seconds since this call started training (`wall_s`: the run's throughput)."""

    def __init__(self, path: Path):
        self.path = path
        self.started = time.perf_counter()

    def _write(self, record: dict) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")

    def on_step_end(self, trainer: Trainer, metrics: dict) -> None:
        if trainer.step % trainer.config.log_every == 0:
            self._write({"step": trainer.step, **metrics,
                         "wall_s": round(time.perf_counter() - self.started, 2)})

    def on_evaluate(self, trainer: Trainer, result: dict) -> None:
        self._write({"step": trainer.step, "eval": result})


class EarlyStopping(Callback):
    """Stops when the evaluation success rate has not improved for `patience` evaluations."""

    def __init__(self, patience: int):
        self.patience, self.best, self.waited = patience, -1.0, 0

    def on_evaluate(self, trainer: Trainer, result: dict) -> bool:
        if result["success_rate"] > self.best:
            self.best, self.waited = result["success_rate"], 0
            return False
        self.waited += 1
        return self.waited >= self.patience


def projected_steps(step: int, elapsed_s: float, limit_s: float, steps: int) -> int:
    """The step a run will reach by its time limit at the pace so far (`steps` at most):
    the horizon the cosine decays over when a run is bounded by time, so the learning rate
    reaches zero when the time runs out rather than being cut off mid-schedule."""
    if limit_s <= 0 or elapsed_s <= 0 or step <= 0:
        return steps
    return max(1, min(steps, int(step * limit_s / elapsed_s)))


def cosine_with_warmup(step: int, warmup: int, total: int) -> float:
    """Learning-rate multiplier: linear warm-up, then cosine decay to 0."""
    if step < warmup:
        return (step + 1) / max(warmup, 1)
    progress = (step - warmup) / max(total - warmup, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def _distributed() -> tuple[int, int]:
    """(rank, world size), initialising torch.distributed when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    rank = torch.distributed.get_rank() if world > 1 else 0
    return rank, world


class Trainer:
    def __init__(self, config: TrainConfig, dataset, callbacks: list[Callback] | None = None):
        if config.eval_env:  # refused now, not after the training it would evaluate
            from librobot_gym.envs.registration import check_env_id

            check_env_id(config.eval_env)
        self.config = config
        self.rank, self.world = _distributed()
        torch.manual_seed(config.seed + self.rank)
        np.random.seed(config.seed + self.rank)
        self.out = Path(config.out)
        self.out.mkdir(parents=True, exist_ok=True)
        vla = config.vla_config()
        stats = dataset.stats
        self.policy = VLAPolicy(
            vla, action_norm=Normalizer.from_dict({**stats["action"], "mode": vla.normalization}),
            proprio_norm=Normalizer.from_dict({**stats["observation.state"],
                                               "mode": vla.normalization}))
        dataset.set_normalizers(self.policy.action_norm, self.policy.proprio_norm)
        self.dataset = dataset
        self.device_data = None
        if config.data_on_device:
            from librobot_gym.training.data.device_batches import DeviceBatches

            self.device_data = DeviceBatches(dataset, self.policy.device,
                                             threads=max(2, os.cpu_count() or 2))
        self.model = self.policy.model
        self.model.train()
        self.ddp = self.model
        if self.world > 1:
            self.ddp = torch.nn.parallel.DistributedDataParallel(self.model)
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=config.lr,
                                           weight_decay=config.weight_decay)
        self.step = 0
        self.elapsed_before = 0.0  # training seconds of earlier (killed, resumed) calls
        self._clock: float | None = None
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        self.callbacks = callbacks or []
        if self.rank == 0:
            self.callbacks.append(JsonlLogger(self.out / "metrics.jsonl"))
        if config.early_stopping_patience:
            self.callbacks.append(EarlyStopping(config.early_stopping_patience))
        self._resume()

    def elapsed_s(self) -> float:
        """Seconds spent in `train` so far, over every call of a resumed run."""
        running = 0.0 if self._clock is None else time.perf_counter() - self._clock
        return self.elapsed_before + running

    def _lr_factor(self, step: int) -> float:
        config = self.config
        total = config.steps
        if config.time_limit_s > 0 and step > config.warmup_steps:
            total = projected_steps(step, self.elapsed_s(), config.time_limit_s, config.steps)
        return cosine_with_warmup(step, config.warmup_steps, max(total, step))

    def _out_of_time(self) -> bool:
        return self.config.time_limit_s > 0 and self.elapsed_s() >= self.config.time_limit_s

    def _hook(self, name: str, *args) -> None:
        """Call hook `name` of every callback that has it (the progress hooks are optional:
        a callback written without `Callback` as its base keeps working)."""
        for callback in self.callbacks:
            hook = getattr(callback, name, None)
            if hook is not None:
                hook(self, *args)

    # --- checkpoints ---------------------------------------------------------------------------
    @property
    def last(self) -> Path:
        return self.out / "last"

    def save(self) -> Path:
        if self.rank != 0:
            return self.last
        tmp = self.out / "last.tmp"
        self.policy.save_pretrained(tmp)
        torch.save({"step": self.step, "elapsed_s": self.elapsed_s(),
                    "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(),
                    "config": asdict(self.config)}, tmp / "trainer_state.pt")
        if self.last.exists():
            old = self.out / "last.old"
            os.replace(self.last, old)
            os.replace(tmp, self.last)
            import shutil

            shutil.rmtree(old)
        else:
            os.replace(tmp, self.last)
        self._hook("on_checkpoint", self.last)
        return self.last

    def _resume(self) -> None:
        state_file = self.last / "trainer_state.pt"
        if not state_file.exists():
            return
        from safetensors.torch import load_model

        load_model(self.model, str(self.last / "model.safetensors"))
        state = torch.load(state_file, weights_only=False)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step = int(state["step"])
        self.elapsed_before = float(state.get("elapsed_s", 0.0))

    # --- the loop ------------------------------------------------------------------------------
    def _loader(self):
        sampler = None
        if self.world > 1:
            sampler = torch.utils.data.distributed.DistributedSampler(
                self.dataset, num_replicas=self.world, rank=self.rank, seed=self.config.seed)
        generator = torch.Generator().manual_seed(self.config.seed + self.step)
        return torch.utils.data.DataLoader(
            self.dataset, batch_size=self.config.batch_size, shuffle=sampler is None,
            sampler=sampler, num_workers=self.config.num_workers, drop_last=True,
            collate_fn=getattr(self.dataset, "collate", None), generator=generator), sampler

    def _batches(self, epoch: int):
        """One epoch's batches: from the device-resident copy, or through a DataLoader."""
        seed = self.config.seed + self.step
        if self.device_data is not None:
            yield from self.device_data.epoch(self.config.batch_size, seed, self.rank, self.world)
            return
        loader, sampler = self._loader()
        if sampler is not None:
            sampler.set_epoch(epoch)
        yield from loader

    def _autocast(self):
        precision = self.config.precision
        if precision == "fp32":
            return torch.autocast("cpu", enabled=False)
        device = self.policy.device.type
        dtype = torch.bfloat16 if precision == "bf16" else torch.float16
        if device == "cpu" and dtype is torch.float16:
            raise ConfigError("precision=fp16 needs a GPU; use bf16 or fp32 on the CPU")
        return torch.autocast(device, dtype=dtype)

    def train(self) -> dict:
        config = self.config
        for callback in self.callbacks:
            callback.on_train_start(self)
        epoch, result = 0, {}
        self._clock = time.perf_counter()
        stop = self._out_of_time()
        while self.step < config.steps and not stop:
            for batch in self._batches(epoch):
                device = self.policy.device  # the VLA's (--device / $LIBROBOT_DEVICE)
                batch = {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v
                         for k, v in batch.items()}
                with self._autocast():
                    losses = self.ddp(batch["images"], batch["instruction"], batch["proprio"],
                                      batch["actions"])
                loss = losses["loss"]
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), config.grad_clip)
                self.optimizer.step()
                self.scheduler.step()
                self.step += 1
                metrics = {"loss": float(loss.detach()), "grad_norm": float(norm),
                           "lr": self.scheduler.get_last_lr()[0]}
                for callback in self.callbacks:
                    callback.on_step_end(self, metrics)
                if self.step % config.checkpoint_every == 0:
                    self.save()
                if config.eval_every and self.step % config.eval_every == 0:
                    result = self.evaluate()
                    stop = any(cb.on_evaluate(self, result) for cb in self.callbacks)
                stop = stop or self._out_of_time()
                if self.step >= config.steps or stop:
                    break
            for callback in self.callbacks:
                callback.on_epoch_end(self, epoch)
            epoch += 1
        self.save()
        if config.eval_env and self.rank == 0 and not config.eval_every:
            result = self.evaluate()
            for callback in self.callbacks:
                callback.on_evaluate(self, result)
        for callback in self.callbacks:
            callback.on_train_end(self)
        summary = {"step": self.step, "eval": result, "checkpoint": str(self.last),
                   "world_size": self.world}
        if self.world > 1:
            summary["replica_spread"] = self._replica_spread()
            if self.rank == 0:
                JsonlLogger(self.out / "metrics.jsonl")._write({"distributed": summary})
            # Every rank reaches this barrier before any tears its gloo pairs down: a rank that
            # destroys the group while its peer is still inside it aborts the peer at exit
            # ("terminate called without an active exception", one torchrun run in three).
            torch.distributed.barrier()
            torch.distributed.destroy_process_group()
        return summary

    def _replica_spread(self) -> float:
        """Largest difference between the ranks' parameter checksums: 0 when DDP kept every
        replica identical, as it must (a non-zero value means a rank trained on its own)."""
        checksum = torch.stack([p.detach().double().sum() for p in self.model.parameters()]).sum()
        gathered = [torch.zeros_like(checksum) for _ in range(self.world)]
        torch.distributed.all_gather(gathered, checksum)
        values = torch.stack(gathered)
        return float(values.max() - values.min())

    def evaluate(self) -> dict:
        """Roll the current policy out on `eval_episodes` seeded episodes of `eval_env`."""
        if not self.config.eval_env:
            return {}
        import gymnasium as gym

        from librobot_gym.benchmarks.rollout import run_episode

        size = self.policy.card.image_size
        env = gym.make(self.config.eval_env, camera_size=tuple(size) if size else 128)
        self.model.eval()
        episodes = self.config.eval_episodes
        self._hook("on_evaluate_start", episodes)
        results = []
        try:
            for i in range(episodes):
                results.append(run_episode(env, self.policy, self.config.eval_seed + i,
                                           self.config.eval_env))
                self._hook("on_evaluate_episode", i + 1, results[-1])
        finally:
            self.model.train()
            env.close()
        successes = [r.success_once for r in results]
        return {"success_rate": float(np.mean(successes)), "episodes": len(results),
                "mean_return": float(np.mean([r.episode_return for r in results]))}
