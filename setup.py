"""Packaging details pyproject.toml cannot express: the data contracts in the wheel.

The ODCS contracts live once in git, at the repository's top level (`data_contracts/`, as
DESIGN.md lays out). The wheel ships them inside the package, as
`osteo_analytics/data_contracts/`, where `contracts.model.CONTRACTS_DIR` finds them in an
installed copy (a source checkout reads the top-level folder).
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(
            include=["osteo_analytics", "osteo_analytics.*"], exclude=["*.__pycache__"]
        ),
        "osteo_analytics.data_contracts",
        "osteo_analytics.data_contracts.sources",
    ],
    package_dir={"osteo_analytics.data_contracts": "data_contracts"},
    package_data={
        "osteo_analytics": ["py.typed"],
        "osteo_analytics.metrics": ["sql/*.sql"],
        "osteo_analytics.data_contracts": ["*.odcs.yaml"],
        "osteo_analytics.data_contracts.sources": ["*.yaml", "README.md"],
    },
)
