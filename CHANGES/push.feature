Added pushing to the registry: chunked, streamed, monolithic and cross-repository mount blob
uploads, manifest PUT into a push repository that the first push to a name creates, and
deletion of manifests, tags and blobs.
