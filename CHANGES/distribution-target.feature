Setting `repository` or `repository_version` on a container distribution clears the other,
so promoting to the latest version or rolling back to a pinned one is one PATCH.
