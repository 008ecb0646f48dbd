"""The team's benchmark suite (`make bench`, `python -m bench.run`); see bench/README.md."""
