"""Serializers of container repositories, their sync request and their curation actions."""

from collections import Counter
from gettext import gettext as _
from uuid import UUID

from rest_framework import serializers

from pulpcore.plugin.models import Content, Repository, RepositoryVersion
from pulpcore.plugin.serializers import (
    DetailRelatedField,
    RepositoryAddRemoveContentSerializer,
    RepositorySerializer,
    RepositorySyncURLSerializer,
    RepositoryVersionRelatedField,
)
from pulpcore.plugin.util import extract_pk, raise_for_unknown_content_units

from pulp_container.app import models
from pulp_container.app.tasks.dependencies import describe_blocked, plan_removal
from pulp_container.app.tasks.modify import REMOVE_ALL
from pulp_container.constants import DIGEST_PATTERN, MANIFEST_MEDIA_TYPES, TAG_PATTERN

CONTAINER_REPOSITORY_TYPES = (models.ContainerRepository, models.ContainerPushRepository)
TAG_INVALID = _(
    "Enter a valid tag: 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'."
)


class ContainerRepositorySerializer(RepositorySerializer):
    """A repository of container content."""

    class Meta:
        fields = RepositorySerializer.Meta.fields
        model = models.ContainerRepository


class ContainerPushRepositorySerializer(RepositorySerializer):
    """A repository made by the registry on the first push to a new name."""

    class Meta:
        fields = RepositorySerializer.Meta.fields
        model = models.ContainerPushRepository


class ContainerRepositorySyncURLSerializer(RepositorySyncURLSerializer):
    """The remote and mode of a sync request."""

    signed_only = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Sync only manifests that have signatures. Not supported yet."),
    )


def _container_pulp_types() -> set[str]:
    return {model.get_pulp_type() for model in models.ContainerRepository.CONTENT_TYPES}


def _container_repository(repository: Repository, field_name: str) -> Repository:
    """Return the repository cast to its detail type, or raise if it is not a container one."""
    repository = repository.cast()
    if not isinstance(repository, CONTAINER_REPOSITORY_TYPES):
        raise serializers.ValidationError(
            {
                field_name: _(
                    "Repository '{name}' is a {type} repository. Choose a container or "
                    "container-push repository."
                ).format(name=repository.name, type=repository.pulp_type)
            }
        )
    return repository


def validate_content_hrefs(hrefs: list[str], field_name: str) -> list[str]:
    """
    Return the primary keys of the content hrefs, checked to exist and to be container content.

    Raises:
        ValidationError: Naming the hrefs that are unknown or belong to another plugin.
    """
    pks_to_hrefs = {}
    for href in hrefs:
        try:
            pks_to_hrefs[str(UUID(str(extract_pk(href))))] = href
        except (ValueError, serializers.ValidationError):
            raise serializers.ValidationError(
                {field_name: _("'{href}' is not the href of a content unit.").format(href=href)}
            )
    existing = Content.objects.filter(pk__in=pks_to_hrefs)
    try:
        raise_for_unknown_content_units(existing, pks_to_hrefs)
    except serializers.ValidationError as error:
        raise serializers.ValidationError({field_name: error.detail})

    foreign = existing.exclude(pulp_type__in=_container_pulp_types())
    if foreign.exists():
        names = sorted(pks_to_hrefs[str(pk)] for pk in foreign.values_list("pk", flat=True))
        raise serializers.ValidationError(
            {
                field_name: _(
                    "These content units are not container content and cannot be in a "
                    "container repository: {hrefs}"
                ).format(hrefs=", ".join(names))
            }
        )
    return list(pks_to_hrefs)


def validate_unique_tag_names(content_pks: list[str], field_name: str) -> None:
    """Raise when two of the tags to add have the same name, since one would replace the other."""
    names = Counter(models.Tag.objects.filter(pk__in=content_pks).values_list("name", flat=True))
    duplicates = sorted(name for name, count in names.items() if count > 1)
    if duplicates:
        raise serializers.ValidationError(
            {
                field_name: _(
                    "More than one tag named {names} is listed. A repository version holds one "
                    "tag per name, so list only one of them."
                ).format(names=", ".join(f"'{name}'" for name in duplicates))
            }
        )


def validate_removable(
    content_pks: list[str], version: RepositoryVersion, force: bool, field_name: str
) -> None:
    """Raise when, without force, a unit left in the version still references a named unit."""
    if force or REMOVE_ALL in content_pks:
        return
    plan = plan_removal(content_pks, version.content)
    if plan.blocked:
        raise serializers.ValidationError({field_name: describe_blocked(plan.blocked)})


