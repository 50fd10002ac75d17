"""Shared by every test layer: the session-wide applied Terraform stack (tests/utils/terraform.py),
loaded as a plugin so any integration test can ask for ``applied_terraform``."""

pytest_plugins = ["tests.utils.terraform"]
