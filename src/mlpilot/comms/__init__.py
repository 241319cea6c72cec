"""Client communication and sign-off: meetings, requests, e-mails, the weekly digest, deliverables."""
