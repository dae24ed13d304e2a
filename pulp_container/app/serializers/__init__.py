from .content import (  # noqa: F401
    BlobSerializer,
    ManifestSerializer,
    ManifestSignatureSerializer,
    TagSerializer,
)
from .distributions import ContainerDistributionSerializer  # noqa: F401
from .namespaces import ContainerNamespaceSerializer  # noqa: F401
from .pull_through import (  # noqa: F401
    ContainerPullThroughDistributionSerializer,
    ContainerPullThroughRemoteSerializer,
)
from .remotes import ContainerRemoteSerializer  # noqa: F401
from .repositories import (  # noqa: F401
    ContainerPushRepositorySerializer,
    ContainerRepositorySerializer,
    ContainerRepositorySyncURLSerializer,
)
