Added the OCI referrers API, `GET /v2/<name>/referrers/<digest>`, which lists the manifests of the
served version whose `subject` is that digest, filtered by `artifactType` on request.
