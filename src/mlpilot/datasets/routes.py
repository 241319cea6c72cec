"""REST routes of the datasets domain."""

from fastapi import APIRouter

router = APIRouter(tags=["datasets"])
