"""Use cases of the comms domain, one module per concern; importing this registers the milestone-close check.

- `log`: meetings (action items become plan tasks) and client requests (deadline, who answered, overdue);
- `mail`: e-mails sent from mlpilot, kept in the log, retried while the SMTP server is down;
- `digest`: the weekly client digest (figures from pmo, risks, training and monitoring), scheduled per project;
- `deliverables`: deliverables per milestone and the client's audited sign-off.
"""

from __future__ import annotations

from mlpilot.comms import deliverables, digest, log, mail

__all__ = ["deliverables", "digest", "log", "mail"]