class BaseVersionMixin(serializers.Serializer):
    """
    An optional base version of a content change, which must be container content.

    The access policy also requires permission to view the base version's repository.
    """

    base_version = RepositoryVersionRelatedField(
        required=False,
        help_text=_(
            "A repository version whose content is the starting point of the new version, "
            "instead of the latest version. It may belong to another container repository. "
            "Alone, it restores that version's content (a rollback or a promotion)."
        ),
    )

    def validate_base_version(self, version: RepositoryVersion) -> RepositoryVersion:
        _container_repository(version.repository, "base_version")
        return version

    def starting_version(self, data: dict) -> RepositoryVersion:
        """Return the version that the change starts from."""
        return data.get("base_version") or self.context["repository"].latest_version()


class RecursiveAddSerializer(BaseVersionMixin):
    """Content units to add to a repository, each with everything it depends on."""

    content_units = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text=_(
            "Hrefs of tags, manifests, blobs or signatures to add. A tag brings its manifest, a "
            "manifest list its listed manifests, a manifest its config and layer blobs."
        ),
    )

    def validate(self, data: dict) -> dict:
        if not data["content_units"] and "base_version" not in data:
            raise serializers.ValidationError(
                _("Give content_units to add, or a base_version to start from, or both.")
            )
        data["content_units"] = validate_content_hrefs(data["content_units"], "content_units")
        validate_unique_tag_names(data["content_units"], "content_units")
        return data


class RecursiveRemoveSerializer(BaseVersionMixin):
    """Content units to remove from a repository, with the dependencies nothing else needs."""

    content_units = serializers.ListField(
        child=serializers.CharField(),
        help_text=_(
            "Hrefs of tags, manifests, blobs or signatures to remove, or ['*'] to remove all "
            "content. Their dependencies leave too, except units that something left in the "
            "repository still references."
        ),
    )
    force = serializers.BooleanField(
        default=False,
        help_text=_(
            "Remove the units, and the manifests they name, even when other units in the "
            "repository reference them. Those referencing units (tags pointing at a removed "
            "manifest, lists naming it) are removed too. When false, such a request is rejected."
        ),
    )

    def validate(self, data: dict) -> dict:
        units = data["content_units"]
        if REMOVE_ALL in units and len(units) > 1:
            raise serializers.ValidationError(
                {"content_units": _("Give either '*' or a list of hrefs, not both.")}
            )
        if REMOVE_ALL not in units:
            data["content_units"] = validate_content_hrefs(units, "content_units")
        version = self.starting_version(data)
        validate_removable(data["content_units"], version, data["force"], "content_units")
        return data


class ContainerRepositoryModifySerializer(RepositoryAddRemoveContentSerializer):
    """The body of `modify`: units to remove, then units to add, each with dependencies."""

    force = serializers.BooleanField(
        default=False,
        help_text=_("Remove referenced units with their referrers, as in the `remove` action."),
    )
    # pulpcore's `overwrite` flag has no meaning here: a tag added with the name of an existing
    # tag always replaces it.
    overwrite = None

    def validate(self, data: dict) -> dict:
        data = super().validate(data)
        add_pks = [str(pk) for pk in data.get("add_content_units", [])]
        remove_pks = [str(pk) for pk in data.get("remove_content_units", [])]
        _raise_for_foreign(add_pks + [pk for pk in remove_pks if pk != REMOVE_ALL])
        validate_unique_tag_names(add_pks, "add_content_units")

        base_version = data.get("base_version")
        if base_version is not None:
            _container_repository(base_version.repository, "base_version")
        version = base_version or self.context["repository"].latest_version()
        validate_removable(remove_pks, version, data["force"], "remove_content_units")
        return data

    class Meta(RepositoryAddRemoveContentSerializer.Meta):
        fields = ["add_content_units", "remove_content_units", "base_version", "force"]


def _raise_for_foreign(content_pks: list[str]) -> None:
    foreign = Content.objects.filter(pk__in=content_pks).exclude(
        pulp_type__in=_container_pulp_types()
    )
    if foreign.exists():
        types = sorted(set(foreign.values_list("pulp_type", flat=True)))
        raise serializers.ValidationError(
            _(
                "Content of type {types} cannot be in a container repository. Give only "
                "container tags, manifests, blobs or signatures."
            ).format(types=", ".join(types))
        )


