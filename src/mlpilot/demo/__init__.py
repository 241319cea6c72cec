"""The demo project shipped with mlpilot (telecom churn data) and the code that builds it."""
