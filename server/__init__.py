"""Field-inspection system for the security-guard service market clean-up."""