class TagImageSerializer(serializers.Serializer):
    """A tag name and the digest of the manifest it should point to."""

    tag = serializers.RegexField(
        regex=rf"^{TAG_PATTERN}$",
        help_text=_("The tag name, e.g. `v1.0`."),
        error_messages={"invalid": TAG_INVALID},
    )
    digest = serializers.RegexField(
        regex=rf"^{DIGEST_PATTERN}$",
        help_text=_("The digest of a manifest in the latest version, e.g. `sha256:…`."),
        error_messages={"invalid": _("Enter a digest of the form `sha256:<64 hex digits>`.")},
    )

    def validate(self, data: dict) -> dict:
        repository = self.context["repository"]
        content = repository.latest_version().content
        if not models.Manifest.objects.filter(pk__in=content, digest=data["digest"]).exists():
            raise serializers.ValidationError(
                {
                    "digest": _(
                        "No manifest with digest {digest} is in the latest version of "
                        "repository '{name}'. Add or copy the manifest first."
                    ).format(digest=data["digest"], name=repository.name)
                }
            )
        return data


class UnTagImageSerializer(serializers.Serializer):
    """The name of a tag to remove."""

    tag = serializers.RegexField(
        regex=rf"^{TAG_PATTERN}$",
        help_text=_("The tag name to remove."),
        error_messages={"invalid": TAG_INVALID},
    )

    def validate(self, data: dict) -> dict:
        repository = self.context["repository"]
        content = repository.latest_version().content
        if not models.Tag.objects.filter(pk__in=content, name=data["tag"]).exists():
            raise serializers.ValidationError(
                {
                    "tag": _(
                        "No tag '{tag}' is in the latest version of repository '{name}'."
                    ).format(tag=data["tag"], name=repository.name)
                }
            )
        return data


class CopySourceMixin(serializers.Serializer):
    """The source of a copy: a repository's latest version or one given version."""

    source_repository = DetailRelatedField(
        required=False,
        allow_null=True,
        view_name_pattern=r"repositories(-.*/.*)?-detail",
        queryset=Repository.objects.all(),
        help_text=_("A container or push repository whose latest version is the source."),
    )
    source_repository_version = RepositoryVersionRelatedField(
        required=False,
        allow_null=True,
        help_text=_("A repository version to copy from. Give this or source_repository."),
    )

    def validate(self, data: dict) -> dict:
        repository = data.pop("source_repository", None)
        version = data.pop("source_repository_version", None)
        if (repository is None) == (version is None):
            raise serializers.ValidationError(
                _("Give exactly one of source_repository and source_repository_version.")
            )
        if version is not None:
            field_name = "source_repository_version"
            repository = version.repository
        else:
            field_name = "source_repository"
        repository = _container_repository(repository, field_name)

        destination = self.context["repository"]
        if repository.pk == destination.pk:
            raise serializers.ValidationError(
                {
                    field_name: _(
                        "The source is repository '{name}' itself. Copy from another "
                        "repository; to restore an older version use `modify` with "
                        "base_version, and to retag use `tag`."
                    ).format(name=destination.name)
                }
            )
        data["source_version"] = version or repository.latest_version()
        return data


class TagCopySerializer(CopySourceMixin):
    """The tags to copy, with their manifests and blobs, from a source version."""

    names = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_null=True,
        allow_empty=False,
        help_text=_(
            "Names of the tags to copy. All tags are copied when omitted; an empty list is "
            "rejected."
        ),
    )

    def validate(self, data: dict) -> dict:
        data = super().validate(data)
        names = data.get("names") or []
        tags = models.Tag.objects.filter(pk__in=data["source_version"].content, name__in=names)
        missing = sorted(set(names) - set(tags.values_list("name", flat=True)))
        if missing:
            raise serializers.ValidationError(
                {
                    "names": _("No tags named {names} are in the source version {version}.").format(
                        names=", ".join(f"'{name}'" for name in missing),
                        version=_describe_version(data["source_version"]),
                    )
                }
            )
        return data


class ManifestCopySerializer(CopySourceMixin):
    """The manifests to copy, with their listed manifests and blobs, from a source version."""

    digests = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_null=True,
        allow_empty=False,
        help_text=_(
            "Digests of the manifests to copy. All manifests when omitted; an empty list is "
            "rejected."
        ),
    )
    media_types = serializers.ListField(
        child=serializers.ChoiceField(choices=MANIFEST_MEDIA_TYPES),
        required=False,
        allow_null=True,
        help_text=_("Copy only manifests of these media types. All types when omitted."),
    )

    def validate(self, data: dict) -> dict:
        data = super().validate(data)
        digests = data.get("digests") or []
        manifests = models.Manifest.objects.filter(
            pk__in=data["source_version"].content, digest__in=digests
        )
        missing = sorted(set(digests) - set(manifests.values_list("digest", flat=True)))
        if missing:
            raise serializers.ValidationError(
                {
                    "digests": _(
                        "No manifests with digests {digests} are in the source version {version}."
                    ).format(
                        digests=", ".join(missing),
                        version=_describe_version(data["source_version"]),
                    )
                }
            )
        return data


def _describe_version(version: RepositoryVersion) -> str:
    return f"{version.number} of repository '{version.repository.name}'"
