Syncs with the `on_demand` and `streamed` policies read image configs into memory instead of
storing them, so manifests synced with `streamed` now get their architecture, OS and labels
too, and a first `on_demand` sync writes no files.
