Manifest pulls of a distribution without a content guard read the served repository version
over the content app's own PostgreSQL connections and keep the manifests of complete versions
in memory, and verified bearer tokens are kept until they expire. A promote or rollback is still
seen by the next request.
