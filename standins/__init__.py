"""Local stand-ins of the remote services (Fanvue, Slack, an LLM) for tests, the demo and benchmarks only."""
