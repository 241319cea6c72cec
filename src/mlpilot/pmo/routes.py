"""REST routes of the pmo domain."""

from fastapi import APIRouter

router = APIRouter(tags=["pmo"])
