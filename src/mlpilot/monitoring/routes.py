"""REST routes of the monitoring domain."""

from fastapi import APIRouter

router = APIRouter(tags=["monitoring"])
