"""Referring to objects in words: "the red mug", "the bowl", "the cup left of the plate".

A `Reference` names an object by kind, colour, and a relation to a landmark (left of / right
of, as the front camera sees the table: left is towards the image's left edge). It renders to
text and resolves against the objects of a scene, so a task can check that its instruction
picks out exactly the object it means before it says it. `Instructions` holds a task's
templates: the phrasings episodes draw from, and a held-out set of paraphrases no episode of the
default split uses (kept for generalisation variants: `instruction_set="heldout"`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from librobot_gym.errors import ConfigError

RELATIONS = ("left of", "right of")
INSTRUCTION_SETS = ("train", "heldout")


@dataclass(frozen=True)
class Thing:
    """An object as language sees it: name, kind noun, colour name, and where it stands
    along the front camera's right (m): larger is further right in the image."""

    name: str
    kind: str
    colour: str
    side: float


@dataclass(frozen=True)
class Reference:
    """A description of one object: its kind (None: "object"), its colour (None: not said),
    and optionally a relation to a landmark, itself a `Reference`."""

    kind: str | None
    colour: str | None = None
    relation: str | None = None
    landmark: Reference | None = None

    def __post_init__(self) -> None:
        if (self.relation is None) != (self.landmark is None) or \
                (self.relation is not None and self.relation not in RELATIONS):
            raise ConfigError(f"a relation is one of {RELATIONS} with a landmark; got "
                              f"{self.relation!r} and {self.landmark!r}")

    def text(self) -> str:
        """The noun phrase without its article: "red mug", "cup left of the bowl"."""
        words = [w for w in (self.colour, self.kind or "object") if w]
        if self.relation is not None:
            words += [self.relation, "the", self.landmark.text()]
        return " ".join(words)

    def fits(self, thing: Thing, things: list[Thing]) -> bool:
        """Whether `thing` answers this description among `things` (its landmark must pick
        out exactly one other object)."""
        if (self.kind is not None and thing.kind != self.kind) or \
                (self.colour is not None and thing.colour != self.colour):
            return False
        if self.relation is None:
            return True
        landmarks = [t for t in self.landmark.resolve(things) if t.name != thing.name]
        if len(landmarks) != 1:
            return False
        offset = thing.side - landmarks[0].side
        return offset < 0 if self.relation == "left of" else offset > 0

    def resolve(self, things: list[Thing]) -> list[Thing]:
        """Every object of `things` this description fits."""
        return [t for t in things if self.fits(t, things)]

    def picks_out(self, target: str, things: list[Thing]) -> bool:
        """True when the description fits `target` and nothing else."""
        return [t.name for t in self.resolve(things)] == [target]


def shortest_reference(target: Thing, things: list[Thing]) -> Reference | None:
    """The plainest description of `target` that picks it out: its kind, its colour and
    kind, or None when neither does (it has a twin: a relation is needed)."""
    for ref in (Reference(target.kind), Reference(target.kind, target.colour)):
        if ref.picks_out(target.name, things):
            return ref
    return None


def relational_reference(target: Thing, things: list[Thing], margin: float
                         ) -> Reference | None:
    """"<kind> left of / right of the <landmark>", with the landmark named plainly, when one
    such description picks out `target` and every object of the target's kind stands at least
    `margin` (m) to one side of the landmark (so the relation holds beyond doubt in the
    image); the landmark nearest the target first. None if no landmark serves."""
    same_kind = [t for t in things if t.kind == target.kind]
    others = sorted((t for t in things if t.kind != target.kind),
                    key=lambda t: abs(t.side - target.side))
    for landmark in others:
        plain = shortest_reference(landmark, things)
        if plain is None or any(abs(t.side - landmark.side) < margin for t in same_kind):
            continue
        relation = "left of" if target.side < landmark.side else "right of"
        ref = Reference(target.kind, None, relation, plain)
        if ref.picks_out(target.name, things):
            return ref
    return None


@dataclass(frozen=True)
class Instructions:
    """A task's phrasings: templates with a "{target}" slot (and any other slots the task
    fills), for the episodes (`train`) and held out from them (`heldout`)."""

    train: tuple[str, ...]
    heldout: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.train or not self.heldout or set(self.train) & set(self.heldout):
            raise ConfigError("instruction templates: both sets non-empty and disjoint")

    def templates(self, instruction_set: str) -> tuple[str, ...]:
        if instruction_set not in INSTRUCTION_SETS:
            raise ConfigError(f"instruction_set={instruction_set!r} is not one of "
                              f"{INSTRUCTION_SETS}")
        return self.train if instruction_set == "train" else self.heldout

    def say(self, rng: np.random.Generator, instruction_set: str, **slots: str) -> str:
        """One template of the set, drawn by `rng`, filled with `slots`."""
        options = self.templates(instruction_set)
        return options[int(rng.integers(len(options)))].format(**slots)
