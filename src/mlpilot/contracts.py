"""The import-linter contracts, generated from the one list of domains (`mlpilot.metadata.DOMAINS`).

A domain added to that list is covered the day it is added: inside it, routes and pages sit above the service and
the service above the tables; no service or table module imports the web layer (FastAPI, pages, another domain's
routes); and the core depends on no domain. `tests/core/test_architecture.py` runs them with the hand-written
contracts of pyproject.toml.
"""

from __future__ import annotations

import importlib.util
import pkgutil

from mlpilot.metadata import DOMAIN_TIERS, DOMAINS, REFERENCE_MODULES

LAYERS = ("routes", "views", "service", "models")
# Modules of a domain that serve HTTP: they compose services of any domain, so the tiers do not bind them.
WEB_MODULES = ("routes", "views", "deps")


def _exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def generated_contracts() -> str:
    """Return the generated contracts as an import-linter INI configuration."""
    lines = ["[importlinter]", "root_package = mlpilot", "include_external_packages = true", ""]
    for domain in DOMAINS:
        present = [layer for layer in LAYERS if _exists(f"mlpilot.{domain}.{layer}")]
        web = " | ".join(f"mlpilot.{domain}.{layer}" for layer in ("routes", "views") if layer in present)
        below = [f"mlpilot.{domain}.{layer}" for layer in ("service", "models") if layer in present]
        if web and below:
            lines += [f"[importlinter:contract:layers-{domain}]",
                      f"name = {domain}: routes and pages above the service, the service above the tables",
                      "type = layers", "layers =", f"    {web}", *[f"    {m}" for m in below], ""]
    sources = [f"mlpilot.{d}.{layer}" for d in DOMAINS for layer in ("service", "models")
               if _exists(f"mlpilot.{d}.{layer}")]
    web_modules = [f"mlpilot.{d}.{layer}" for d in DOMAINS for layer in ("routes", "views")
                   if _exists(f"mlpilot.{d}.{layer}")]
    lines += ["[importlinter:contract:services-below-web]",
              "name = no domain's service or tables import the web layer", "type = forbidden",
              "source_modules =", *[f"    {m}" for m in sources],
              "forbidden_modules =", "    mlpilot.web", "    mlpilot.app", "    mlpilot.cli",
              *[f"    {m}" for m in web_modules], ""]
    lines += ["[importlinter:contract:core-below-domains]", "name = core depends on no domain", "type = forbidden",
              "source_modules =", "    mlpilot.core", "forbidden_modules =",
              *[f"    mlpilot.{d}" for d in DOMAINS], "    mlpilot.web", "    mlpilot.app", "    mlpilot.cli", ""]
    lines += _tier_contracts()
    return "\n".join(lines)


def domain_core_modules(domain: str) -> list[str]:
    """The modules of a domain below its web layer (service, tables, adapters, pure computation)."""
    package = importlib.import_module(f"mlpilot.{domain}")
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.endswith(WEB_MODULES):
            found.append(f"mlpilot.{domain}.{info.name}")
    return sorted(found)


def _tier_contracts() -> list[str]:
    lines = []
    for level, tier in enumerate(DOMAIN_TIERS):
        above = [d for higher in DOMAIN_TIERS[level + 1:] for d in higher]
        for domain in tier:
            forbidden = sorted({*above, *(d for d in tier if d != domain)})
            sources = domain_core_modules(domain)
            if not forbidden or not sources:
                continue
            lines += [f"[importlinter:contract:tier-{domain}]",
                      f"name = {domain} uses only the services of lower tiers (mlpilot.metadata.DOMAIN_TIERS)",
                      "type = forbidden", "allow_indirect_imports = true",
                      "ignore_imports =", *[f"    mlpilot.** -> {m}" for m in REFERENCE_MODULES],
                      "source_modules =", *[f"    {m}" for m in sources],
                      "forbidden_modules =", *[f"    mlpilot.{d}" for d in forbidden], ""]
    return lines
