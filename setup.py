from setuptools import find_packages, setup

with open("requirements.txt") as requirements:
    install_requires = [line.strip() for line in requirements if line.strip()]

setup(
    name="pulp-container",
    version="2.31.0",
    description="Container registry plugin for Pulp 3",
    long_description=open("README.md").read(),
    long_description_content_type="text/markdown",
    license="GPLv2+",
    python_requires=">=3.11",
    install_requires=install_requires,
    include_package_data=True,
    packages=find_packages(include=["pulp_container", "pulp_container.*"]),
    entry_points={"pulpcore.plugin": ["pulp_container = pulp_container:default_app_config"]},
    classifiers=[
        "Framework :: Django",
        "Programming Language :: Python :: 3.11",
    ],
)
