"""Fixtures shared by every test package: real MariaDB databases (see tests/mariadb.py)."""

pytest_plugins = ["mariadb"]
