"""Content, repository, remote and distribution models of the container plugin."""

from logging import getLogger

from django.contrib.postgres.fields import ArrayField
from django.db import models

from pulpcore.plugin.models import (
    AutoAddObjPermsMixin,
    BaseModel,
    Content,
    Distribution,
    Remote,
    Repository,
)
from pulpcore.plugin.repo_version_utils import remove_duplicates, validate_repo_version
from pulpcore.plugin.util import get_domain_pk

from pulp_container.app.downloaders import RegistryDownloaderFactory
from pulp_container.constants import MANIFEST_TYPES

log = getLogger(__name__)


class Blob(Content):
    """
    A layer or config blob, stored as one artifact and named by its digest.

    Fields:
        digest: The blob digest, `sha256:<hex>`.
    """

    PROTECTED_FROM_RECLAIM = False
    TYPE = "blob"

    digest = models.TextField(db_index=True)
    _pulp_domain = models.ForeignKey("core.Domain", default=get_domain_pk, on_delete=models.PROTECT)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        unique_together = ("digest", "_pulp_domain")


class Manifest(Content):
    """
    An image manifest, manifest list or OCI index, with its exact bytes.

    Fields:
        digest: The digest of the manifest bytes (of the payload for schema 1).
        schema_version: 1 or 2.
        media_type: The manifest media type.
        type: One of `image`, `list`, `artifact` or `schema1`.
        data: The manifest body exactly as received, decoded as UTF-8.
        config_blob: The config blob of an image manifest.
        blobs: The layer blobs (and config) that the manifest references.
        listed_manifests: The manifests that a list or index names.
        annotations: OCI annotations of the manifest.
        labels: The `Labels` of the image config.
        artifact_type: The OCI `artifactType`, or the config media type of an artifact.
        subject: The digest of the manifest that this one refers to (OCI `subject`).
        architecture: The architecture from the image config.
        os: The operating system from the image config.
        compressed_image_size: The sum of the config and layer sizes, in bytes.
    """

    PROTECTED_FROM_RECLAIM = False
    TYPE = "manifest"

    digest = models.TextField(db_index=True)
    schema_version = models.PositiveSmallIntegerField()
    media_type = models.TextField()
    type = models.CharField(
        max_length=16, choices=[(name, name) for name in MANIFEST_TYPES], default="image"
    )
    data = models.TextField()
    config_blob = models.ForeignKey(
        Blob, null=True, on_delete=models.CASCADE, related_name="config_of_manifests"
    )
    blobs = models.ManyToManyField(Blob, through="BlobManifest", related_name="manifests")
    listed_manifests = models.ManyToManyField(
        "self",
        through="ManifestListManifest",
        symmetrical=False,
        related_name="manifest_lists",
    )
    annotations = models.JSONField(default=dict)
    labels = models.JSONField(default=dict)
    artifact_type = models.TextField(null=True)
    subject = models.TextField(null=True, db_index=True)
    architecture = models.TextField(null=True)
    os = models.TextField(null=True)
    compressed_image_size = models.BigIntegerField(null=True)
    _pulp_domain = models.ForeignKey("core.Domain", default=get_domain_pk, on_delete=models.PROTECT)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        unique_together = ("digest", "_pulp_domain")


class BlobManifest(models.Model):
    """A link from a manifest to one blob it references."""

    manifest = models.ForeignKey(Manifest, related_name="blob_links", on_delete=models.CASCADE)
    manifest_blob = models.ForeignKey(Blob, related_name="manifest_links", on_delete=models.CASCADE)

    class Meta:
        unique_together = ("manifest", "manifest_blob")


class ManifestListManifest(models.Model):
    """A link from a manifest list or index to one listed manifest, with its platform."""

    manifest_list = models.ForeignKey(
        Manifest, related_name="listed_links", on_delete=models.CASCADE
    )
    image_manifest = models.ForeignKey(
        Manifest, related_name="list_links", on_delete=models.CASCADE
    )
    architecture = models.TextField(blank=True, default="")
    os = models.TextField(blank=True, default="")
    os_version = models.TextField(blank=True, default="")
    os_features = models.TextField(blank=True, default="")
    features = models.TextField(blank=True, default="")
    variant = models.TextField(blank=True, default="")

    class Meta:
        unique_together = ("manifest_list", "image_manifest")


