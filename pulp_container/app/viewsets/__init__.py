from .content import (  # noqa: F401
    BlobViewSet,
    ManifestSignatureViewSet,
    ManifestViewSet,
    TagViewSet,
)
from .distributions import ContainerDistributionViewSet  # noqa: F401
from .namespaces import ContainerNamespaceViewSet  # noqa: F401
from .pull_through import (  # noqa: F401
    ContainerPullThroughDistributionViewSet,
    ContainerPullThroughRemoteViewSet,
)
from .push_repositories import (  # noqa: F401
    ContainerPushRepositoryVersionViewSet,
    ContainerPushRepositoryViewSet,
)
from .remotes import ContainerRemoteViewSet  # noqa: F401
from .repositories import (  # noqa: F401
    ContainerRepositoryVersionViewSet,
    ContainerRepositoryViewSet,
)
