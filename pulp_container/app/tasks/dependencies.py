"""
Reference walks over container content, used by add, remove and copy.

The references between units point one way: a tag to its manifest, a manifest list or OCI
index to its listed manifests, an image manifest to its config and layer blobs. "Dependencies"
follow those references down, "referrers" follow them up. Signatures and OCI referrer
artifacts (manifests with a `subject`) hang off a manifest without being one of its
dependencies: they never keep a manifest in a repository, and they leave with it.

Every function takes and returns sets of content primary keys. A repository version enters
as the queryset `version.content`, so Django sends it to PostgreSQL as a subquery and large
repositories never travel through Python.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from django.db.models import QuerySet

from pulp_container.app.models import (
    Blob,
    BlobManifest,
    Manifest,
    ManifestListManifest,
    ManifestSignature,
    Tag,
)
from pulp_container.constants import MANIFEST_TYPE_LIST

log = logging.getLogger(__name__)

PkSet = set[UUID]


def _pks(queryset: QuerySet, column: str = "pk") -> PkSet:
    return set(queryset.values_list(column, flat=True))


def manifest_closure(content_pks: Iterable[UUID]) -> PkSet:
    """
    Return the manifests that the given units name, with the manifests that lists name.

    Tags contribute their tagged manifest, lists and indexes their listed manifests, down to
    any depth (an OCI index may list another index).
    """
    content_pks = set(content_pks)
    manifests = _pks(Manifest.objects.filter(pk__in=content_pks))
    manifests |= _pks(Tag.objects.filter(pk__in=content_pks), "tagged_manifest_id")

    frontier = set(manifests)
    while frontier:
        listed = ManifestListManifest.objects.filter(manifest_list_id__in=frontier)
        frontier = _pks(listed, "image_manifest_id") - manifests
        manifests |= frontier
    return manifests


def blob_closure(manifest_pks: Iterable[UUID]) -> PkSet:
    """Return the config and layer blobs of the given manifests."""
    manifest_pks = set(manifest_pks)
    blobs = _pks(BlobManifest.objects.filter(manifest_id__in=manifest_pks), "manifest_blob_id")
    configs = Manifest.objects.filter(pk__in=manifest_pks, config_blob__isnull=False)
    return blobs | _pks(configs, "config_blob_id")


def dependency_closure(content_pks: Iterable[UUID]) -> PkSet:
    """Return the given units with every unit they depend on, down to the blobs."""
    content_pks = set(content_pks)
    manifests = manifest_closure(content_pks)
    return content_pks | manifests | blob_closure(manifests)


def attached_units(manifest_pks: Iterable[UUID], version_content: QuerySet) -> PkSet:
    """
    Return the signatures and OCI referrer artifacts in a version that hang off the manifests.

    Referrer artifacts come with their own dependencies, so that an SBOM leaves with its blobs.
    """
    manifest_pks = set(manifest_pks)
    signatures = ManifestSignature.objects.filter(
        pk__in=version_content, signed_manifest_id__in=manifest_pks
    )
    digests = Manifest.objects.filter(pk__in=manifest_pks).values("digest")
    referrers = Manifest.objects.filter(pk__in=version_content, subject__in=digests)
    return _pks(signatures) | dependency_closure(_pks(referrers))


def direct_referrers(content_pks: Iterable[UUID], version_content: QuerySet) -> PkSet:
    """Return the units in a version that reference one of the given units directly."""
    content_pks = set(content_pks)
    tags = Tag.objects.filter(pk__in=version_content, tagged_manifest_id__in=content_pks)
    lists = ManifestListManifest.objects.filter(
        manifest_list_id__in=version_content, image_manifest_id__in=content_pks
    )
    layer_users = BlobManifest.objects.filter(
        manifest_id__in=version_content, manifest_blob_id__in=content_pks
    )
    config_users = Manifest.objects.filter(pk__in=version_content, config_blob_id__in=content_pks)
    return (
        _pks(tags)
        | _pks(lists, "manifest_list_id")
        | _pks(layer_users, "manifest_id")
        | _pks(config_users)
    )


def referrer_closure(content_pks: Iterable[UUID], version_content: QuerySet) -> PkSet:
    """Return the units in a version that reference one of the given units, at any depth."""
    found: PkSet = set()
    frontier = set(content_pks)
    while frontier:
        frontier = direct_referrers(frontier, version_content) - found
        found |= frontier
    return found


@dataclass
class RemovalPlan:
    """
    The outcome of planning a removal from one repository version.

    Fields:
        remove: The units to remove.
        blocked: Named units that stay because units left in the version reference them,
            each with the primary keys of those referrers.
    """

    remove: PkSet = field(default_factory=set)
    blocked: dict[UUID, PkSet] = field(default_factory=dict)


def _still_referenced(candidates: PkSet, version_content: QuerySet) -> PkSet:
    """
    Return the candidates that units outside the candidates still need.

    A unit outside the candidates that references a candidate keeps it, and a kept candidate
    keeps its own dependencies.
    """
    outside = version_content.exclude(pk__in=candidates)
    anchored = direct_referrers(candidates, outside)
    return candidates & dependency_closure(_referenced_by(anchored))


def _referenced_by(content_pks: PkSet) -> PkSet:
    """Return the units that the given units reference directly."""
    tags = _pks(Tag.objects.filter(pk__in=content_pks), "tagged_manifest_id")
    listed = _pks(
        ManifestListManifest.objects.filter(manifest_list_id__in=content_pks), "image_manifest_id"
    )
    return tags | listed | blob_closure(content_pks)


def plan_removal(
    named_pks: Iterable[UUID], version_content: QuerySet, force: bool = False
) -> RemovalPlan:
    """
    Work out which units leave a version when the named units are removed.

    Without `force`, the named units and their dependencies leave, except units that a unit
    left in the version still references: a blob shared by two images stays while either image
    is there. A named unit that is still referenced is reported in `blocked`.

    With `force`, the named units and the manifests they name leave in any case, together
    with every unit that references them (tags pointing at them, lists naming them), so no
    reference is left dangling. Blobs still follow the rule above.
    """
    named = _pks(version_content.filter(pk__in=set(named_pks)))
    anchors = set(named)
    if force:
        anchors |= manifest_closure(named)
        anchors |= referrer_closure(anchors, version_content)

    closure = dependency_closure(anchors)
    candidates = _pks(version_content.filter(pk__in=closure))
    while True:
        kept = _still_referenced(candidates, version_content)
        remove = candidates - kept
        extra = attached_units(remove, version_content) - candidates
        if not extra:
            break
        candidates |= extra

    plan = RemovalPlan(remove=remove)
    for pk in named & kept:
        outside = version_content.exclude(pk__in=remove)
        plan.blocked[pk] = direct_referrers({pk}, outside)
    return plan


def describe_units(content_pks: Iterable[UUID]) -> list[str]:
    """Return a readable name for each unit, such as `tag 'latest'` or `blob sha256:…`, sorted."""
    content_pks = set(content_pks)
    names = [f"tag '{tag.name}'" for tag in Tag.objects.filter(pk__in=content_pks)]
    for manifest in Manifest.objects.filter(pk__in=content_pks).only("digest", "type"):
        kind = "manifest list" if manifest.type == MANIFEST_TYPE_LIST else "manifest"
        names.append(f"{kind} {manifest.digest}")
    names += [f"blob {blob.digest}" for blob in Blob.objects.filter(pk__in=content_pks)]
    signatures = ManifestSignature.objects.filter(pk__in=content_pks)
    names += [f"signature {signature.name}" for signature in signatures]
    return sorted(names)


def describe_blocked(blocked: dict[UUID, PkSet]) -> str:
    """Return a message that names each blocked unit and the units that still reference it."""
    parts = []
    for pk, referrer_pks in blocked.items():
        unit = ", ".join(describe_units({pk}))
        referrers = ", ".join(describe_units(referrer_pks))
        parts.append(f"{unit} is still referenced by {referrers}")
    return (
        "; ".join(sorted(parts))
        + ". Remove the referencing units in the same request, or set force to true to remove "
        "them along with it."
    )
