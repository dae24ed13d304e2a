from pulpcore.plugin import PulpPluginAppConfig


class PulpContainerPluginAppConfig(PulpPluginAppConfig):
    """Register the container plugin with pulpcore."""

    name = "pulp_container.app"
    label = "container"
    version = "2.31.0"
    python_package_name = "pulp-container"
    domain_compatible = True
