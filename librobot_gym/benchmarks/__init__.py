"""Rolling out and scoring policies. May import robots, envs and policies; the CLI builds on it.
Nothing here prints: progress goes to a callback the caller supplies."""
