"""The sync task."""


def synchronize(remote_pk, repository_pk, mirror):
    """Sync a repository from a remote registry."""
    raise NotImplementedError("Sync is not implemented yet.")
