"""REST routes of the serving domain."""

from fastapi import APIRouter

router = APIRouter(tags=["serving"])
