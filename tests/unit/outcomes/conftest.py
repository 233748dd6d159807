import pytest


def pytest_configure(config: pytest.Config) -> None:
    # ibis 12's DuckDB backend calls a DuckDB 2.0 deprecated method on every query.
    config.addinivalue_line("filterwarnings", "ignore:fetch_arrow_table:DeprecationWarning")
