"""Living documentation of roles, membership and team isolation: features/tenancy.feature."""
from pytest_bdd import scenarios

scenarios("tenancy.feature")
