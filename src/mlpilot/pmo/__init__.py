"""mlpilot.pmo domain."""

# The plan-revision counter lives on session events: register them with the domain.
from mlpilot.pmo import revisions as revisions
