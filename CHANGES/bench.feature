Added `make bench`, which measures sync, pull, push and listing against `docker-registry` on
the same machine and writes `docs/benchmarks.md`.
