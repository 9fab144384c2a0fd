"""Console users, roles with named permissions, API tokens and in-site notifications."""
