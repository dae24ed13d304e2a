"""The token signing key pair named by PRIVATE_KEY_PATH and PUBLIC_KEY_PATH, loaded once."""

from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _read_key_file(setting_name: str) -> bytes:
    path = getattr(settings, setting_name, None)
    if not path:
        raise ImproperlyConfigured(
            f"{setting_name} is not set. Set it to a PEM key file, or set "
            "TOKEN_AUTH_DISABLED = True to use HTTP basic auth on the registry."
        )
    try:
        with open(path, "rb") as key_file:
            return key_file.read()
    except OSError as error:
        raise ImproperlyConfigured(f"{setting_name}={path} cannot be read: {error}") from error


@lru_cache(maxsize=4)
def _load_private_key(path: str):
    return serialization.load_pem_private_key(_read_key_file("PRIVATE_KEY_PATH"), password=None)


@lru_cache(maxsize=4)
def _load_public_key(path: str):
    return serialization.load_pem_public_key(_read_key_file("PUBLIC_KEY_PATH"))


def private_key():
    """Return the private key that signs tokens and schema 1 manifests."""
    return _load_private_key(settings.PRIVATE_KEY_PATH)


def public_key():
    """Return the public key that verifies tokens."""
    return _load_public_key(settings.PUBLIC_KEY_PATH)
