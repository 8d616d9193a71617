"""The instruction's observation space: a `Text` that gymnasium's async vector envs can share.

`AsyncVectorEnv` passes observations through shared memory by default. Its reader for `Text`
decodes the shared buffer once, when the vector env is built, and returns that tuple of strings
at every step: the instruction would read "aaa..." (the empty buffer) for ever. The workers do
write each new instruction into the buffer; `InstructionText` registers a reader that decodes it
when it is looked at (`SharedTexts`), so `gym.make_vec(id, vectorization_mode="async")` gives
the same instructions as sync mode and `shared_memory=False`. Everything else (sampling,
`contains`, batching, writing the buffer) is `Text`'s.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from multiprocessing.sharedctypes import SynchronizedArray

from gymnasium import spaces
from gymnasium.vector.utils import read_from_shared_memory


class InstructionText(spaces.Text):
    """`spaces.Text` whose batches read live from an async vector env's shared memory."""


class SharedTexts(Sequence[str]):
    """The batch of strings in a shared `Text` buffer, decoded on every access: what an async
    vector env's observation holds, as its arrays are views of the buffer. A copy (the vector
    env's default `copy=True` deep-copies each observation) is a plain tuple."""

    def __init__(self, space: spaces.Text, shared_memory: SynchronizedArray, n: int):
        self._decode = partial(read_from_shared_memory.dispatch(spaces.Text), space,
                               shared_memory, n)
        self._n = n

    def texts(self) -> tuple[str, ...]:
        return self._decode()

    def __getitem__(self, index):
        return self.texts()[index]

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[str]:
        return iter(self.texts())

    def __eq__(self, other) -> bool:
        return self.texts() == (other.texts() if isinstance(other, SharedTexts) else other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"SharedTexts({self.texts()!r})"

    def __copy__(self) -> tuple[str, ...]:
        return self.texts()

    def __deepcopy__(self, memo) -> tuple[str, ...]:
        return self.texts()


@read_from_shared_memory.register(InstructionText)
def _read_instructions(space: InstructionText, shared_memory: SynchronizedArray,
                       n: int = 1) -> SharedTexts:
    return SharedTexts(space, shared_memory, n)
