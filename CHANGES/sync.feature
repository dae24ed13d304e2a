Sync from any v2 registry: all manifest media types, anonymous, basic and token auth,
tag filters, mirror mode, and re-syncs that skip unchanged tags after one HEAD each.
