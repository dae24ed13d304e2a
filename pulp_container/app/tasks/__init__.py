from .copy import copy_manifests, copy_tags  # noqa: F401
from .modify import recursive_add_remove  # noqa: F401
from .synchronize import synchronize  # noqa: F401
from .tagging import tag_image, untag_image  # noqa: F401