class Tag(Content):
    """
    A name that points to one manifest inside a repository version.

    Fields:
        name: The tag name.
        tagged_manifest: The manifest the tag points to.
    """

    PROTECTED_FROM_RECLAIM = False
    TYPE = "tag"
    repo_key_fields = ("name",)

    name = models.TextField(db_index=True)
    tagged_manifest = models.ForeignKey(Manifest, related_name="tagged", on_delete=models.CASCADE)
    _pulp_domain = models.ForeignKey("core.Domain", default=get_domain_pk, on_delete=models.PROTECT)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        unique_together = ("name", "tagged_manifest", "_pulp_domain")


class ManifestSignature(Content):
    """
    An atomic container signature of a manifest.

    Fields:
        name: The signature name, `<manifest digest>@<signature id>`.
        digest: The digest of the signature data.
        type: The signature type, `atomic`.
        key_id: The id of the signing key.
        timestamp: When the signature was made, in seconds since the epoch.
        creator: The program that made the signature.
        data: The signature, base64-encoded.
        signed_manifest: The manifest that was signed.
    """

    PROTECTED_FROM_RECLAIM = False
    TYPE = "signature"

    name = models.TextField()
    digest = models.TextField()
    type = models.TextField(default="atomic")
    key_id = models.TextField(db_index=True)
    timestamp = models.PositiveIntegerField()
    creator = models.TextField(blank=True)
    data = models.TextField()
    signed_manifest = models.ForeignKey(
        Manifest, null=True, related_name="signatures", on_delete=models.CASCADE
    )
    _pulp_domain = models.ForeignKey("core.Domain", default=get_domain_pk, on_delete=models.PROTECT)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        unique_together = ("digest", "_pulp_domain")


class ContainerNamespace(BaseModel, AutoAddObjPermsMixin):
    """
    The first path segment of repository names, which carries permissions.

    Fields:
        name: The namespace name.
    """

    name = models.TextField(db_index=True)
    pulp_domain = models.ForeignKey("core.Domain", default=get_domain_pk, on_delete=models.PROTECT)

    class Meta:
        unique_together = ("name", "pulp_domain")
        permissions = [
            ("namespace_add_containerdistribution", "Add any distribution to a namespace"),
            ("namespace_delete_containerdistribution", "Delete any distribution from a namespace"),
            ("namespace_view_containerdistribution", "View any distribution in a namespace"),
            ("namespace_pull_containerdistribution", "Pull from any distribution in a namespace"),
            ("namespace_push_containerdistribution", "Push to any distribution in a namespace"),
            ("namespace_change_containerdistribution", "Change any distribution in a namespace"),
            ("namespace_view_containerpushrepository", "View any push repository in a namespace"),
            (
                "namespace_modify_content_containerpushrepository",
                "Modify content in any push repository in a namespace",
            ),
            ("namespace_change_containerpushrepository", "Change any push repository"),
            ("manage_roles_containernamespace", "Can manage role assignments on a namespace"),
        ]


class ContainerRemote(Remote, AutoAddObjPermsMixin):
    """
    A remote v2 registry and the repository name to sync from it.

    Fields:
        upstream_name: The repository name on the remote registry, e.g. `library/busybox`.
        include_foreign_layers: Whether foreign layers are downloaded.
        include_tags: Shell-style patterns of tags to sync; all tags when empty.
        exclude_tags: Shell-style patterns of tags to skip.
        sigstore: A URL of a sigstore to fetch atomic signatures from.
    """

    TYPE = "container"

    upstream_name = models.TextField(db_index=True)
    include_foreign_layers = models.BooleanField(default=False)
    include_tags = ArrayField(models.TextField(null=True), null=True)
    exclude_tags = ArrayField(models.TextField(null=True), null=True)
    sigstore = models.TextField(null=True)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            ("manage_roles_containerremote", "Can manage role assignments on container remote"),
        ]

    @property
    def download_factory(self):
        """The factory of registry-aware downloaders (token auth), made on first access."""
        try:
            return self._download_factory
        except AttributeError:
            self._download_factory = RegistryDownloaderFactory(self)
            return self._download_factory


class ContainerPullThroughRemote(Remote, AutoAddObjPermsMixin):
    """
    A remote registry that a pull-through distribution caches on demand.

    Fields:
        includes: Shell-style patterns of upstream repository names that may be pulled.
        excludes: Shell-style patterns of upstream repository names that may not be pulled.
    """

    TYPE = "pull-through"

    includes = ArrayField(models.TextField(null=True), null=True)
    excludes = ArrayField(models.TextField(null=True), null=True)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            (
                "manage_roles_containerpullthroughremote",
                "Can manage role assignments on pull-through container remote",
            ),
        ]


