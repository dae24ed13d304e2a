Added `make run`, which brings up PostgreSQL (installing it when none answers), the REST API,
the content app and two task workers with settings and keys under `.state/`, and `make test`,
which runs the unit and functional tests against the real stack, `docker-registry`, skopeo,
podman and pulp-cli.
