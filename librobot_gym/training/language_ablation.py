"""Does the policy use the instruction? Train one VLA on several tasks, then score it per task
with the true instruction and again with instructions shuffled across episodes.

    python scripts/language_ablation.py --env librobot/Franka-PickCup-v1 --demos 200

Three stages, each resumable (a killed run continues where it stopped):

1. **collect**: expert demonstrations of every env into one multi-task LeRobot dataset
   (`data.multitask.collect_multitask`; the instruction is stored per episode);
2. **train**: one VLA by behaviour cloning (`librobot train`'s trainer, the config's model and
   optimiser, dataset/out/steps set here);
3. **evaluate**: per task, `episodes` unseen seeds twice: (i) as the env says them, (ii) through
   `ShuffledInstruction`, which feeds the policy the instruction of *another* episode of the
   same task, one naming a different target (donor episodes come from seeds disjoint from the
   evaluation ones). The scene, the seed and the success test are the same in both; only the
   words the policy reads change. Where the instruction decides the target (PickCup-v1: which
   of several cups), a policy that reads it must lose success under (ii) and gain
   `wrong_object`; where it does not, the two columns agree.

The report (`report.json`, `report.md` in the run folder) gives success per task with a Wilson
95% interval, the `wrong_object` rate under each condition, and the budget: demonstrations,
frames, optimiser steps, wall time per stage, peak memory, the machine.
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import gymnasium as gym
import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.training.bc import Callback

DONOR_SEED = 20_000  # donor episodes for shuffled instructions: never trained or evaluated on


# --- shuffled instructions ---------------------------------------------------------------------
def _templates(env: gym.Env) -> tuple[str, ...]:
    """Every phrasing the env's task may say (empty where the task keeps no templates)."""
    instructions = getattr(getattr(env.unwrapped, "task", None), "instructions", None)
    if instructions is None:
        return ()
    return tuple(instructions.train) + tuple(instructions.heldout)


def named_slots(instruction: str, templates: Sequence[str]) -> tuple[str, ...]:
    """What an instruction names: the values of its template's slots ("{target}", ...), read
    back by matching the task's templates ("lift the red mug" -> ("red mug",)). Two phrasings
    of one target give the same slots. The whole text when no template matches."""
    for template in templates:
        parts = re.split(r"\{\w+\}", template)
        if len(parts) < 2:
            continue
        pattern = "(.+?)".join(re.escape(p) for p in parts)
        match = re.fullmatch(pattern, instruction)
        if match:
            return match.groups()
    return (instruction,)


def donor_instructions(env: gym.Env, seeds: Sequence[int]) -> list[str]:
    """The instructions `env` says at reset with each of `seeds` (the shuffle's pool)."""
    return [str(env.reset(seed=int(s))[0]["instruction"]) for s in seeds]


class ShuffledInstruction(gym.Wrapper):
    """Feeds the policy an instruction from another episode of the same task instead of its own.

    At each reset the wrapper draws (seeded by the episode's seed) one instruction of `donors`
    that names something else than the true one (other slot values, `named_slots`; a mere
    paraphrase of the same target is never fed) and puts it in `obs["instruction"]` at reset
    and every step. Everything else is untouched: the scene, the task's target and success
    test, `info["instruction"]` (the true one, as results record it). `info["fed_instruction"]`
    says what the policy read.
    """

    def __init__(self, env: gym.Env, donors: Sequence[str]):
        super().__init__(env)
        if not donors:
            raise ConfigError("ShuffledInstruction needs donor instructions to draw from")
        self.donors = list(donors)
        self.templates = _templates(env)
        self.true_instruction = ""
        self.fed_instruction = ""

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.true_instruction = str(obs["instruction"])
        named = named_slots(self.true_instruction, self.templates)
        choices = [d for d in self.donors if named_slots(d, self.templates) != named]
        if not choices:
            raise ConfigError(f"every donor instruction names what {self.true_instruction!r} "
                              f"names; draw donors from more seeds")
        rng = np.random.default_rng(seed)
        self.fed_instruction = choices[int(rng.integers(len(choices)))]
        return self._swap(obs), {**info, "fed_instruction": self.fed_instruction}

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return (self._swap(obs), reward, terminated, truncated,
                {**info, "fed_instruction": self.fed_instruction})

    def _swap(self, obs: dict) -> dict:
        return {**obs, "instruction": self.fed_instruction}