class ContainerRepositoryMixin:
    """Version rules shared by synced and pushed repositories."""

    def finalize_new_version(self, new_version):
        """
        Keep one tag per name in the new version and check the content types.

        A tag added with the name of an existing tag replaces it, which moves the tag.
        """
        remove_duplicates(new_version)
        validate_repo_version(new_version)


class ContainerRepository(ContainerRepositoryMixin, Repository, AutoAddObjPermsMixin):
    """A repository of container content that can be synced, curated and served."""

    TYPE = "container"
    CONTENT_TYPES = [Blob, Manifest, Tag, ManifestSignature]
    REMOTE_TYPES = [ContainerRemote]
    PULL_THROUGH_SUPPORTED = True

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            ("sync_containerrepository", "Can start a sync task"),
            ("modify_content_containerrepository", "Can modify content in a repository"),
            ("build_image_containerrepository", "Can use the image builder in a repository"),
            ("delete_containerrepository_versions", "Can delete repository versions"),
            ("manage_roles_containerrepository", "Can manage roles on container repositories"),
            ("sign_containerrepository", "Can sign content"),
            ("repair_containerrepository", "Can repair repository versions"),
        ]


class ContainerPushRepository(ContainerRepositoryMixin, Repository, AutoAddObjPermsMixin):
    """A repository that the registry creates on the first push to a new name."""

    TYPE = "container-push"
    CONTENT_TYPES = [Blob, Manifest, Tag, ManifestSignature]

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            ("modify_content_containerpushrepository", "Can modify content in a push repository"),
            ("delete_containerpushrepository_versions", "Can delete repository versions"),
            (
                "manage_roles_containerpushrepository",
                "Can manage roles on container push repositories",
            ),
            ("sign_containerpushrepository", "Can sign content"),
            ("repair_containerpushrepository", "Can repair repository versions"),
        ]


class ContainerDistribution(Distribution, AutoAddObjPermsMixin):
    """
    A registry repository name that serves a repository or one of its versions.

    Fields:
        private: Whether pulls need permission on the distribution.
        description: Free text about the distribution.
        namespace: The namespace of the first path segment of `base_path`.
        pull_through_distribution: The pull-through distribution that created this one.
    """

    TYPE = "container"

    private = models.BooleanField(default=False)
    description = models.TextField(null=True)
    namespace = models.ForeignKey(
        ContainerNamespace,
        null=True,
        on_delete=models.CASCADE,
        related_name="container_distributions",
    )
    pull_through_distribution = models.ForeignKey(
        "ContainerPullThroughDistribution",
        null=True,
        on_delete=models.CASCADE,
        related_name="distributions",
    )

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            ("pull_containerdistribution", "Can pull from a registry repo"),
            ("push_containerdistribution", "Can push into the registry repo"),
            ("manage_roles_containerdistribution", "Can manage role assignments on distribution"),
        ]


class ContainerPullThroughDistribution(Distribution, AutoAddObjPermsMixin):
    """
    A base path under which any upstream repository name of its remote can be pulled.

    Fields:
        private: Whether pulls need permission on the distribution.
        description: Free text about the distribution.
        namespace: The namespace of the first path segment of `base_path`.
    """

    TYPE = "pull-through"

    private = models.BooleanField(default=False)
    description = models.TextField(null=True)
    namespace = models.ForeignKey(
        ContainerNamespace,
        null=True,
        on_delete=models.CASCADE,
        related_name="container_pull_through_distributions",
    )

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            (
                "manage_roles_containerpullthroughdistribution",
                "Can manage role assignments on pull-through cache distribution",
            ),
            ("pull_new_containerdistribution", "Can pull new content via the pull-through cache"),
        ]


class ContainerUpload(BaseModel):
    """
    A blob upload session of the registry push API.

    The received bytes are appended to `file_path` on the content app's local disk.

    Fields:
        repository: The push repository the upload belongs to.
        name: The registry repository name the upload was started on.
        size: The number of bytes received so far.
        file_path: The path of the partial upload file; empty once the upload is finished.
        blob: The blob that the finished upload (or a cross-repository mount) created. The row
            then records that the blob was pushed to `name`, so that a manifest pushed there
            may reference it before the blob is part of a repository version.
    """

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="+")
    name = models.TextField()
    size = models.BigIntegerField(default=0)
    file_path = models.TextField()
    blob = models.ForeignKey(Blob, null=True, on_delete=models.CASCADE, related_name="uploads")
    pulp_domain = models.ForeignKey("core.Domain", default=get_domain_pk, on_delete=models.PROTECT)
