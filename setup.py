"""Packaging details pyproject.toml cannot express: contracts and notebooks in the wheel.

The ODCS contracts and the dashboards' notebooks live once in git, at the repository's top
level (`data_contracts/`, `notebooks/`, as DESIGN.md lays out). The wheel ships them inside
the package, as `osteo_analytics/data_contracts/` and `osteo_analytics/notebooks/`, where
`contracts.model.CONTRACTS_DIR` and `serve.notebooks_dir()` find them in an installed copy
(a source checkout reads the top-level folders).
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(
            include=["osteo_analytics", "osteo_analytics.*"], exclude=["*.__pycache__"]
        ),
        "osteo_analytics.data_contracts",
        "osteo_analytics.data_contracts.sources",
        "osteo_analytics.notebooks",
    ],
    package_dir={
        "osteo_analytics.data_contracts": "data_contracts",
        "osteo_analytics.notebooks": "notebooks",
    },
    package_data={
        "osteo_analytics": ["py.typed"],
        "osteo_analytics.metrics": ["sql/*.sql"],
        "osteo_analytics.notebooks": ["*.ipynb"],
        "osteo_analytics.serve": ["templates/osteo/*.j2"],
        "osteo_analytics.data_contracts": ["*.odcs.yaml"],
        "osteo_analytics.data_contracts.sources": ["*.yaml", "README.md"],
    },
)
