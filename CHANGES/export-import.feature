Container repositories take part in Pulp export and import (full, incremental and chunked),
and can be written to or read from an OCI image layout directory with the new
`export_oci_layout/` and `import_oci_layout/` repository actions.
