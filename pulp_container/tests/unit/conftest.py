"""
Unit test set-up: Django settings for a throw-away state folder and database.

pytest-django creates the `test_<name>` database from PULP_UNIT_DB_NAME and migrates it.
"""

import os

from dev.stack import REPO_ROOT, StackConfig, ensure_database, ensure_postgres, write_state


def pytest_configure(config):
    environ = dict(os.environ)
    environ["PULP_STATE_DIR"] = environ.get("PULP_UNIT_STATE_DIR", str(REPO_ROOT / ".state-unit"))
    environ["PULP_DB_NAME"] = environ.get("PULP_UNIT_DB_NAME", "pulp_container_unit")
    stack = StackConfig.from_environment(environ)
    ensure_postgres(stack)
    ensure_database(stack)
    write_state(stack)
    os.environ["PULP_SETTINGS"] = str(stack.settings_path)
    os.environ["DJANGO_SETTINGS_MODULE"] = "pulpcore.app.settings"

    import django

    django.setup()
