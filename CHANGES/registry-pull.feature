Added the registry pull API on the content app (manifests with Accept negotiation, blobs with
Range and on-demand fetching, tags and catalog paging), a built-in token server, and schema 1
conversion for old clients.