# --- scoring -----------------------------------------------------------------------------------
@dataclass
class Condition:
    """One task under one condition: successes and wrong-object episodes out of `episodes`."""

    successes: int
    episodes: int
    wrong_object: int | None  # None: the task has no wrong_object metric
    fed: list[str] = field(default_factory=list)  # the instruction each episode's policy read
    # final tool-to-target distance (m) per episode, where the task reports `tcp_to_target`:
    # a policy that reads the instruction ends nearer its target even before it lifts it
    distances: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.successes / self.episodes if self.episodes else float("nan")

    def interval(self) -> tuple[float, float]:
        from librobot_gym.benchmarks.stats import wilson_interval

        return wilson_interval(self.successes, self.episodes)

    def text(self) -> str:
        low, high = self.interval()
        return (f"{100 * self.rate:.0f}% ({self.successes}/{self.episodes}; "
                f"{100 * low:.0f}-{100 * high:.0f}%)")

    def distance_text(self) -> str:
        return f"{100 * float(np.mean(self.distances)):.0f} cm" if self.distances else "n/a"

    def wrong_text(self) -> str:
        if self.wrong_object is None:
            return "n/a"
        return f"{100 * self.wrong_object / self.episodes:.0f}%"


def evaluate_task(policy, env_id: str, episodes: int, seed: int, shuffled: bool,
                  donor_seed: int = DONOR_SEED, camera_size: int | tuple[int, int] = 128,
                  on_episode: Callable[[object, str], None] | None = None) -> Condition:
    """Roll `policy` out on seeds seed..seed+episodes-1 of `env_id`, with the true instruction
    or (`shuffled`) one drawn from the donor episodes at seeds donor_seed.. (as many as the
    evaluation episodes, at least 20). `on_episode(result, fed_instruction)` after each."""
    from librobot_gym.benchmarks.rollout import run_episode

    env = gym.make(env_id, camera_size=camera_size)
    try:
        if shuffled:
            env = ShuffledInstruction(env, donor_instructions(
                env, range(donor_seed, donor_seed + max(episodes, 20))))
        successes, wrong, has_wrong, fed, distances = 0, 0, False, [], []
        for i in range(episodes):
            result = run_episode(env, policy, seed + i, env_id)
            successes += int(result.success_once)
            if "wrong_object" in result.task_metrics:
                has_wrong = True
                wrong += int(result.task_metrics["wrong_object"] > 0)
            if "tcp_to_target" in result.task_metrics:
                distances.append(float(result.task_metrics["tcp_to_target"]))
            fed.append(env.fed_instruction if shuffled else result.instruction)
            if on_episode is not None:
                on_episode(result, fed[-1])
    finally:
        env.close()
    return Condition(successes, episodes, wrong if has_wrong else None, fed, distances)


# --- the whole recipe --------------------------------------------------------------------------
@dataclass
class AblationSpec:
    """What `run_ablation` does; the defaults are the README's run."""

    env_ids: list[str]
    config: str = "configs/train/tiny-octo-tabletop.yaml"  # model and optimiser
    out: str = "outputs/language-ablation"  # run folder: checkpoint, report
    data: str | None = None  # dataset folder (default: OUT/data)
    demos: int = 200  # expert episodes per task
    steps: int | None = None  # optimiser steps (default: the config's)
    episodes: int = 50  # evaluation episodes per task and condition
    eval_seed: int = 10_000
    donor_seed: int = DONOR_SEED
    collect_seed: int = 0
    # a run folder trained elsewhere (`scripts/train_elsewhere.py`: last/, budget.json and the
    # recording's collect.json): evaluate its checkpoint here, report its budget
    trained: str | None = None

    def __post_init__(self) -> None:
        if self.demos < 1 or self.episodes < 1:
            raise ConfigError(f"demos={self.demos}, episodes={self.episodes}: both must be >= 1")
        if self.steps is not None and self.steps < 1:
            raise ConfigError(f"steps={self.steps} must be >= 1")
        ranges = [(self.collect_seed, self.collect_seed + self.demos, "training"),
                  (self.eval_seed, self.eval_seed + self.episodes, "evaluation"),
                  (self.donor_seed, self.donor_seed + max(self.episodes, 20), "donor")]
        for i, (a0, a1, a) in enumerate(ranges):
            for b0, b1, b in ranges[i + 1:]:
                if a0 < b1 and b0 < a1:
                    raise ConfigError(f"{a} seeds {a0}-{a1 - 1} overlap {b} seeds {b0}-{b1 - 1};"
                                      f" move --eval-seed or --donor-seed")


