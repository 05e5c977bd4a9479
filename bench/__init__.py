"""The Studio Operator benchmark (`make bench`); see bench/README.md."""
