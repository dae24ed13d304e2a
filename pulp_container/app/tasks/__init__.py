from .copy import copy_manifests, copy_tags  # noqa: F401
from .modify import recursive_add_remove  # noqa: F401
from .oci_layout import export_oci_layout  # noqa: F401
from .oci_layout_import import import_oci_layout  # noqa: F401
from .synchronize import synchronize  # noqa: F401
from .tagging import tag_image, untag_image  # noqa: F401
