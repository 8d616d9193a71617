"""Leaderboards: result bundles, ranking, renderers (Markdown, CSV, JSON, HTML) and publishing.
May import everything below it (robots, envs, policies, benchmarks); only the CLI imports it."""
