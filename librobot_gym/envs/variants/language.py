"""Language: the episode's instruction phrased with the task's held-out paraphrases
(`Instructions.heldout`, which no default episode uses), the scene otherwise the one the seed
draws. Tasks with an `instruction_set` option offer it (the tabletop suite)."""

from __future__ import annotations

from librobot_gym.envs.variants.factor import Factor, register_factor


class Language(Factor):
    name = "language"
    summary = "held-out paraphrases of the instruction"
    levels = {"heldout": {"instruction_set": "heldout"}}
    sim_only = False
    visual = False

    def supports(self, task, level):
        return hasattr(task, "instructions")

    def prepare(self, ctx, params):
        ctx.state["instruction_set"] = ctx.task.instruction_set
        ctx.task.instruction_set = params["instruction_set"]

    def finish(self, ctx, params):
        ctx.task.instruction_set = ctx.state.pop("instruction_set")


register_factor(Language())
