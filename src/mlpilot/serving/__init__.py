"""Deploy: services with a stable name and contract whose backing model version can be switched or stopped."""
