"""Benchmarks: suite cards, rolling policies out (in this process, worker processes or Ray),
the results store, scores and sim-vs-real comparison. May import robots, envs, policies and
hardware (to record an episode a driver error aborted); training, leaderboards and the CLI build
on it. Nothing here prints: progress goes to a callback the caller supplies."""