class _Timings:
    """Wall time per stage, summed over the calls of a resumed run (kept in `path`), so the
    report's budget counts the demos and steps a killed call had already done."""

    def __init__(self, path: Path):
        self.path = path
        self.seconds: dict[str, float] = (json.loads(path.read_text()) if path.is_file()
                                          else {})

    def add(self, stage: str, start: float, accumulate: bool = True) -> None:
        spent = time.perf_counter() - start
        self.seconds[stage] = spent + (self.seconds.get(stage, 0.0) if accumulate else 0.0)
        self.path.write_text(json.dumps(self.seconds))


class _TrainClock(Callback):
    """Books the training time into `timings` at every checkpoint, so a call killed mid-run
    still counts the time that produced the steps it saved (a resumed call continues them)."""

    def __init__(self, timings: _Timings, since: float):
        self.timings, self.since = timings, since

    def on_checkpoint(self, trainer, path) -> None:
        self.timings.add("train_s", self.since)
        self.since = time.perf_counter()


def peak_memory_mb() -> float:
    """Peak resident memory of this process (MB; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    import torch

    return (f"{platform.machine()} {os.cpu_count()} cores ({platform.processor() or 'cpu'}), "
            f"torch {torch.__version__} on {'cuda' if torch.cuda.is_available() else 'cpu'}, "
            f"{torch.get_num_threads()} threads")


def run_ablation(spec: AblationSpec, log: Callable[[str], None] = print) -> dict:
    """Collect, train, evaluate (module docstring); returns the report it writes."""
    from librobot_gym.policies.vla.policy import VLAPolicy
    from librobot_gym.training.bc import TrainConfig
    from librobot_gym.training.data.multitask import collect_multitask
    from librobot_gym.training.run import build_trainer

    out = Path(spec.out)
    out.mkdir(parents=True, exist_ok=True)
    data = Path(spec.data or out / "data")
    config = TrainConfig.from_yaml(spec.config)
    size = config.vla_config().policy.get("image_size") or [128, 128]
    camera_size = tuple(size)
    timings = _Timings(out / "timings.json")

    if spec.trained:
        checkpoint, budget = trained_elsewhere(spec, camera_size)
    else:
        start = time.perf_counter()
        summary = collect_multitask(
            spec.env_ids, spec.demos, data, seed=spec.collect_seed, camera_size=camera_size,
            on_episode=lambda e, r: log(f"collect {e} #{r.seed}: "
                                        f"{'ok' if r.success else 'FAIL'}"))
        timings.add("collect_s", start)
        log(f"dataset {data}: {summary.total_episodes} episodes, {summary.total_frames} frames")

        start = time.perf_counter()
        config = replace(config, dataset=str(data), out=str(out / "train"), eval_env=None,
                         steps=spec.steps or config.steps)
        trainer = build_trainer(config, [_TrainClock(timings, start)])
        first_step = trainer.step
        result = trainer.train()
        timings.add("train_s", trainer.callbacks[0].since)
        log(f"trained {result['step']} steps ({result['step'] - first_step} this call)")
        checkpoint = result["checkpoint"]
        budget = {"demos_per_task": spec.demos, "frames": summary.total_frames,
                  "steps": result["step"], "batch_size": config.batch_size,
                  "camera_size": list(camera_size), "config": spec.config,
                  "peak_memory_mb": round(peak_memory_mb()), "machine": machine()}

    start = time.perf_counter()
    policy = VLAPolicy.from_pretrained(checkpoint)
    rows = []
    episodes_file = (out / "episodes.jsonl").open("w")  # every evaluation episode, for a look
    with episodes_file:
        for env_id in spec.env_ids:
            conditions = {}
            for name, shuffled in (("instruction", False), ("shuffled", True)):
                def keep(result, fed, name=name):
                    episodes_file.write(json.dumps({"condition": name, "fed_instruction": fed,
                                                    **asdict(result)}) + "\n")
                    episodes_file.flush()

                conditions[name] = evaluate_task(policy, env_id, spec.episodes, spec.eval_seed,
                                                 shuffled, spec.donor_seed, camera_size, keep)
                log(f"{env_id} {name}: {conditions[name].text()}, wrong_object "
                    f"{conditions[name].wrong_text()}, final distance to target "
                    f"{conditions[name].distance_text()}")
            rows.append({"env_id": env_id, **{k: asdict(v) for k, v in conditions.items()},
                         **{key: {k: getattr(v, method)() for k, v in conditions.items()}
                            for key, method in (("text", "text"), ("wrong_object", "wrong_text"),
                                                ("distance", "distance_text"))}})
    timings.add("evaluate_s", start, accumulate=False)

    report = {"tasks": rows, "budget": {
        "eval_episodes": spec.episodes,
        "eval_seeds": [spec.eval_seed, spec.eval_seed + spec.episodes - 1],
        **{k: round(v, 1) for k, v in timings.seconds.items()}, **budget}}
    (out / "report.json").write_text(json.dumps(report, indent=2))
    (out / "report.md").write_text(report_markdown(report))
    return report


def trained_elsewhere(spec: AblationSpec, camera_size: tuple) -> tuple[str, dict]:
    """The checkpoint and training budget of `spec.trained`, checked against the spec."""
    folder = Path(spec.trained)
    checkpoint, budget_file = folder / "last", folder / "budget.json"
    if not (checkpoint / "model.safetensors").is_file() or not budget_file.is_file():
        raise ConfigError(f"{folder}: not a run trained elsewhere (it needs last/ and "
                          f"budget.json, as scripts/train_elsewhere.py train writes them)")
    budget = json.loads(budget_file.read_text())
    collected = folder / "collect.json"
    if collected.is_file():
        recording = json.loads(collected.read_text())
        if sorted(recording["env_ids"]) != sorted(spec.env_ids):
            raise ConfigError(f"{folder} was trained on {recording['env_ids']}, not the "
                              f"--env list given; name the same tasks")
        budget.update(demos_per_task=recording["demos_per_task"],
                      collect_s=recording["collect_s"])
    if list(budget.get("camera_size") or camera_size) != list(camera_size):
        raise ConfigError(f"{folder} was trained at {budget['camera_size']} px, the config "
                          f"{spec.config} says {list(camera_size)}: pass its config")
    budget.setdefault("demos_per_task", spec.demos)
    budget["trained_elsewhere"] = budget.pop("machine", "elsewhere")
    budget["machine"] = machine()
    budget["peak_memory_mb"] = round(peak_memory_mb())
    return str(checkpoint), budget


def report_markdown(report: dict) -> str:
    """The README's table: task, success (Wilson 95%) with the true and the shuffled
    instruction, the wrong_object rate and the mean final distance to the target under each."""
    lines = ["| task | success, true instruction | success, shuffled instruction | "
             "wrong_object (true / shuffled) | final distance to target (true / shuffled) |",
             "|---|---|---|---|---|"]
    for row in report["tasks"]:
        lines.append(f"| `{row['env_id']}` | {row['text']['instruction']} | "
                     f"{row['text']['shuffled']} | {row['wrong_object']['instruction']} / "
                     f"{row['wrong_object']['shuffled']} | {row['distance']['instruction']} / "
                     f"{row['distance']['shuffled']} |")
    b = report["budget"]
    lines += ["", f"Budget: {b['demos_per_task']} expert demos per task ({b['frames']} frames), "
              f"{b['steps']} steps of {b['batch_size']}, {b['camera_size'][0]}x"
              f"{b['camera_size'][1]}; {b['eval_episodes']} episodes per task and condition "
              f"(seeds {b['eval_seeds'][0]}-{b['eval_seeds'][1]}); collect "
              f"{b.get('collect_s', 0):.0f} s, train {b['train_s']:.0f} s, evaluate "
              f"{b['evaluate_s']:.0f} s; peak memory {b['peak_memory_mb']} MB; {b['machine']}"
              + (f"; recorded and trained on {b['trained_elsewhere']}"
                 if "trained_elsewhere" in b else "") + "."]
    return "\n".join(lines) + "\n"
