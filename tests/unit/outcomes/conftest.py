import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Third-party deprecations on every query: ibis 12's DuckDB backend calls a method DuckDB 2.0
    # deprecates, and its pandas conversion sets an option pandas 3 deprecates.
    config.addinivalue_line("filterwarnings", "ignore:fetch_arrow_table:DeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore:The 'future.infer_string' option")
