"""Adaptive (sequential) evaluation: anytime-valid intervals and tests that may be read after
every episode and stop as soon as the answer is known, with the fixed-size designs they are
compared against. Plain numpy and the results store; nothing prints.

- `betting`: a confidence sequence for the mean of a bounded [0, 1] outcome (a success rate, a
  progress score), by betting (Waudby-Smith & Ramdas 2024).
- `pairtest`: the anytime-valid two-sided test of two policies on paired episodes.
- `design`: fixed-size sample sizes and the sequential test's episodes by simulation (`bench
  plan`).
- `outcomes`: what a run reads of each stored episode (success, or progress as partial credit).
- `record`, `ab`, `width`: the runs (`bench ab`, `bench run --until-width`) in the runner's store
  and what they decided.
"""
